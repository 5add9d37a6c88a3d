/**
 * The decrypted data-message payload (otrv3-protocol.html §Data Message): human-readable bytes, optionally a
 * NUL and TLV records (SHORT type, SHORT length, value). A truncated trailing TLV ends parsing (the records
 * before it are kept, as libotr does); more than limits.maxTlvs records is an OtrLimitError. The record
 * framing is v4's (wire/tlv.ts encodeTlvs); v3 decodes by its own rules above.
 */
import { concatBytes } from '../bytes.js';
import { OtrLimitError } from '../errors.js';
import { DEFAULT_LIMITS } from '../limits.js';
import { encodeTlvs } from '../wire/tlv.js';

export interface TlvRecord {
  type: number;
  value: Uint8Array;
}

/** message ‖ (0x00 ‖ TLVs, when there are TLVs). */
export function encodePlaintext(message: Uint8Array, tlvs: readonly TlvRecord[] = []): Uint8Array {
  return tlvs.length === 0 ? message.slice() : concatBytes(message, Uint8Array.of(0), encodeTlvs(tlvs));
}

export function decodePlaintext(bytes: Uint8Array, maxTlvs: number = DEFAULT_LIMITS.maxTlvs): { message: Uint8Array; tlvs: TlvRecord[] } {
  const nul = bytes.indexOf(0);
  if (nul < 0) return { message: bytes.slice(), tlvs: [] };
  const tlvs: TlvRecord[] = [];
  let o = nul + 1;
  while (bytes.length - o >= 4) {
    const type = (bytes[o]! << 8) | bytes[o + 1]!;
    const len = (bytes[o + 2]! << 8) | bytes[o + 3]!;
    if (bytes.length - o - 4 < len) break;
    if (tlvs.length >= maxTlvs) throw new OtrLimitError(`more than ${maxTlvs} TLVs in one message`);
    tlvs.push({ type, value: bytes.slice(o + 4, o + 4 + len) });
    o += 4 + len;
  }
  return { message: bytes.slice(0, nul), tlvs };
}
