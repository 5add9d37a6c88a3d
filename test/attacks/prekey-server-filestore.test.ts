/**
 * Attack: a damaged FileStore log (issue 10). Before the fix, one flipped bit in the first frame made the
 * whole log look like a torn tail: it was truncated to nothing on the next start, silently losing every
 * acknowledged publication and handing out already-consumed prekeys again. Now only a genuinely torn final
 * frame is cut; every other damage refuses to open (changing nothing on disk) or, on request, quarantines.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { appendFileSync, mkdtempSync, readdirSync, readFileSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { OtrError } from '../../ts/errors.js';
import { FileStore, OtrStoreCorruptError } from '../../ts/prekey-server/file-store.js';

const cp = { bytes: Uint8Array.of(1, 2, 3), expiry: 2_000_000_000n };
const NOW = 1_000_000_000n;

function prekeys(from: number, n: number) {
  return Array.from({ length: n }, (_, i) => ({ id: from + i, bytes: Uint8Array.of(9, from + i) }));
}

/** A log with three frames: publish 6 (ids 1..6), take one (id 1), publish 4 more (ids 7..10). */
async function makeLog(): Promise<{ dir: string; log: string; frames: number[] }> {
  const dir = mkdtempSync(join(tmpdir(), 'otr-pks-attack-'));
  const log = join(dir, 'prekeys.log');
  const s = await FileStore.open(dir);
  const sizes: number[] = [s.size];
  await s.publish('bob', { instanceTag: 0x100, clientProfile: cp, prekeyProfile: cp, prekeys: prekeys(1, 6) });
  sizes.push(s.size);
  const took = await s.take('bob', NOW, 4);
  assert.equal(took.map((e) => e.prekey.id), [1]);
  sizes.push(s.size);
  await s.publish('bob', { instanceTag: 0x100, prekeys: prekeys(7, 4) });
  sizes.push(s.size);
  await s.close();
  return { dir, log, frames: sizes };
}

function flipBit(path: string, at: number, bit = 0): void {
  const buf = readFileSync(path);
  buf[at] = buf[at]! ^ (1 << bit);
  writeFileSync(path, buf);
}

async function refuses(dir: string, log: string, what: string): Promise<void> {
  const before = readFileSync(log);
  await FileStore.open(dir).then(
    () => assert.unreachable(`${what}: opened a corrupt log`),
    (e: unknown) => {
      assert.instance(e, OtrStoreCorruptError, `${what}: ${String(e)}`);
      assert.instance(e, OtrError);
      assert.match((e as Error).message, /corrupt at byte/);
    },
  );
  assert.equal(new Uint8Array(readFileSync(log)), new Uint8Array(before), `${what}: the log was changed`);
}

