/**
 * Plain-data states of the lower layers <-> the persistence codec's values, with strict shape checks on the
 * way back (a corrupt or hostile state file gives OtrDecodeError, never a half-built state). The ratchet is
 * plain data already and maps field by field; client profiles are stored as their exact encoding and
 * decoded again; SMP and OTRv3 states use their own byte encodings.
 */
import { expect, putArray, putBoolean, putBytes, putNull, putNumber, putOptionalBytes, schema, schemaWithTail, type StateValue } from './state-codec.js';
import { Writer } from '../codec/primitives.js';
import { ourDhPublicInUse, theirDhInUse, type RatchetKeyPair, type RatchetState } from '../ratchet/state.js';
import type { SkippedKey } from '../ratchet/skipped.js';
import type { DakeState } from '../ake/interactive.js';
import { DAKE_IDLE } from '../ake/interactive.js';
import { decodeClientProfile, type ClientProfile } from '../profile/client-profile.js';
import { OtrDecodeError } from '../errors.js';
import type { CryptoBackend } from '../backend/types.js';
import { dhIsValidPublic } from '../crypto/dh.js';
import type { ValidDhPublic, ValidPoint } from '../crypto/validated.js';
import { MAC_KEY_BYTES, macKeysFrom } from '../ratchet/mac-queue.js';
import { wipe } from '../bytes.js';

const KEY = 64;
const POINT = 57;
const DH_MAX = 384;

function keyPairToValue(k: { secret: Uint8Array | null; public: Uint8Array }): StateValue {
  return { secret: k.secret, public: k.public };
}

function dhBytes(v: StateValue | undefined, what: string): Uint8Array {
  const b = expect.bytes(v, what);
  if (b.length === 0 || b.length > DH_MAX) throw new OtrDecodeError(`state: ${what} has a bad length`);
  return b;
}

function ratchetKeyPair(v: StateValue | undefined, what: string, secretLen: number | undefined, isDh: boolean): RatchetKeyPair {
  const r = expect.record(v, what);
  const secret = r.secret === null || r.secret === undefined ? null : expect.bytes(r.secret, `${what}.secret`, secretLen);
  return { secret, public: isDh ? dhBytes(r.public, `${what}.public`) : expect.bytes(r.public, `${what}.public`, POINT) };
}

export function ratchetToValue(s: RatchetState): StateValue {
  return {
    i: s.i,
    j: s.j,
    k: s.k,
    pn: s.pn,
    rootKey: s.rootKey,
    sendChain: s.sendChain,
    recvChain: s.recvChain,
    recvRatchetId: s.recvRatchetId,
    sendingStepDue: s.sendingStepDue,
    ourEcdh: keyPairToValue(s.ourEcdh),
    ourDh: { secret: s.ourDh.secret, public: ourDhPublicAsWritten(s).slice() },
    theirEcdh: s.theirEcdh,
    theirDh: theirDhAsWritten(s).slice(),
    braceKey: s.braceKey,
    macKeysToReveal: s.macKeysToReveal,
    skipped: s.skipped.map((e) => ({ ...e })),
  };
}

/**
 * Our DH public value as the record keeps it: a one-byte placeholder (0x00, which no DH public value's minimal
 * encoding is) when it is dead (ratchet/state.ts ourDhPublicInUse) — 384 bytes of the ~2.3 KB record written
 * after every message, in two of every three of our sending chains (docs/persistence.md, session 16). One byte
 * rather than none: a release before session 16 reads any value of 1 to 384 bytes there, so it still restores
 * such a record (and, by the same rule in its ratchet, never reads the value).
 */
const DEAD_DH_PUBLIC: Uint8Array = Uint8Array.of(0);

function ourDhPublicAsWritten(s: RatchetState): Uint8Array {
  return ourDhPublicInUse(s) ? s.ourDh.public : DEAD_DH_PUBLIC;
}

