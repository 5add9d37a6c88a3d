/**
 * The decrypted data-message payload (otrv3-protocol.html §Data Message): human-readable bytes, optionally a
 * NUL and TLV records (SHORT type, SHORT length, value). A truncated trailing TLV ends parsing (the records
 * before it are kept, as libotr does); more than limits.maxTlvs records is an OtrLimitError.
 */
import { concatBytes } from '../bytes.js';
import { Writer } from '../codec/primitives.js';
import { OtrArgumentError, OtrLimitError } from '../errors.js';
import { DEFAULT_LIMITS } from '../limits.js';

export interface TlvRecord {
  type: number;
  value: Uint8Array;
}

export function encodeTlvs(tlvs: readonly TlvRecord[]): Uint8Array {
  const w = new Writer();
  for (const t of tlvs) {
    if (t.value.length > 0xffff) throw new OtrArgumentError('TLV value longer than 65535 bytes');
    w.short(t.type).short(t.value.length).raw(t.value);
  }
  return w.finish();
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
