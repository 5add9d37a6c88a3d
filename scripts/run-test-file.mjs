// Runs ONE compiled uvu suite file in this process, for scripts/run-tests.mjs:
//
//   node scripts/run-test-file.mjs build/test/<name>.test.js
//
// An error that escapes every test (an EventEmitter 'error' nobody listens to, e.g. spawn ENOENT, or a rejected
// promise nobody awaits) would otherwise kill the process and lose the rest of the file. Here it is printed,
// counted as a failure of this file, and the file's remaining tests still run. The parent reads the count
// from the line `uncaught errors: N`.
import { pathToFileURL } from 'node:url';
import { resolve } from 'node:path';

let uncaught = 0;
function report(kind, err) {
  uncaught++;
  const text = err instanceof Error ? (err.stack ?? err.message) : String(err);
  process.stdout.write(`\n  UNCAUGHT ${kind} (not inside any test; counted as a failure of this file):\n    ${text.split('\n').join('\n    ')}\n`);
}
process.on('uncaughtException', (e) => report('exception', e));
process.on('unhandledRejection', (e) => report('rejection', e));
process.on('exit', () => {
  if (uncaught) {
    process.stdout.write(`\nuncaught errors: ${uncaught}\n`);
    process.exitCode = 1;
  }
});

const file = process.argv[2];
if (!file) {
  console.error('usage: run-test-file.mjs <compiled suite file>');
  process.exit(2);
}
try {
  await import(pathToFileURL(resolve(file)).href);
} catch (e) {
  // The file did not even load (a throw at its top level): none of its tests ran.
  report('error while loading the file', e);
}
