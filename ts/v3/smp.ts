/**
 * The Socialist Millionaires' Protocol of OTRv3 in the 1536-bit group (otrv3-protocol.html §Socialist
 * Millionaires' Protocol, §The SMP state machine): TLVs 2–7, every zero-knowledge proof generated and checked.
 * Exponentiations go through the backend; hashes are SHA-256(version ‖ MPI [‖ MPI]) read as integers.
 *
 * Plain-data state; functions return the next state and the TLVs to send. A message that fails a check resets
 * SMP to EXPECT1 and answers with an abort (libotr reports this as "cheated").
 */
import type { CryptoBackend } from '../backend/types.js';
import { bigToBytesBE, bytesToBigBE, concatBytes, utf8, wipe } from '../bytes.js';
import { Reader, Writer, decodeAll } from '../codec/primitives.js';
import type { RandomSource } from '../crypto/random.js';
import { OtrCryptoError, OtrDecodeError } from '../errors.js';
import { DEFAULT_LIMITS } from '../limits.js';
import { SMP_EXPONENT_BYTES, Tlv } from './constants.js';
import { sha256 } from './crypto.js';
import { G, GROUP_BYTES, Q, divMod, isValidGroupElement, modQ, mulMod, powMod, randomExponent } from './group.js';
import type { TlvRecord } from './tlv.js';

export type SmpState =
  | { kind: 'expect1' }
  /** SMP1 received and checked; waiting for our user's answer. */
  | { kind: 'awaitingAnswer'; question: string | null; g2a: bigint; g3a: bigint }
  | { kind: 'expect2'; x: bigint; a2: bigint; a3: bigint }
  | { kind: 'expect3'; g3a: bigint; g2: bigint; g3: bigint; b3: bigint; pb: bigint; qb: bigint }
  | { kind: 'expect4'; g3b: bigint; paPb: bigint; qaQb: bigint; a3: bigint };

export type SmpOutcome =
  | { type: 'smpRequest'; question: string | null }
  | { type: 'smpResult'; success: boolean }
  | { type: 'smpAborted' }
  | { type: 'smpError'; reason: string };

export interface SmpStep {
  smp: SmpState;
  send: TlvRecord[];
  outcome?: SmpOutcome;
}

export interface SmpEnv {
  backend: CryptoBackend;
  random: RandomSource;
}

/**
 * The SMP secret: SHA-256(0x01 ‖ initiator fp ‖ responder fp ‖ ssid ‖ user secret) as an integer. The byte
 * buffers are wiped; the BigInt result cannot be (JS gives no way to overwrite one).
 */
export function smpSecret(initiatorFp: Uint8Array, responderFp: Uint8Array, ssid: Uint8Array, secret: Uint8Array): bigint {
  const input = concatBytes(Uint8Array.of(1), initiatorFp, responderFp, ssid, secret);
  const digest = sha256(input);
  const x = bytesToBigBE(digest);
  wipe(input, digest);
  return x;
}

const mpi = (v: bigint): Uint8Array => {
  const b = v === 0n ? new Uint8Array(0) : bigToBytesBE(v);
  return new Writer(4 + b.length).mpi(b).finish();
};

/** SHA-256(version ‖ MPI(a) [‖ MPI(b)]) as an integer. */
function hashToInt(version: number, a: bigint, b?: bigint): bigint {
  return bytesToBigBE(sha256(concatBytes(Uint8Array.of(version), mpi(a), b === undefined ? new Uint8Array(0) : mpi(b))));
}

function encodeMpis(values: bigint[]): Uint8Array {
  const w = new Writer(4 + values.length * (GROUP_BYTES + 4)).int(values.length);
  for (const v of values) w.mpi(v === 0n ? new Uint8Array(0) : bigToBytesBE(v));
  return w.finish();
}

