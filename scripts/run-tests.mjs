// Runs the uvu suites compiled to build/test (everything named *.test.js, not the long runs under long/),
// then prints the plain closing line "N passed, N failed" that CI reads.
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const uvu = join(root, 'node_modules', 'uvu', 'bin.js');
// Optional argument: a regex on the file name; only compiled suites (*.test.js) are ever run.
const filter = `(${process.argv[2] ?? ''}).*\\.test\\.js$`;
const r = spawnSync(process.execPath, [uvu, join('build', 'test'), filter, '-i', 'long', '-i', 'helpers', '-i', 'browser'], {
  cwd: root,
  encoding: 'utf8',
  maxBuffer: 256 << 20,
});
process.stdout.write(r.stdout);
process.stderr.write(r.stderr);
// uvu colours its summary: strip the escape codes before reading the counts.
const plain = r.stdout.replace(/\x1b\[[0-9;]*m/g, '');
const total = Number(/Total:\s+(\d+)/.exec(plain)?.[1] ?? 0);
const passed = Number(/Passed:\s+(\d+)/.exec(plain)?.[1] ?? 0);
const skipped = Number(/Skipped:\s+(\d+)/.exec(plain)?.[1] ?? 0);
const failed = Math.max(0, total - passed - skipped) + (r.status !== 0 && total === passed ? 1 : 0);
console.log(`\n${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}`);
process.exit(r.status === 0 && failed === 0 && total > 0 ? 0 : 1);
