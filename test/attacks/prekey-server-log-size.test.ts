/**
 * Attack: a FileStore log that is huge (a hostile disk, a forged file, or a log grown without bound). Before
 * the fix `open` read the whole file into memory before checking anything: a sparse 3 GiB file made Node throw
 * its own RangeError (not an OtrError) after trying, and a 1.9 GiB one would have been read whole. Now the size
 * is checked first (limits.maxPrekeyLogBytes): a larger log is refused with a typed error naming its size and
 * the limit (nothing read, nothing changed), or quarantined on request; and the store itself never writes a
 * log larger than the limit (it compacts, and refuses a publication the limit cannot hold).
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, readdirSync, rmSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { OtrError, OtrLimitError } from '../../ts/errors.js';
import { DEFAULT_LIMITS } from '../../ts/limits.js';
import { FileStore, OtrStoreCorruptError, OtrStoreTooLargeError } from '../../ts/prekey-server/file-store.js';

const cp = { bytes: Uint8Array.of(1, 2, 3), expiry: 2_000_000_000n };
const NOW = 1_000_000_000n;

function prekeys(from: number, n: number, size = 2) {
  return Array.from({ length: n }, (_, i) => ({ id: from + i, bytes: new Uint8Array(size).fill((from + i) & 0xff) }));
}

function tmp(): string {
  return mkdtempSync(join(tmpdir(), 'otr-pks-size-'));
}

test('a sparse 3 GiB log is refused by its size, with a typed error, before any of it is read', async () => {
  const dir = tmp();
  const log = join(dir, 'prekeys.log');
  try {
    writeFileSync(log, new Uint8Array(0));
    truncateSync(log, 3 * 2 ** 30); // sparse: costs no disk, but readFile would try to hold it all
    const err = await FileStore.open(dir).then(
      () => assert.unreachable('opened a 3 GiB log'),
      (e: unknown) => e,
    );
    assert.instance(err, OtrStoreTooLargeError, String(err));
    assert.instance(err, OtrStoreCorruptError, 'the same class as other corruption (same handling)');
    assert.instance(err, OtrError);
    const e = err as OtrStoreTooLargeError;
    assert.is(e.size, 3 * 2 ** 30);
    assert.is(e.limit, DEFAULT_LIMITS.maxPrekeyLogBytes);
    assert.match(e.message, /3221225472 bytes/);
    assert.match(e.message, new RegExp(`${DEFAULT_LIMITS.maxPrekeyLogBytes}`));
    assert.is(statSync(log).size, 3 * 2 ** 30, 'nothing changed on disk');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a log over a lowered limit is refused; quarantine moves it aside and starts empty', async () => {
  const dir = tmp();
  try {
    const s = await FileStore.open(dir);
    await s.publish('bob', { instanceTag: 0x100, clientProfile: cp, prekeyProfile: cp, prekeys: prekeys(1, 20, 200) });
    const size = s.size;
    await s.close();
    const limits = { ...DEFAULT_LIMITS, maxPrekeyLogBytes: size - 1 };
    await FileStore.open(dir, { limits }).then(
      () => assert.unreachable('opened a log over the limit'),
      (e: unknown) => {
        assert.instance(e, OtrStoreTooLargeError);
        assert.is((e as OtrStoreTooLargeError).size, size);
      },
    );
    const q = await FileStore.open(dir, { limits, onCorruption: 'quarantine' });
    assert.is(await q.count('bob', 0x100), 0, 'starts empty');
    await q.close();
    assert.ok(readdirSync(dir).some((f) => f.startsWith('prekeys.log.corrupt-')), 'the big log is kept aside');
    // At the exact limit it opens.
    const s2 = await FileStore.open(dir, { limits: { ...DEFAULT_LIMITS, maxPrekeyLogBytes: size } });
    await s2.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('the store never writes a log it would refuse: it compacts, then refuses a publication the limit cannot hold', async () => {
  const dir = tmp();
  try {
    const max = 16 * 1024;
    const limits = { ...DEFAULT_LIMITS, maxPrekeyLogBytes: max };
    // compactFactor high: without the limit the log would only grow.
    const s = await FileStore.open(dir, { limits, compactFactor: 1000, compactMinBytes: 1 << 30 });
    let refused: unknown = null;
    let id = 1;
    for (let round = 0; round < 200 && !refused; round++) {
      try {
        await s.publish('bob', { instanceTag: 0x100, clientProfile: cp, prekeyProfile: cp, prekeys: prekeys(id, 5, 100) });
        id += 5;
        // Takes shrink the live data but grow the log: compaction must keep it under the limit.
        await s.take('bob', NOW, 1);
      } catch (e) {
        refused = e;
      }
      assert.ok(statSync(join(dir, 'prekeys.log')).size <= max, `round ${round}: log ${statSync(join(dir, 'prekeys.log')).size} > ${max}`);
    }
    assert.instance(refused, OtrLimitError, `a publication over the limit is refused (${String(refused)})`);
    const kept = await s.count('bob', 0x100);
    assert.ok(kept > 0);
    // The store still works after a refusal (a take), and the log reopens under the same limit with the same data.
    const took = await s.take('bob', NOW, 1);
    assert.is(took.length, 1);
    await s.close();
    const r = await FileStore.open(dir, { limits });
    assert.is(await r.count('bob', 0x100), kept - 1);
    await r.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
