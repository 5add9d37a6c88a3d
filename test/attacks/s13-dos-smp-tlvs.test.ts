/**
 * Attack (session 13, cost of hostile input): many SMP TLVs in ONE data message. Anyone can complete a DAKE
 * with us under their own key (a stranger, or a server speaking from any JID), and from then on their data
 * messages are authenticated but not trusted. Every SMP TLV of a data message was handed to the SMP state
 * machine in turn, so one message (maxTlvs = 64 TLVs) bought 64 SMP steps:
 *   - OTRv4: SMP message 1 is expected both idle and "asked", so 64 SMP1 TLVs were each verified (two subgroup
 *     checks and two double multiplications: 256 Ed448 multiplications, ~8 honest SMP1s' worth past one DAKE step);
 *   - OTRv4: every unexpected SMP TLV was answered with an abort in a data message of its own: 64 SMP2 TLVs
 *     while idle made us send 64 data messages for one received (an amplifier);
 *   - OTRv3: SMP1 then SMP abort, 32 times: 32 SMP1 verifications of four 1536-bit exponentiations each,
 *     whose challenge c (a SHA-256 output, < 2^256) was read as an MPI of up to 1536 bits and used as an
 *     exponent before anything compared it.
 * Now one data message makes at most one SMP step (aborts, which cost nothing, are read as they come; the
 * first other SMP TLV is processed and the rest ignored, with an event), its replies go out in one data
 * message, and an OTRv3 challenge of more than 256 bits is refused before any exponentiation. Honest peers
 * (this library, libotr, otr4j) send at most an abort and one SMP message in a data message.
 *
 * Costs are counted on the backend (test/helpers/counting-backend.ts), never timed: the benches and
 * docs/security.md "Session 13: cost of hostile input" hold the times.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { WASM } from '../helpers/backends.js';
import { countingBackend, type Costs } from '../helpers/counting-backend.js';
import { seededRandom } from '../helpers/rng.js';
import { establish, makePair, type Pair } from '../helpers/session-pair.js';
import { makeV34Pair, mallory, pumpV3 } from './attacker.js';
import type { Conversation } from '../../ts/session/conversation.js';
import type { Outcome } from '../../ts/index.js';
import { TlvType, type Tlv } from '../../ts/wire/tlv.js';
import { createSmp1 } from '../../ts/smp/steps.js';
import { encodeSmp1 } from '../../ts/smp/messages.js';
import { FLAG_IGNORE_UNREADABLE } from '../../ts/wire/data.js';
import { Tlv as V3Tlv } from '../../ts/v3/constants.js';
import { currentContext } from '../../ts/v3/instances.js';
import { encryptData } from '../../ts/v3/data.js';
import { encodeMessage } from '../../ts/v3/messages.js';
import { encodePlaintext, type TlvRecord } from '../../ts/v3/tlv.js';
import { smpStart as v3SmpStart } from '../../ts/v3/smp.js';
import { armour } from '../../ts/codec/armour.js';
import { bigToBytesBE } from '../../ts/bytes.js';
import { Reader, Writer } from '../../ts/codec/primitives.js';
import type { V3Conversation } from '../../ts/v3/index.js';

const counted = countingBackend(WASM);
const be = counted.backend;

/** The hostile side's data message carrying `tlvs` (its own session, its own keys: authenticated). */
function sendTlvs(from: Conversation, tlvs: Tlv[]): string[] {
  const out: Outcome = { toSend: [], messages: [], events: [], changed: [] } as unknown as Outcome;
  const inst = (from as unknown as { instances: Map<number, unknown>; current: number }).instances.get((from as unknown as { current: number }).current);
  (from as unknown as { sendData(o: Outcome, i: unknown, t: string, tl: Tlv[], f: number): void }).sendData(out, inst, '', tlvs, 0);
  return out.toSend;
}

function smp1Body(seed: number): Uint8Array {
  const rng = seededRandom(seed);
  return encodeSmp1(createSmp1(be, rng, rng(57), new Uint8Array(0)).message);
}

function established(seed: number): Pair {
  const p = makePair(be, seed);
  establish(p);
  return p;
}

const smpEvents = (o: Outcome) => o.events.filter((e) => e.type === 'smp');

