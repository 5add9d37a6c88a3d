/**
 * The SMP state machine and protocol (ts/smp/state.ts, steps.ts, secret.ts, persist.ts), on every backend:
 * outcomes, the question, tampering with every field of every message, messages out of turn, aborts from
 * either side at every step, restarts, persistence, wiping. Peer input must never throw.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createHash } from 'node:crypto';
import { ed448 } from '@noble/curves/ed448.js';
import { BACKENDS } from './helpers/backends.js';
import type { CryptoBackend } from '../ts/backend/types.js';
import { bigToBytesLE, bytesToBigLE, bytesToHex, utf8 } from '../ts/bytes.js';
import { OtrArgumentError, OtrDecodeError, OtrLimitError, OtrStateError } from '../ts/errors.js';
import { DEFAULT_LIMITS } from '../ts/limits.js';
import { BASE_POINT, IDENTITY_POINT } from '../ts/crypto/point.js';
import { SCALAR_Q_LE } from '../ts/crypto/eddsa.js';
import { SMP_LAYOUTS } from '../ts/smp/messages.js';
import { smpSecret, type SmpSecretInput } from '../ts/smp/secret.js';
import {
  cloneSmpState,
  initialSmpState,
  smpAbort,
  smpAnswer,
  smpInProgress,
  smpReceive,
  smpReset,
  smpStart,
  type SmpResult,
  type SmpState,
  type SmpTlv,
} from '../ts/smp/state.js';
import { decodeSmpState, encodeSmpState } from '../ts/smp/persist.js';
import { SmpTlvType } from '../ts/smp/tlv-types.js';
import { seededRandom } from './helpers/rng.js';

const FP_A = Uint8Array.from({ length: 56 }, (_, i) => i);
const FP_B = Uint8Array.from({ length: 56 }, (_, i) => 0xff - i);
const SSID = Uint8Array.of(1, 2, 3, 4, 5, 6, 7, 8);
const inA = (answer: string, over: Partial<SmpSecretInput> = {}): SmpSecretInput => ({ ourFingerprint: FP_A, theirFingerprint: FP_B, ssid: SSID, answer, ...over });
const inB = (answer: string, over: Partial<SmpSecretInput> = {}): SmpSecretInput => ({ ourFingerprint: FP_B, theirFingerprint: FP_A, ssid: SSID, answer, ...over });
const rng = seededRandom(0xa11ce);
const opts = { rng };

const Q = bytesToBigLE(SCALAR_Q_LE);
const ABORT: SmpTlv = { tlvType: SmpTlvType.abort, body: new Uint8Array(0) };
const types = (r: SmpResult) => r.send.map((t) => t.tlvType);

/** One full exchange; returns the events and every TLV sent, plus each receiver's state before receiving. */
function exchange(b: CryptoBackend, a: SmpSecretInput, bob: SmpSecretInput, question?: string) {
  let A = initialSmpState();
  let B = initialSmpState();
  const before: Uint8Array[] = [];
  const r1 = smpStart(b, A, a, { rng, question });
  A = r1.state;
  before.push(encodeSmpState(B));
  const asked = smpReceive(b, B, r1.send[0]!, opts);
  B = asked.state;
  const r2 = smpAnswer(b, B, bob, opts);
  B = r2.state;
  before.push(encodeSmpState(A));
  const r3 = smpReceive(b, A, r2.send[0]!, opts);
  A = r3.state;
  before.push(encodeSmpState(B));
  const r4 = smpReceive(b, B, r3.send[0]!, opts);
  B = r4.state;
  before.push(encodeSmpState(A));
  const r5 = smpReceive(b, A, r4.send[0]!, opts);
  A = r5.state;
  return { asked, results: [r1, r2, r3, r4, r5], tlvs: [r1.send, r2.send, r3.send, r4.send].map((s) => s[0]!), before, A, B };
}

