// Prints the limits table of docs/security.md ("What each limit protects") from ts/limits.ts itself: every
// field of `Limits`, its doc comment (what it bounds and why) and its default. Regenerate after changing a
// limit:  node scripts/limits-table.mjs > /tmp/t.md  and paste it between the markers in docs/security.md;
// test/limits-doc.test.ts fails when the doc and the table drift apart.
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const src = readFileSync(join(root, 'ts', 'limits.ts'), 'utf8');
const { DEFAULT_LIMITS } = await import(join(root, 'build', 'ts', 'limits.js'));

const body = src.slice(src.indexOf('export interface Limits {'), src.indexOf('\n}\n', src.indexOf('export interface Limits {')));
const rows = [];
let comment = '';
for (const m of body.matchAll(/\/\*\*([\s\S]*?)\*\/\s*(\w+): number;|\n\s*(\w+): number;/g)) {
  const name = m[2] ?? m[3];
  comment = m[1] ? m[1].replace(/\n\s*\*\s?/g, ' ').replace(/\s+/g, ' ').trim() : '';
  const value = DEFAULT_LIMITS[name];
  rows.push(`| \`${name}\` | ${Number.isFinite(value) ? value.toLocaleString('en-US') : value} | ${comment.replace(/\|/g, '\\|')} |`);
}
console.log('| limit | default | what it bounds (and so what it protects) |\n|---|---:|---|');
console.log(rows.join('\n'));