function decodeMpis(body: Uint8Array, count: number): bigint[] {
  return decodeAll(
    body,
    (r: Reader) => {
      const n = r.int();
      if (n !== count) throw new OtrDecodeError(`SMP message has ${n} MPIs, expected ${count}`);
      const out: bigint[] = [];
      for (let i = 0; i < n; i++) out.push(bytesToBigBE(r.mpi('SMP MPI', GROUP_BYTES)));
      return out;
    },
    'SMP TLV',
  );
}

/** Group elements: 2 ≤ v ≤ p − 2. Exponents (the D values): 1 ≤ v < q, as libotr checks them. */
function checkElements(...vs: bigint[]): void {
  for (const v of vs) if (!isValidGroupElement(v)) throw new OtrCryptoError('INVALID_DH_VALUE', 'SMP value outside [2, p-2]');
}
function checkExponents(...vs: bigint[]): void {
  for (const v of vs) if (v < 1n || v >= Q) throw new OtrCryptoError('MALFORMED', 'SMP exponent outside [1, q)');
}
/**
 * Challenges (the c values): SHA-256 outputs, so below 2^256. One read as an MPI may be 1536 bits long and is
 * an exponent of the proof check; a longer one can never verify, so it is refused before any exponentiation
 * (session 13: such a c doubled what a hostile SMP message cost).
 */
const CHALLENGE_BOUND = 1n << 256n;
function checkChallenges(...cs: bigint[]): void {
  for (const c of cs) if (c >= CHALLENGE_BOUND) throw new OtrCryptoError('MALFORMED', 'SMP challenge longer than a SHA-256 output');
}
function proofFail(what: string): never {
  throw new OtrCryptoError('BAD_SIGNATURE', `SMP proof ${what} does not verify`);
}

const rnd = (env: SmpEnv): bigint => randomExponent(env.random, SMP_EXPONENT_BYTES);
const abortTlv: TlvRecord = { type: Tlv.smpAbort, value: new Uint8Array(0) };

/** g1^r, g1^D · base^c: the two halves of a knowledge proof. */
const pow = (env: SmpEnv, base: bigint, e: bigint): bigint => powMod(env.backend, base, e);

/**
 * Knowledge of log_g(pub) for pub = g^secret (the c2/d2, c3/d3 pairs of messages 1 and 2): a fresh r,
 * c = h(version, g^r), d = r − secret·c mod q.
 */
function proveLog(env: SmpEnv, version: number, secret: bigint): [c: bigint, d: bigint] {
  const r = rnd(env);
  const c = hashToInt(version, pow(env, G, r));
  return [c, modQ(r - secret * c)];
}
/** Checks a proveLog proof for `pub`: h(version, g^d · pub^c) = c. */
function checkLog(env: SmpEnv, version: number, pub: bigint, c: bigint, d: bigint, what: string): void {
  if (hashToInt(version, mulMod(pow(env, G, d), pow(env, pub, c))) !== c) proofFail(what);
}

/** Starts SMP with our secret `x` (already combined by smpSecret) and an optional question (TLV 7). */
export function smpStart(env: SmpEnv, x: bigint, question: string | null): SmpStep {
  const a2 = rnd(env);
  const a3 = rnd(env);
  const g2a = pow(env, G, a2);
  const g3a = pow(env, G, a3);
  const [c2, d2] = proveLog(env, 1, a2);
  const [c3, d3] = proveLog(env, 2, a3);
  const body = encodeMpis([g2a, c2, d2, g3a, c3, d3]);
  const tlv: TlvRecord =
    question === null
      ? { type: Tlv.smp1, value: body }
      : { type: Tlv.smp1q, value: concatBytes(utf8(question), Uint8Array.of(0), body) };
  return { smp: { kind: 'expect2', x, a2, a3 }, send: [tlv] };
}

