/**
 * Every command the README documents, run briefly as a user would type it (a quick mode or a tiny N), so that
 * none can rot unseen: npm start, bench, bench:browser, differential, fuzz, dudect, prekey-server, serve,
 * xmpp-bridge; and the two guarantees of `npm test` itself on a machine that lacks system packages: its setup
 * step never fails the run, and the runner contains a suite that crashes, exits or leaks.
 *
 * Each command runs in its own process group, so a timeout or the end of a server test ends everything the
 * command started.
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startProsody } from './helpers/prosody.js';

/** The repository root (this file runs from build/test/). */
const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

interface Run {
  code: number | null;
  signal: NodeJS.Signals | null;
  out: string;
}

interface Running {
  /** Resolves with the first match of `re` in the output so far, or rejects when the command ends first. */
  waitFor(re: RegExp, timeoutMs?: number): Promise<RegExpExecArray>;
  /** Sends `signal` to the command's whole process group and waits for it to end. */
  stop(signal?: NodeJS.Signals): Promise<Run>;
  done: Promise<Run>;
  output(): string;
}

function start(cmd: string, args: string[], env: Record<string, string> = {}, timeoutMs = 120_000): Running {
  // stdin is a pipe left open: an interactive command (the XMPP bridge) takes end of input for "quit".
  const child = spawn(cmd, args, { cwd: ROOT, env: { ...process.env, ...env }, detached: true, stdio: ['pipe', 'pipe', 'pipe'] });
  child.stdin.on('error', () => {});
  let out = '';
  const listeners = new Set<() => void>();
  const onData = (d: Buffer) => {
    out += d.toString('utf8');
    for (const l of listeners) l();
  };
  child.stdout.on('data', onData);
  child.stderr.on('data', onData);
  const killGroup = (sig: NodeJS.Signals) => {
    try {
      process.kill(-child.pid!, sig);
    } catch {
      // already gone
    }
  };
  const timer = setTimeout(() => {
    out += `\n[test: killed after ${timeoutMs / 1000} s]\n`;
    killGroup('SIGKILL');
  }, timeoutMs);
  const done = new Promise<Run>((resolve) => {
    child.on('error', (e) => {
      out += `\n[test: could not start ${cmd}: ${e.message}]\n`;
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      child.stdin.destroy();
      for (const l of listeners) l();
      resolve({ code, signal, out });
    });
  });
  let ended = false;
  void done.then(() => (ended = true));
  return {
    done,
    output: () => out,
    waitFor(re, ms = 60_000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          const m = re.exec(out);
          if (m) {
            cleanup();
            resolve(m);
          } else if (ended) {
            cleanup();
            reject(new Error(`${cmd} ${args.join(' ')} ended without printing ${re}:\n${out}`));
          }
        };
        const t = setTimeout(() => {
          cleanup();
          reject(new Error(`${cmd} ${args.join(' ')} did not print ${re} within ${ms / 1000} s:\n${out}`));
        }, ms);
        const cleanup = () => {
          clearTimeout(t);
          listeners.delete(check);
        };
        listeners.add(check);
        check();
      });
    },
    async stop(sig = 'SIGTERM') {
      killGroup(sig);
      const t = setTimeout(() => killGroup('SIGKILL'), 10_000);
      const r = await done;
      clearTimeout(t);
      return r;
    },
  };
}

const run = (cmd: string, args: string[], env: Record<string, string> = {}, timeoutMs?: number) => start(cmd, args, env, timeoutMs).done;
const lastLine = (out: string): string => out.trimEnd().split('\n').pop() ?? '';

function assertOk(r: Run, what: string): void {
  assert.ok(r.code === 0, `${what} exited with ${r.code ?? r.signal}:\n${r.out.slice(-4000)}`);
}

const t = suite('documented commands');
const tmp = mkdtempSync(join(tmpdir(), 'otr4-commands-'));
t.after(() => rmSync(tmp, { recursive: true, force: true }));

