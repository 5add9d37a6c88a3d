/**
 * The double ratchet's state (otrv4.md §Key Management; interpretations.md §6) as plain data: numbers,
 * booleans, Uint8Arrays and arrays of them. No classes, no closures, so the session layer can serialise it
 * with the wire codecs and restore it byte for byte.
 *
 * Ownership: transitions (send.ts, receive.ts) never modify the state they are given until they succeed; on
 * success they return a new state and wipe the secrets of the old one that the new one no longer uses. The
 * caller must then drop the old state object (it shares arrays with the new one; the MAC-key queue's buffer is
 * extended in place by its owner only, mac-queue.ts) and persist the new one; use cloneRatchetState to keep a copy. On failure the given state is untouched and remains the current state.
 */
import { wipe } from '../bytes.js';
import { macKeysFrom, releaseMacKeys } from './mac-queue.js';
import type { ValidDhPublic, ValidPoint } from '../crypto/validated.js';
import type { SkippedKey } from './skipped.js';

/** An ephemeral key pair. `secret` is null once the protocol has deleted it (see the receiver step). */
export interface RatchetKeyPair {
  readonly secret: Uint8Array | null;
  readonly public: Uint8Array;
}

export interface RatchetState {
  /** The local counter i: the number of ratchet steps (sending or receiving) done so far. */
  readonly i: number;
  /** The id of the next message we send on the current sending chain. */
  readonly j: number;
  /** The id of the next message we expect on the current receiving chain. */
  readonly k: number;
  /** The number of messages sent on our previous sending chain (sent in every data message). */
  readonly pn: number;
  /** The current root key (64 bytes). */
  readonly rootKey: Uint8Array;
  /** chain_key_s[j] (64 bytes); null when a sending step is due (the old chain is never used again). */
  readonly sendChain: Uint8Array | null;
  /** chain_key_r[k] (64 bytes); null before the first receiving chain exists. */
  readonly recvChain: Uint8Array | null;
  /** The sender's ratchet id of the current receiving chain; -1 when there is none. */
  readonly recvRatchetId: number;
  /**
   * True after a receiving step: the next message we send starts a new ratchet (a sending step). False
   * after a sending step, which is exactly when the peer's next new ratchet (id == i) may be accepted.
   */
  readonly sendingStepDue: boolean;
  readonly ourEcdh: RatchetKeyPair;
  readonly ourDh: RatchetKeyPair;
  /**
   * The peer's current ECDH public key (57 bytes) and DH public value (minimal big-endian), marked valid
   * (validated.ts): every way into a state validates them once — the DAKE's decoders (init.ts), a receiver
   * step (receive.ts) and a restore (session/persist.ts checkRatchetKeys) — so the sender steps that use them
   * later (send.ts) skip the ~150 µs of pointIsValid + Legendre symbol they would otherwise repeat.
   */
  readonly theirEcdh: ValidPoint;
  readonly theirDh: ValidDhPublic;
  /** The current brace key (32 bytes). */
  readonly braceKey: Uint8Array;
  /**
   * MKmac values (64 bytes each) to reveal in the first message of our next sending chain, oldest first,
   * concatenated (the wire field's bytes): a view into a queue buffer (mac-queue.ts), changed only through
   * that module's functions.
   */
  readonly macKeysToReveal: Uint8Array;
  /** Skipped message keys, oldest first (skipped.ts). */
  readonly skipped: readonly SkippedKey[];
}

/**
 * The largest value of i, j, k and pn: they travel as 32-bit INTs and a restore accepts no more
 * (session/persist.ts). A transition that would take one past it is refused (OtrLimitError) before any work,
 * the state unchanged: otherwise a restored state at the bound (a hostile disk) went one step further and was
 * persisted as a state no restore accepts (test/attacks/s10-review-ratchet-counters.test.ts). No honest
 * session gets near it (2^32 messages on one chain, or 2^32 ratchet steps).
 */
export const MAX_RATCHET_COUNTER = 0xffffffff;

