/**
 * Encoded messages (otrv4.md §Encoded Messages; interpretations.md §7): "?OTR:" || base64(message) || ".".
 * The whole text must have that form (no text around it), and the base64 is strict (see base64.ts).
 */
import { OtrArgumentError, OtrDecodeError, OtrLimitError } from '../errors.js';
import { DEFAULT_LIMITS } from '../limits.js';
import { base64DecodeWire, base64EncodeFramed } from './base64.js';

export const ENCODED_PREFIX = '?OTR:';
export const ENCODED_SUFFIX = '.';

/** Armours binary message bytes for the transport. */
export function armour(bytes: Uint8Array): string {
  if (!(bytes instanceof Uint8Array) || bytes.length === 0) throw new OtrArgumentError('message must be non-empty bytes');
  // One flat string (base64EncodeFramed): not a rope that the receiver or a thread hop copies again.
  return base64EncodeFramed(ENCODED_PREFIX, bytes, ENCODED_SUFFIX);
}

/** True when `text` looks like an encoded message (prefix only; `dearmour` does the strict check). */
export function isEncoded(text: string): boolean {
  return text.startsWith(ENCODED_PREFIX);
}

/** Strictly decodes "?OTR:<base64>." (non-empty) of at most `maxChars` characters. */
export function dearmour(text: string, maxChars: number = DEFAULT_LIMITS.maxMessageChars): Uint8Array {
  if (typeof text !== 'string') throw new OtrArgumentError('encoded message must be a string');
  if (text.length > maxChars) throw new OtrLimitError(`encoded message of ${text.length} characters exceeds ${maxChars}`);
  if (!text.startsWith(ENCODED_PREFIX) || !text.endsWith(ENCODED_SUFFIX) || text.length <= ENCODED_PREFIX.length + ENCODED_SUFFIX.length)
    throw new OtrDecodeError('not an encoded OTR message');
  // An encoded message is public (it crossed the transport as text): decoded into the shared wire slab.
  return base64DecodeWire(text, ENCODED_PREFIX.length, text.length - ENCODED_SUFFIX.length);
}
