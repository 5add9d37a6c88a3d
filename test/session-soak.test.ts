/**
 * The short kill -9 soak of the session layer (scripts/soak-session.mjs; the long one runs on demand):
 * Alice's bridge process on a sealed SQLite file, killed 4 times mid-conversation. No key reused on the wire,
 * nothing shown twice, the session alive at the end, every lost message accounted for.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

test('kill -9 a bridge process 4 times on SQLite: no key reused, no replay, alive at the end', () => {
  const r = spawnSync(process.execPath, [join(root, 'scripts', 'soak-session.mjs'), '--kills', '4', '--kind', 'sqlite'], { encoding: 'utf8', timeout: 240_000 });
  assert.is(r.status, 0, r.stderr + r.stdout);
  const report = JSON.parse(r.stdout.trim().split('\n').at(-1)!);
  assert.is(report.keysReused, 0);
  assert.is(report.shownTwice, 0);
  assert.ok(report.aliveAtEnd);
  assert.ok(report.dataMessagesOnWire > 0);
  // Bob's messages are delivered until acknowledged: each is shown once or lost to a kill between Alice's commit and print.
  assert.is(report.bobShownByAlice + report.bobLost, report.bobMessages);
  assert.ok(report.bobLost <= report.kills);
  // Every loss explained by where a kill fell (the script fails otherwise; checked here too): each kill,
  // the final one included, is classified, and a lost message's step was in flight at one of them.
  const at = report.killsAt as Record<string, number>;
  assert.is(Object.values(at).reduce((a, b) => a + b, 0), report.kills + 1);
  assert.equal(report.aliceLostUnexplained, []);
  assert.equal(report.bobLostUnexplained, []);
  assert.ok(report.aliceLost <= at.duringSend! + at.duringSendCommitted!);
  assert.ok(report.bobLost <= at.duringReceiveCommitted! + at.duringReceive! + report.bobInTransitAtEnd);
});

test.run();