test('OTRv4: one data message of 64 SMP1 TLVs costs one SMP1 verification, not 64', () => {
  const p = established(13_001);
  // What one honest SMP1 costs the receiver.
  const honest = sendTlvs(p.b, [{ type: TlvType.smp1, value: smp1Body(1) }]);
  const one = counted.measure(() => p.a.receive(honest[0]!));
  assert.equal(smpEvents(one.result).map((e) => (e as { status: string }).status), ['asked']);
  p.a.abortSmp();
  // 64 distinct, valid SMP1s in one message.
  const flood = sendTlvs(p.b, Array.from({ length: 64 }, (_, i) => ({ type: TlvType.smp1, value: smp1Body(100 + i) })));
  assert.is(flood.length, 1);
  const many = counted.measure(() => p.a.receive(flood[0]!));
  assert.ok(
    many.costs.ed448Mul <= one.costs.ed448Mul,
    `64 SMP1 TLVs in one message cost ${many.costs.ed448Mul} Ed448 multiplications; one SMP1 costs ${one.costs.ed448Mul}`,
  );
  assert.is(smpEvents(many.result).length, 1, 'one SMP step reported');
  assert.ok(many.result.events.some((e) => e.type === 'ignored'), 'the rest are reported as ignored');
  // The session goes on, and the SMP the first TLV asked for can be answered.
  assert.is(p.a.state, 'ENCRYPTED_MESSAGES');
  const answered = p.a.answerSmp('secret');
  assert.is(answered.toSend.length, 1);
});

test('OTRv4: unexpected SMP TLVs are answered with one data message, not one per TLV', () => {
  const p = established(13_002);
  const smp2ish = { type: TlvType.smp2, value: new Uint8Array(11 * 57) };
  const flood = sendTlvs(p.b, Array.from({ length: 64 }, () => smp2ish));
  const r = p.a.receive(flood[0]!);
  assert.ok(r.toSend.length <= 1, `${r.toSend.length} data messages sent in answer to one`);
  assert.is(p.a.state, 'ENCRYPTED_MESSAGES');
  // An honest restart (abort, then SMP1, in one message) still works.
  const restart = sendTlvs(p.b, [{ type: TlvType.smpAbort, value: new Uint8Array(0) }, { type: TlvType.smp1, value: smp1Body(7) }]);
  const asked = p.a.receive(restart[0]!);
  assert.ok(smpEvents(asked).some((e) => (e as { status: string }).status === 'asked'), JSON.stringify(asked.events));
});

test('OTRv4: SMP1 and abort in either order, 32 times in one message, cost one SMP1 verification (session 14 review: held)', () => {
  const p = established(13_003);
  const one = counted.measure(() => p.a.receive(sendTlvs(p.b, [{ type: TlvType.smp1, value: smp1Body(2) }])[0]!));
  p.a.abortSmp();
  const abort = { type: TlvType.smpAbort, value: new Uint8Array(0) };
  for (const abortFirst of [true, false]) {
    const tlvs: Tlv[] = [];
    for (let i = 0; i < 32; i++) {
      const smp1 = { type: TlvType.smp1, value: smp1Body(200 + i) };
      tlvs.push(...(abortFirst ? [abort, smp1] : [smp1, abort]));
    }
    const many = counted.measure(() => p.a.receive(sendTlvs(p.b, tlvs)[0]!));
    assert.ok(many.costs.ed448Mul <= one.costs.ed448Mul, `abort first ${abortFirst}: ${many.costs.ed448Mul} Ed448 multiplications; one SMP1 costs ${one.costs.ed448Mul}`);
    assert.ok(many.result.toSend.length <= 1, `${many.result.toSend.length} data messages sent in answer to one`);
    p.a.abortSmp();
  }
  assert.is(p.a.state, 'ENCRYPTED_MESSAGES');
});

// ------------------------------------------------------------------ OTRv3

/** A v3 data message from Mallory's session carrying `tlvs`. */
function v3Tlvs(m: V3Conversation, tlvs: TlvRecord[]): string {
  const ctx = currentContext(m.peerState as never) as unknown as { keys: never; ourTag?: number; theirTag: number };
  const st = m.peerState as unknown as { ourTag: number };
  const env = { backend: be, random: seededRandom(5), ourTag: st.ourTag, theirTag: (ctx as { theirTag: number }).theirTag };
  const { msg } = encryptData(env, ctx.keys, encodePlaintext(new Uint8Array(0), tlvs), FLAG_IGNORE_UNREADABLE);
  return armour(encodeMessage(msg));
}

/** An honest v3 SMP1 body (as our own v3 code makes it). */
function v3Smp1(seed: number): Uint8Array {
  return v3SmpStart({ backend: be, random: seededRandom(seed) }, 12345n, null).send[0]!.value;
}

/** The SMP1 body with its first challenge c2 replaced by `c` (an MPI of any size). */
function withC2(body: Uint8Array, c: bigint): Uint8Array {
  const r = new Reader(body);
  const n = r.int();
  const mpis: Uint8Array[] = [];
  for (let i = 0; i < n; i++) mpis.push(r.mpi('x', 1 << 20));
  mpis[1] = bigToBytesBE(c);
  const w = new Writer(body.length + 256).int(n);
  for (const v of mpis) w.mpi(v);
  return w.finish();
}

/**
 * Alice and Mallory in an OTRv3 session; Mallory has sent one data message already and Alice answered it, so
 * that the key pairs of both directions are derived and cached on Alice's side: what a message costs from then on is its TLVs' cost.
 */
