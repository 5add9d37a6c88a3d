/**
 * The SMP state machine (otrv4.md §The SMP State Machine), as plain data and pure transitions:
 * `(backend, state, input, randomness) -> { state, send, event }`. Nothing here does I/O or keeps globals;
 * the session layer puts every TLV of `send` (in order, in one data message, flags IGNORE_UNREADABLE)
 * and shows `event` to the user.
 *
 * Phases map onto the spec's smpstate like this:
 *   idle     SMPSTATE_EXPECT1, nothing pending
 *   asked    SMPSTATE_EXPECT1, a verified SMP1 waits for the user's answer (`smpAnswer`)
 *   expect2 / expect3 / expect4   SMPSTATE_EXPECT2 / 3 / 4
 * The spec computes SMP2 as soon as SMP1 arrives; here the user is asked first, so the proofs are checked
 * on arrival and SMP2 is built when the answer comes. An SMP1 arriving while `asked` replaces the pending
 * one (the spec's state is still EXPECT1).
 *
 * Peer input never throws: a malformed body, an invalid point or a proof that does not verify aborts the
 * exchange (an abort TLV is returned to send) with event "invalid"; a message the current state does not
 * expect aborts it too (event "aborted", by "protocol"). Receiving an abort never sends one, so two peers
 * can never bounce aborts. Caller mistakes (an over-long question, `smpAnswer` with nothing asked, bad
 * fingerprint lengths) throw typed OtrErrors before anything changes.
 *
 * A known race (inherent in the protocol, as in OTRv3): after a restart, a message of the abandoned exchange
 * that was already in flight can arrive in the matching phase of the new one (say, the peer's old SMP2 while
 * we wait for SMP2). Its proofs are bound to the old exchange's values, so it fails verification and is
 * reported as "invalid". Nothing is accepted wrongly, but hosts should word "invalid" as "verification
 * could not be completed", not as proof of an attack.
 *
 * Secrets: every transition that supersedes a state wipes the old state's buffers, so the exchange's
 * scalars (x, a2, a3, b3) and secret-derived points do not outlive it. Therefore: always continue with the
 * returned state, and clone (`cloneSmpState`, or persist.ts) before a call if the old one is still needed.
 */
import type { CryptoBackend } from '../backend/types.js';
import type { RandomSource } from '../crypto/random.js';
import { utf8, wipe } from '../bytes.js';
import { OtrArgumentError, OtrError, OtrLimitError, OtrStateError } from '../errors.js';
import { DEFAULT_LIMITS } from '../limits.js';
import { decodeSmp1, decodeSmp2, decodeSmp3, decodeSmp4, encodeSmp1, encodeSmp2, encodeSmp3, encodeSmp4, questionText } from './messages.js';
import { smpSecretFor, type SmpSecretInput } from './secret.js';
import { createSmp1, createSmp2, processSmp2, processSmp3, processSmp4, verifySmp1 } from './steps.js';
import type { InitiatorAfter1, InitiatorAfter3, ResponderAfter2 } from './steps.js';
import { SmpTlvType, isSmpTlvType, type SmpTlvTypeId } from './tlv-types.js';

export type SmpState =
  | { readonly phase: 'idle' }
  | { readonly phase: 'asked'; readonly question: Uint8Array; readonly g2a: Uint8Array; readonly g3a: Uint8Array }
  | ({ readonly phase: 'expect2' } & Readonly<InitiatorAfter1>)
  | ({ readonly phase: 'expect3' } & Readonly<ResponderAfter2>)
  | ({ readonly phase: 'expect4' } & Readonly<InitiatorAfter3>);
export type SmpPhase = SmpState['phase'];

export interface SmpTlv {
  readonly tlvType: SmpTlvTypeId;
  readonly body: Uint8Array;
}