/**
 * The peer's DH value as the record keeps it: where it is dead (ratchet/state.ts theirDhInUse), the one-byte
 * value 4 — another 383 bytes per record, in about half the states of a conversation. A value of the group
 * (2²: a quadratic residue in range), so restore validates it as any other and a release before session 16
 * restores such a record too; restore need not tell it apart: where the value is in use the record holds the
 * peer's own (which may be 4, if the peer chose it: then it is that value, as before).
 */
const DEAD_THEIR_DH: Uint8Array = Uint8Array.of(4);

function theirDhAsWritten(s: RatchetState): Uint8Array {
  return theirDhInUse(s) ? s.theirDh : DEAD_THEIR_DH;
}

// The ratchet written directly (records.ts, after every call): the bytes of encoding ratchetToValue(s),
// field for field, without building that value (pinned by test/session-record-bytes.test.ts).
const writeKeyPair = schema<{ secret: Uint8Array | null; public: Uint8Array }>({
  secret: (w, k) => putOptionalBytes(w, k.secret),
  public: (w, k) => putBytes(w, k.public),
});
const writeOurDh = schema<RatchetState>({
  secret: (w, s) => putOptionalBytes(w, s.ourDh.secret),
  public: (w, s) => putBytes(w, ourDhPublicAsWritten(s)),
});
const writeSkipped = schema<SkippedKey>({
  ratchetId: (w, e) => putNumber(w, e.ratchetId),
  messageId: (w, e) => putNumber(w, e.messageId),
  theirEcdh: (w, e) => putBytes(w, e.theirEcdh),
  mkEnc: (w, e) => putBytes(w, e.mkEnc),
  esk: (w, e) => putBytes(w, e.esk),
  storedAt: (w, e) => putNumber(w, e.storedAt),
});
// Split before the peer's keys (the record's last two fields in key order), which stay the same from one of the
// peer's ratchet steps to the next: writeRatchetKept copies them from bytes kept with the instance.
const ratchetRecord = schemaWithTail<RatchetState>(
  {
    i: (w, s) => putNumber(w, s.i),
    j: (w, s) => putNumber(w, s.j),
    k: (w, s) => putNumber(w, s.k),
    pn: (w, s) => putNumber(w, s.pn),
    rootKey: (w, s) => putBytes(w, s.rootKey),
    sendChain: (w, s) => putOptionalBytes(w, s.sendChain),
    recvChain: (w, s) => putOptionalBytes(w, s.recvChain),
    recvRatchetId: (w, s) => putNumber(w, s.recvRatchetId),
    sendingStepDue: (w, s) => putBoolean(w, s.sendingStepDue),
    ourEcdh: (w, s) => writeKeyPair(w, s.ourEcdh),
    ourDh: (w, s) => writeOurDh(w, s),
    theirEcdh: (w, s) => putBytes(w, s.theirEcdh),
    theirDh: (w, s) => putBytes(w, theirDhAsWritten(s)),
    braceKey: (w, s) => putBytes(w, s.braceKey),
    // The queue's bytes as one field (one copy, whatever its length): format since session 7.
    macKeysToReveal: (w, s) => putBytes(w, s.macKeysToReveal),
    skipped: (w, s) => putArray(w, s.skipped, writeSkipped),
  },
  ['theirDh', 'theirEcdh'],
);

/** Writes what encoding `ratchetToValue(s)` writes; null as the null of an instance without a ratchet. */
export function writeRatchet(w: Writer, s: RatchetState | null): void {
  if (s === null) putNull(w);
  else {
    ratchetRecord.head(w, s);
    ratchetRecord.tail(w, s);
  }
}

/**
 * The peer's keys as a ratchet record ends with them (theirDh, theirEcdh: key names and values, ~470 bytes), for
 * the pair of arrays they were written from. Public values only: nothing here needs wiping.
 */
export interface EncodedPeerKeys {
  readonly theirDh: Uint8Array;
  readonly theirEcdh: Uint8Array;
  /** Whether theirDh was written as the placeholder (theirDhAsWritten). */
  readonly theirDhDead: boolean;
  readonly bytes: Uint8Array;
}

