/**
 * Persistence of a V3Peer (every context of one peer): the shared versioned state encoding
 * (session/state-codec.ts, kind "otrv3") plus the state's schema (persist.ts), then the meaning of every
 * field (`checkPeer`): a restored state is exactly one the library could have produced, so hostile or
 * corrupt bytes give an OtrDecodeError here and never a plain Error (or a wrong message) later in send or
 * receive — key and MAC lengths, key ids, instance tags (each remote instance once), group elements, the
 * peer's DSA key within bounds and matching its fingerprint, SMP values in range, AKE states consistent.
 * Partial fragmented messages are not part of it (unauthenticated input is never persisted).
 */
import { equalBytes } from '../bytes.js';
import { dsaFingerprint, dsaPublicKeyLooksValid } from '../crypto/dsa.js';
import { DH_SECRET_BYTES } from '../crypto/dh.js';
import { OtrDecodeError } from '../errors.js';
import { MIN_INSTANCE_TAG } from '../instance-tag.js';
import { type Limits, resolveLimits } from '../limits.js';
import type { AuthState } from './ake.js';
import { AKE_MAC_BYTES, AKE_R_BYTES, CTR_BYTES, DATA_MAC_BYTES, SMP_EXPONENT_BYTES, SSID_BYTES, STORED_MESSAGE_MAX_CHARS } from './constants.js';
import { type V3State, wipeState } from './conversation.js';
import { contextsInEvictionOrder, type V3Peer } from './instances.js';
import { keepNewest, type KeyState } from './data.js';
import { GROUP_BYTES, type DhKeyPair, isValidGroupElement } from './group.js';
import type { SmpState } from './smp.js';
import { type StateValue, decodeState, encodeState } from '../session/state-codec.js';
import { type Schema, checkSchema } from './persist.js';
import { MessageTypeV3 } from '../wire/header.js';

const STATE_KIND = 'otrv3';
const DH: Schema = { obj: { priv: 'bytes', pub: 'big' } };
const DSA_PUB: Schema = { obj: { p: 'big', q: 'big', g: 'big', y: 'big' } };
const AKE_KEYS: Schema = { obj: { ssid: 'bytes', c: 'bytes', cPrime: 'bytes', m1: 'bytes', m2: 'bytes', m1Prime: 'bytes', m2Prime: 'bytes' } };
const HDR = { senderTag: 'int', receiverTag: 'int' } as const;
const CONTEXT_SCHEMA: Schema = {
  obj: {
    ourTag: 'int',
    theirTag: 'int',
    msgstate: { union: [{ lit: 'plaintext' }, { lit: 'encrypted' }, { lit: 'finished' }] },
    auth: {
      union: [
        { obj: { kind: { lit: 'none' } } },
        {
          obj: {
            kind: { lit: 'awaitingDhKey' },
            r: 'bytes',
            ours: DH,
            hashGx: 'bytes',
            commit: { obj: { type: { lit: MessageTypeV3.dhCommit }, ...HDR, encGx: 'bytes', hashGx: 'bytes' } },
          },
        },
        {
          obj: {
            kind: { lit: 'awaitingRevealSig' },
            ours: DH,
            encGx: 'bytes',
            hashGx: 'bytes',
            dhKey: { obj: { type: { lit: MessageTypeV3.dhKey }, ...HDR, gy: 'big' } },
          },
        },
        {
          obj: {
            kind: { lit: 'awaitingSig' },
            ours: DH,
            theirGy: 'big',
            keys: AKE_KEYS,
            revealSig: { obj: { type: { lit: MessageTypeV3.revealSignature }, ...HDR, r: 'bytes', encSig: 'bytes', mac: 'bytes' } },
          },
        },
      ],
    },
    keys: {
      opt: {
        obj: {
          ourKeyid: 'int',
          ourCur: DH,
          ourPrev: DH,
          theirKeyid: 'int',
          theirCur: 'big',
          theirPrev: { opt: 'big' },
          sessions: {
            arr: {
              obj: {
                ourKeyid: 'int',
                theirKeyid: 'int',
                keys: { obj: { sendAes: 'bytes', sendMac: 'bytes', recvAes: 'bytes', recvMac: 'bytes', extraKey: 'bytes' } },
                sendCtr: 'bytes',
                recvCtr: 'bytes',
                recvMacUsed: 'bool',
              },
            },
            max: 4,
          },
          pendingReveal: 'bytes',
        },
      },
    },
    peer: { opt: { obj: { longTerm: DSA_PUB, fingerprint: 'bytes', ssid: 'bytes', ssidBoldFirst: 'bool' } } },
    smp: {
      union: [
        { obj: { kind: { lit: 'expect1' } } },
        { obj: { kind: { lit: 'awaitingAnswer' }, question: { opt: 'str' }, g2a: 'big', g3a: 'big' } },
        { obj: { kind: { lit: 'expect2' }, x: 'big', a2: 'big', a3: 'big' } },
        { obj: { kind: { lit: 'expect3' }, g3a: 'big', g2: 'big', g3: 'big', b3: 'big', pb: 'big', qb: 'big' } },
        { obj: { kind: { lit: 'expect4' }, g3b: 'big', paPb: 'big', qaQb: 'big', a3: 'big' } },
      ],
    },
    lastSentAt: 'num',
    stored: { opt: { obj: { text: 'str', at: 'num' } } },
    receivedPlaintext: 'bool',
  },
};

