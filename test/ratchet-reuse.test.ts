/**
 * The per-message path's reused places (session 7): the fused data-message calls' `into` (DataMessageScratch),
 * the ratchet's seal/open places and chain keys advanced in place, the receiver's transient plaintext, and
 * the decoder's DH key as a view. What must hold: the same bytes as without reuse, every reused place zero
 * between messages, a caller that keeps an array never sees it change under it, and nothing the state keeps
 * aliases a received message.
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { HYBRID, JS, WASM } from './helpers/backends.js';
import { seededRandom } from './helpers/rng.js';
import { seededRatchetPair } from './helpers/ratchet-pair.js';
import { OtrArgumentError } from '../ts/errors.js';
import type { CryptoBackend, DataMessageScratch } from '../ts/backend/types.js';
import type { WasmBackend } from '../ts/backend/wasm/index.js';
import { dataMessageOps } from '../ts/backend/wasm/datamsg.js';
import { decodeDataMessage } from '../ts/wire/data.js';
import { decryptDataMessage, encryptDataMessage, nextChainKey, type RatchetState } from '../ts/ratchet/index.js';
import { sealPlacesForTests } from '../ts/ratchet/send.js';
import { openPlacesForTests } from '../ts/ratchet/receive.js';

const t = suite('per-message reuse');
const wasm = WASM as WasmBackend;
const FUSED: [string, CryptoBackend][] = [
  ['wasm main', { ...WASM, ...dataMessageOps(wasm.context) }],
  ...(wasm.simdContext ? [['wasm simd', { ...WASM, ...dataMessageOps(wasm.simdContext) }] as [string, CryptoBackend]] : []),
  ['hybrid', HYBRID],
];

const zero = (a: Uint8Array) => a.every((x) => x === 0);
const filled = (n: number, v: number) => new Uint8Array(n).fill(v);

function authenticatedOf(header: Uint8Array, ctLen: number): Uint8Array {
  const a = new Uint8Array(header.length + ctLen);
  a.set(header);
  return a;
}

for (const [label, b] of FUSED) {
  t(`${label}: outputs go into the given places, byte-identical to fresh arrays`, () => {
    const rnd = seededRandom(0x1270 + label.length);
    for (const size of [0, 1, 100, 257, 4096]) {
      const ck = rnd(64);
      const header = rnd(81);
      const pt = rnd(size);
      const a1 = authenticatedOf(header, size);
      const fresh = b.sealDataMessage!(ck, a1, pt)!;
      const a2 = authenticatedOf(header, size);
      const into = { next: filled(64, 0xaa), mac: filled(64, 0xbb) };
      const placed = b.sealDataMessage!(ck, a2, pt, into)!;
      assert.is(placed.next, into.next);
      assert.is(placed.authenticator, into.mac);
      assert.equal(placed.next, fresh.next);
      assert.equal(placed.authenticator, fresh.authenticator);
      assert.equal(a2, a1, `size ${size}: the same ciphertext`);

      const ref = b.openDataMessage!(ck, a1, size, fresh.authenticator)!;
      // A plaintext place large enough: the plaintext is a view of its first bytes.
      const big = { next: filled(64, 1), mac: filled(64, 2), plaintext: filled(size + 7, 3) };
      const o1 = b.openDataMessage!(ck, a1, size, fresh.authenticator, big)!;
      assert.equal([o1.plaintext, o1.next, o1.mkMac], [pt, ref.next, ref.mkMac]);
      assert.is(o1.plaintext.buffer, big.plaintext.buffer);
      assert.is(o1.plaintext.byteOffset, big.plaintext.byteOffset);
      assert.is(o1.next, big.next);
      assert.is(o1.mkMac, big.mac);
      assert.equal(big.plaintext.subarray(size), filled(7, 3), 'nothing written past the plaintext');
      // Too small, or no plaintext place and no MAC place: fresh arrays for those, the given place for next.
      if (size > 0) {
        const small = { next: filled(64, 1), plaintext: filled(size - 1, 4) };
        const o2 = b.openDataMessage!(ck, a1, size, fresh.authenticator, small)!;
        assert.equal(o2.plaintext, pt);
        assert.is.not(o2.plaintext.buffer, small.plaintext.buffer);
        assert.equal(small.plaintext, filled(size - 1, 4), 'a place too small is left alone');
        assert.is(o2.next, small.next);
        assert.equal(o2.mkMac, ref.mkMac);
      }
    }
  });

  t(`${label}: a wrong authenticator writes nothing into the places; wrong-size places are refused before any work`, () => {
    const rnd = seededRandom(0x1271);
    const ck = rnd(64);
    const header = rnd(81);
    const pt = rnd(100);
    const a = authenticatedOf(header, 100);
    const sealed = b.sealDataMessage!(ck, a, pt)!;
    const bad = sealed.authenticator.slice();
    bad[5]! ^= 1;
    const into = { next: filled(64, 9), mac: filled(64, 9), plaintext: filled(200, 9) };
    assert.is(b.openDataMessage!(ck, a, 100, bad, into), null);
    assert.equal(into, { next: filled(64, 9), mac: filled(64, 9), plaintext: filled(200, 9) });
    const wrong: DataMessageScratch[] = [
      { next: new Uint8Array(63) },
      { next: new Uint8Array(64), mac: new Uint8Array(65) },
      { next: 'x' as unknown as Uint8Array },
      { next: new Uint8Array(64), plaintext: [] as unknown as Uint8Array },
    ];
    for (const w of wrong) {
      const copy = authenticatedOf(header, 100);
      assert.throws(() => b.sealDataMessage!(ck, copy, pt, w), (e: unknown) => e instanceof OtrArgumentError);
      assert.ok(zero(copy.subarray(81)), 'nothing encrypted');
      assert.throws(() => b.openDataMessage!(ck, a, 100, sealed.authenticator, w), (e: unknown) => e instanceof OtrArgumentError);
    }
  });
}

/** A conversation over the ratchet alone, checking the reused places after every step. */
function talk(b: CryptoBackend, seed: number) {
  const { alice, bob, rnd } = seededRatchetPair(b, seed);
  const st: Record<'alice' | 'bob', RatchetState> = { alice, bob };
  const tags = { alice: 0x100, bob: 0x101 };
  return {
    rnd,
    st,
    send(from: 'alice' | 'bob', pt: Uint8Array): Uint8Array {
      const to = from === 'alice' ? 'bob' : 'alice';
      const before = st[from].sendingStepDue ? undefined : st[from].sendChain!.slice();
      const s = encryptDataMessage(b, rnd, st[from], pt, { senderTag: tags[from], receiverTag: tags[to] });
      // On a chain (no new ratchet), the chain key advanced in place: the same array, holding KDF(0x14, ck).
      if (before) {
        assert.is(s.state.sendChain, st[from].sendChain, 'the chain key array is reused');
        assert.equal(s.state.sendChain, nextChainKey(JS, before));
      }
      st[from] = s.state;
      for (const p of sealPlacesForTests()) assert.ok(zero(p), 'the seal places are zero after a send');
      return s.message.slice();
    },
    recv(to: 'alice' | 'bob', message: Uint8Array, transient: boolean): Uint8Array {
      const r = decryptDataMessage(b, st[to], decodeDataMessage(message), { now: 1_000, transientPlaintext: transient });
      st[to] = r.state;
      assert.ok(zero(openPlacesForTests()[0]!), 'the next-chain-key place is zero after a receive');
      return r.plaintext;
    },
  };
}