/**
 * writeRatchet(w, holder.ratchet), the peer's keys copied from `holder.encodedPeerKeys` — made again whenever the
 * ratchet holds other arrays for them (a receiving step: they are never changed in place, validated.ts). Why
 * (docs/stores.md, "bridge.save: session 11"): with a thousand conversations, a save reads each record's
 * fields from arrays last touched a thousand messages before; the peer's DH value and ECDH key are two such
 * arrays (one of 384 bytes off the V8 heap) that nothing else in a send reads, and one kept array of their
 * encoding costs fewer cold cache lines than the two arrays and their objects.
 */
export function writeRatchetKept(w: Writer, holder: { readonly ratchet: RatchetState | null; encodedPeerKeys: EncodedPeerKeys | null }): void {
  const s = holder.ratchet;
  if (s === null) {
    holder.encodedPeerKeys = null;
    putNull(w);
    return;
  }
  let kept = holder.encodedPeerKeys;
  const theirDhDead = !theirDhInUse(s);
  if (kept === null || kept.theirDh !== s.theirDh || kept.theirEcdh !== s.theirEcdh || kept.theirDhDead !== theirDhDead)
    holder.encodedPeerKeys = kept = encodePeerKeys(s, theirDhDead);
  ratchetRecord.head(w, s);
  w.raw(kept.bytes);
}

function encodePeerKeys(s: RatchetState, theirDhDead: boolean): EncodedPeerKeys {
  const w = new Writer(512);
  ratchetRecord.tail(w, s);
  return { theirDh: s.theirDh, theirEcdh: s.theirEcdh, theirDhDead, bytes: w.finish() };
}

/**
 * A restored ratchet, its public keys validated (checkRatchetKeys) before they are marked valid: a state value
 * cannot come out of here with a ValidPoint / ValidDhPublic that was never checked. Its stored skipped keys and
 * MAC keys to reveal are taken whatever their number — the record's byte bound (decodeState) already bounds it,
 * before anything here runs: one entry is ~200 bytes, a key 64 — and each entry is checked. A record written
 * under limits higher than the account's is brought within them by the caller (ratchet restoreWithinLimits,
 * instance.ts), as the library would have kept it; refusing it lost every conversation of the account
 * (session 15, attacks/s15-restore-lowered-limits).
 */
export function ratchetFromValue(b: CryptoBackend, v: StateValue | undefined): RatchetState {
  const r = expect.record(v, 'ratchet');
  const u32 = (x: StateValue | undefined, w: string) => expect.uint(x, `ratchet.${w}`, 0xffffffff);
  const recvRatchetId = expect.number(r.recvRatchetId, 'ratchet.recvRatchetId');
  if (!Number.isInteger(recvRatchetId) || recvRatchetId < -1 || recvRatchetId > 0xffffffff)
    throw new OtrDecodeError('state: ratchet.recvRatchetId out of range');
  const skipped: SkippedKey[] = expect.array(r.skipped, 'ratchet.skipped').map((e, n) => {
    const x = expect.record(e, `skipped[${n}]`);
    return {
      ratchetId: u32(x.ratchetId, 'skipped.ratchetId'),
      messageId: u32(x.messageId, 'skipped.messageId'),
      theirEcdh: expect.bytes(x.theirEcdh, 'skipped.theirEcdh', POINT),
      mkEnc: expect.bytes(x.mkEnc, 'skipped.mkEnc', KEY),
      esk: expect.bytes(x.esk, 'skipped.esk', KEY),
      storedAt: expect.number(x.storedAt, 'skipped.storedAt'),
    };
  });
  const theirEcdh = expect.bytes(r.theirEcdh, 'ratchet.theirEcdh', POINT);
  const theirDh = dhBytes(r.theirDh, 'ratchet.theirDh');
  const ourEcdh = ratchetKeyPair(r.ourEcdh, 'ratchet.ourEcdh', POINT, false);
  checkRatchetKeys(b, theirEcdh, ourEcdh.public, theirDh);
  const restored: RatchetState = {
    i: u32(r.i, 'i'),
    j: u32(r.j, 'j'),
    k: u32(r.k, 'k'),
    pn: u32(r.pn, 'pn'),
    rootKey: expect.bytes(r.rootKey, 'ratchet.rootKey', KEY),
    sendChain: expect.optionalBytes(r.sendChain, 'ratchet.sendChain', KEY) ?? null,
    recvChain: expect.optionalBytes(r.recvChain, 'ratchet.recvChain', KEY) ?? null,
    recvRatchetId,
    sendingStepDue: expect.boolean(r.sendingStepDue, 'ratchet.sendingStepDue'),
    ourEcdh,
    ourDh: ratchetKeyPair(r.ourDh, 'ratchet.ourDh', undefined, true),
    // Checked above.
    theirEcdh: theirEcdh as ValidPoint,
    theirDh: theirDh as ValidDhPublic,
    braceKey: expect.bytes(r.braceKey, 'ratchet.braceKey', 32),
    macKeysToReveal: macKeysFromValue(r.macKeysToReveal),
    skipped,
  };
  // A record may leave our DH public value out only where it is dead: a chain that still sends it cannot go on
  // without it (a hostile or damaged record; refused here rather than sending a message the peer must refuse).
  if (isDeadDhPublic(restored.ourDh.public) && ourDhPublicInUse(restored))
    throw new OtrDecodeError('state: ratchet.ourDh.public left out while the sending chain still carries it');
  return restored;
}