const STATE_SCHEMA: Schema = {
  // endedMacKeys: absent from records written before session 16 and whenever there is none (written only then).
  obj: { ourTag: 'int', master: CONTEXT_SCHEMA, instances: { arr: CONTEXT_SCHEMA, max: 1 << 16 }, current: 'int', endedMacKeys: { opt: 'bytes' } },
};

/** The state as versioned bytes (contains session secrets: store it as such). */
export function serializeV3State(state: V3Peer): Uint8Array {
  return encodeState(STATE_KIND, state as unknown as StateValue);
}

/**
 * Restores a state written by serializeV3State; hostile bytes give an OtrDecodeError. A list of MAC keys to
 * reveal longer than limits.maxMacKeysToReveal (written under a higher limit) keeps its newest keys, as the
 * live code bounds it (data.ts keepNewest), the rest wiped; `trimmed` hears of each (their instance tag, the
 * keys dropped). Refusing it lost every conversation of the account once the host lowered the limit.
 */
export function restoreV3State(
  bytes: Uint8Array,
  limits?: Partial<Limits>,
  trimmed?: (instance: number, count: number, what: 'mac-keys' | 'instances') => void,
  now: number = Date.now(),
): V3Peer {
  const L = resolveLimits(limits);
  const s = withinInstanceLimit(checkSchema<V3Peer>(decodeState(STATE_KIND, bytes, L.maxStateBytes), STATE_SCHEMA, 'OTRv3 state'), L, now, trimmed);
  checkPeer(s, L);
  for (const c of s.instances) {
    const k = c.keys;
    if (k === null) continue;
    const before = k.pendingReveal.length;
    k.pendingReveal = keepNewest(k.pendingReveal, L.maxMacKeysToReveal);
    if (k.pendingReveal.length < before) trimmed?.(c.theirTag, (before - k.pendingReveal.length) / DATA_MAC_BYTES, 'mac-keys');
  }
  // The MAC keys of sessions the peer ended (none: absent, null or empty, and then not written again), bounded
  // the same way; reported as no instance's (0): they are the peer's, whichever instance's session they ended.
  const ended = s.endedMacKeys ?? null;
  if (ended === null || ended.length === 0) delete s.endedMacKeys;
  else {
    s.endedMacKeys = keepNewest(ended, L.maxMacKeysToReveal);
    if (s.endedMacKeys.length < ended.length) trimmed?.(0, (ended.length - s.endedMacKeys.length) / DATA_MAC_BYTES, 'mac-keys');
  }
  return s;
}

/**
 * The state with no more remote instances than the live bound lets it hold (admit: the limit, the current one
 * never evicted), those kept chosen by the live ranking (contextsInEvictionOrder) on fields the schema check has
 * already typed, before checkPeer pays for any context's meaning (a DSA key's subgroup checks, two modular
 * powers each): a hostile state of thousands of contexts costs the kept ones' checks (session 16,
 * attacks/s16-restore-instances-v3). The dropped contexts are wiped; `trimmed` hears how many (instance 0).
 * A tag twice is refused whether kept or not.
 */
function withinInstanceLimit(s: V3Peer, L: Limits, now: number, trimmed?: (instance: number, count: number, what: 'instances') => void): V3Peer {
  const tags = new Set<number>();
  for (const c of s.instances) {
    if (tags.has(c.theirTag)) bad('a remote instance appears twice');
    tags.add(c.theirTag);
  }
  const over = s.instances.length - Math.max(Math.ceil(L.maxInstancesPerConversation), tags.has(s.current) ? 1 : 0);
  if (over <= 0) return s;
  const gone = new Set(contextsInEvictionOrder(s.instances, s.current, now, L).slice(0, over));
  for (const c of gone) wipeState(c);
  trimmed?.(0, gone.size, 'instances');
  return { ...s, instances: s.instances.filter((c) => !gone.has(c)) };
}