// Group elements an attacker might send instead of a valid one.
const P = ed448.Point;
const T4 = P.fromBytes(Uint8Array.from({ length: 57 }, (_, i) => (i === 56 ? 0x80 : 0))); // (1, 0): order 4
const P_MINUS_1 = bigToBytesLE(P.Fp.ORDER - 1n, 57);
const BAD_POINTS: [string, Uint8Array][] = [
  ['identity', IDENTITY_POINT],
  ['order 2 (0, -1)', P_MINUS_1],
  ['order 4 (1, 0)', T4.toBytes()],
  ['order 4 (-1, 0)', new Uint8Array(57)],
  ['mixed order G + T4', P.BASE.add(T4).toBytes()],
  ['non-canonical: bits 448..454 set', (() => { const v = BASE_POINT.slice(); v[56]! |= 0x01; return v; })()],
  ['non-canonical: y = p + 1 (identity)', bigToBytesLE(P.Fp.ORDER + 1n, 57)],
  ['non-canonical: x = 0 with sign bit', (() => { const v = IDENTITY_POINT.slice(); v[56] = 0x80; return v; })()],
  ['valid but wrong: G', BASE_POINT],
];
function badScalars(s: Uint8Array): [string, Uint8Array][] {
  const flip = s.slice();
  flip[0]! ^= 1;
  return [
    ['bit flip', flip],
    ['zero', new Uint8Array(57)],
    ['+ q (same residue, non-canonical)', bigToBytesLE(bytesToBigLE(s) + Q, 57)],
  ];
}


/** HashToScalar(usage || points) with node:crypto, for the forgeries below. */
function h2s(usage: number, ...points: Uint8Array[]): bigint {
  const h = createHash('shake256', { outputLength: 57 }).update(Uint8Array.of(0x4f, 0x54, 0x52, 0x76, 0x34, usage));
  for (const p of points) h.update(p);
  return bytesToBigLE(h.digest()) % Q;
}
const enc = (n: bigint) => bigToBytesLE(((n % Q) + Q) % Q, 57);
const mulG = (k: bigint) => {
  const r = ((k % Q) + Q) % Q;
  return r === 0n ? P.ZERO : P.BASE.multiply(r); // multiply uses the cached base-point table: fast
};
/** T·c for T of order dividing 4: only c mod 4 matters (and is cheap). */
const torsionTimes = (t: InstanceType<typeof P>, c: bigint) => t.multiplyUnsafe(c % 4n);

/**
 * A proof of knowledge of log_G(X) for X = G·k + T with T of small order (or X = T): pick r, c = H(i || G·r);
 * d = r − k·c. Then G·d + X·c = G·r + T·c, which verifies whenever T·c = I (c a multiple of T's order):
 * a cheater grinds r until it is. So a proof alone does not keep torsion out; only point validation does.
 */
function forgeLogProof(usage: number, k: bigint, t: InstanceType<typeof P>): { c: Uint8Array; d: Uint8Array } {
  for (let r = 1n; ; r++) {
    const c = h2s(usage, mulG(r).toBytes());
    if (torsionTimes(t, c).is0()) return { c: enc(c), d: enc(r - k * c) };
  }
}