/** Our user answered an SMP request with secret `y` (combined by smpSecret): send SMP message 2. */
export function smpRespond(env: SmpEnv, smp: SmpState, y: bigint): SmpStep {
  if (smp.kind !== 'awaitingAnswer') return { smp, send: [] };
  const { g2a, g3a } = smp;
  const b2 = rnd(env);
  const b3 = rnd(env);
  const g2b = pow(env, G, b2);
  const g3b = pow(env, G, b3);
  const [c2, d2] = proveLog(env, 3, b2);
  const [c3, d3] = proveLog(env, 4, b3);
  const [r4, r5, r6] = [rnd(env), rnd(env), rnd(env)];
  const g2 = pow(env, g2a, b2);
  const g3 = pow(env, g3a, b3);
  const pb = pow(env, g3, r4);
  const qb = mulMod(pow(env, G, r4), pow(env, g2, y));
  const cp = hashToInt(5, pow(env, g3, r5), mulMod(pow(env, G, r5), pow(env, g2, r6)));
  const d5 = modQ(r5 - r4 * cp);
  const d6 = modQ(r6 - y * cp);
  return {
    smp: { kind: 'expect3', g3a, g2, g3, b3, pb, qb },
    send: [{ type: Tlv.smp2, value: encodeMpis([g2b, c2, d2, g3b, c3, d3, pb, qb, cp, d5, d6]) }],
  };
}

/** The user cancels SMP. */
export function smpAbort(): SmpStep {
  return { smp: { kind: 'expect1' }, send: [abortTlv], outcome: { type: 'smpAborted' } };
}

/** Receives one SMP TLV (types 2–7). Unexpected or invalid messages reset to EXPECT1 with an abort. */
export function smpReceive(env: SmpEnv, smp: SmpState, tlv: TlvRecord, maxQuestion = DEFAULT_LIMITS.maxSmpQuestionBytes): SmpStep {
  if (tlv.type === Tlv.smpAbort) return { smp: { kind: 'expect1' }, send: [], outcome: { type: 'smpAborted' } };
  const expected =
    tlv.type === Tlv.smp1 || tlv.type === Tlv.smp1q
      ? 'expect1'
      : tlv.type === Tlv.smp2
        ? 'expect2'
        : tlv.type === Tlv.smp3
          ? 'expect3'
          : tlv.type === Tlv.smp4
            ? 'expect4'
            : null;
  if (expected === null) return { smp, send: [] };
  if (smp.kind !== expected) {
    return { smp: { kind: 'expect1' }, send: [abortTlv], outcome: { type: 'smpError', reason: 'unexpected SMP message' } };
  }
  try {
    return step(env, smp, tlv, maxQuestion);
  } catch (e) {
    const reason = e instanceof Error ? e.message : 'invalid SMP message';
    return { smp: { kind: 'expect1' }, send: [abortTlv], outcome: { type: 'smpError', reason } };
  }
}

