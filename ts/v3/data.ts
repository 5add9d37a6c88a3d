/**
 * OTRv3 data messages and their key management (otrv3-protocol.html §Exchanging data, §Key Management,
 * §Computing AES keys…, §Revealing MAC keys). The key state holds our two most recent D-H key pairs, their two
 * most recent public keys, and per-(our keyid, their keyid) session keys with their counters, derived lazily.
 *
 * Functions here MUTATE the KeyState they are given: the conversation hands them a copy and commits it only
 * when the whole message has been processed, so a rejected message never changes the session.
 */
import type { CryptoBackend } from '../backend/types.js';
import { bigToBytesBE, bytesToBigBE, concatBytes, equalBytes, wipe } from '../bytes.js';
import type { RandomSource } from '../crypto/random.js';
import { OtrCryptoError, OtrLimitError, OtrStateError } from '../errors.js';
import { CTR_BYTES, DATA_MAC_BYTES } from './constants.js';
import { DEFAULT_LIMITS } from '../limits.js';
import { type SessionKeys, aesCtr, deriveSessionKeys, hmacSha1, secBytes } from './crypto.js';
import { type DhKeyPair, dhKeyPairV3, dhSharedV3 } from './group.js';
import type { AkeResult } from './ake.js';
import { type DataMsg, encodeDataAuthenticated } from './messages.js';
import { MessageTypeV3 } from '../wire/header.js';

export interface SessionEntry {
  ourKeyid: number;
  theirKeyid: number;
  keys: SessionKeys;
  /** Top half of the last counter we sent / received under this pair (8 bytes, big-endian). */
  sendCtr: Uint8Array;
  recvCtr: Uint8Array;
  /** Whether recvMac verified a message: only such keys are revealed (§Revealing MAC keys). */
  recvMacUsed: boolean;
}

export interface KeyState {
  ourKeyid: number;
  ourCur: DhKeyPair;
  ourPrev: DhKeyPair;
  theirKeyid: number;
  theirCur: bigint;
  theirPrev: bigint | null;
  sessions: SessionEntry[];
  /** Receiving MAC keys waiting to be revealed in our next data message (concatenated 20-byte keys). */
  pendingReveal: Uint8Array;
}

export interface DataEnv {
  backend: CryptoBackend;
  random: RandomSource;
  ourTag: number;
  theirTag: number;
  /** limits.maxMacKeysToReveal: the most receiving MAC keys held for revealing (the oldest go beyond it). */
  maxMacKeysToReveal?: number;
}

/** Key state right after an AKE: our AKE key is keyid 1 (previous), a fresh key is keyid 2 (current). */
export function keysFromAke(env: DataEnv, r: AkeResult): KeyState {
  return {
    ourKeyid: 2,
    ourPrev: r.ours,
    ourCur: dhKeyPairV3(env.backend, env.random),
    theirKeyid: r.theirKeyid,
    theirCur: r.theirPub,
    theirPrev: null,
    sessions: [],
    pendingReveal: new Uint8Array(0),
  };
}

function ourKey(ks: KeyState, id: number): DhKeyPair | null {
  if (id === ks.ourKeyid) return ks.ourCur;
  if (id === ks.ourKeyid - 1) return ks.ourPrev;
  return null;
}

function theirKey(ks: KeyState, id: number): bigint | null {
  if (id === ks.theirKeyid) return ks.theirCur;
  if (id === ks.theirKeyid - 1) return ks.theirPrev;
  return null;
}

/** The session entry for a key pair, derived (one modPow) on first use and cached. */
function session(env: DataEnv, ks: KeyState, ourId: number, theirId: number): SessionEntry {
  const found = ks.sessions.find((s) => s.ourKeyid === ourId && s.theirKeyid === theirId);
  if (found) return found;
  const ours = ourKey(ks, ourId);
  const theirs = theirKey(ks, theirId);
  if (!ours || theirs === null) throw new OtrStateError(`no D-H keys for keyids ${ourId}/${theirId}`);
  const s = dhSharedV3(env.backend, ours.priv, theirs);
  const sb = secBytes(s);
  const entry: SessionEntry = {
    ourKeyid: ourId,
    theirKeyid: theirId,
    keys: deriveSessionKeys(sb, ours.pub > theirs),
    sendCtr: new Uint8Array(CTR_BYTES),
    recvCtr: new Uint8Array(CTR_BYTES),
    recvMacUsed: false,
  };
  wipe(s, sb);
  ks.sessions.push(entry);
  return entry;
}

function incrementCtr(ctr: Uint8Array): Uint8Array {
  const v = bytesToBigBE(ctr) + 1n;
  if (v >> 64n) throw new OtrLimitError('data-message counter exhausted for this key pair');
  return bigToBytesBE(v, CTR_BYTES);
}

