// Runs the uvu suites compiled to build/test (every *.test.js, not the long runs under long/ nor the helpers and
// browser pages), each FILE in its own process, then prints the plain closing line "N passed, N failed" that CI
// reads (always the last line).
//
//   node scripts/run-tests.mjs ['regex on the file name'] [--jobs N]
//
// One process per file so that nothing one suite does (a crash, an unhandled 'error' event, a hang, a leaked
// server) can end or stall the others: a file that crashes or runs past its time limit is counted as failed,
// with the tests it did pass, and the run goes on. Files run N at a time (default: the number of cores, at
// most 4; OTR_TEST_JOBS or --jobs), longest first according to the previous run's times (build/test-times.json).
// OTR_TEST_TIMEOUT: seconds one file may take (default 600).
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { dirname, join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
// OTR_TEST_DIR: another folder of compiled suites (test/commands.test.ts runs the runner on crafted ones).
const testDir = process.env.OTR_TEST_DIR ?? join(root, 'build', 'test');
const timesFile = join(testDir, '..', 'test-times.json');

const args = process.argv.slice(2);
const jobsAt = args.indexOf('--jobs');
const jobsArg = jobsAt >= 0 ? args.splice(jobsAt, 2)[1] : undefined;
const jobs = Math.max(1, Number(jobsArg ?? process.env.OTR_TEST_JOBS ?? Math.min(4, availableParallelism())) || 1);
const timeoutMs = Number(process.env.OTR_TEST_TIMEOUT ?? 600) * 1000;
// Optional argument: a regex on the file's path under build/test; only compiled suites (*.test.js) are run.
const filter = new RegExp(`(${args[0] ?? ''}).*\\.test\\.js$`, 'i');
// Folders that hold no suites of their own: long runs (on demand), shared helpers, pages run inside Chromium.
const SKIP_DIRS = new Set(['long', 'helpers', 'browser', 'node_modules', 'consumers']);

function collect(dir) {
  const out = [];
  let entries;
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch {
    return out;
  }
  for (const e of entries) {
    const full = join(dir, e.name);
    if (e.isDirectory()) {
      if (!SKIP_DIRS.has(e.name)) out.push(...collect(full));
    } else if (filter.test(relative(testDir, full).split(sep).join('/'))) out.push(full);
  }
  return out;
}

let previous = {};
try {
  previous = JSON.parse(readFileSync(timesFile, 'utf8'));
} catch {
  // first run: alphabetical order
}
const name = (f) => relative(testDir, f).split(sep).join('/');
const files = collect(testDir)
  .sort((a, b) => name(a).localeCompare(name(b)))
  .sort((a, b) => (previous[name(b)] ?? 0) - (previous[name(a)] ?? 0));

if (files.length === 0) {
  console.error(`no compiled suites match ${filter} under ${testDir} (run \`npm run build\` first)`);
  console.log('\n0 passed, 1 failed');
  process.exit(1);
}

const strip = (s) => s.replace(/\x1b\[[0-9;]*m/g, '');

/** Reads one file's counts from uvu's output; a file that did not finish cleanly gets one more failure. */
function count(out, code, signal, why) {
  const plain = strip(out);
  const total = /Total:\s+(\d+)/.exec(plain);
  const uncaught = Number(/^uncaught errors: (\d+)$/m.exec(plain)?.[1] ?? 0);
  let passed;
  let failed;
  let skipped = 0;
  let reason = why;
  if (total) {
    passed = Number(/Passed:\s+(\d+)/.exec(plain)?.[1] ?? 0);
    skipped = Number(/Skipped:\s+(\d+)/.exec(plain)?.[1] ?? 0);
    failed = Math.max(0, Number(total[1]) - passed - skipped);
  } else {
    // No summary: the process died or was killed mid-file. Count the tests it reported (uvu prints one mark
    // per test as it finishes); the unfinished rest is one more failure.
    passed = (plain.match(/• /g) ?? []).length;
    failed = (plain.match(/✘ /g) ?? []).length;
    reason ??= `ended before its summary (exit ${code ?? signal})`;
  }
  if (uncaught) {
    failed += uncaught;
    reason ??= `${uncaught} uncaught error(s) outside any test`;
  } else if (reason || (code !== 0 && failed === 0)) {
    failed += 1;
    reason ??= `exited with ${code ?? signal}`;
  }
  return { passed, failed, skipped, reason };
}

const children = new Set();
function runFile(file) {
  return new Promise((resolve) => {
    const started = Date.now();
    // Its own process group, so a timeout also ends what the suite started (servers, browsers).
    const child = spawn(process.execPath, [join(root, 'scripts', 'run-test-file.mjs'), file], {
      cwd: root,
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    children.add(child);
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (d) => (out += d));
    child.stderr.setEncoding('utf8').on('data', (d) => (out += d));
    let why;
    const timer = setTimeout(() => {
      why = `killed after ${timeoutMs / 1000} s (OTR_TEST_TIMEOUT)`;
      killGroup(child);
    }, timeoutMs);
    // uvu prints its summary when every test has run; a process still alive 10 s later holds a leaked handle
    // (a server, a socket, a child) that would keep a real program from exiting too.
    let linger;
    const watchSummary = () => {
      if (linger || !/Duration:\s/.test(out)) return;
      linger = setTimeout(() => {
        why = 'still running 10 s after its summary: a server, socket or child process was left open';
        killGroup(child);
      }, 10_000);
    };
    child.stdout.on('data', watchSummary);
    const finish = (code, signal) => {
      clearTimeout(timer);
      clearTimeout(linger);
      children.delete(child);
      resolve({ file, out, ms: Date.now() - started, ...count(out, code, signal, why) });
    };
    child.on('error', (e) => {
      out += `\ncould not start: ${e.message}\n`;
      finish(null, 'spawn error');
    });
    child.on('close', finish);
  });
}

function killGroup(child) {
  try {
    process.kill(-child.pid, 'SIGKILL');
  } catch {
    // already gone
  }
}

for (const sig of ['SIGINT', 'SIGTERM']) {
  process.on(sig, () => {
    for (const c of children) killGroup(c);
    process.exit(130);
  });
}

const started = Date.now();
const results = [];
const queue = [...files];
async function worker() {
  for (let f = queue.shift(); f; f = queue.shift()) {
    const r = await runFile(f);
    results.push(r);
    const status = r.failed ? `FAILED (${r.failed})` : 'ok';
    // A passing file shows its progress marks; uvu's per-file summary block only where something failed.
    const shown = r.failed ? r.out : r.out.replace(/\n\s*Total:[^]*?Duration:[^\n]*\n/, '\n');
    process.stdout.write(`\n── ${name(f)}  ${status}  ${(r.ms / 1000).toFixed(1)} s\n${shown.trimEnd()}\n`);
    if (r.reason) process.stdout.write(`  !! ${name(f)}: ${r.reason}\n`);
  }
}
await Promise.all(Array.from({ length: Math.min(jobs, files.length) }, worker));

const sum = (k) => results.reduce((a, r) => a + r[k], 0);
const passed = sum('passed');
const failed = sum('failed');
const skipped = sum('skipped');

try {
  const times = { ...previous };
  // Only passing files: a file that failed fast (a missing package) would otherwise be scheduled last next time.
  for (const r of results) if (!r.failed) times[name(r.file)] = r.ms;
  writeFileSync(timesFile, JSON.stringify(times, null, 1));
} catch {
  // the times only order the next run
}

const bad = results.filter((r) => r.failed);
console.log(`\n${files.length} file(s), ${jobs} at a time, ${((Date.now() - started) / 1000).toFixed(1)} s`);
for (const r of bad) console.log(`  failed: ${name(r.file)} (${r.failed}${r.reason ? `; ${r.reason}` : ''})`);
console.log(`\n${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}`);
process.exit(failed === 0 && passed > 0 ? 0 : 1);
