/**
 * Sending a data message (otrv4.md §When you send a Data Message; interpretations.md §6).
 *
 *   const { state, message, esk } = encryptDataMessage(b, random, state, plaintext, { senderTag, receiverTag });
 *
 * `message` is the complete encoded data message (hand it to the armour/fragmenter); `esk` is this message's
 * base extra symmetric key (derive per-TLV keys with esk.ts, then wipe it). Persist the returned `state`
 * before the message leaves: a crash after sending with the old state persisted would reuse a message key.
 *
 * If a sending step is due (we received a new ratchet since we last sent), this message starts a new
 * ratchet first: a new ECDH key, a new DH key every third step (i mod 3 == 0) or else the brace key ratcheted
 * forward, a new root and sending chain, pn := j, j := 0, i += 1, and the collected MAC keys to reveal go in
 * this message. The message carries ratchet id max(0, i − 1), message id j, our ECDH key, and our DH key
 * iff the ratchet id is a multiple of 3 (an empty MPI otherwise).
 */
import type { CryptoBackend } from '../backend/types.js';
import type { RandomSource } from '../crypto/random.js';
import { ecdhValidated, generateEcdh } from '../crypto/ecdh.js';
import { dhKeyPair, dhSharedSecretValidated } from '../crypto/dh.js';
import { wipe } from '../bytes.js';
import { OtrArgumentError, OtrLimitError, OtrStateError } from '../errors.js';
import { draftDataMessageSized } from '../wire/data.js';
import { braceKeyFromDh, deriveRatchetKeys, extraSymmetricKey, mixedSecret, nextBraceKey, sealMessage } from './keys.js';
import { carriesExtraKeyTlv } from './esk.js';
import { firstSendingStepDue, isDhStep, MAX_RATCHET_COUNTER, sendingRatchetId, type RatchetState } from './state.js';
import { NO_MAC_KEYS, releaseMacKeys } from './mac-queue.js';

const EMPTY = new Uint8Array(0);

/**
 * Where the fused seal puts the next chain key and the authenticator (keys.ts sealMessage's `into`): the key
 * is copied into the state's chain-key array at once and wiped here, the authenticator into the message.
 * Sending is synchronous and nothing between the seal and those copies calls out, so one pair serves every
 * send; a message thus allocates no key arrays (each message made two, one of them kept until the next).
 */
const SEAL_INTO = { next: new Uint8Array(64), mac: new Uint8Array(64) };

/** @internal For tests: the seal's reused places (zero between sends). */
export function sealPlacesForTests(): readonly Uint8Array[] {
  return [SEAL_INTO.next, SEAL_INTO.mac];
}

export interface SendOptions {
  readonly senderTag: number;
  readonly receiverTag: number;
  /** Data message flags (FLAG_IGNORE_UNREADABLE for heartbeats and TLV-only messages); default 0. */
  readonly flags?: number;
  /**
   * Attach every pending MAC key to reveal even though no sending step is due (the disconnect TLV message,
   * interpretations.md §8). Normally they go only in the first message of a new sending chain.
   */
  readonly revealAll?: boolean;
  /** Derive the extra symmetric key: default only when the plaintext carries a type-7 TLV. */
  readonly extraKey?: boolean;
  /**
   * The caller encodes `message` at once and keeps nothing of it (the session armours it): it may then be a
   * view of a buffer the next such call reuses (wire/data.ts `draftDataMessageSized`), one allocation fewer.
   */
  readonly transientMessage?: boolean;
}

export interface SendResult {
  readonly state: RatchetState;
  /**
   * The encoded data message. Up to 1 KiB it is a view of a shared slab of public wire bytes (its `.buffer`
   * holds other messages too; wire/data.ts): copy it before transferring its buffer.
   */
  readonly message: Uint8Array;
  /** This message's base extra symmetric key (64 bytes), or null when not derived. The caller wipes it. */
  readonly esk: Uint8Array | null;
}

/**
 * The sender's ratchet step on its own: the state after it, sharing `s`'s unchanged arrays. Wipes nothing of
 * `s` (the caller wipes the replaced root key, brace key, ECDH secret and, on a DH step, DH secret).
 */
export function senderStep(b: CryptoBackend, random: RandomSource, s: RatchetState): RatchetState {
  const dhStep = isDhStep(s.i);
  const ourEcdh = generateEcdh(b, random);
  let ourDh = s.ourDh;
  let kEcdh: Uint8Array | undefined;
  let kDh: Uint8Array | undefined;
  let braceKey: Uint8Array | undefined;
  let k: Uint8Array | undefined;
  try {
    // The peer's keys were validated where they entered the state (state.ts): no second group check.
    kEcdh = ecdhValidated(b, ourEcdh.secret, s.theirEcdh);
    if (dhStep) {
      ourDh = dhKeyPair(b, random);
      kDh = dhSharedSecretValidated(b, ourDh.secret!, s.theirDh);
      braceKey = braceKeyFromDh(b, kDh);
    } else {
      braceKey = nextBraceKey(b, s.braceKey);
    }
    k = mixedSecret(b, kEcdh, braceKey);
    const { root, chain } = deriveRatchetKeys(b, s.rootKey, k);
    // Every field written out, not `{ ...s, … }`: V8 (Node 20) copies this 16-field object through a slow path
    // when spread (~1.3–3.3 µs against ~0.1 µs; the per-message path measured it, "session 5").
    return {
      i: s.i + 1,
      j: 0,
      k: s.k,
      pn: s.j,
      rootKey: root,
      sendChain: chain,
      recvChain: s.recvChain,
      recvRatchetId: s.recvRatchetId,
      sendingStepDue: false,
      ourEcdh,
      ourDh,
      theirEcdh: s.theirEcdh,
      theirDh: s.theirDh,
      braceKey,
      macKeysToReveal: s.macKeysToReveal,
      skipped: s.skipped,
    };
  } catch (e) {
    wipe(ourEcdh.secret, braceKey, ourDh !== s.ourDh ? ourDh.secret : undefined);
    throw e;
  } finally {
    wipe(kEcdh, kDh, k);
  }
}