export type SmpEvent =
  /** The peer started SMP; show the question (possibly empty) and call `smpAnswer`. */
  | { readonly type: 'asked'; readonly question: string }
  /** We sent our part and wait for the peer. */
  | { readonly type: 'in-progress' }
  /** Both sides used the same secret, in this session (no man in the middle). */
  | { readonly type: 'succeeded' }
  /** The secrets differ (or a man in the middle sits between the two sessions). */
  | { readonly type: 'failed' }
  /** The exchange was abandoned: by the user, by the peer's abort, or on a message out of turn. */
  | { readonly type: 'aborted'; readonly by: 'us' | 'peer' | 'protocol'; readonly reason?: string }
  /** The peer sent something malformed or a proof that does not verify (a cheating or broken peer). */
  | { readonly type: 'invalid'; readonly reason: string };

export interface SmpResult {
  readonly state: SmpState;
  /** TLVs to send, in order, in one data message (empty when there is nothing to send). */
  readonly send: readonly SmpTlv[];
  readonly event?: SmpEvent;
}

export interface SmpOptions {
  rng: RandomSource;
  /** Defaults to DEFAULT_LIMITS.maxSmpQuestionBytes. */
  maxQuestionBytes?: number;
}

const IDLE: SmpState = Object.freeze({ phase: 'idle' });
const ABORT_TLV: SmpTlv = Object.freeze({ tlvType: SmpTlvType.abort, body: new Uint8Array(0) });

export function initialSmpState(): SmpState {
  return IDLE;
}

/** True while an exchange is running (the spec's smpstate is not EXPECT1). */
export function smpInProgress(s: SmpState): boolean {
  return s.phase === 'expect2' || s.phase === 'expect3' || s.phase === 'expect4';
}

/** Overwrites every buffer the state holds (secrets and secret-derived points alike). */
export function wipeSmpState(s: SmpState): void {
  for (const v of Object.values(s)) if (v instanceof Uint8Array) wipe(v);
}

/** A deep copy sharing no buffers with `s`. */
export function cloneSmpState(s: SmpState): SmpState {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(s)) out[k] = v instanceof Uint8Array ? v.slice() : v;
  return out as unknown as SmpState;
}

/** Moves from `old` to `next`, wiping `old` (the two never share buffers). */
function advance(old: SmpState, next: SmpState, send: readonly SmpTlv[], event?: SmpEvent): SmpResult {
  if (old !== next) wipeSmpState(old);
  return event ? { state: next, send, event } : { state: next, send };
}

// ---------------------------------------------------------------- user actions

/**
 * The user starts SMP (optionally with a question). If an exchange is running or a question is pending,
 * the spec's restart applies: an abort TLV goes first, then SMP1, so the peer resets and then sees the
 * new SMP1 in EXPECT1. Throws OtrLimitError for a question over the limit (nothing changes).
 */
export function smpStart(b: CryptoBackend, state: SmpState, input: SmpSecretInput, opts: SmpOptions & { question?: string }): SmpResult {
  // A number or an object would be sent as its string form ("5", "[object Object]"): a caller's mistake, refused.
  if (opts.question !== undefined && typeof opts.question !== 'string') throw new OtrArgumentError('SMP question must be a string');
  const question = utf8(opts.question ?? '');
  const max = opts.maxQuestionBytes ?? DEFAULT_LIMITS.maxSmpQuestionBytes;
  if (question.length > max) throw new OtrLimitError(`SMP question of ${question.length} bytes exceeds the limit of ${max}`);
  const x = smpSecretFor(b, input, true);
  const { message, keep } = createSmp1(b, opts.rng, x, question);
  wipe(x);
  const smp1: SmpTlv = { tlvType: SmpTlvType.smp1, body: encodeSmp1(message) };
  const send = state.phase === 'idle' ? [smp1] : [ABORT_TLV, smp1];
  return advance(state, { phase: 'expect2', ...keep }, send, { type: 'in-progress' });
}

/** The user answers the pending question: builds and returns SMP2. Throws OtrStateError unless `asked`. */
export function smpAnswer(b: CryptoBackend, state: SmpState, input: SmpSecretInput, opts: SmpOptions): SmpResult {
  if (state.phase !== 'asked') throw new OtrStateError('no SMP question is waiting for an answer');
  const y = smpSecretFor(b, input, false);
  const { message, keep } = createSmp2(b, opts.rng, state.g2a, state.g3a, y);
  wipe(y);
  return advance(state, { phase: 'expect3', ...keep }, [{ tlvType: SmpTlvType.smp2, body: encodeSmp2(message) }], {
    type: 'in-progress',
  });
}