test('a flipped bit in the first frame refuses to open (it used to truncate the whole log)', async () => {
  const { dir, log, frames } = await makeLog();
  try {
    // In the record (the middle of frame 1), in its length field, in its header check.
    for (const [at, what] of [
      [frames[0]! + 40, 'record'],
      [frames[0]! + 1, 'length'],
      [frames[0]! + 5, 'header check'],
    ] as const) {
      flipBit(log, at, 3);
      await refuses(dir, log, `first frame ${what}`);
      flipBit(log, at, 3); // undo
    }
    // Undamaged again: it opens with every acknowledged operation.
    const s = await FileStore.open(dir);
    assert.is(await s.count('bob', 0x100), 9);
    await s.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a flipped bit in a complete final frame is corruption, not a torn tail', async () => {
  const { dir, log, frames } = await makeLog();
  try {
    flipBit(log, frames[3]! - 3, 0); // inside the last frame's record check
    await refuses(dir, log, 'last frame check');
    flipBit(log, frames[3]! - 3, 0);
    flipBit(log, frames[2]! + 20, 6); // inside the last frame's record
    await refuses(dir, log, 'last frame record');
    flipBit(log, frames[1]! + 12, 1); // the take: cutting it would hand prekey 1 out again
    flipBit(log, frames[2]! + 20, 6);
    await refuses(dir, log, 'middle frame');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a genuinely torn final frame is cut, and nothing before it', async () => {
  const { dir, log, frames } = await makeLog();
  try {
    // The last append stopped part-way (the file ends inside the frame).
    truncateSync(log, frames[3]! - 5);
    let s = await FileStore.open(dir);
    assert.is(await s.count('bob', 0x100), 5, 'the publish and the take before the torn frame are kept');
    const next = await s.take('bob', NOW, 4);
    assert.equal(next.map((e) => e.prekey.id), [2], 'the taken prekey 1 is never handed out again');
    await s.close();
    // The file grew but the data never landed: zeros after the last good frame (also partly inside a frame).
    appendFileSync(log, new Uint8Array(4096));
    s = await FileStore.open(dir);
    assert.is(await s.count('bob', 0x100), 4);
    await s.close();
    const good = readFileSync(log).length;
    appendFileSync(log, Uint8Array.of(0, 0, 0, 40)); // a header cut short
    s = await FileStore.open(dir);
    await s.close();
    assert.is(readFileSync(log).length, good, 'the short header was cut');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('garbage after the last frame, or a foreign file, is refused', async () => {
  const { dir, log } = await makeLog();
  try {
    appendFileSync(log, new TextEncoder().encode('this is not a frame at all, not zeros either'));
    await refuses(dir, log, 'trailing garbage');
    writeFileSync(log, new TextEncoder().encode('some other file that happens to be here'));
    await refuses(dir, log, 'foreign file');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("onCorruption 'quarantine' moves the log aside and starts empty: no prekey handed out twice", async () => {
  const { dir, log, frames } = await makeLog();
  try {
    flipBit(log, frames[0]! + 40, 2);
    const s = await FileStore.open(dir, { onCorruption: 'quarantine' });
    assert.is(await s.count('bob', 0x100), 0);
    assert.equal(await s.take('bob', NOW, 4), []);
    await s.close();
    assert.ok(readdirSync(dir).some((f) => f.startsWith('prekeys.log.corrupt-')), 'the damaged log is kept for the operator');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('one process per log: a second open is refused while the first holds the lock; a dead holder\'s lock is taken over', async () => {
  const { dir } = await makeLog();
  try {
    const s = await FileStore.open(dir);
    await FileStore.open(dir).then(
      () => assert.unreachable('opened twice'),
      (e: unknown) => assert.is((e as OtrError).code, 'STATE'),
    );
    await s.close();
    writeFileSync(join(dir, 'prekeys.lock'), '1\n'); // a live process (init) holds it
    await FileStore.open(dir).then(
      () => assert.unreachable('opened while another live process holds the lock'),
      (e: unknown) => assert.match((e as Error).message, /in use by process 1/),
    );
    writeFileSync(join(dir, 'prekeys.lock'), '2147483646\n'); // no such process: left by a kill -9
    const again = await FileStore.open(dir);
    assert.is(await again.count('bob', 0x100), 9);
    await again.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a log holding more than the limits allow (forged, or written under other limits) is refused, not loaded into memory', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'otr-pks-attack-'));
  const log = join(dir, 'prekeys.log');
  const roomy = { maxIdentities: 100, maxInstancesPerIdentity: 4, maxStoredPrekeysPerInstance: 1000, maxStoredPrekeysTotal: 10_000 };
  const tight = { ...roomy, maxStoredPrekeysPerInstance: 10, maxStoredPrekeysTotal: 30 };
  try {
    // Valid frames and checks throughout: only the amount is wrong for the server that opens it.
    const w = await FileStore.open(dir, { limits: roomy });
    for (let i = 0; i < 4; i++) await w.publish(`id${i}`, { instanceTag: 0x100, clientProfile: cp, prekeyProfile: cp, prekeys: prekeys(1, 9) });
    await w.publish('big', { instanceTag: 0x100, clientProfile: cp, prekeyProfile: cp, prekeys: prekeys(1, 500) });
    await w.close();
    const before = readFileSync(log);
    for (const limits of [tight, { ...roomy, maxStoredPrekeysTotal: 40 }, { ...roomy, maxIdentities: 3 }]) {
      await FileStore.open(dir, { limits }).then(
        () => assert.unreachable('opened a log beyond its limits'),
        (e: unknown) => {
          assert.instance(e, OtrStoreCorruptError, String(e));
          assert.match((e as Error).message, /more than the limits allow/);
        },
      );
    }
    assert.equal(new Uint8Array(readFileSync(log)), new Uint8Array(before), 'refusing changed nothing');
    // Quarantine: moved aside, the store starts empty (and within its limits).
    const q = await FileStore.open(dir, { limits: tight, onCorruption: 'quarantine' });
    assert.is(await q.count('big', 0x100), 0);
    assert.is(await q.count('id0', 0x100), 0);
    await q.close();
    assert.ok(readdirSync(dir).some((f) => f.startsWith('prekeys.log.corrupt-')));
    // Under the limits it was written with, the (quarantined) log opens whole.
    const moved = readdirSync(dir).find((f) => f.startsWith('prekeys.log.corrupt-'))!;
    const again = mkdtempSync(join(tmpdir(), 'otr-pks-attack-'));
    writeFileSync(join(again, 'prekeys.log'), readFileSync(join(dir, moved)));
    const r = await FileStore.open(again, { limits: roomy });
    assert.is(await r.count('big', 0x100), 500);
    await r.close();
    rmSync(again, { recursive: true, force: true });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