/**
 * Drops every session entry matching `pred`, queueing its receiving MAC key for revelation if it was used;
 * at most `cap` keys stay queued, the newest. A peer advances its D-H key whenever it likes (the next key is
 * its own), one retired key per message: while we do not answer, the queue grew without bound, and past
 * maxMacKeysToReveal the state we saved was one restore refuses (session 14, test/attacks/s14-deny-v3). The
 * keys dropped are wiped unrevealed, as OTRv4's queue does (ratchet/receive.ts): their messages are then
 * forgeable by the two parties only, never less secure.
 */
function retire(ks: KeyState, pred: (s: SessionEntry) => boolean, cap: number): void {
  const reveal: Uint8Array[] = [ks.pendingReveal];
  ks.sessions = ks.sessions.filter((s) => {
    if (!pred(s)) return true;
    if (s.recvMacUsed) reveal.push(s.keys.recvMac.slice());
    wipe(s.keys.sendAes, s.keys.sendMac, s.keys.recvAes, s.keys.recvMac, s.keys.extraKey);
    return false;
  });
  if (reveal.length === 1) return;
  const all = concatBytes(...reveal);
  // The copies made above go; the old queue may be shared with the state a failed call falls back to.
  wipe(...reveal.slice(1));
  ks.pendingReveal = keepNewest(all, cap);
}

/**
 * `all` (MAC keys to reveal, oldest first), or a copy of its newest `cap` keys with `all` wiped. Also the bound
 * of a list restored from a record written under a higher maxMacKeysToReveal (state-codec.ts).
 */
export function keepNewest(all: Uint8Array, cap: number): Uint8Array {
  const excess = all.length - Math.max(1, cap) * DATA_MAC_BYTES;
  if (excess <= 0) return all;
  const kept = all.slice(excess);
  wipe(all);
  return kept;
}

/** The most MAC keys held for revealing (limits.maxMacKeysToReveal). */
const revealCap = (env: DataEnv): number => env.maxMacKeysToReveal ?? DEFAULT_LIMITS.maxMacKeysToReveal;

export interface Encrypted {
  msg: DataMsg;
  /** The extra symmetric key of the key pair this message was sent under. */
  extraKey: Uint8Array;
}

/**
 * Encrypts `plaintext` under (our_keyid − 1, their_keyid), advertising our current key as next_dh, and
 * attaches every MAC key waiting to be revealed.
 */
export function encryptData(env: DataEnv, ks: KeyState, plaintext: Uint8Array, flags: number): Encrypted {
  const ourId = ks.ourKeyid - 1;
  const sess = session(env, ks, ourId, ks.theirKeyid);
  sess.sendCtr = incrementCtr(sess.sendCtr);
  const fields = {
    senderTag: env.ourTag,
    receiverTag: env.theirTag,
    flags,
    senderKeyid: ourId,
    recipientKeyid: ks.theirKeyid,
    nextDh: ks.ourCur.pub,
    ctr: sess.sendCtr.slice(),
    encMsg: aesCtr(sess.keys.sendAes, sess.sendCtr, plaintext),
  };
  const authenticated = encodeDataAuthenticated(fields);
  const mac = hmacSha1(env.backend, sess.keys.sendMac, authenticated);
  const msg: DataMsg = { type: MessageTypeV3.data, ...fields, mac, oldMacKeys: ks.pendingReveal, authenticated };
  ks.pendingReveal = new Uint8Array(0);
  return { msg, extraKey: sess.keys.extraKey.slice() };
}

export interface Decrypted {
  plaintext: Uint8Array;
  extraKey: Uint8Array;
}

/**
 * Verifies and decrypts a data message, then rotates keys as §Key Management says. Throws OtrStateError for
 * unknown keyids or a replayed/stale counter and OtrCryptoError('BAD_MAC') for a bad MAC.
 */
