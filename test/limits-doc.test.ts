/**
 * docs/security.md lists every limit of ts/limits.ts with its default ("What each limit protects"), made by
 * scripts/limits-table.mjs from the table itself. This keeps the two from drifting: a limit added, removed or
 * given another default without regenerating the doc fails here.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DEFAULT_LIMITS } from '../ts/limits.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const doc = readFileSync(join(ROOT, 'docs', 'security.md'), 'utf8');
const table = doc.slice(doc.indexOf('<!-- limits-table -->'), doc.indexOf('<!-- /limits-table -->'));

test('docs/security.md has the limits table between its markers', () => {
  assert.ok(table.length > 0, 'markers present');
});

test('every limit is in the table with its current default, and nothing else is', () => {
  const rows = new Map([...table.matchAll(/^\| `(\w+)` \| ([^|]+) \|/gm)].map((m) => [m[1]!, m[2]!.trim()]));
  for (const [name, value] of Object.entries(DEFAULT_LIMITS)) {
    assert.ok(rows.has(name), `${name} is documented (node scripts/limits-table.mjs)`);
    assert.is(rows.get(name), value.toLocaleString('en-US'), `${name}'s default in the doc`);
  }
  assert.equal([...rows.keys()].filter((n) => !(n in DEFAULT_LIMITS)), [], 'no row for a limit that is gone');
});

test.run();
