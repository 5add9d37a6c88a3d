/**
 * The judge's view of OTRv3 revealed MAC keys (the deniability suites): the data messages a side sent, the keys
 * they reveal, and whether one of them authenticates a given message — anyone holding the transcript can then
 * re-MAC it.
 */
import type { CryptoBackend } from '../../ts/backend/types.js';
import { armour, dearmour } from '../../ts/codec/armour.js';
import { hmacSha1 } from '../../ts/v3/crypto.js';
import { type DataMsg, decodeMessage, encodeDataAuthenticated, encodeMessage } from '../../ts/v3/messages.js';
import { MessageTypeV3 } from '../../ts/wire/header.js';

/** The OTRv3 data message on the wire (armoured, unfragmented). */
export const v3Data = (wire: string): DataMsg => decodeMessage(dearmour(wire)) as DataMsg;

/** Every 20-byte MAC key the data messages `sent` reveal, in order. */
export function v3KeysIn(sent: readonly string[]): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (const w of sent) {
    const keys = v3Data(w).oldMacKeys;
    for (let o = 0; o < keys.length; o += 20) out.push(keys.subarray(o, o + 20));
  }
  return out;
}

/** Whether `key` is the MAC key of `m`. */
export const v3Authenticates = (be: CryptoBackend, key: Uint8Array, m: DataMsg): boolean =>
  hmacSha1(be, key, m.authenticated).subarray(0, 20).every((x, i) => x === m.mac[i]);

/** Whether the messages `sent` reveal the MAC key of `m`. */
export const v3RevealedIn = (be: CryptoBackend, sent: readonly string[], m: DataMsg): boolean => v3KeysIn(sent).some((k) => v3Authenticates(be, k, m));

/**
 * What anyone holding a revealed `key` makes of `m`: the same message with counter `ctr` (above any the receiver
 * saw, so only the MAC decides), MACed with `key`, armoured for the wire.
 */
export function v3Remac(be: CryptoBackend, m: DataMsg, key: Uint8Array, ctr: Uint8Array): string {
  const fields = { senderTag: m.senderTag, receiverTag: m.receiverTag, flags: m.flags, senderKeyid: m.senderKeyid, recipientKeyid: m.recipientKeyid, nextDh: m.nextDh, ctr: ctr.slice(), encMsg: m.encMsg };
  const authenticated = encodeDataAuthenticated(fields);
  const forged: DataMsg = { type: MessageTypeV3.data, ...fields, mac: hmacSha1(be, key, authenticated).subarray(0, 20), oldMacKeys: new Uint8Array(0), authenticated };
  return armour(encodeMessage(forged));
}