/**
 * Encrypts `plaintext` (the already-assembled `message [0x00 TLV*]` bytes) as the next data message.
 * Throws OtrArgumentError for bad options and OtrStateError if the state cannot send; `state` is then
 * unchanged.
 */
export function encryptDataMessage(
  b: CryptoBackend,
  random: RandomSource,
  state: RatchetState,
  plaintext: Uint8Array,
  opts: SendOptions,
): SendResult {
  if (!(plaintext instanceof Uint8Array)) throw new OtrArgumentError('plaintext must be bytes');
  // The next state's i (after a step) or j must stay a counter a restore accepts (state.ts MAX_RATCHET_COUNTER).
  if (state.sendingStepDue ? state.i >= MAX_RATCHET_COUNTER : state.j >= MAX_RATCHET_COUNTER)
    throw new OtrLimitError('the sending chain is at its last message id: no message can be sent until the peer ratchets');
  const stepped = state.sendingStepDue ? senderStep(b, random, state) : state;
  const chain = stepped.sendChain;
  if (chain === null) throw new OtrStateError('ratchet has no sending chain');
  // A new sending chain reveals the queued MAC keys — except Bob's first, which the spec makes at the end of
  // the DAKE (before any message could be received) and init.ts leaves due: his first message reveals nothing.
  const reveal = (state.sendingStepDue && !firstSendingStepDue(state)) || opts.revealAll === true;
  const ratchetId = sendingRatchetId(stepped);
  let esk: Uint8Array | null = null;
  let nextChain: Uint8Array | undefined;
  try {
    // A restored state holds a placeholder where its DH public value was dead (session/persist.ts); restore
    // refuses one on a chain that carries it, so this never holds — checked so that it cannot send a bad message.
    if (isDhStep(ratchetId) && stepped.ourDh.public.length < 2) throw new OtrStateError('ratchet: our DH public value is missing');
    if (opts.extraKey ?? carriesExtraKeyTlv(plaintext)) esk = extraSymmetricKey(b, chain);
    // The message is laid out first; the plaintext is encrypted straight into its ciphertext field and the
    // authenticated prefix MACed (one backend call where the backend fuses the keys, cipher and MAC).
    const draft = draftDataMessageSized({
      senderTag: opts.senderTag,
      receiverTag: opts.receiverTag,
      flags: opts.flags ?? 0,
      previousChainLength: stepped.pn,
      ratchetId,
      messageId: stepped.j,
      ecdh: stepped.ourEcdh.public,
      dh: isDhStep(ratchetId) ? stepped.ourDh.public : EMPTY,
      // The queue is the field's bytes already (mac-queue.ts); the draft copies them into the message.
      revealedMacs: reveal ? stepped.macKeysToReveal : EMPTY,
    }, plaintext.length, opts.transientMessage === true);
    const sealed = sealMessage(b, chain, draft.authenticated, plaintext, SEAL_INTO);
    nextChain = sealed.next;
    const message = draft.seal(sealed.authenticator);
    wipe(SEAL_INTO.mac); // public (it is in the message), but the place is left as it was found
    // Every field written out rather than `{ ...stepped, j, … }`: V8 (Node 20) copies this 16-field object
    // through a slow path when spread, measured ~1.3 µs against ~0.04 µs for the literal (once per message).
    const next: RatchetState = {
      i: stepped.i,
      j: stepped.j + 1,
      k: stepped.k,
      pn: stepped.pn,
      rootKey: stepped.rootKey,
      // The chain key advances in place (below): the consumed state's array, whose old key is wiped anyway.
      sendChain: chain,
      recvChain: stepped.recvChain,
      recvRatchetId: stepped.recvRatchetId,
      sendingStepDue: stepped.sendingStepDue,
      ourEcdh: stepped.ourEcdh,
      ourDh: stepped.ourDh,
      theirEcdh: stepped.theirEcdh,
      theirDh: stepped.theirDh,
      braceKey: stepped.braceKey,
      macKeysToReveal: reveal ? NO_MAC_KEYS : stepped.macKeysToReveal,
      skipped: stepped.skipped,
    };
    // Committed: the next chain key replaces this one in its array, and what the new state no longer holds
    // is wiped. Nothing above can throw after the seal, so the given state was untouched until here.
    chain.set(nextChain);
    wipe(nextChain);
    if (stepped !== state) {
      wipe(state.rootKey, state.sendChain, state.ourEcdh.secret, state.braceKey);
      if (stepped.ourDh !== state.ourDh) wipe(state.ourDh.secret);
    }
    if (reveal) releaseMacKeys(state.macKeysToReveal);
    return { state: next, message, esk };
  } catch (e) {
    wipe(esk, nextChain);
    if (stepped !== state) wipe(stepped.rootKey, stepped.sendChain, stepped.ourEcdh.secret, stepped.braceKey);
    if (stepped.ourDh !== state.ourDh) wipe(stepped.ourDh.secret);
    throw e;
  }
}