t('npm start: the demo conversation runs from DAKE to the end of the session', async () => {
  const r = await run('npm', ['start']);
  assertOk(r, 'npm start');
  assert.match(r.out, /crypto backend: hybrid/); // Node's default: WASM + OpenSSL (docs/backends.md)
  assert.match(r.out, /encrypted \(v4\)/);
  assert.match(r.out, /Total time \d+ ms/);
});

t('npm run bench -- --quick --filter: one operation measured on each backend, table printed', async () => {
  const r = await run('npm', ['run', 'bench', '--', '--quick', '--filter', '^shake256\\.kdf100$']);
  assertOk(r, 'npm run bench');
  assert.match(r.out, /shake256\.kdf100\s+wasm\s+[\d.]+\s+\d+/);
  assert.match(r.out, /shake256\.kdf100\s+js\s+[\d.]+\s+\d+/);
});

t('npm run bench:browser -- --quick --filter: the page bundles (Node-only suites left out) and measures in Chromium', async () => {
  const r = await run('npm', ['run', 'bench:browser', '--', '--quick', '--filter', '^shake256\\.kdf100$']);
  assertOk(r, 'npm run bench:browser');
  assert.match(r.out, /left out \(Node only\): offline/);
  assert.match(r.out, /Chrome\//);
  assert.match(r.out, /shake256\.kdf100\s+wasm\s+[\d.]+\s+\d+/);
});

t('npm run differential -- N REGEX: the primitive suites run with N random cases', async () => {
  const r = await run('npm', ['run', 'differential', '--', '12', 'shake256']);
  assertOk(r, 'npm run differential');
  assert.match(r.out, /shake256\.test\.js/);
  assert.match(lastLine(r.out), /^[1-9]\d* passed, 0 failed$/);
});

t('npm run fuzz -- N: N inputs, no failure', async () => {
  const r = await run('npm', ['run', 'fuzz', '--', '256']);
  assertOk(r, 'npm run fuzz');
  assert.match(r.out, /done: 256 inputs in [\d.]+ s .*, 0 failures/);
});

t('npm run fuzz:v3 -- N: the OTRv3 fuzzer, N inputs, no failure', async () => {
  const r = await run('npm', ['run', 'fuzz:v3', '--', '256']);
  assertOk(r, 'npm run fuzz:v3');
  assert.match(r.out, /done: 256 inputs in [\d.]+ s .*, 0 failures/);
});

t('npm run dudect -- N: every line measured, the JS control line printed', async () => {
  // The verdict is a measurement (it depends on the machine), not asserted here: only that the tool runs.
  const r = await run('npm', ['run', 'dudect', '--', '300']);
  assertOk(r, 'npm run dudect');
  const lines = (r.out.match(/ vs random +t\(all\) +-?[\d.]+ +t\(p50\)/g) ?? []).length;
  assert.ok(lines >= 4, `every measured line printed (${lines})`);
  assert.match(r.out, /control: JS pointMulBase/);
  assert.match(r.out, /WASM max \|t\| = [\d.]+/);
});

t('npm run prekey-server: listens on loopback, accepts a connection, stops cleanly on SIGTERM', async () => {
  const dir = join(tmp, 'prekey');
  const p = start('npm', ['run', 'prekey-server', '--', '--port', '0', '--data', dir]);
  try {
    const m = await p.waitFor(/listening on 127\.0\.0\.1:(\d+) \(TCP\), identity fingerprint [0-9a-f]+/);
    await new Promise<void>((resolve, reject) => {
      const s = connect(Number(m[1]), '127.0.0.1', () => {
        s.end();
        resolve();
      });
      s.on('error', reject);
    });
  } finally {
    const r = await p.stop('SIGTERM');
    assert.ok(r.code === 0 || r.signal === 'SIGTERM', `prekey server ended with ${r.code ?? r.signal}:\n${r.out}`);
  }
});

t('npm run serve -- PORT: serves the demo page on 127.0.0.1', async () => {
  const p = start('npm', ['run', 'serve', '--', '0']);
  try {
    const m = await p.waitFor(/at (http:\/\/127\.0\.0\.1:\d+)\//);
    const res = await fetch(`${m[1]}/web/`);
    assert.is(res.status, 200);
    assert.match(await res.text(), /<script/);
    assert.is((await fetch(`${m[1]}/package.json`)).status, 404, 'only the allow-listed folders are served');
  } finally {
    await p.stop('SIGTERM');
  }
});

t('npm run xmpp-bridge: logs in to an XMPP server (a private Prosody), shows its OTR device, keeps it across restarts', async () => {
  const server = await startProsody();
  try {
    await server.addUser('carol', 'carol-pw');
    const state = join(tmp, 'carol.otr-state.json');
    const args = ['run', 'xmpp-bridge', '--', '--jid', 'carol@localhost/cmd', '--service', server.service, '--state', state];
    const p = start('npm', args, { XMPP_PASSWORD: 'carol-pw' });
    const m = await p.waitFor(/\* online as carol@localhost\/cmd; OTR device #([0-9a-f]{8}), fingerprint ([0-9a-f]{112})/).catch((e: Error) => {
      throw new Error(`${e.message}\nserver log:\n${server.log()}`);
    });
    const r = await p.stop('SIGTERM');
    assert.ok(r.code === 0 || r.signal === 'SIGTERM', `bridge ended with ${r.code ?? r.signal}:\n${r.out}`);
    // The state file keeps the identity: a second start is the same device with the same fingerprint.
    const again = start('npm', args, { XMPP_PASSWORD: 'carol-pw' });
    const m2 = await again.waitFor(/\* online as carol@localhost\/cmd; OTR device #([0-9a-f]{8}), fingerprint ([0-9a-f]{112}) \(restored/);
    assert.is(m2[1], m[1]);
    assert.is(m2[2], m[2]);
    await again.stop('SIGTERM');
    const bad = await run('npm', ['run', 'xmpp-bridge', '--', '--jid', 'carol@localhost/cmd', '--service', server.service, '--state', state]);
    assert.is.not(bad.code, 0);
    assert.match(bad.out, /no password: set XMPP_PASSWORD/);
  } finally {
    await server.stop();
  }
});

// ---------------------------------------------------------------------------------- npm test on a bare machine

t("npm test's setup step: a package it cannot install is named with its install command, and the run goes on", async () => {
  const list = join(tmp, 'apt-packages');
  writeFileSync(list, '# a test list\ndpkg\nno-such-package-otr4   # never exists\n');
  const r = await run(process.execPath, ['scripts/setup.mjs'], { OTR_APT_PACKAGES: list, OTR_APT_GET: join(tmp, 'no-apt-get') });
  assertOk(r, 'setup');
  assert.match(r.out, /no-such-package-otr4/);
  assert.match(r.out, /apt-get install -y --no-install-recommends no-such-package-otr4/);
  assert.not.match(r.out, /\bdpkg\b(?!-query)/, 'installed packages are not mentioned');
});

t("npm test's setup step: nothing to do when every package is installed, and it says nothing", async () => {
  const list = join(tmp, 'apt-installed');
  writeFileSync(list, 'dpkg\n');
  const r = await run(process.execPath, ['scripts/setup.mjs'], { OTR_APT_PACKAGES: list, OTR_APT_GET: join(tmp, 'no-apt-get') });
  assertOk(r, 'setup');
  assert.is(r.out, '');
});

t('missing libotr build tools: the interop suite fails on its own, naming the packages', async () => {
  const r = await run(process.execPath, ['scripts/run-tests.mjs', '^v3-interop'], { CC: join(tmp, 'no-gcc') });
  assert.is(r.code, 1);
  assert.match(r.out, /libotr5-dev/);
  assert.match(r.out, /apt-get install -y --no-install-recommends gcc libc6-dev pkg-config libotr5-dev libgcrypt20-dev/);
  assert.not.match(r.out, /UNCAUGHT/);
  assert.match(lastLine(r.out), /^0 passed, [1-9]\d* failed$/);
});

t('missing Chromium: the browser suite fails on its own, naming the package', async () => {
  const r = await run(process.execPath, ['scripts/run-tests.mjs', '^chromium'], { OTR_CHROMIUM: join(tmp, 'no-chromium') });
  assert.is(r.code, 1);
  assert.match(r.out, /apt-get install -y chromium/);
  assert.match(lastLine(r.out), /^0 passed, [1-9]\d* failed$/);
});

t('missing Prosody or tmux: the XMPP suites fail on their own, naming the package', async () => {
  const r = await run(process.execPath, ['scripts/run-tests.mjs', '^xmpp-'], { OTR_PROSODY: join(tmp, 'no-prosody'), OTR_TMUX: join(tmp, 'no-tmux') });
  assert.is(r.code, 1);
  assert.match(r.out, /apt-get install -y --no-install-recommends prosody/);
  assert.match(r.out, /apt-get install -y --no-install-recommends tmux/);
  assert.not.match(r.out, /UNCAUGHT/);
  assert.match(lastLine(r.out), /^0 passed, [1-9]\d* failed$/);
});

t('the runner: a crash, an exit, a stray error event, a load error or a leaked server fail only their own file', async () => {
  // Inside build/ so that the fixtures resolve `uvu` from this repository's node_modules.
  const base = mkdtempSync(join(ROOT, 'build', 'runner-fixture-'));
  const dir = join(base, 'test');
  mkdirSync(join(dir, 'sub'), { recursive: true });
  mkdirSync(join(dir, 'helpers'), { recursive: true });
  const head = `import { test } from 'uvu'; import * as assert from 'uvu/assert';\n`;
  const fixtures: Record<string, string> = {
    'a-pass.test.js': `${head}test('one', () => {}); test('two', () => assert.ok(true)); test.run();`,
    'b-fail.test.js': `${head}test('ok', () => {}); test('bad', () => assert.is(1, 2)); test.run();`,
    // An 'error' event nobody listens to, as a spawn of a missing binary emits: the file's other tests still run.
    'c-stray-error.test.js': `${head}import { spawn } from 'node:child_process';
      test('spawns a missing binary', async () => { spawn('/nonexistent/otr4-peer'); await new Promise((r) => setTimeout(r, 200)); });
      test('runs after it', () => {}); test.run();`,
    'd-exit.test.js': `${head}test('ok', () => {}); test('exits', () => process.exit(3)); test('never', () => {}); test.run();`,
    'e-load-error.test.js': `${head}throw new Error('broken at load'); test('never', () => {}); test.run();`,
    'f-leak.test.js': `${head}import { createServer } from 'node:net';
      test('leaves a server open', async () => { await new Promise((r) => createServer().listen(0, '127.0.0.1', r)); }); test.run();`,
    'sub/g-nested.test.js': `${head}test('found in a subfolder', () => {}); test.run();`,
    'helpers/not-a-suite.test.js': `${head}test('must not run', () => assert.unreachable()); test.run();`,
  };
  for (const [f, src] of Object.entries(fixtures)) writeFileSync(join(dir, f), src);
  try {
    const r = await run(process.execPath, ['scripts/run-tests.mjs', '', '--jobs', '2'], { OTR_TEST_DIR: dir }, 60_000);
    assert.is(r.code, 1);
    // pass: a 2, b 1, c 2, d 1, f 1, g 1 = 8; fail: b 1, c 1 (stray error), d 1 (ended early), e 1, f 1 (leak) = 5
    assert.is(lastLine(r.out), '8 passed, 5 failed', r.out);
    for (const f of ['b-fail', 'c-stray-error', 'd-exit', 'e-load-error', 'f-leak']) assert.match(r.out, new RegExp(`failed: ${f}\\.test\\.js`));
    assert.not.match(r.out, /failed: (a-pass|sub\/g-nested)/);
    assert.match(r.out, /ENOENT/);
    assert.match(r.out, /left open/);
    assert.not.match(r.out, /must not run/);
  } finally {
    rmSync(base, { recursive: true, force: true });
  }
});

t.run();