/** The user aborts: always sends an abort TLV (the spec: "in all cases") and returns to idle. */
export function smpAbort(state: SmpState): SmpResult {
  return advance(state, IDLE, [ABORT_TLV], { type: 'aborted', by: 'us' });
}

/** The conversation left ENCRYPTED_MESSAGES: abandon SMP silently (nothing to send, secrets wiped). */
export function smpReset(state: SmpState): SmpState {
  if (state !== IDLE) wipeSmpState(state);
  return IDLE;
}

// ---------------------------------------------------------------- peer messages

/**
 * Handles one received SMP TLV (types 2–6). Never throws on peer input. A TLV of any other type is not
 * SMP's business and leaves the state unchanged.
 */
export function smpReceive(b: CryptoBackend, state: SmpState, tlv: { tlvType: number; body: Uint8Array }, opts: SmpOptions): SmpResult {
  const t = tlv.tlvType;
  if (!isSmpTlvType(t)) return { state, send: [] };
  if (t === SmpTlvType.abort) {
    // Never answered with an abort (no ping-pong); an idle state has nothing to report.
    return state.phase === 'idle' ? { state, send: [] } : advance(state, IDLE, [], { type: 'aborted', by: 'peer' });
  }
  const expected = expectedTlv(state);
  if (!expected.includes(t)) {
    const reason = `SMP message ${t - 1} is not expected in state ${state.phase}`;
    // The spec sends an abort and resets; with nothing running there is nothing to tell the user.
    return state.phase === 'idle' ? { state, send: [ABORT_TLV] } : advance(state, IDLE, [ABORT_TLV], { type: 'aborted', by: 'protocol', reason });
  }
  try {
    return handle(b, state, t, tlv.body, opts);
  } catch (e) {
    // Anything the peer's bytes could provoke (malformed body, bad point, failed proof) ends the exchange.
    const reason = e instanceof OtrError ? e.message : 'SMP message could not be processed';
    return advance(state, IDLE, [ABORT_TLV], { type: 'invalid', reason });
  }
}

function expectedTlv(s: SmpState): readonly number[] {
  switch (s.phase) {
    case 'idle':
    case 'asked':
      return [SmpTlvType.smp1];
    case 'expect2':
      return [SmpTlvType.smp2];
    case 'expect3':
      return [SmpTlvType.smp3];
    case 'expect4':
      return [SmpTlvType.smp4];
  }
}

function handle(b: CryptoBackend, s: SmpState, t: SmpTlvTypeId, body: Uint8Array, opts: SmpOptions): SmpResult {
  if (t === SmpTlvType.smp1) {
    const m = decodeSmp1(body, opts.maxQuestionBytes ?? DEFAULT_LIMITS.maxSmpQuestionBytes);
    verifySmp1(b, m);
    const next: SmpState = { phase: 'asked', question: m.question, g2a: m.g2a, g3a: m.g3a };
    return advance(s, next, [], { type: 'asked', question: questionText(m.question) });
  }
  if (t === SmpTlvType.smp2 && s.phase === 'expect2') {
    const { message, keep } = processSmp2(b, opts.rng, s, decodeSmp2(body));
    return advance(s, { phase: 'expect4', ...keep }, [{ tlvType: SmpTlvType.smp3, body: encodeSmp3(message) }], {
      type: 'in-progress',
    });
  }
  if (t === SmpTlvType.smp3 && s.phase === 'expect3') {
    const { message, match } = processSmp3(b, opts.rng, s, decodeSmp3(body));
    return advance(s, IDLE, [{ tlvType: SmpTlvType.smp4, body: encodeSmp4(message) }], { type: match ? 'succeeded' : 'failed' });
  }
  if (t === SmpTlvType.smp4 && s.phase === 'expect4') {
    const match = processSmp4(b, s, decodeSmp4(body));
    return advance(s, IDLE, [], { type: match ? 'succeeded' : 'failed' });
  }
  /* c8 ignore next */
  throw new OtrStateError('unreachable: expectedTlv and handle disagree');
}