for (const b of BACKENDS) {
  const name = (s: string) => `${b.name}: ${s}`;
  const honest = exchange(b, inA('correct horse'), inB('correct horse'), 'Where did we meet?');

  test(name('same secret: both sides succeed'), () => {
    const [r1, r2, r3, r4, r5] = honest.results;
    assert.equal(types(r1!), [SmpTlvType.smp1]);
    assert.equal(honest.asked.event, { type: 'asked', question: 'Where did we meet?' });
    assert.equal(honest.asked.send, []);
    assert.equal(types(r2!), [SmpTlvType.smp2]);
    assert.equal(types(r3!), [SmpTlvType.smp3]);
    assert.equal(types(r4!), [SmpTlvType.smp4]);
    assert.equal(r5!.send, []);
    assert.equal([r1, r2, r3].map((r) => r!.event?.type), ['in-progress', 'in-progress', 'in-progress']);
    assert.equal(r4!.event, { type: 'succeeded' });
    assert.equal(r5!.event, { type: 'succeeded' });
    assert.is(honest.A.phase, 'idle');
    assert.is(honest.B.phase, 'idle');
    assert.equal(honest.tlvs.map((t) => t.body.length), [4 + 18 + 6 * 57, 11 * 57, 8 * 57, 3 * 57]);
  });

  test(name('different secret, or a man in the middle (other fingerprint / SSID): both sides fail'), () => {
    const cases: [SmpSecretInput, SmpSecretInput][] = [
      [inA('correct horse'), inB('correct horsf')],
      [inA('x'), inB('x', { theirFingerprint: FP_B })], // Bob sees a different peer key than Alice uses
      [inA('x'), inB('x', { ssid: Uint8Array.of(1, 2, 3, 4, 5, 6, 7, 9) })],
      [inA(''), inB(' ')],
    ];
    for (const [a, bob] of cases) {
      const e = exchange(b, a, bob);
      assert.equal(e.results[3]!.event, { type: 'failed' });
      assert.equal(e.results[4]!.event, { type: 'failed' });
      assert.is(e.A.phase, 'idle');
      assert.is(e.B.phase, 'idle');
    }
  });

  test(name('the question arrives intact: UTF-8, empty, maximum length; too long refused'), () => {
    const max = 'é'.repeat(DEFAULT_LIMITS.maxSmpQuestionBytes / 2);
    for (const q of ['Ποιο είναι το όνομα του 🐈;', '', undefined, max]) {
      const r1 = smpStart(b, initialSmpState(), inA('s'), { rng, question: q });
      const r = smpReceive(b, initialSmpState(), r1.send[0]!, opts);
      assert.equal(r.event, { type: 'asked', question: q ?? '' });
      assert.is(r.state.phase, 'asked');
    }
    // The sender refuses an over-long question before anything changes (its state is not consumed).
    const running = smpStart(b, initialSmpState(), inA('s'), opts).state;
    const copy = encodeSmpState(running);
    assert.throws(
      () => smpStart(b, running, inA('s'), { rng, question: max + 'a' }),
      (e: unknown) => e instanceof OtrLimitError,
    );
    assert.equal(encodeSmpState(running), copy);
    // A receiver with a lower limit treats a longer question as invalid and aborts.
    const r1 = smpStart(b, initialSmpState(), inA('s'), { rng, question: '123456' });
    const r = smpReceive(b, initialSmpState(), r1.send[0]!, { rng, maxQuestionBytes: 5 });
    assert.is(r.event?.type, 'invalid');
    assert.equal(r.send, [ABORT]);
  });

  test(name('every group element and proof scalar of every message, tampered: receiver aborts as invalid'), () => {
    const layouts = [SMP_LAYOUTS.smp1, SMP_LAYOUTS.smp2, SMP_LAYOUTS.smp3, SMP_LAYOUTS.smp4];
    let cases = 0;
    layouts.forEach((fields, k) => {
      const tlv = honest.tlvs[k]!;
      const prefix = k === 0 ? 4 + new DataView(tlv.body.buffer, tlv.body.byteOffset).getUint32(0) : 0;
      fields.forEach(([field, kind], i) => {
        const at = prefix + 57 * i;
        const original = tlv.body.subarray(at, at + 57);
        const replacements = kind === 'point' ? [['bit flip', (() => { const v = original.slice(); v[3]! ^= 0x10; return v; })()] as [string, Uint8Array], ...BAD_POINTS] : badScalars(original);
        for (const [how, value] of replacements) {
          const body = tlv.body.slice();
          body.set(value, at);
          const state = decodeSmpState(honest.before[k]!);
          let r: SmpResult | undefined;
          try {
            r = smpReceive(b, state, { tlvType: tlv.tlvType, body }, opts);
          } catch (e) {
            assert.unreachable(`SMP${k + 1}.${field} ${how}: threw ${String(e)}`);
          }
          const label = `SMP${k + 1}.${field} ${how}`;
          assert.is(r!.event?.type, 'invalid', label);
          assert.equal(r!.send, [ABORT], label);
          assert.is(r!.state.phase, 'idle', label);
          cases++;
        }
      });
    });
    assert.is(cases, 10 * (BAD_POINTS.length + 1) + 18 * 3);
    // The untampered bodies still go through from the same snapshots (so the snapshots are sound).
    const r = smpReceive(b, decodeSmpState(honest.before[3]!), honest.tlvs[3]!, opts);
    assert.equal(r.event, { type: 'succeeded' });
  });


  test(name('torsion or identity points carrying proofs that verify are still refused (SMP1, SMP4)'), () => {
    // SMP1 from a cheating Alice: each variant's proofs verify; only validation can catch it.
    const T2 = P.fromBytes(P_MINUS_1);
    const variants: [string, bigint, InstanceType<typeof P>][] = [
      ['identity', 0n, P.ZERO],
      ['order 4', 0n, T4],
      ['mixed order G·k + T4', 12345n, T4],
      ['mixed order G·k + T2', 777n, T2],
    ];
    for (const [how, k, t] of variants) {
      for (const which of ['g2a', 'g3a'] as const) {
        const fields: Record<string, Uint8Array> = {};
        for (const [nm, usage, kk, tt] of [['2', 1, 5n, P.ZERO], ['3', 2, 6n, P.ZERO]] as const) {
          const bad = which === `g${nm}a`;
          const x = bad ? k : kk;
          const tor = bad ? t : tt;
          const point = x === 0n ? tor : mulG(x).add(tor);
          const pr = forgeLogProof(usage, x, tor);
          fields[`g${nm}a`] = point.toBytes();
          fields[`c${nm}`] = pr.c;
          fields[`d${nm}`] = pr.d;
        }
        const body = new Uint8Array(4 + 6 * 57);
        ['g2a', 'c2', 'd2', 'g3a', 'c3', 'd3'].forEach((f, i) => body.set(fields[f]!, 4 + 57 * i));
        const r = smpReceive(b, initialSmpState(), { tlvType: SmpTlvType.smp1, body }, opts);
        assert.is(r.event?.type, 'invalid', `${which} ${how}`);
        assert.equal(r.send, [ABORT]);
      }
    }
    // The forger itself is sound: with honest points it produces an SMP1 that is accepted.
    const ok = new Uint8Array(4 + 6 * 57);
    const p2 = forgeLogProof(1, 5n, P.ZERO);
    const p3 = forgeLogProof(2, 6n, P.ZERO);
    [mulG(5n).toBytes(), p2.c, p2.d, mulG(6n).toBytes(), p3.c, p3.d].forEach((v, i) => ok.set(v, 4 + 57 * i));
    assert.is(smpReceive(b, initialSmpState(), { tlvType: SmpTlvType.smp1, body: ok }, opts).event?.type, 'asked');

    // SMP4 from a cheating Bob: Rb = (Qa − Qb)·b3 + T4 with a cr that is a multiple of 4, so the proof
    // verifies; Alice must refuse it rather than compare.
    const bob = decodeSmpState(honest.before[2]!) as Extract<SmpState, { phase: 'expect3' }>;
    const qa = P.fromBytes(honest.tlvs[2]!.body.subarray(57, 114));
    const qaQb = qa.subtract(P.fromBytes(bob.qb));
    const b3 = bytesToBigLE(bob.b3) % Q;
    const forge = (t: InstanceType<typeof P>) => {
      for (let r7 = 1n; ; r7++) {
        const cr = h2s(8, mulG(r7).toBytes(), qaQb.multiplyUnsafe(r7).toBytes());
        if (torsionTimes(t, cr).is0()) {
          const body = new Uint8Array(3 * 57);
          body.set(qaQb.multiplyUnsafe(b3).add(t).toBytes(), 0);
          body.set(enc(cr), 57);
          body.set(enc(r7 - b3 * cr), 114);
          return body;
        }
      }
    };
    const honestForge = smpReceive(b, decodeSmpState(honest.before[3]!), { tlvType: SmpTlvType.smp4, body: forge(P.ZERO) }, opts);
    assert.equal(honestForge.event, { type: 'succeeded' }); // same construction, no torsion: accepted
    for (const t of [T4, P.fromBytes(P_MINUS_1)]) {
      const r = smpReceive(b, decodeSmpState(honest.before[3]!), { tlvType: SmpTlvType.smp4, body: forge(t) }, opts);
      assert.is(r.event?.type, 'invalid');
      assert.equal(r.send, [ABORT]);
    }
  });

  test(name('malformed bodies of every type in every state: abort, never a throw'), () => {
    const r = seededRandom(99);
    const states = [initialSmpState(), ...honest.before.map((s) => decodeSmpState(s))];
    for (let t = 2; t <= 5; t++) {
      for (const body of [new Uint8Array(0), r(100), honest.tlvs[t - 2]!.body.subarray(1), Uint8Array.from([...honest.tlvs[t - 2]!.body, 0])]) {
        for (const s of states) {
          const res = smpReceive(b, cloneSmpState(s), { tlvType: t, body }, opts);
          assert.equal(res.send, [ABORT]);
          assert.is(res.state.phase, 'idle');
          assert.not.equal(res.event?.type, 'succeeded');
        }
      }
    }
  });

  test(name('messages out of turn or duplicated: abort (nothing thrown, nothing succeeds)'), () => {
    const states: [string, () => SmpState][] = [
      ['idle', () => initialSmpState()],
      ['asked', () => honest.asked.state && decodeSmpState(encodeSmpState(smpReceive(b, initialSmpState(), honest.tlvs[0]!, opts).state))],
      ['expect2', () => decodeSmpState(honest.before[1]!)],
      ['expect3', () => decodeSmpState(honest.before[2]!)],
      ['expect4', () => decodeSmpState(honest.before[3]!)],
    ];
    const expected: Record<string, number> = { idle: 2, asked: 2, expect2: 3, expect3: 4, expect4: 5 };
    let n = 0;
    for (const [phase, make] of states) {
      for (let t = 2; t <= 5; t++) {
        if (t === expected[phase]) continue;
        const s = make();
        assert.is(s.phase, phase);
        const r = smpReceive(b, s, honest.tlvs[t - 2]!, opts);
        assert.equal(r.send, [ABORT], `${phase} <- ${t}`);
        assert.is(r.state.phase, 'idle');
        if (phase === 'idle') assert.is(r.event, undefined);
        else assert.equal(r.event?.type, 'aborted');
        n++;
      }
    }
    assert.is(n, 15);
    // Replays after the end: Bob idle gets SMP3 again, Alice idle gets SMP4 again.
    assert.equal(smpReceive(b, honest.B, honest.tlvs[2]!, opts).send, [ABORT]);
    assert.equal(smpReceive(b, honest.A, honest.tlvs[3]!, opts).send, [ABORT]);
    // A TLV that is not SMP's changes nothing.
    const s = decodeSmpState(honest.before[2]!);
    const r = smpReceive(b, s, { tlvType: 7, body: new Uint8Array(4) }, opts);
    assert.is(r.state, s);
    assert.equal(r.send, []);
  });

  test(name('abort from either side at every step; receiving an abort never sends one; SMP works again after'), () => {
    // Snapshots: after SMP1 (A expect2, B asked), after SMP2 (A expect2 with SMP2 in flight, B expect3),
    // after SMP3 (A expect4, B expect3 with SMP3 in flight).
    const asked = smpReceive(b, initialSmpState(), honest.tlvs[0]!, opts).state;
    const points: [SmpState, SmpState, SmpTlv | undefined][] = [
      [decodeSmpState(honest.before[1]!), asked, undefined],
      [decodeSmpState(honest.before[1]!), decodeSmpState(honest.before[2]!), honest.tlvs[1]],
      [decodeSmpState(honest.before[3]!), decodeSmpState(honest.before[2]!), honest.tlvs[2]],
    ];
    for (const [i, [A0, B0, inFlight]] of points.entries()) {
      for (const side of ['A', 'B'] as const) {
        let A = cloneSmpState(A0);
        let B = cloneSmpState(B0);
        const ab = smpAbort(side === 'A' ? A : B);
        assert.equal(ab.send, [ABORT]);
        assert.equal(ab.event, { type: 'aborted', by: 'us' });
        assert.is(ab.state.phase, 'idle');
        if (side === 'A') A = ab.state;
        else B = ab.state;
        const other = smpReceive(b, side === 'A' ? B : A, ABORT, opts);
        assert.equal(other.send, [], `step ${i} ${side}`);
        assert.equal(other.event, { type: 'aborted', by: 'peer' });
        assert.is(other.state.phase, 'idle');
        if (side === 'A') B = other.state;
        else A = other.state;
        // A message that was in flight reaches an idle side: it answers with an abort, which in turn
        // is answered with nothing.
        if (inFlight) {
          const receiver = inFlight.tlvType === SmpTlvType.smp2 ? A : B;
          const r = smpReceive(b, receiver, inFlight, opts);
          assert.equal(r.send, [ABORT]);
          assert.equal(smpReceive(b, initialSmpState(), ABORT, opts), { state: initialSmpState(), send: [] });
        }
        assert.not.ok(smpInProgress(A) || smpInProgress(B));
      }
    }
    // Abort received when nothing runs: no event, nothing sent, same state.
    const idle = initialSmpState();
    assert.equal(smpReceive(b, idle, ABORT, opts), { state: idle, send: [] });
    // And a fresh exchange afterwards works.
    assert.equal(exchange(b, inA('k'), inB('k')).results[4]!.event, { type: 'succeeded' });
  });

  test(name('restart mid-exchange: abort then a new SMP1, from either side'), () => {
    // Alice restarts while waiting for SMP4 (Bob in expect3).
    let A = decodeSmpState(honest.before[3]!);
    let B = decodeSmpState(honest.before[2]!);
    const re = smpStart(b, A, inA('new secret'), { rng, question: 'again?' });
    assert.equal(types(re), [SmpTlvType.abort, SmpTlvType.smp1]);
    A = re.state;
    let r = smpReceive(b, B, re.send[0]!, opts);
    assert.equal(r.event, { type: 'aborted', by: 'peer' });
    r = smpReceive(b, r.state, re.send[1]!, opts);
    assert.equal(r.event, { type: 'asked', question: 'again?' });
    r = smpAnswer(b, r.state, inB('new secret'), opts);
    B = r.state;
    let s = smpReceive(b, A, r.send[0]!, opts);
    r = smpReceive(b, B, s.send[0]!, opts);
    assert.equal(r.event, { type: 'succeeded' });
    s = smpReceive(b, s.state, r.send[0]!, opts);
    assert.equal(s.event, { type: 'succeeded' });

    // Bob restarts (he becomes the initiator, so his fingerprint goes first on both sides).
    A = decodeSmpState(honest.before[3]!);
    B = decodeSmpState(honest.before[2]!);
    const rb = smpStart(b, B, inB('role swap'), opts);
    assert.equal(types(rb), [SmpTlvType.abort, SmpTlvType.smp1]);
    let a = smpReceive(b, A, rb.send[0]!, opts);
    assert.equal(a.event, { type: 'aborted', by: 'peer' });
    a = smpReceive(b, a.state, rb.send[1]!, opts);
    assert.equal(a.event, { type: 'asked', question: '' });
    a = smpAnswer(b, a.state, inA('role swap'), opts);
    const b3 = smpReceive(b, rb.state, a.send[0]!, opts);
    const a4 = smpReceive(b, a.state, b3.send[0]!, opts);
    assert.equal(a4.event, { type: 'succeeded' });
    assert.equal(smpReceive(b, b3.state, a4.send[0]!, opts).event, { type: 'succeeded' });

    // Starting while a question waits for our answer also resets the peer first.
    const askedB = smpReceive(b, initialSmpState(), honest.tlvs[0]!, opts).state;
    assert.equal(types(smpStart(b, askedB, inB('x'), opts)), [SmpTlvType.abort, SmpTlvType.smp1]);
  });

  test(name('simultaneous starts: both abort, and the aborts end there'), () => {
    const a = smpStart(b, initialSmpState(), inA('s'), opts);
    const c = smpStart(b, initialSmpState(), inB('s'), opts);
    const ra = smpReceive(b, a.state, c.send[0]!, opts);
    const rc = smpReceive(b, c.state, a.send[0]!, opts);
    assert.equal(ra.send, [ABORT]);
    assert.equal(rc.send, [ABORT]);
    assert.equal(smpReceive(b, ra.state, rc.send[0]!, opts).send, []);
    assert.equal(smpReceive(b, rc.state, ra.send[0]!, opts).send, []);
  });


  test(name('random interleavings (FIFO per direction): never a throw, never an abort for an abort, never "failed" with equal answers'), () => {
    const r = seededRandom(0xc4a05 + b.name.length);
    const inputs = { A: inA('same'), B: inB('same') };
    let state: Record<'A' | 'B', SmpState> = { A: initialSmpState(), B: initialSmpState() };
    const queue: Record<'A' | 'B', SmpTlv[]> = { A: [], B: [] }; // messages waiting to be received by A / B
    const seen: string[] = [];
    const act = (side: 'A' | 'B', res: SmpResult, received?: SmpTlv) => {
      if (received?.tlvType === SmpTlvType.abort) assert.equal(res.send, [], 'an abort was answered');
      if (res.event) seen.push(res.event.type);
      assert.not.equal(res.event?.type, 'failed');
      state[side] = res.state;
      queue[side === 'A' ? 'B' : 'A'].push(...res.send);
    };
    for (let step = 0; step < 60; step++) {
      const side = r(1)[0]! & 1 ? 'A' : 'B';
      const roll = r(1)[0]! % 32;
      if (roll < 24 && queue[side].length > 0) {
        const tlv = queue[side].shift()!;
        act(side, smpReceive(b, state[side], tlv, opts), tlv);
      } else if (roll < 29 && state[side].phase === 'asked') act(side, smpAnswer(b, state[side], inputs[side], opts));
      else if (roll >= 29 && roll < 31) act(side, smpStart(b, state[side], inputs[side], opts));
      else if (roll === 31) act(side, smpAbort(state[side]));
    }
    // Drain: deliver everything in flight (answering nothing new), then a clean exchange succeeds.
    for (let guard = 0; guard < 500 && (queue.A.length || queue.B.length); guard++) {
      for (const side of ['A', 'B'] as const) {
        const tlv = queue[side].shift();
        if (tlv) act(side, smpReceive(b, state[side], tlv, opts), tlv);
        if (state[side].phase === 'asked') act(side, smpAnswer(b, state[side], inputs[side], opts));
      }
    }
    assert.is(queue.A.length + queue.B.length, 0, 'the exchange of messages settles');
    assert.ok(seen.length > 10, `only ${seen.length} events`);
    assert.ok(seen.includes('succeeded'), 'no exchange completed: the run exercises too little'); // fixed seed: stable
    state = { A: smpReset(state.A), B: smpReset(state.B) };
    assert.equal(exchange(b, inA('again'), inB('again')).results[4]!.event, { type: 'succeeded' });
  });

  test(name('state persists: an exchange continues from a serialised copy or a clone, byte for byte'), () => {
    const seedsA = 11;
    const seedsB = 22;
    const run = (copy: (s: SmpState) => SmpState) => {
      const ra = seededRandom(seedsA);
      const rb = seededRandom(seedsB);
      const out: Uint8Array[] = [];
      let A = copy(smpStart(b, initialSmpState(), inA('p'), { rng: ra, question: 'q' }).state);
      const r1 = smpStart(b, initialSmpState(), inA('p'), { rng: seededRandom(seedsA), question: 'q' });
      out.push(r1.send[0]!.body);
      let B = copy(smpReceive(b, initialSmpState(), r1.send[0]!, { rng: rb }).state);
      const r2 = smpAnswer(b, B, inB('p'), { rng: rb });
      B = copy(r2.state);
      out.push(r2.send[0]!.body);
      const r3 = smpReceive(b, A, r2.send[0]!, { rng: ra });
      A = copy(r3.state);
      out.push(r3.send[0]!.body);
      const r4 = smpReceive(b, B, r3.send[0]!, { rng: rb });
      out.push(r4.send[0]!.body);
      const r5 = smpReceive(b, A, r4.send[0]!, { rng: ra });
      assert.equal([r4.event, r5.event], [{ type: 'succeeded' }, { type: 'succeeded' }]);
      return out.map(bytesToHex);
    };
    const direct = run((s) => s);
    assert.equal(run((s) => decodeSmpState(encodeSmpState(s))), direct);
    assert.equal(run(cloneSmpState), direct);
  });

  test(name('a superseded state is wiped; a finished exchange holds no secrets'), () => {
    const r1 = smpStart(b, initialSmpState(), inA('w'), opts);
    const s2 = r1.state as Extract<SmpState, { phase: 'expect2' }>;
    const keep = [s2.x, s2.a2, s2.a3];
    const asked = smpReceive(b, initialSmpState(), r1.send[0]!, opts);
    const r2 = smpAnswer(b, asked.state, inB('w'), opts);
    const s3 = r2.state as Extract<SmpState, { phase: 'expect3' }>;
    const bobKeep = [s3.b3, s3.g2, s3.g3];
    const r3 = smpReceive(b, s2, r2.send[0]!, opts);
    for (const v of keep) assert.ok(v.every((x) => x === 0));
    const r4 = smpReceive(b, s3, r3.send[0]!, opts);
    for (const v of bobKeep) assert.ok(v.every((x) => x === 0));
    const s4 = r3.state as Extract<SmpState, { phase: 'expect4' }>;
    const r5 = smpReceive(b, s4, r4.send[0]!, opts);
    assert.ok(s4.a3.every((x) => x === 0));
    assert.equal(r5.state, initialSmpState());
    // Abort and reset wipe too.
    const t = smpStart(b, initialSmpState(), inA('w'), opts).state as Extract<SmpState, { phase: 'expect2' }>;
    smpAbort(t);
    assert.ok(t.a2.every((x) => x === 0));
    const u = smpStart(b, initialSmpState(), inA('w'), opts).state as Extract<SmpState, { phase: 'expect2' }>;
    assert.is(smpReset(u).phase, 'idle');
    assert.ok(u.x.every((x) => x === 0));
    // An invalid message wipes the receiver's secrets as well.
    const v = smpStart(b, initialSmpState(), inA('w'), opts).state as Extract<SmpState, { phase: 'expect2' }>;
    assert.is(smpReceive(b, v, { tlvType: 3, body: new Uint8Array(3) }, opts).event?.type, 'invalid');
    assert.ok(v.a3.every((x) => x === 0));
  });

  test(name('caller errors are typed: answer with nothing asked, bad fingerprint/SSID lengths'), () => {
    assert.throws(() => smpAnswer(b, initialSmpState(), inB('x'), opts), (e: unknown) => e instanceof OtrStateError);
    assert.throws(() => smpStart(b, initialSmpState(), inA('x', { ssid: new Uint8Array(7) }), opts), (e: unknown) => e instanceof OtrArgumentError);
    assert.throws(() => smpStart(b, initialSmpState(), inA('x', { ourFingerprint: new Uint8Array(57) }), opts), (e: unknown) => e instanceof OtrArgumentError);
  });

  test(name('secret = prune(SHAKE-256("OTRv4" || 0x19 || 0x01 || fpI || fpR || SSID || DATA(answer), 57)) (node:crypto)'), () => {
    for (const answer of ['', 'correct horse', 'ünïcödé 🐘', 'a'.repeat(1000)]) {
      const a = utf8(answer);
      const len = new Uint8Array(4);
      new DataView(len.buffer).setUint32(0, a.length);
      const h = createHash('shake256', { outputLength: 57 })
        .update(Uint8Array.of(0x4f, 0x54, 0x52, 0x76, 0x34, 0x19, 0x01))
        .update(FP_A).update(FP_B).update(SSID).update(len).update(a)
        .digest();
      h[0]! &= 0xfc;
      h[56] = 0;
      h[55]! |= 0x80;
      assert.is(bytesToHex(smpSecret(b, FP_A, FP_B, SSID, answer)), h.toString('hex'), answer);
      assert.is(bytesToHex(smpSecret(b, FP_A, FP_B, SSID, a)), h.toString('hex'));
    }
    // The initiator's fingerprint comes first: swapping the roles changes the secret.
    assert.not.equal(smpSecret(b, FP_A, FP_B, SSID, 'x'), smpSecret(b, FP_B, FP_A, SSID, 'x'));
  });
}