t('the ratchet: chain keys advance in place, the places are zero between messages, the same bytes as the composition', () => {
  for (const b of [WASM, HYBRID, JS]) {
    const x = talk(b, 0x5eed);
    const y = talk(JS, 0x5eed);
    const rnd = seededRandom(0x7a1c);
    const order: ['alice' | 'bob', number][] = [['alice', 3], ['bob', 2], ['alice', 1], ['bob', 4], ['alice', 2]];
    for (const [from, n] of order) {
      const to = from === 'alice' ? 'bob' : 'alice';
      const sent: [Uint8Array, Uint8Array][] = [];
      for (let i = 0; i < n; i++) {
        const pt = rnd(50 + i);
        const m = x.send(from, pt);
        assert.equal(m, y.send(from, pt), 'byte-identical to the JS composition');
        sent.push([m, pt]);
      }
      // Out of order on the chain: the last first (skipping the others), then the rest.
      const deliver = [n - 1, ...Array.from({ length: n - 1 }, (_, i) => i)];
      for (const i of deliver) {
        const got = x.recv(to, sent[i]![0], true);
        assert.equal(got, sent[i]![1]);
        got.fill(0); // what the session does; the buffer is zero again for the next one
        y.recv(to, sent[i]![0], false);
      }
    }
  }
});

t('transient plaintexts share one buffer; a default receive gets an array of its own that later receives leave alone', () => {
  const x = talk(WASM, 0x7e57);
  const rnd = seededRandom(9);
  const p1 = rnd(100);
  const p2 = rnd(100);
  const p3 = rnd(100);
  const p4 = rnd(20000);
  const m1 = x.send('alice', p1);
  const m2 = x.send('alice', p2);
  const m3 = x.send('alice', p3);
  const m4 = x.send('alice', p4);
  const own = x.recv('bob', m1, false);
  const t2 = x.recv('bob', m2, true);
  assert.equal(t2, p2);
  const kept = t2.slice();
  t2.fill(0);
  const t3 = x.recv('bob', m3, true);
  assert.is(t3.buffer, t2.buffer, 'the same reused buffer');
  assert.equal(t3, p3);
  assert.equal(kept, p2);
  assert.equal(own, p1, 'the own array is untouched by the transient receives');
  assert.is.not(own.buffer, t3.buffer);
  t3.fill(0);
  // Larger than the reused buffer: an array of its own, even when transient.
  const big = x.recv('bob', m4, true);
  assert.equal(big, p4);
  assert.is.not(big.buffer, t3.buffer);
  assert.ok(openPlacesForTests().every(zero), 'every place zero');
});

