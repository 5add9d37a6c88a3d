/**
 * Forging toolkit, data messages (otrv4.md §Forging Transcripts: Modify Data Message, Read and Forge, Show MAC
 * Key, ReMAC Message; appendix "Modify an encrypted data message"). Each works on the wire string and returns
 * a wire string, and is built from what the honest ratchet uses: wire/data's decoder and encoder,
 * ratchet/keys' messageKeys, chachaXor and authenticator.
 *
 * Why these work: a data message's ciphertext is ChaCha20 (a stream cipher: XOR) and its authenticator is a
 * keyed hash under MKmac; every MKmac is revealed, in clear, in a later message of the conversation once the
 * message was read (and when a session ends). Anyone holding the transcript therefore holds the MAC keys of
 * all its read messages, and can change any text they can guess and make it authentic again — so an
 * authentic-looking transcript proves nothing about what was said.
 */
import type { CryptoBackend } from '../backend/types.js';
import { abytes, copyBytes, equalBytes, utf8, wipe } from '../bytes.js';
import { OtrArgumentError, OtrCryptoError, OtrDecodeError, OtrError, OtrLimitError } from '../errors.js';
import { DEFAULT_LIMITS } from '../limits.js';
import { armour, dearmour } from '../codec/armour.js';
import {
  decodeDataMessage,
  draftDataMessage,
  encodeDataMessage,
  splitRevealedMacs,
  type DataMessage,
  type DataMessageFields,
  type DecodedDataMessage,
} from '../wire/data.js';
import { peekHeader, MessageType, PROTOCOL_VERSION_4 } from '../wire/header.js';
import { authenticator, chachaXor, MAC_KEY_BYTES, MESSAGE_KEY_BYTES, messageKeys, messageMacKey, CHAIN_KEY_BYTES } from '../ratchet/keys.js';
import { joinPlaintext, splitPlaintext } from '../wire/tlv.js';

const LENIENT_UTF8 = new TextDecoder('utf-8', { fatal: false });

/** Decodes an armoured OTRv4 data message (typed errors for anything else). */
export function decodeDataWire(wire: string): DataMessage {
  const bytes = dearmour(wire);
  const h = peekHeader(bytes);
  if (h.version !== PROTOCOL_VERSION_4 || h.type !== MessageType.data) throw new OtrDecodeError('not an OTRv4 data message');
  const { authenticated: _a, ...m } = decodeDataMessage(bytes);
  return m;
}

/** Lays the fields out as the honest sender does (draftDataMessage) and seals them with a tag under `mkMac`. */
function seal(b: CryptoBackend, f: DataMessageFields, mkMac: Uint8Array): string {
  abytes(mkMac, MAC_KEY_BYTES, 'MAC key');
  const draft = draftDataMessage(f);
  return armour(draft.seal(authenticator(b, mkMac, draft.authenticated)));
}

/** The MAC keys a data message reveals (64 bytes each), in order. */
export function revealedMacKeys(wire: string): Uint8Array[] {
  return splitRevealedMacs(decodeDataWire(wire).revealedMacs).map((k) => k.slice());
}

/** Whether `mkMac` recomputes the tag of an already decoded data message. */
function authenticates(b: CryptoBackend, m: DecodedDataMessage, mkMac: Uint8Array): boolean {
  return equalBytes(authenticator(b, mkMac, m.authenticated), m.authenticator);
}

/** The string decoded as an OTRv4 data message, or undefined for anything the decoder refuses (typed errors only). */
function dataMessageOrUndefined(wire: string): DecodedDataMessage | undefined {
  try {
    return decodeDataMessage(dearmour(wire));
  } catch (e) {
    if (e instanceof OtrError) return undefined;
    throw e;
  }
}

/** True when `mkMac` is the key that authenticates this data message (its tag recomputes exactly). */
export function macKeyMatches(b: CryptoBackend, wire: string, mkMac: Uint8Array): boolean {
  abytes(mkMac, MAC_KEY_BYTES, 'MAC key');
  return authenticates(b, decodeDataMessage(dearmour(wire)), mkMac);
}