export function decryptData(env: DataEnv, ks: KeyState, m: DataMsg): Decrypted {
  if (!ourKey(ks, m.recipientKeyid)) throw new OtrStateError('data message for an unknown keyid of ours');
  if (theirKey(ks, m.senderKeyid) === null) throw new OtrStateError('data message from an unknown keyid of theirs');
  const sess = session(env, ks, m.recipientKeyid, m.senderKeyid);
  // Counters must strictly increase per key pair: this is what rejects replays. Checked before the MAC
  // (session 13), which changes no answer — a message with a stale counter is refused either way, and the
  // counters are public — but spares the MAC over a replayed message, up to maxMessageChars long.
  if (bytesToBigBE(m.ctr) <= bytesToBigBE(sess.recvCtr)) throw new OtrStateError('data message counter not increasing (replay?)');
  if (!equalBytes(hmacSha1(env.backend, sess.keys.recvMac, m.authenticated).subarray(0, DATA_MAC_BYTES), m.mac))
    throw new OtrCryptoError('BAD_MAC', 'data message MAC does not verify');
  sess.recvCtr = m.ctr.slice();
  sess.recvMacUsed = true;
  const plaintext = aesCtr(sess.keys.recvAes, m.ctr, m.encMsg);
  const extraKey = sess.keys.extraKey.slice();

  if (m.recipientKeyid === ks.ourKeyid) {
    // They have seen our newest key: forget the previous one and make a new current one.
    const old = ks.ourKeyid - 1;
    retire(ks, (s) => s.ourKeyid === old, revealCap(env));
    wipe(ks.ourPrev.priv);
    ks.ourPrev = ks.ourCur;
    ks.ourCur = dhKeyPairV3(env.backend, env.random);
    ks.ourKeyid++;
  }
  if (m.senderKeyid === ks.theirKeyid) {
    // They advanced: their next key becomes current; their previous one is forgotten.
    const old = ks.theirKeyid - 1;
    retire(ks, (s) => s.theirKeyid === old, revealCap(env));
    ks.theirPrev = ks.theirCur;
    ks.theirCur = m.nextDh;
    ks.theirKeyid++;
  }
  return { plaintext, extraKey };
}

/**
 * A new AKE replaced the session's keys: `next` takes over the MAC keys `old` still had to reveal — its
 * list, and the receiving MAC keys of its key pairs that verified a message — ahead of its own, at most
 * maxMacKeysToReveal (newest kept); `old` is wiped. libotr keeps its list of saved MAC keys across such a
 * refresh; we wiped it, so the last messages of the old keys stayed authenticated under keys nobody
 * published (session 14, test/attacks/s14-deny-v3).
 */
export function inheritRevealsV3(env: DataEnv, old: KeyState, next: KeyState): void {
  retire(old, () => true, Number.MAX_SAFE_INTEGER);
  next.pendingReveal = keepNewest(concatBytes(old.pendingReveal, next.pendingReveal), revealCap(env));
  wipeKeyState(old);
}

/**
 * For our disconnect message (end()): the receiving MAC keys of the key pairs still in use that verified a
 * message join the list it reveals. libotr's disconnect reveals only its saved list, so the last messages we
 * read under the current keys stayed authenticated under keys nobody published (session 15,
 * test/attacks/s15-deny-v3). Safe once we have sent the disconnect: the caller wipes the key state right after
 * it, so nothing under these keys is accepted by us again, and the peer never accepts a message under its own
 * sending MAC key (which is what our receiving one is). The entries stay until then (the disconnect is
 * encrypted under one of them, and re-deriving one would restart its counter). libotr skips the revealed keys
 * unread (proto.c otrl_proto_accept_data), whatever their number.
 */
export function revealKeysInUse(env: DataEnv, ks: KeyState): void {
  const used = ks.sessions.filter((s) => s.recvMacUsed).map((s) => s.keys.recvMac.slice());
  if (used.length === 0) return;
  // A new array: the old list may be shared with the state a failed call falls back to (retire says so too).
  const all = concatBytes(ks.pendingReveal, ...used);
  wipe(...used);
  ks.pendingReveal = keepNewest(all, revealCap(env));
}

/**
 * The peer ended the session (its disconnect, TLV 1): returns the MAC keys the session still had to reveal —
 * its list and the receiving MAC keys of the key pairs that verified a message, at most maxMacKeysToReveal, the
 * newest — and wipes the key state. libotr wipes them unpublished (it has no message of that session left to
 * send), so the peer's last messages, its disconnect among them, stayed authenticated under keys only the two
 * parties held (session 16, test/attacks/s16-v3deny-peer-end). The caller keeps them for the next data message
 * it sends to the peer (instances.ts). Safe to publish then: they are MAC keys only, each of a key pair whose
 * keys are gone here (nothing under it is accepted by us again), and our receiving MAC key is the peer's sending
 * one, which the peer never accepts a message under.
 */
export function endKeysKeepingMacKeys(env: DataEnv, ks: KeyState): Uint8Array {
  retire(ks, () => true, revealCap(env));
  const kept = ks.pendingReveal;
  ks.pendingReveal = new Uint8Array(0);
  wipeKeyState(ks);
  return kept;
}

/**
 * `ks` is about to send a data message: the MAC keys of ended sessions (`ended`) join its list, ahead of its own
 * keys (they are older), at most maxMacKeysToReveal kept, the newest. `ended` is left to its owner.
 */
export function publishAhead(env: DataEnv, ks: KeyState, ended: Uint8Array): void {
  ks.pendingReveal = keepNewest(concatBytes(ended, ks.pendingReveal), revealCap(env));
}

/** Wipes every secret in a key state (end of conversation). */
export function wipeKeyState(ks: KeyState): void {
  retire(ks, () => true, Number.MAX_SAFE_INTEGER);
  wipe(ks.ourCur.priv, ks.ourPrev.priv, ks.pendingReveal);
}