function v3Session(seed: number): { victim: Conversation; mallory: V3Conversation } {
  const p = makeV34Pair(be, seed, { policy: { allowV4: true } });
  const m = mallory(be, p.clock, seed + 7);
  pumpV3(p.a, m, m.start().toSend);
  const v = p.a.version;
  if (v !== 3) throw new Error(`OTRv3 session did not come up (version ${v})`);
  // An unexpected SMP2: Alice answers with an abort, deriving the key pair she sends under too.
  p.a.receive(v3Tlvs(m, [{ type: V3Tlv.smp2, value: new Uint8Array(0) }]));
  const quiet = counted.measure(() => p.a.receive(v3Tlvs(m, [{ type: V3Tlv.padding, value: new Uint8Array(1) }])));
  if (quiet.costs.modPow1536 !== 0) throw new Error(`a data message without SMP still costs ${quiet.costs.modPow1536} exponentiations`);
  return { victim: p.a, mallory: m };
}

const exps = (c: Costs) => c.modPow1536;

test('OTRv3: SMP1 and abort, 32 times in one message, cost one SMP1 verification', () => {
  const { victim, mallory: m } = v3Session(13_010);
  const honest = v3Tlvs(m, [{ type: V3Tlv.smp1, value: v3Smp1(1) }]);
  const one = counted.measure(() => victim.receive(honest));
  assert.is(exps(one.costs), 4, 'an honest SMP1 costs its two proofs: four exponentiations');
  assert.ok(smpEvents(one.result).length === 1, JSON.stringify(one.result.events));
  victim.abortSmp();
  const tlvs: TlvRecord[] = [];
  for (let i = 0; i < 32; i++) tlvs.push({ type: V3Tlv.smp1, value: v3Smp1(100 + i) }, { type: V3Tlv.smpAbort, value: new Uint8Array(0) });
  const flood = v3Tlvs(m, tlvs);
  const many = counted.measure(() => victim.receive(flood));
  assert.ok(exps(many.costs) <= exps(one.costs), `32 SMP1s in one message cost ${exps(many.costs)} exponentiations; one costs ${exps(one.costs)}`);
  assert.is(victim.version, 3);
});

test('OTRv3: an SMP1 whose challenge is longer than SHA-256 is refused before any exponentiation', () => {
  const { victim, mallory: m } = v3Session(13_011);
  const body = withC2(v3Smp1(3), (1n << 1535n) + 12345n);
  const longC = v3Tlvs(m, [{ type: V3Tlv.smp1, value: body }]);
  const r = counted.measure(() => victim.receive(longC));
  assert.is(r.costs.modPow1536, 0, `${r.costs.modPow1536} exponentiations before the challenge was refused`);
  assert.ok(r.result.events.some((e) => e.type === 'smp' && (e as { status: string }).status !== 'asked'), JSON.stringify(r.result.events));
  assert.is(victim.version, 3);
  // A challenge within 256 bits is checked as before (here it does not verify: refused after the proof's exponentiations).
  const shortC = v3Tlvs(m, [{ type: V3Tlv.smp1, value: withC2(v3Smp1(4), 12345n) }]);
  const short = counted.measure(() => victim.receive(shortC));
  assert.is(short.costs.modPow1536, 2, 'the first proof is checked (two exponentiations) and fails');
  assert.ok(short.result.events.some((e) => e.type === 'smp' && (e as { status: string }).status === 'invalid'), JSON.stringify(short.result.events));
});

test('OTRv3: the challenge bound is exactly a SHA-256 output, as libotr sends it (session 14 review: held)', () => {
  // libotr (sm.h): SM_HASH_ALGORITHM GCRY_MD_SHA256, SM_DIGEST_SIZE 32, read as an unsigned MPI, never reduced.
  const { victim, mallory: m } = v3Session(13_012);
  const smp1WithC2 = (seed: number, c: bigint) => counted.measure(() => victim.receive(v3Tlvs(m, [{ type: V3Tlv.smp1, value: withC2(v3Smp1(seed), c) }])));
  // Each is answered with an abort, whose sending costs exponentiations of its own (Alice's key rotation): what a
  // refused challenge costs in all is the baseline, measured after a first answer.
  smp1WithC2(5, 1n << 300n);
  const refused = smp1WithC2(6, 1n << 300n).costs.modPow1536;
  assert.is(smp1WithC2(7, 1n << 256n).costs.modPow1536, refused, 'c = 2^256 is refused before any exponentiation');
  assert.is(smp1WithC2(8, (1n << 256n) - 1n).costs.modPow1536, refused + 2, 'c = 2^256 - 1 (32 bytes of 0xff) is checked: the first proof');
  assert.is(smp1WithC2(9, 1n << 256n).costs.modPow1536, refused, 'and 2^256 refused again');
});

test.run();