/**
 * Of the MAC keys revealed anywhere in `transcript` (data messages; other strings are skipped), the one that
 * authenticates `wire`, or undefined. This is how a third party holding only the transcript finds the key.
 * `wire` is decoded once (when the first key is tried), whatever the number of keys.
 */
export function findMacKey(b: CryptoBackend, wire: string, transcript: readonly string[]): Uint8Array | undefined {
  let m: DecodedDataMessage | undefined;
  for (const w of transcript) {
    const d = dataMessageOrUndefined(w);
    if (!d) continue; // not a data message
    for (const k of splitRevealedMacs(d.revealedMacs)) {
      m ??= decodeDataMessage(dearmour(wire));
      if (authenticates(b, m, k)) return k.slice();
    }
  }
  return undefined;
}

/**
 * Most (key, message) pairs macKeyIndex tries: limits.maxForgeMacKeyTrials. A real conversation of n messages
 * reveals about n keys, so n² trials; ts/limits.ts says why it is bounded.
 */
export const MAX_MAC_KEY_TRIALS = DEFAULT_LIMITS.maxForgeMacKeyTrials;

/** One revealed MAC key: the line that reveals it, and the line it authenticates (null: none in the transcript). */
export interface RevealedMacKey {
  readonly revealedIn: number;
  readonly macKey: Uint8Array;
  readonly authenticates: number | null;
}

/**
 * Every MAC key revealed in `transcript`, matched to the (first other) data message it authenticates. Each
 * line is decoded once; lines that are not data messages are skipped. OtrLimitError when matching would take
 * more than MAX_MAC_KEY_TRIALS authenticator computations (checked before any is done).
 */
export function macKeyIndex(b: CryptoBackend, transcript: readonly string[], maxTrials = MAX_MAC_KEY_TRIALS): RevealedMacKey[] {
  const decoded = transcript.map(dataMessageOrUndefined);
  const data = decoded.flatMap((m, i) => (m ? [{ i, m }] : []));
  const keys = decoded.flatMap((m, i) => (m ? splitRevealedMacs(m.revealedMacs).map((k) => ({ i, k })) : []));
  if (keys.length * data.length > maxTrials)
    throw new OtrLimitError(`matching ${keys.length} MAC keys against ${data.length} data messages exceeds ${maxTrials} trials`);
  return keys.map(({ i, k }) => {
    const owner = data.find((d) => d.i !== i && authenticates(b, d.m, k));
    return { revealedIn: i, macKey: k.slice(), authenticates: owner ? owner.i : null };
  });
}

/** Show MAC Key: MKmac = KDF(usage_MAC_key, MKenc, 64) for a 64-byte message (encryption) key. */
export function showMacKey(b: CryptoBackend, messageKey: Uint8Array): Uint8Array {
  return messageMacKey(b, abytes(messageKey, MESSAGE_KEY_BYTES, 'message key'));
}

/** ReMAC Message: the same message with its authenticator recomputed under `mkMac`. */
export function remacMessage(b: CryptoBackend, wire: string, mkMac: Uint8Array): string {
  return seal(b, decodeDataWire(wire), mkMac);
}

export interface ModifyOptions {
  /** Byte offset into the plaintext (`message [0x00 TLV*]`, UTF-8) where `oldText` is guessed to be. */
  readonly offset: number;
  readonly oldText: string | Uint8Array;
  /** Same length in bytes as `oldText`. */
  readonly newText: string | Uint8Array;
  /** The revealed MKmac of this message. Without it the result is not authentic (use remacMessage later). */
  readonly macKey?: Uint8Array;
}

/**
 * Modify Data Message: XOR (old ⊕ new) into the ciphertext at `offset` — no key needed for this part — and
 * re-MAC with the revealed MAC key. If the guess was right the receiver reads `newText` there; if it was
 * wrong, it reads garbage (the forger cannot tell which).
 */