/** The ratchet id our next message carries: max(0, i - 1) (interpretations.md §6, §11). */
export function sendingRatchetId(s: RatchetState): number {
  return Math.max(0, s.i - 1);
}

/**
 * Bob's state right after the interactive DAKE (init.ts): his receiving chain is Alice's ratchet 0 and his
 * first sending step (i = 0) is still due. The only state with i = 0 and a step due, and the only one whose
 * current receiving ratchet id equals i: messages of ratchet id 0 go on that chain (receive.ts), and the
 * step, when it comes, reveals no MAC keys, as the spec's step at initialisation could not.
 */
export function firstSendingStepDue(s: RatchetState): boolean {
  return s.i === 0 && s.sendingStepDue;
}

/** Whether the ratchet step numbered `i` is a DH (brace-key) step: every third, starting at 0. */
export function isDhStep(i: number): boolean {
  return i % 3 === 0;
}

/**
 * Whether our DH public value can still be read before a new one replaces it: only the messages of a sending
 * chain whose ratchet id is a DH step carry it (send.ts), and that chain's value is the one its own sending step
 * made (or the DAKE's, for Alice's first chain). Once a step is due, or on a chain that is not a DH step, the
 * next DH-step chain makes a new pair: the value kept is dead (its secret may still be live, for the peer's next
 * DH step). The conversation record leaves a dead value out (session/persist.ts, docs/persistence.md session 16).
 */
export function ourDhPublicInUse(s: RatchetState): boolean {
  return !s.sendingStepDue && isDhStep(sendingRatchetId(s));
}

/**
 * Whether the peer's DH value can still be read before a new one replaces it. Two readers (send.ts, receive.ts):
 * our next sending step, when it is a DH step (numbered i when due; else i + 1, after the peer's ratchet i,
 * which replaces the value itself when it is a DH step), and the messages of the current receiving chain when
 * its ratchet id is a DH step (each carries the value, compared with this one). Otherwise the peer's next DH
 * step replaces it unread: the record keeps a placeholder (session/persist.ts, docs/persistence.md session 16).
 * In every state the ratchet reaches, the i + 1 case (no step due) is implied by the receiving chain's (that chain
 * is then ratchet i - 2); it is kept so that the rule does not rest on that for a state restored from elsewhere.
 */
export function theirDhInUse(s: RatchetState): boolean {
  return (s.recvChain !== null && isDhStep(s.recvRatchetId)) || isDhStep(s.sendingStepDue ? s.i : s.i + 1);
}

/** An independent deep copy (for callers that must keep a state after passing it to a transition). */
export function cloneRatchetState(s: RatchetState): RatchetState {
  const c = (a: Uint8Array) => a.slice();
  const cn = (a: Uint8Array | null) => (a ? a.slice() : null);
  return {
    ...s,
    rootKey: c(s.rootKey),
    sendChain: cn(s.sendChain),
    recvChain: cn(s.recvChain),
    ourEcdh: { secret: cn(s.ourEcdh.secret), public: c(s.ourEcdh.public) },
    ourDh: { secret: cn(s.ourDh.secret), public: c(s.ourDh.public) },
    // A copy of a valid value is valid: the marks carry over.
    theirEcdh: c(s.theirEcdh) as ValidPoint,
    theirDh: c(s.theirDh) as ValidDhPublic,
    braceKey: c(s.braceKey),
    macKeysToReveal: macKeysFrom(s.macKeysToReveal),
    skipped: s.skipped.map((e) => ({ ...e, theirEcdh: c(e.theirEcdh), mkEnc: c(e.mkEnc), esk: c(e.esk) })),
  };
}

/** Wipes every secret of a state (when the session ends or the state is replaced by a new DAKE). */
export function wipeRatchetState(s: RatchetState): void {
  wipe(s.rootKey, s.sendChain, s.recvChain, s.ourEcdh.secret, s.ourDh.secret, s.braceKey);
  releaseMacKeys(s.macKeysToReveal);
  for (const e of s.skipped) wipe(e.mkEnc, e.esk);
}