function isDeadDhPublic(v: Uint8Array): boolean {
  return v.length === 1 && v[0] === 0;
}

/**
 * A restored MAC-key queue, as an owned queue (mac-queue.ts). Two formats: the keys concatenated in one bytes
 * value (written since session 7), or an array of 64-byte values (every record written before: still read).
 * Either must hold whole keys; their number is the record's (bounded by its bytes), trimmed by the caller.
 */
function macKeysFromValue(v: StateValue | undefined): Uint8Array {
  if (v instanceof Uint8Array) {
    if (v.length % MAC_KEY_BYTES !== 0) throw new OtrDecodeError('state: ratchet.macKeysToReveal must hold whole 64-byte keys');
    return macKeysFrom(v);
  }
  const list = expect.array(v, 'ratchet.macKeysToReveal');
  const joined = new Uint8Array(list.length * MAC_KEY_BYTES);
  try {
    for (let n = 0; n < list.length; n++) joined.set(expect.bytes(list[n], 'ratchet.macKeysToReveal[]', KEY), n * MAC_KEY_BYTES);
    return macKeysFrom(joined);
  } finally {
    wipe(joined);
  }
}

/**
 * The meaning of a restored ratchet's public keys, not just their lengths (a hostile or damaged disk): the
 * peer's ECDH key must be a valid point of the prime-order group and their DH value in the group (range and
 * Legendre symbol), as when they arrived on the wire; our own ECDH public key must be a valid point. Without
 * this a crafted state made the next send() fail deep in the arithmetic instead of restore() refusing it.
 * About one point check and one Legendre symbol per session: paid once, when the conversation is decoded.
 * This is what makes the ValidPoint / ValidDhPublic marks ratchetFromValue puts on the peer's keys true
 * (ratchet/state.ts): the sending steps after a restore use them without checking again.
 */
function checkRatchetKeys(b: CryptoBackend, theirEcdh: Uint8Array, ourEcdhPublic: Uint8Array, theirDh: Uint8Array): void {
  if (!b.pointIsValid(theirEcdh)) throw new OtrDecodeError('state: ratchet.theirEcdh is not a valid point');
  if (!b.pointIsValid(ourEcdhPublic)) throw new OtrDecodeError('state: ratchet.ourEcdh is not a valid point');
  if (!dhIsValidPublic(b, theirDh)) throw new OtrDecodeError('state: ratchet.theirDh is not in the group');
}

export function profileFromValue(v: StateValue | undefined, what: string): ClientProfile {
  return decodeClientProfile(expect.bytes(v, what));
}