export function modifyDataMessage(b: CryptoBackend, wire: string, o: ModifyOptions): string {
  const m = decodeDataWire(wire);
  const oldB = typeof o.oldText === 'string' ? utf8(o.oldText) : o.oldText;
  const newB = typeof o.newText === 'string' ? utf8(o.newText) : o.newText;
  if (oldB.length !== newB.length) throw new OtrArgumentError('old and new text must have the same length in bytes');
  if (!Number.isInteger(o.offset) || o.offset < 0 || o.offset + oldB.length > m.ciphertext.length)
    throw new OtrArgumentError('offset and text must lie inside the ciphertext');
  const ciphertext = m.ciphertext.slice();
  for (let i = 0; i < oldB.length; i++) ciphertext[o.offset + i]! ^= oldB[i]! ^ newB[i]!;
  const f = { ...m, ciphertext };
  if (!o.macKey) return armour(encodeDataMessage(f)); // tag left as it was: not authentic until re-MACed
  return seal(b, f, o.macKey);
}

export interface ReadAndForgeOptions {
  /** chain_key for this message (its j-th key, 64 bytes)… */
  readonly chainKey?: Uint8Array;
  /** …or the message key MKenc itself (64 bytes). */
  readonly messageKey?: Uint8Array;
  /** Replace the message text (the TLVs that followed it are kept). */
  readonly newText?: string;
}

export interface ReadAndForgeResult {
  /** The decrypted plaintext's text part (UTF-8) and its raw bytes (`message [0x00 TLV*]`). */
  readonly text: string;
  readonly plaintext: Uint8Array;
  /** The MAC key of this message (Show MAC Key). */
  readonly macKey: Uint8Array;
  /** Whether the message's own authenticator verifies under that key (the key belongs to this message). */
  readonly authentic: boolean;
  /** The forged message, when `newText` was given: encrypted and MACed with the same keys. */
  readonly forged?: string;
}

/**
 * Read and Forge: decrypts a data message with its chain key (or message key); with `newText`, replaces the
 * text, encrypts it under the same key and attaches a valid authenticator. The new text may have any length.
 */
export function readAndForge(b: CryptoBackend, wire: string, o: ReadAndForgeOptions): ReadAndForgeResult {
  if ((o.chainKey === undefined) === (o.messageKey === undefined)) throw new OtrArgumentError('give exactly one of chainKey, messageKey');
  let mkEnc: Uint8Array;
  if (o.chainKey) {
    const k = messageKeys(b, abytes(o.chainKey, CHAIN_KEY_BYTES, 'chain key'));
    wipe(k.mkMac, k.next);
    mkEnc = k.mkEnc;
  } else mkEnc = copyBytes(abytes(o.messageKey, MESSAGE_KEY_BYTES, 'message key')); // our copy, wiped below: not slice() (a Buffer's is the caller's key)
  try {
    const mkMac = messageMacKey(b, mkEnc);
    const m = decodeDataMessage(dearmour(wire));
    const authentic = equalBytes(authenticator(b, mkMac, m.authenticated), m.authenticator);
    const plaintext = chachaXor(b, mkEnc, m.ciphertext);
    const split = splitPlaintext(plaintext);
    const text = LENIENT_UTF8.decode(split.message); // a wrong key gives garbage: show it, do not throw
    if (o.newText === undefined) return { text, plaintext, macKey: mkMac, authentic };
    const { authenticated: _a, ...fields } = m;
    const ciphertext = chachaXor(b, mkEnc, joinPlaintext(utf8(o.newText), split.tlvs));
    return { text, plaintext, macKey: mkMac, authentic, forged: seal(b, { ...fields, ciphertext }, mkMac) };
  } finally {
    wipe(mkEnc);
  }
}

/** Throws OtrCryptoError('BAD_MAC') unless `mkMac` authenticates `wire` (a guard for CLI users). */
export function assertMacKey(b: CryptoBackend, wire: string, mkMac: Uint8Array): void {
  if (!macKeyMatches(b, wire, mkMac)) throw new OtrCryptoError('BAD_MAC', 'this MAC key does not authenticate the message');
}
