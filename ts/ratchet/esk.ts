/**
 * Per-TLV extra symmetric keys (otrv4.md §Extra Symmetric Key; interpretations.md §8, §11).
 *
 * Every data message has a base extra symmetric key (send.ts / receive.ts return it as `esk` when the message
 * carries a type-7 TLV, or when asked with `extraKey: true`). The host never
 * sees the base key; each type-7 TLV in the message yields a key chained from the previous one:
 *
 *   key_0 = base ESK;   key_{n+1} = KDF(index_n, context_n || key_n, 64)
 *
 * where index_n is the 0-based position of the n-th type-7 TLV among all TLVs of the message (one byte, used
 * as the KDF's usage byte, as otr4j does) and context_n is the first 4 bytes of its value (zero-padded when the
 * value is shorter: the spec's "no context" case). At most MAX_EXTRA_KEYS keys are derived per message
 * (the spec's limit of 10); later type-7 TLVs get none.
 *
 * Choice recorded here: `index` counts the TLV records as they appear in the plaintext, padding included.
 */
import type { CryptoBackend } from '../backend/types.js';
import { kdf } from '../crypto/kdf.js';
import { abytes, wipe } from '../bytes.js';
import { OtrArgumentError } from '../errors.js';
import { plaintextHasTlv, TlvType, type Tlv } from '../wire/tlv.js';
import { EXTRA_KEY_BYTES } from './keys.js';

export const EXTRA_KEY_CONTEXT_BYTES = 4;
/** otrv4.md §Extra Symmetric Key: "only 10 extra symmetric keys can be derived". */
export const MAX_EXTRA_KEYS = 10;

/**
 * Whether a plaintext (`message [0x00 TLV*]`) carries a type-7 TLV, i.e. whether its message's extra
 * symmetric key is needed. The ratchet derives the base key only then (or when asked explicitly).
 */
export function carriesExtraKeyTlv(plaintext: Uint8Array): boolean {
  return plaintextHasTlv(plaintext, TlvType.extraSymmetricKey);
}

/** The first 4 bytes of a type-7 TLV's value, zero-padded. */
export function extraKeyContext(value: Uint8Array): Uint8Array {
  const ctx = new Uint8Array(EXTRA_KEY_CONTEXT_BYTES);
  ctx.set(value.subarray(0, EXTRA_KEY_CONTEXT_BYTES));
  return ctx;
}

/** One link of the chain: KDF(index, context || key, 64). */
export function deriveExtraKey(b: CryptoBackend, index: number, context: Uint8Array, key: Uint8Array): Uint8Array {
  if (!Number.isInteger(index) || index < 0 || index > 0xff) throw new OtrArgumentError('TLV index must be 0..255');
  abytes(context, EXTRA_KEY_CONTEXT_BYTES, 'extra key context');
  abytes(key, EXTRA_KEY_BYTES, 'extra symmetric key');
  return kdf(b, index, [context, key], EXTRA_KEY_BYTES);
}

export interface TlvExtraKey {
  /** The TLV's position in the message. */
  readonly index: number;
  /** The 4-byte context it was derived with. */
  readonly context: Uint8Array;
  /** The TLV's full value (the application's data after the context). */
  readonly value: Uint8Array;
  /** The derived key (64 bytes), owned by the caller. */
  readonly key: Uint8Array;
}

/**
 * The keys for the type-7 TLVs of one message, in order. `tlvs` is either a decoded list (splitPlaintext /
 * decodeTlvs: each record carries its wire `position`, padding counted though dropped) or a caller-built list
 * in wire order, padding included, so that indices match the sender's. The base key is not modified; intermediate keys that
 * are not returned do not exist (every link is returned).
 */
export function deriveTlvExtraKeys(b: CryptoBackend, baseEsk: Uint8Array, tlvs: readonly Tlv[]): TlvExtraKey[] {
  abytes(baseEsk, EXTRA_KEY_BYTES, 'extra symmetric key');
  if (tlvs.length > 0x100) throw new OtrArgumentError('too many TLVs');
  const out: TlvExtraKey[] = [];
  let key = baseEsk;
  for (let i = 0; i < tlvs.length && out.length < MAX_EXTRA_KEYS; i++) {
    const t = tlvs[i]!;
    if (t.type !== TlvType.extraSymmetricKey) continue;
    // Decoded records carry their wire position (padding included); a caller-built list is in wire order.
    const index = t.position ?? i;
    const context = extraKeyContext(t.value);
    key = deriveExtraKey(b, index, context, key);
    out.push({ index, context, value: t.value, key });
  }
  return out;
}

/** Wipes derived keys once the application is done with them. */
export function wipeTlvExtraKeys(keys: readonly TlvExtraKey[]): void {
  for (const k of keys) wipe(k.key);
}