function pair(v: StateValue | undefined, what: string, dh: boolean): { secret: Uint8Array; public: Uint8Array } {
  const r = expect.record(v, what);
  return dh
    ? { secret: expect.bytes(r.secret, `${what}.secret`, 80), public: dhBytes(r.public, `${what}.public`) }
    : { secret: expect.bytes(r.secret, `${what}.secret`, POINT), public: expect.bytes(r.public, `${what}.public`, POINT) };
}

export function dakeToValue(s: DakeState): StateValue {
  switch (s.kind) {
    case 'idle':
      return { kind: 'idle' };
    case 'awaiting-auth-r':
      return {
        kind: s.kind,
        peerTag: s.peerTag,
        y: keyPairToValue(s.y),
        b: keyPairToValue(s.b),
        ecdh0: keyPairToValue(s.ecdh0),
        dh0: keyPairToValue(s.dh0),
        identityMessage: s.identityMessage,
      };
    case 'awaiting-auth-i':
      return {
        kind: s.kind,
        peerTag: s.peerTag,
        peerProfile: s.peerProfile.encoded,
        x: s.x,
        authITranscript: s.authITranscript,
        ssid: s.ssid,
        prevRoot: s.prevRoot,
        ecdh0: keyPairToValue(s.ecdh0),
        dh0: keyPairToValue(s.dh0),
        theirEcdh0: s.theirEcdh0,
        theirDh0: s.theirDh0,
      };
  }
}

/**
 * A restored DAKE state. An awaiting-auth-i state's peer values (the profile's identity key, the first ECDH
 * key and DH value) are checked before they are marked valid, as when they arrived in the Identity message:
 * receiveAuthI uses them without checking again. Two point checks and one Legendre symbol per restore of a
 * pending DAKE (the three receiveAuthI used to pay on every Auth-I).
 */
export function dakeFromValue(b: CryptoBackend, v: StateValue | undefined): DakeState {
  const r = expect.record(v, 'dake');
  const kind = expect.string(r.kind, 'dake.kind', ['idle', 'awaiting-auth-r', 'awaiting-auth-i']) as DakeState['kind'];
  if (kind === 'idle') return DAKE_IDLE;
  const peerTag = expect.uint(r.peerTag, 'dake.peerTag', 0xffffffff);
  if (kind === 'awaiting-auth-r')
    return {
      kind: 'awaiting-auth-r',
      peerTag,
      y: pair(r.y, 'dake.y', false),
      b: pair(r.b, 'dake.b', true),
      ecdh0: pair(r.ecdh0, 'dake.ecdh0', false),
      dh0: pair(r.dh0, 'dake.dh0', true),
      identityMessage: expect.bytes(r.identityMessage, 'dake.identityMessage'),
    };
  const peerProfile = profileFromValue(r.peerProfile, 'dake.peerProfile');
  const theirEcdh0 = expect.bytes(r.theirEcdh0, 'dake.theirEcdh0', POINT);
  const theirDh0 = dhBytes(r.theirDh0, 'dake.theirDh0');
  if (!b.pointIsValid(peerProfile.identityKey)) throw new OtrDecodeError('state: dake.peerProfile identity key is not a valid point');
  if (!b.pointIsValid(theirEcdh0)) throw new OtrDecodeError('state: dake.theirEcdh0 is not a valid point');
  if (!dhIsValidPublic(b, theirDh0)) throw new OtrDecodeError('state: dake.theirDh0 is not in the group');
  return {
    kind: 'awaiting-auth-i',
    peerTag,
    peerProfile,
    // Checked above.
    peerIdentityKey: peerProfile.identityKey as ValidPoint,
    x: expect.bytes(r.x, 'dake.x', POINT),
    authITranscript: expect.bytes(r.authITranscript, 'dake.authITranscript'),
    ssid: expect.bytes(r.ssid, 'dake.ssid', 8),
    prevRoot: expect.bytes(r.prevRoot, 'dake.prevRoot', KEY),
    ecdh0: pair(r.ecdh0, 'dake.ecdh0', false),
    dh0: pair(r.dh0, 'dake.dh0', true),
    theirEcdh0: theirEcdh0 as ValidPoint,
    theirDh0: theirDh0 as ValidDhPublic,
  };
}
