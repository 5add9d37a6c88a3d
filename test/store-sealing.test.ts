/**
 * Sealing at rest (ts/store/sealing.ts), attacked as someone holding the database would: flip bits, move a
 * row to another record or account, edit a generation, swap keys, truncate. Every such row is a typed error
 * (BAD_MAC or MALFORMED), never a wrong plaintext and never a crash. Then: what a dump shows, and the
 * contract itself through a sealed store.
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { sealedStore, SEAL_OVERHEAD_BYTES } from '../ts/store/sealing.js';
import { MemoryStore } from '../ts/store/memory.js';
import type { RecordStore } from '../ts/store/types.js';
import { RawStore } from './helpers/raw-store.js';
import { CONTRACT } from './helpers/store-contract.js';
import { rejects, rejectsAsync } from './helpers/rejects.js';
import { xchacha20, xchacha20poly1305 } from '@noble/ciphers/chacha.js';
import { shake256 } from '@noble/hashes/sha3.js';
import { concatBytes } from '../ts/bytes.js';

const t = suite('store-sealing');
const KEY = Uint8Array.from({ length: 32 }, (_, i) => i + 1);
const enc = new TextEncoder();
const secret = (s: string) => enc.encode(`SECRET-STATE:${s}`);

function setup(options: { context?: string } = {}) {
  const raw = new RawStore();
  const s = sealedStore(raw, KEY, options);
  return { raw, s };
}

const contains = (hay: Uint8Array | string, needle: string): boolean =>
  typeof hay === 'string' ? hay.includes(needle) : Buffer.from(hay).includes(Buffer.from(needle));

t('round trip through the seal; a dump shows no account id, peer id or plaintext', async () => {
  const { raw, s } = setup();
  await s.commit('alice@example.org', [
    { key: 'account', generation: 1, bytes: secret('alice-keys') },
    { key: 'conv:bob@example.net', generation: 1, bytes: secret('bob-ratchet') },
  ]);
  const got = await s.load('alice@example.org', 'conv:bob@example.net');
  assert.equal(got?.bytes, secret('bob-ratchet'));
  assert.is(got?.generation, 1);
  assert.equal((await s.keys('alice@example.org')).sort(), ['account', 'conv:bob@example.net']);
  for (const [account, rows] of raw.rows) {
    assert.not.ok(contains(account, 'alice'), 'account id hidden');
    for (const [name, row] of rows) {
      for (const needle of ['bob', 'example', 'conv', 'account', 'SECRET']) {
        assert.not.ok(contains(name, needle), `row id reveals ${needle}`);
        assert.not.ok(contains(row.bytes, needle), `row bytes reveal ${needle}`);
      }
      assert.ok(row.bytes.length <= 'SECRET-STATE:bob-ratchet'.length + SEAL_OVERHEAD_BYTES);
    }
  }
});

t('row ids hide key lengths within 32-byte blocks and are stable; the same key in two accounts gives unrelated rows', async () => {
  const { raw, s } = setup();
  await s.commit('a@x', [
    { key: 'conv:b', generation: 1, bytes: secret('1') },
    { key: 'conv:bbbbbbbbbbbbbbbbbbbbbbbbb', generation: 1, bytes: secret('2') },
  ]);
  await s.commit('c@x', [{ key: 'conv:b', generation: 1, bytes: secret('3') }]);
  const [first, second] = [...raw.rows.values()];
  const names = [...first!.keys()];
  assert.is(names[0]!.length, names[1]!.length, 'a 6-byte and a 30-byte key look alike');
  assert.is.not([...second!.keys()][0], names[0], 'no linking of one peer across accounts');
  await s.commit('a@x', [{ key: 'conv:b', generation: 2, bytes: secret('4') }]);
  assert.equal([...first!.keys()], names, 'an update writes the same row');
});

t('a bit flipped anywhere in a sealed row: BAD_MAC (or MALFORMED for the version byte), never other bytes', async () => {
  const { raw, s } = setup();
  const plain = new Uint8Array(300).fill(7);
  await s.commit('a@x', [{ key: 'conv:b', generation: 3 - 2, bytes: plain }]);
  const row = [...raw.onlyAccount().values()][0]!;
  const good = row.bytes.slice();
  for (let i = 0; i < good.length; i += i < 40 ? 1 : 37) {
    for (const bit of [0, 7]) {
      row.bytes = good.slice();
      row.bytes[i]! ^= 1 << bit;
      const e = await rejectsAsync(s.load('a@x', 'conv:b'));
      assert.ok(e.code === (i === 0 ? 'MALFORMED' : 'BAD_MAC'), `byte ${i}: ${e.code}`);
    }
  }
  row.bytes = good;
  assert.equal((await s.load('a@x', 'conv:b'))?.bytes, plain, 'the untouched row still opens');
});

t('a row copied onto another record of the same account: BAD_MAC', async () => {
  const { raw, s } = setup();
  await s.commit('a@x', [
    { key: 'conv:bob', generation: 1, bytes: secret('bob') },
    { key: 'conv:eve', generation: 1, bytes: secret('eve') },
  ]);
  const rows = raw.onlyAccount();
  const [bobName, eveName] = [...rows.keys()];
  rows.set(bobName!, { ...rows.get(eveName!)! });
  await rejectsAsync(s.load('a@x', 'conv:bob'), 'BAD_MAC');
  assert.equal((await s.load('a@x', 'conv:eve'))?.bytes, secret('eve'));
});

t('a row moved to another account (same record key): BAD_MAC', async () => {
  const { raw, s } = setup();
  await s.commit('alice@x', [{ key: 'account', generation: 1, bytes: secret('alice') }]);
  await s.commit('mallory@x', [{ key: 'account', generation: 1, bytes: secret('mallory') }]);
  const [alice, mallory] = [...raw.rows.values()];
  const aliceRow = [...alice!.values()][0]!;
  const malloryName = [...mallory!.keys()][0]!;
  mallory!.set(malloryName, { ...aliceRow });
  await rejectsAsync(s.load('mallory@x', 'account'), 'BAD_MAC');
  // The whole account folder renamed: the row ids no longer open either.
  const [aliceId] = [...raw.rows.keys()];
  raw.rows.set([...raw.rows.keys()][1]!, alice!);
  raw.rows.delete(aliceId!);
  await rejectsAsync(s.keys('mallory@x'), 'MALFORMED');
});

t('a generation edited in the row (to pass a compare-and-set, or an old row replayed as current): BAD_MAC', async () => {
  const { raw, s } = setup();
  await s.commit('a@x', [{ key: 'conv:b', generation: 1, bytes: secret('g1') }]);
  const g1 = [...raw.onlyAccount().values()][0]!.bytes.slice();
  await s.commit('a@x', [{ key: 'conv:b', generation: 2, bytes: secret('g2') }]);
  const row = [...raw.onlyAccount().values()][0]!;
  const g2 = row.bytes.slice();
  row.generation = 7;
  await rejectsAsync(s.load('a@x', 'conv:b'), 'BAD_MAC');
  row.generation = 2;
  assert.equal((await s.load('a@x', 'conv:b'))?.bytes, secret('g2'), 'restored, it opens');
  row.bytes = g1; // generation 1's bytes under the current generation
  await rejectsAsync(s.load('a@x', 'conv:b'), 'BAD_MAC');
  row.bytes = g2;
  row.generation = 1; // the current bytes claiming to be older
  await rejectsAsync(s.load('a@x', 'conv:b'), 'BAD_MAC');
});

t('truncated, empty, unknown-version and garbage rows: MALFORMED or BAD_MAC, typed', async () => {
  const { raw, s } = setup();
  await s.commit('a@x', [{ key: 'conv:b', generation: 1, bytes: secret('x') }]);
  const row = [...raw.onlyAccount().values()][0]!;
  const good = row.bytes.slice();
  for (const [bytes, code] of [
    [new Uint8Array(0), 'MALFORMED'],
    [good.subarray(0, SEAL_OVERHEAD_BYTES - 1), 'MALFORMED'],
    [good.subarray(0, good.length - 1), 'BAD_MAC'],
    [Uint8Array.from([2, ...good.subarray(1)]), 'MALFORMED'],
    [new Uint8Array(500).fill(0xff), 'MALFORMED'],
    [Uint8Array.from([1, ...new Uint8Array(100)]), 'BAD_MAC'],
  ] as const) {
    row.bytes = bytes as Uint8Array;
    await rejectsAsync(s.load('a@x', 'conv:b'), code);
  }
});

t('garbage row ids (not produced by this key) make keys() fail typed; another key or context cannot open anything', async () => {
  const { raw, s } = setup();
  await s.commit('a@x', [{ key: 'conv:b', generation: 1, bytes: secret('x') }]);
  const rows = raw.onlyAccount();
  const [name] = [...rows.keys()];
  const row = rows.get(name!)!;
  for (const bad of ['conv:b', 'k:', 'k:!!!!', `k:${'A'.repeat(75)}=`, name!.slice(0, -4), `${name!.slice(0, 10)}B${name!.slice(11)}`]) {
    rows.clear();
    rows.set(bad, row);
    await rejectsAsync(s.keys('a@x'), 'MALFORMED');
  }
  rows.clear();
  rows.set(name!, row);
  const otherKey = sealedStore(raw, Uint8Array.from(KEY, (b) => b ^ 0x80));
  assert.equal(await otherKey.keys('a@x'), [], 'another key maps the account elsewhere');
  const otherContext = sealedStore(raw, KEY, { context: 'other-db' });
  assert.equal(await otherContext.load('a@x', 'conv:b'), undefined);
  // Even forced onto the same row, a different context's record key does not open it.
  const acct = [...raw.rows.keys()][0]!;
  const ctxAcct = new RawStore();
  const ctx = sealedStore(ctxAcct, KEY, { context: 'other-db' });
  await ctx.commit('a@x', [{ key: 'conv:b', generation: 1, bytes: secret('y') }]);
  const [ctxName, ctxRow] = [...ctxAcct.onlyAccount()][0]!;
  raw.rows.get(acct)!.set(ctxName, ctxRow);
  raw.rows.get(acct)!.delete(name!);
  await rejectsAsync(s.keys('a@x'), 'MALFORMED');
});

t('each write draws a fresh nonce: the same record written twice never gives the same bytes', async () => {
  const { raw, s } = setup();
  const seen = new Set<string>();
  for (let g = 1; g <= 20; g++) {
    await s.commit('a@x', [{ key: 'conv:b', generation: g, bytes: secret('same') }]);
    seen.add(Buffer.from([...raw.onlyAccount().values()][0]!.bytes.subarray(1, 25)).toString('hex'));
  }
  assert.is(seen.size, 20);
});

t('host keys: shorter than 32 bytes, not bytes, or all zeros are refused; close() wipes the keys', async () => {
  rejects(() => sealedStore(new RawStore(), new Uint8Array(31).fill(1)), 'INVALID_ARGUMENT');
  rejects(() => sealedStore(new RawStore(), 'k'.repeat(32) as unknown as Uint8Array), 'INVALID_ARGUMENT');
  rejects(() => sealedStore(new RawStore(), new Uint8Array(32)), 'INVALID_ARGUMENT');
  const { s } = setup();
  await s.commit('a@x', [{ key: 'k', generation: 1, bytes: secret('x') }]);
  await s.close();
  await rejectsAsync(s.load('a@x', 'k'), 'STATE');
  await rejectsAsync(s.commit('a@x', [{ key: 'k', generation: 2, bytes: secret('x') }]), 'STATE');
});

t('conflicts from below name the real record, not the sealed row id', async () => {
  const { s } = setup();
  await s.commit('a@x', [{ key: 'conv:bob', generation: 1, bytes: secret('x') }]);
  const e = await rejectsAsync(s.commit('a@x', [{ key: 'conv:bob', generation: 1, bytes: secret('y') }]), 'CONFLICT');
  assert.is((e as unknown as { key: string }).key, 'conv:bob');
  assert.match(e.message, /conv:bob/);
});

t('a record too big once sealed is refused with LIMIT_EXCEEDED by the store below, nothing written', async () => {
  const inner = new MemoryStore({ limits: { maxRecordBytes: 1000 } });
  const s = sealedStore(inner, KEY, { limits: { maxRecordBytes: 1000 } });
  await rejectsAsync(s.commit('a@x', [{ key: 'k', generation: 1, bytes: new Uint8Array(1000 - SEAL_OVERHEAD_BYTES + 1) }]), 'LIMIT_EXCEEDED');
  await s.commit('a@x', [{ key: 'k', generation: 1, bytes: new Uint8Array(1000 - SEAL_OVERHEAD_BYTES) }]);
  assert.is((await s.load('a@x', 'k'))?.bytes.length, 1000 - SEAL_OVERHEAD_BYTES);
});

t('the at-rest format is frozen (a change would make every existing database unreadable) and matches docs/stores.md', async () => {
  const raw = new RawStore();
  const hostKey = Uint8Array.from({ length: 32 }, (_, i) => i + 1);
  const s = sealedStore(raw, hostKey, { context: 'vector', random: (n) => new Uint8Array(n).fill(7) });
  await s.commit('alice@example.org', [{ key: 'conv:bob@example.net', generation: 1, bytes: enc.encode('state') }]);
  const [account, rows] = [...raw.rows][0]!;
  const [name, row] = [...rows][0]!;
  assert.is(account, 'a:NS3CBxDmsRSdZjS4kBaSrCdzGQTDNvCe');
  assert.is(name, 'k:AF/5LTs3hdxI5VqH9Un6UB7Zfajgx4yGa7OEbameTkUfV6Mf+Kk5UgZC2ACuu2pMyoIKt5WnrbA=');
  assert.is(Buffer.from(row.bytes).toString('hex'), '01' + '07'.repeat(24) + '9a37d6559ab9f1ef4462717ee56277c435c038a624');
  // The documented construction, rebuilt here from the primitives: keys, associated data, AEAD.
  const u32 = (n: number) => Uint8Array.from([n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255]);
  const lp = (b: Uint8Array) => concatBytes(u32(b.length), b);
  const okm = shake256(concatBytes(enc.encode('OTR4 store sealing keys v1'), lp(enc.encode('vector')), hostKey), { dkLen: 96 });
  const aad = concatBytes(enc.encode('OTR4 sealed record v1'), lp(enc.encode('alice@example.org')), lp(enc.encode('conv:bob@example.net')), u32(0), u32(1));
  const plain = xchacha20poly1305(okm.subarray(0, 32), row.bytes.subarray(1, 25), aad).decrypt(row.bytes.subarray(25));
  assert.is(new TextDecoder().decode(plain), 'state');
  const mac = shake256(concatBytes(okm.subarray(32, 64), Uint8Array.of(1), enc.encode('alice@example.org')), { dkLen: 24 });
  assert.is(account, `a:${Buffer.from(mac).toString('base64')}`);
  const padded = new Uint8Array(32);
  padded.set(enc.encode('conv:bob@example.net'));
  padded[20] = 0x80;
  const iv = shake256(concatBytes(okm.subarray(32, 64), Uint8Array.of(2), lp(enc.encode(account)), padded), { dkLen: 24 });
  assert.is(name, `k:${Buffer.from(concatBytes(iv, xchacha20(okm.subarray(64, 96), iv, padded))).toString('base64')}`);
});

// The whole contract through a seal over the memory store.
let n = 0;
for (const c of CONTRACT) {
  t(`sealed: ${c.name}`, () => {
    const shared = new MemoryStore();
    const keep: RecordStore = { load: (a, k) => shared.load(a, k), keys: (a) => shared.keys(a), commit: (a, ch) => shared.commit(a, ch), close: async () => {} };
    return c.run(async (limits) => sealedStore(limits ? new MemoryStore({ limits: { ...limits, maxRecordBytes: (limits.maxRecordBytes ?? 4 << 20) + SEAL_OVERHEAD_BYTES, maxRecordKeyBytes: 1024 } }) : keep, KEY, { limits }), `sealed-${n++}@example.org`);
  });
}

t.run();