test('persisted state: strict decoding (version, phase, lengths, question limit, trailing bytes)', () => {
  const isDecode = (e: unknown) => e instanceof OtrDecodeError;
  assert.equal(decodeSmpState(encodeSmpState(initialSmpState())), initialSmpState());
  assert.throws(() => decodeSmpState(new Uint8Array(0)), isDecode);
  assert.throws(() => decodeSmpState(Uint8Array.of(2, 0)), isDecode); // unknown format version
  assert.throws(() => decodeSmpState(Uint8Array.of(1, 5)), isDecode); // unknown phase
  assert.throws(() => decodeSmpState(Uint8Array.of(1, 0, 0)), isDecode); // trailing byte
  const expect2 = Uint8Array.from([1, 2, ...new Uint8Array(3 * 57)]);
  assert.is(decodeSmpState(expect2).phase, 'expect2');
  for (let n = 0; n < expect2.length; n++) assert.throws(() => decodeSmpState(expect2.subarray(0, n)), isDecode);
  const asked = Uint8Array.from([1, 1, 0, 0, 0, 3, 0x61, 0x62, 0x63, ...new Uint8Array(2 * 57)]);
  assert.equal((decodeSmpState(asked) as Extract<SmpState, { phase: 'asked' }>).question, utf8('abc'));
  assert.throws(() => decodeSmpState(asked, 2), isDecode);
  const r = seededRandom(5);
  for (let i = 0; i < 500; i++) {
    try {
      decodeSmpState(r(r(1)[0]!));
    } catch (e) {
      assert.ok(isDecode(e), String(e));
    }
  }
});

test.run();