// ---- the meaning of every field ------------------------------------------------------------------------

function bad(what: string): never {
  throw new OtrDecodeError(`OTRv3 state: ${what}`);
}

function len(b: Uint8Array, n: number, what: string): void {
  if (b.length !== n) bad(`${what} must be ${n} bytes`);
}

function group(v: bigint, what: string): void {
  if (!isValidGroupElement(v)) bad(`${what} is not a group element`);
}

function dhPair(k: DhKeyPair, what: string): void {
  len(k.priv, DH_SECRET_BYTES, `${what} secret`);
  if (k.priv.every((x) => x === 0)) bad(`${what} secret is zero`);
  group(k.pub, `${what} public value`);
}

/** A key id we use in a message: 1..0xffffffff (0 is invalid on the wire, §Data Message). */
function keyid(v: number, min: number, what: string): void {
  if (v < min || v > 0xffffffff) bad(`${what} out of range`);
}

/** An SMP exponent: a random SMP_EXPONENT_BYTES number (or the 256-bit secret), never 0. */
const MAX_EXPONENT = 1n << BigInt(8 * SMP_EXPONENT_BYTES);
function exponent(v: bigint, what: string): void {
  if (v < 1n || v >= MAX_EXPONENT) bad(`${what} out of range`);
}

export function checkPeer(s: V3Peer, L: Limits): void {
  if (s.ourTag < MIN_INSTANCE_TAG) bad('invalid instance tag');
  checkContext(s.master, s.ourTag, true, L);
  const seen = new Set<number>();
  for (const c of s.instances) {
    if (c.theirTag < MIN_INSTANCE_TAG) bad('invalid remote instance tag');
    if (seen.has(c.theirTag)) bad('a remote instance appears twice');
    seen.add(c.theirTag);
    checkContext(c, s.ourTag, false, L);
  }
  if (s.current !== 0 && !seen.has(s.current)) bad('the current instance has no context');
  // Whole keys, any number (the record's bytes bound it): restoreV3State keeps the newest the limit allows.
  if (s.endedMacKeys && s.endedMacKeys.length % DATA_MAC_BYTES !== 0) bad('MAC keys of ended sessions out of range');
}

function checkContext(c: V3State, ourTag: number, master: boolean, L: Limits): void {
  if (c.ourTag !== ourTag) bad('a context of another instance tag of ours');
  if (master) {
    if (c.theirTag !== 0) bad('the master context has a remote instance');
    if (c.msgstate !== 'plaintext' || c.keys || c.peer || c.smp.kind !== 'expect1') bad('the master context is never encrypted');
    if (c.auth.kind !== 'none' && c.auth.kind !== 'awaitingDhKey') bad('the master context only ever commits');
  }
  if ((c.msgstate === 'encrypted') !== (c.keys !== null)) bad('session keys exist exactly when encrypted');
  if (c.msgstate === 'encrypted' && !c.peer) bad('an encrypted context without a peer');
  if (c.msgstate !== 'encrypted' && c.smp.kind !== 'expect1') bad('SMP in progress outside an encrypted session');
  if (!Number.isFinite(c.lastSentAt) || c.lastSentAt < 0) bad('lastSentAt out of range');
  if (c.stored && (c.stored.text.length > STORED_MESSAGE_MAX_CHARS || !Number.isFinite(c.stored.at))) bad('stored message out of range');
  checkAuth(c.auth, c, L);
  if (c.keys) checkKeys(c.keys);
  if (c.peer) {
    // The shared DSA bounds (p 1024–3072 bits, q 160, 1 < g, y < p) before the subgroup checks' arithmetic.
    if (!dsaPublicKeyLooksValid(c.peer.longTerm)) bad("the peer's DSA key is out of bounds or invalid");
    len(c.peer.fingerprint, 20, 'fingerprint');
    if (!equalBytes(c.peer.fingerprint, dsaFingerprint(c.peer.longTerm))) bad('fingerprint does not match the peer key');
    len(c.peer.ssid, SSID_BYTES, 'ssid');
  }
  checkSmp(c.smp);
}