function step(env: SmpEnv, smp: SmpState, tlv: TlvRecord, maxQuestion: number): SmpStep {
  switch (smp.kind) {
    case 'expect1': {
      let body = tlv.value;
      let question: string | null = null;
      if (tlv.type === Tlv.smp1q) {
        const nul = body.indexOf(0);
        if (nul < 0) throw new OtrDecodeError('SMP question is not NUL-terminated');
        if (nul > maxQuestion) throw new OtrDecodeError('SMP question too long');
        question = new TextDecoder('utf-8').decode(body.subarray(0, nul));
        body = body.subarray(nul + 1);
      }
      const [g2a, c2, d2, g3a, c3, d3] = decodeMpis(body, 6) as [bigint, bigint, bigint, bigint, bigint, bigint];
      checkElements(g2a, g3a);
      checkExponents(d2, d3);
      checkChallenges(c2, c3);
      checkLog(env, 1, g2a, c2, d2, 'c2');
      checkLog(env, 2, g3a, c3, d3, 'c3');
      return { smp: { kind: 'awaitingAnswer', question, g2a, g3a }, send: [], outcome: { type: 'smpRequest', question } };
    }
    case 'expect2': {
      const v = decodeMpis(tlv.value, 11);
      const [g2b, c2, d2, g3b, c3, d3, pb, qb, cp, d5, d6] = v as [bigint, bigint, bigint, bigint, bigint, bigint, bigint, bigint, bigint, bigint, bigint];
      checkElements(g2b, g3b, pb, qb);
      checkExponents(d2, d3, d5, d6);
      checkChallenges(c2, c3, cp);
      checkLog(env, 3, g2b, c2, d2, 'c2');
      checkLog(env, 4, g3b, c3, d3, 'c3');
      const g2 = pow(env, g2b, smp.a2);
      const g3 = pow(env, g3b, smp.a3);
      const cpCheck = hashToInt(
        5,
        mulMod(pow(env, g3, d5), pow(env, pb, cp)),
        mulMod(mulMod(pow(env, G, d5), pow(env, g2, d6)), pow(env, qb, cp)),
      );
      if (cpCheck !== cp) proofFail('cP');
      // Message 3.
      const [r4, r5, r6, r7] = [rnd(env), rnd(env), rnd(env), rnd(env)];
      const pa = pow(env, g3, r4);
      const qa = mulMod(pow(env, G, r4), pow(env, g2, smp.x));
      const cp3 = hashToInt(6, pow(env, g3, r5), mulMod(pow(env, G, r5), pow(env, g2, r6)));
      const d5a = modQ(r5 - r4 * cp3);
      const d6a = modQ(r6 - smp.x * cp3);
      const qaQb = divMod(qa, qb);
      const ra = pow(env, qaQb, smp.a3);
      const cr = hashToInt(7, pow(env, G, r7), pow(env, qaQb, r7));
      const d7 = modQ(r7 - smp.a3 * cr);
      return {
        smp: { kind: 'expect4', g3b, paPb: divMod(pa, pb), qaQb, a3: smp.a3 },
        send: [{ type: Tlv.smp3, value: encodeMpis([pa, qa, cp3, d5a, d6a, ra, cr, d7]) }],
      };
    }
    case 'expect3': {
      const [pa, qa, cp, d5, d6, ra, cr, d7] = decodeMpis(tlv.value, 8) as [bigint, bigint, bigint, bigint, bigint, bigint, bigint, bigint];
      checkElements(pa, qa, ra);
      checkExponents(d5, d6, d7);
      checkChallenges(cp, cr);
      const cpCheck = hashToInt(
        6,
        mulMod(pow(env, smp.g3, d5), pow(env, pa, cp)),
        mulMod(mulMod(pow(env, G, d5), pow(env, smp.g2, d6)), pow(env, qa, cp)),
      );
      if (cpCheck !== cp) proofFail('cP');
      const qaQb = divMod(qa, smp.qb);
      const crCheck = hashToInt(7, mulMod(pow(env, G, d7), pow(env, smp.g3a, cr)), mulMod(pow(env, qaQb, d7), pow(env, ra, cr)));
      if (crCheck !== cr) proofFail('cR');
      // Message 4, then our verdict.
      const r7 = rnd(env);
      const rb = pow(env, qaQb, smp.b3);
      const cr4 = hashToInt(8, pow(env, G, r7), pow(env, qaQb, r7));
      const d7b = modQ(r7 - smp.b3 * cr4);
      const rab = pow(env, ra, smp.b3);
      const success = rab === divMod(pa, smp.pb);
      return {
        smp: { kind: 'expect1' },
        send: [{ type: Tlv.smp4, value: encodeMpis([rb, cr4, d7b]) }],
        outcome: { type: 'smpResult', success },
      };
    }
    case 'expect4': {
      const [rb, cr, d7] = decodeMpis(tlv.value, 3) as [bigint, bigint, bigint];
      checkElements(rb);
      checkExponents(d7);
      checkChallenges(cr);
      const crCheck = hashToInt(8, mulMod(pow(env, G, d7), pow(env, smp.g3b, cr)), mulMod(pow(env, smp.qaQb, d7), pow(env, rb, cr)));
      if (crCheck !== cr) proofFail('cR');
      const rab = pow(env, rb, smp.a3);
      return { smp: { kind: 'expect1' }, send: [], outcome: { type: 'smpResult', success: rab === smp.paPb } };
    }
    case 'awaitingAnswer':
      // A new SMP1 while we wait for the user's answer is caught by the expected-state check above.
      return { smp, send: [] };
  }
}
