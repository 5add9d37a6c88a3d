/**
 * Attack: the operator CLI's options (examples/prekey-server.ts), the ones a config-management typo or a
 * hostile wrapper script can pass. Each must exit 2 with the usage before anything starts: names that are
 * Object.prototype's (`in` took them), numbers Number() would take but nobody meant ('' is 0, hex, exponents,
 * spaces), and values past what the option can mean (a port above 65535; a delay above 2^31-1 ms, which a Node
 * timer fires after 1 ms instead — the idle deadline would have closed every connection at once and the stats
 * line been printed every millisecond).
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { killAllServers, killServer, SERVER_JS, startServer } from '../helpers/prekey-server-process.js';

const BAD: readonly (readonly string[])[] = [
  ['--constructor', 'x'],
  ['--toString', 'x'],
  ['--__proto__', 'x'],
  ['--hasOwnProperty', '1'],
  ['--max-connections', ''],
  ['--max-connections', ' 5'],
  ['--idle-ms', '0x10'],
  ['--fetch-rate', '1e3'],
  ['--max-identities', '9007199254740993'],
  ['--port', '65536'],
  ['--idle-ms', String(2 ** 31)],
  ['--line-deadline-ms', '1e10'],
  ['--drain-timeout-ms', '99999999999'],
  ['--stats-interval', '2147484'],
  ['--fetch-rate', 'Infinity'],
  ['--fetch-rate', '-0'],
];

test('hostile or meaningless option values exit 2 with the usage, before anything starts', () => {
  const dir = mkdtempSync(join(tmpdir(), 'otr-pks-cli-'));
  try {
    for (const bad of BAD) {
      // If the server did start, it is killed by the timeout and the status is null: a failure either way.
      const r = spawnSync(process.execPath, [SERVER_JS, '--port', '0', '--store', 'memory:', '--data', dir, ...bad], { encoding: 'utf8', timeout: 15_000 });
      assert.is(r.status, 2, `${bad.join(' ')}: ${r.stdout.slice(0, 200)} ${r.stderr.slice(0, 200)}`);
      assert.match(r.stderr, /Usage: npm run prekey-server/, bad.join(' '));
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('the largest meaningful values (and a default rate with many decimals) still start', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'otr-pks-cli-'));
  try {
    const p = await startServer(['--store', 'memory:', '--data', dir, '--idle-ms', String(2 ** 31 - 1), '--line-deadline-ms', String(2 ** 31 - 1), '--stats-interval', '2147483', '--fetch-rate', '0.03333333333333333', '--max-identities', String(Number.MAX_SAFE_INTEGER)]);
    assert.ok(p.port > 0);
    await killServer(p, 'SIGTERM');
  } finally {
    await killAllServers();
    rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