t('a receive nested in another (a backend calling out after the open) leaves the outer one its places', () => {
  // The hazard window: the outer open has filled the shared places (next chain key, MKmac, the transient
  // plaintext) and the ratchet has not yet copied them out; a backend call made there (the extra key's KDF)
  // receives on another ratchet.
  let nested: (() => void) | undefined;
  const hooked: CryptoBackend = {
    ...WASM,
    shake256(values, size) {
      if (nested !== undefined && !zero(openPlacesForTests()[0]!)) {
        const run = nested;
        nested = undefined;
        run();
      }
      return WASM.shake256(values, size);
    },
  };
  const x = talk(hooked, 0x9e57);
  const y = talk(WASM, 0x9e58);
  const rnd = seededRandom(0x9e59);
  const [p0, p1, p2, q0] = [rnd(40), rnd(41), rnd(42), rnd(43)];
  assert.equal(x.recv('bob', x.send('alice', p0), true).fill(0), new Uint8Array(40));
  const m1 = x.send('alice', p1);
  const m2 = x.send('alice', p2);
  const n0 = y.send('alice', q0);
  let inner: Uint8Array | undefined;
  nested = () => {
    const r = decryptDataMessage(WASM, y.st.bob, decodeDataMessage(n0), { now: 1_000, transientPlaintext: true });
    y.st.bob = r.state;
    inner = r.plaintext.slice();
  };
  const outer = decryptDataMessage(hooked, x.st.bob, decodeDataMessage(m1), { now: 1_000, transientPlaintext: true, extraKey: true });
  assert.is(nested, undefined, 'the nested receive ran inside the outer one');
  assert.equal(inner, q0, 'the nested message');
  assert.equal(outer.plaintext, p1, 'the outer message, not overwritten by the nested one');
  outer.plaintext.fill(0);
  x.st.bob = outer.state;
  assert.equal(x.recv('bob', m2, false), p2, 'the outer chain key advanced correctly: the next message opens');
  assert.equal(y.recv('bob', y.send('alice', q0), false), q0, 'and so did the nested one');
  assert.ok(openPlacesForTests().every(zero), 'every place zero');
});

t('a new ratchet keeps copies of the ECDH key (state and skipped keys), not views of the received message', () => {
  const x = talk(WASM, 0xec);
  x.recv('bob', x.send('alice', Uint8Array.of(1)), false);
  // Bob's new ratchet: its third message arrives first, so the first two keys are stored as skipped.
  const ms = [0, 1, 2].map((i) => x.send('bob', Uint8Array.of(i)));
  const decoded = decodeDataMessage(ms[2]!);
  assert.is(decoded.ecdh.buffer, ms[2]!.buffer, 'the decoder gives a view');
  const r = decryptDataMessage(WASM, x.st.alice, decoded, { now: 1_000 });
  assert.is(r.source, 'new-ratchet');
  x.st.alice = r.state;
  const keptKeys = [r.state.theirEcdh, ...r.state.skipped.map((e) => e.theirEcdh)];
  assert.is(keptKeys.length, 3);
  const copies = keptKeys.map((k) => k.slice());
  ms[2]!.fill(0xee);
  for (const [i, k] of keptKeys.entries()) {
    assert.is.not(k.buffer, ms[2]!.buffer);
    assert.equal(k, copies[i], 'unchanged by the message buffer');
  }
  // The skipped keys still open their messages (they match the kept key).
  for (const i of [0, 1]) {
    const got = decryptDataMessage(WASM, x.st.alice, decodeDataMessage(ms[i]!), { now: 1_000 });
    assert.is(got.source, 'skipped');
    assert.equal(got.plaintext, Uint8Array.of(i));
    x.st.alice = got.state;
  }
});

t('a new ratchet keeps a copy of the DH key, not a view of the received message', () => {
  const x = talk(WASM, 0xd4);
  // Bob's receiving chain is Alice's ratchet 0 already; Bob's reply starts ratchet 1, Alice's next 2, then
  // Bob's 3: a DH step, which Alice receives as a new ratchet carrying his DH key.
  const turn = (from: 'alice' | 'bob') => {
    const m = x.send(from, Uint8Array.of(1, 2, 3));
    const to = from === 'alice' ? 'bob' : 'alice';
    const decoded = decodeDataMessage(m);
    const r = decryptDataMessage(WASM, x.st[to], decoded, { now: 1_000 });
    x.st[to] = r.state;
    return { m, decoded, r };
  };
  let seen = false;
  for (const from of ['alice', 'bob', 'alice', 'bob', 'alice', 'bob'] as const) {
    const { m, decoded, r } = turn(from);
    if (r.source !== 'new-ratchet' || decoded.dh.length === 0) continue;
    seen = true;
    assert.is(decoded.dh.buffer, m.buffer, 'the decoder gives a view');
    const keptDh = r.state.theirDh;
    assert.is.not(keptDh.buffer, m.buffer);
    const copy = keptDh.slice();
    m.fill(0xee);
    assert.equal(keptDh, copy, 'the state is not changed by the message buffer');
  }
  assert.ok(seen, 'a DH ratchet step was received');
});

t.run();