function checkAuth(a: AuthState, c: V3State, L: Limits): void {
  const header = (h: { senderTag: number; receiverTag: number }, what: string): void => {
    if (h.senderTag !== c.ourTag) bad(`${what} not from us`);
    if (h.receiverTag !== c.theirTag && !(h.receiverTag === 0 || h.receiverTag >= MIN_INSTANCE_TAG)) bad(`${what} to an invalid instance`);
  };
  const encGx = (b: Uint8Array): void => {
    if (b.length < 5 || b.length > GROUP_BYTES + 4) bad('encrypted g^x out of range');
  };
  switch (a.kind) {
    case 'none':
      return;
    case 'awaitingDhKey':
      len(a.r, AKE_R_BYTES, 'r');
      dhPair(a.ours, 'AKE key');
      len(a.hashGx, 32, 'hash of g^x');
      header(a.commit, 'D-H Commit');
      encGx(a.commit.encGx);
      if (!equalBytes(a.commit.hashGx, a.hashGx)) bad('D-H Commit does not match its hash');
      return;
    case 'awaitingRevealSig':
      dhPair(a.ours, 'AKE key');
      encGx(a.encGx);
      len(a.hashGx, 32, 'hash of g^x');
      header(a.dhKey, 'D-H Key');
      if (a.dhKey.gy !== a.ours.pub) bad('D-H Key does not carry our key');
      return;
    case 'awaitingSig':
      dhPair(a.ours, 'AKE key');
      group(a.theirGy, 'their g^y');
      len(a.keys.ssid, SSID_BYTES, 'AKE ssid');
      for (const k of [a.keys.c, a.keys.cPrime]) len(k, 16, 'AKE AES key');
      for (const k of [a.keys.m1, a.keys.m2, a.keys.m1Prime, a.keys.m2Prime]) len(k, 32, 'AKE MAC key');
      header(a.revealSig, 'Reveal Signature');
      len(a.revealSig.r, AKE_R_BYTES, 'revealed r');
      len(a.revealSig.mac, AKE_MAC_BYTES, 'Reveal Signature MAC');
      if (a.revealSig.encSig.length === 0 || a.revealSig.encSig.length > L.maxFieldBytes) bad('encrypted signature out of range');
      return;
  }
}

function checkKeys(k: KeyState): void {
  // Our key id advances past 1 (the AKE key) before any data message: ourKeyid − 1 goes on the wire.
  keyid(k.ourKeyid, 2, 'our key id');
  keyid(k.theirKeyid, 1, 'their key id');
  dhPair(k.ourCur, 'our current key');
  dhPair(k.ourPrev, 'our previous key');
  group(k.theirCur, 'their current key');
  if (k.theirPrev !== null) group(k.theirPrev, 'their previous key');
  const pairs = new Set<string>();
  for (const e of k.sessions) {
    if (e.ourKeyid !== k.ourKeyid && e.ourKeyid !== k.ourKeyid - 1) bad('session keys for a key id we no longer hold');
    if (e.theirKeyid !== k.theirKeyid && !(e.theirKeyid === k.theirKeyid - 1 && k.theirPrev !== null)) bad('session keys for a key id of theirs we no longer hold');
    const id = `${e.ourKeyid}/${e.theirKeyid}`;
    if (pairs.has(id)) bad('session keys twice for one key pair');
    pairs.add(id);
    len(e.keys.sendAes, 16, 'sending AES key');
    len(e.keys.recvAes, 16, 'receiving AES key');
    len(e.keys.sendMac, DATA_MAC_BYTES, 'sending MAC key');
    len(e.keys.recvMac, DATA_MAC_BYTES, 'receiving MAC key');
    len(e.keys.extraKey, 32, 'extra symmetric key');
    len(e.sendCtr, CTR_BYTES, 'sending counter');
    len(e.recvCtr, CTR_BYTES, 'receiving counter');
  }
  // Whole keys, any number (the record's bytes bound it): restoreV3State trims a list written under a higher
  // maxMacKeysToReveal to the newest the limit allows.
  if (k.pendingReveal.length % DATA_MAC_BYTES !== 0) bad('MAC keys to reveal out of range');
}

function checkSmp(s: SmpState): void {
  switch (s.kind) {
    case 'expect1':
      return;
    case 'awaitingAnswer':
      // The question is not bounded by maxSmpQuestionBytes here: the library accepted it under the limit of its
      // day and cannot shorten it, and refusing it lost the account once that limit was lowered. The record's
      // bytes bound it (session 15, [s15-restore]).
      group(s.g2a, 'SMP g2a');
      group(s.g3a, 'SMP g3a');
      return;
    case 'expect2':
      exponent(s.x, 'SMP secret');
      exponent(s.a2, 'SMP a2');
      exponent(s.a3, 'SMP a3');
      return;
    case 'expect3':
      for (const v of [s.g3a, s.g2, s.g3, s.pb, s.qb]) group(v, 'SMP value');
      exponent(s.b3, 'SMP b3');
      return;
    case 'expect4':
      for (const v of [s.g3b, s.paPb, s.qaQb]) group(v, 'SMP value');
      exponent(s.a3, 'SMP a3');
      return;
  }
}
