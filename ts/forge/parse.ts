/**
 * Forging toolkit, "Parse" (otrv4.md §Forging Transcripts): any string that went over the wire, to the values
 * of its fields — as plain JSON-ready data (bytes as lowercase hex, integers as numbers, bigints as hex) and as
 * readable text. It runs the library's own classifier and decoders (codec/classify, wire/*, offline/wire,
 * v3/messages), so it accepts exactly what an honest receiver would decode and fails with the same typed errors
 * (OtrDecodeError, OtrLimitError, …) on anything else. Nothing here needs a key or a backend.
 *
 * Covered: OTRv4 Identity, Auth-R, Auth-I, Non-Interactive-Auth and Data messages; OTRv3 D-H Commit, D-H Key,
 * Reveal Signature, Signature and Data messages; fragments (the header, not a reassembly), query and error
 * messages, whitespace-tagged and plain text. A data message's revealed MAC keys are listed one by one.
 */
import { bytesToHex } from '../bytes.js';
import { OtrDecodeError } from '../errors.js';
import { classifyIncoming } from '../codec/classify.js';
import { peekHeader, MessageType, MessageTypeV3, PROTOCOL_VERSION_3, PROTOCOL_VERSION_4 } from '../wire/header.js';
import { decodeAuthI, decodeAuthR, decodeIdentity } from '../wire/dake.js';
import { decodeDataMessage, splitRevealedMacs } from '../wire/data.js';
import { decodeNonInteractiveAuth } from '../offline/wire.js';
import { decodeMessage as decodeV3Message } from '../v3/messages.js';
import type { Limits } from '../limits.js';

/** A JSON value: what every parsed field is. */
export type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

export interface ParsedMessage {
  /** fragment, query, error, whitespace, plaintext, or the encoded message's protocol and type. */
  readonly kind: string;
  /** The fields, in wire order: bytes as hex, numbers as numbers. */
  readonly fields: { readonly [k: string]: Json };
}

const V4_NAMES: Record<number, string> = {
  [MessageType.identity]: 'OTRv4 Identity',
  [MessageType.authR]: 'OTRv4 Auth-R',
  [MessageType.authI]: 'OTRv4 Auth-I',
  [MessageType.nonInteractiveAuth]: 'OTRv4 Non-Interactive-Auth',
  [MessageType.data]: 'OTRv4 Data',
};
const V3_NAMES: Record<number, string> = {
  [MessageTypeV3.dhCommit]: 'OTRv3 D-H Commit',
  [MessageTypeV3.dhKey]: 'OTRv3 D-H Key',
  [MessageTypeV3.revealSignature]: 'OTRv3 Reveal Signature',
  [MessageTypeV3.signature]: 'OTRv3 Signature',
  [MessageTypeV3.data]: 'OTRv3 Data',
};

/** Any decoded value to JSON: Uint8Array → hex, bigint → hex, arrays and plain objects recursively. */
export function toJson(v: unknown): Json {
  if (v === null || v === undefined) return null;
  if (v instanceof Uint8Array) return bytesToHex(v);
  if (typeof v === 'bigint') return v.toString(16);
  if (typeof v === 'number' || typeof v === 'string' || typeof v === 'boolean') return v;
  if (Array.isArray(v)) return v.map(toJson);
  if (typeof v === 'object') {
    const out: { [k: string]: Json } = {};
    for (const [k, x] of Object.entries(v as Record<string, unknown>)) if (x !== undefined) out[k] = toJson(x);
    return out;
  }
  return String(v);
}

/** Splits a RING-SIG into its six named scalars. */
function sigmaFields(sigma: Uint8Array): Json {
  const names = ['c1', 'r1', 'c2', 'r2', 'c3', 'r3'];
  const out: { [k: string]: Json } = {};
  names.forEach((n, i) => (out[n] = bytesToHex(sigma.subarray(57 * i, 57 * (i + 1)))));
  return out;
}

function profileFields(p: unknown): Json {
  const j = toJson(p) as { [k: string]: Json };
  delete j.encoded; // the fields are shown one by one; the raw encoding would repeat them
  return j;
}

/** Decodes the bytes of an encoded (?OTR:…) message by its header. */
export function parseEncoded(bytes: Uint8Array, limits?: Partial<Limits>): ParsedMessage {
  const h = peekHeader(bytes);
  const maxField = limits?.maxFieldBytes;
  if (h.version === PROTOCOL_VERSION_4) {
    const name = V4_NAMES[h.type];
    switch (h.type) {
      case MessageType.identity: {
        const m = decodeIdentity(bytes, maxField);
        return { kind: name!, fields: { ...(toJson({ ...m, profile: undefined }) as object), profile: profileFields(m.profile) } };
      }
      case MessageType.authR: {
        const m = decodeAuthR(bytes, maxField);
        return { kind: name!, fields: { ...(toJson({ ...m, profile: undefined }) as object), profile: profileFields(m.profile), sigma: sigmaFields(m.sigma) } };
      }
      case MessageType.authI: {
        const m = decodeAuthI(bytes);
        return { kind: name!, fields: { ...(toJson(m) as object), sigma: sigmaFields(m.sigma) } };
      }
      case MessageType.nonInteractiveAuth: {
        const m = decodeNonInteractiveAuth(bytes, maxField);
        return { kind: name!, fields: { ...(toJson({ ...m, profile: undefined }) as object), profile: profileFields(m.profile), sigma: sigmaFields(m.sigma) } };
      }
      case MessageType.data: {
        const m = decodeDataMessage(bytes, maxField);
        const f = toJson({ ...m, authenticated: undefined }) as { [k: string]: Json };
        f.revealedMacs = splitRevealedMacs(m.revealedMacs).map((k) => bytesToHex(k));
        return { kind: name!, fields: f };
      }
    }
    throw new OtrDecodeError(`OTRv4 message type 0x${h.type.toString(16)} is not one a conversation sends`);
  }
  if (h.version === PROTOCOL_VERSION_3) {
    const m = decodeV3Message(bytes, maxField);
    const f = toJson({ ...m, type: undefined, authenticated: undefined }) as { [k: string]: Json };
    return { kind: V3_NAMES[m.type] ?? `OTRv3 type ${m.type}`, fields: f };
  }
  throw new OtrDecodeError(`unknown protocol version ${h.version}`);
}

/**
 * Parses one transport string (what went over the wire) into its fields. Typed OtrError on anything the
 * library's receiver would refuse to decode.
 */
export function parseWire(text: string, limits?: Partial<Limits>): ParsedMessage {
  const c = classifyIncoming(text, limits);
  switch (c.kind) {
    case 'encoded':
      return parseEncoded(c.bytes, limits);
    case 'fragment':
      return { kind: `OTRv${c.fragment.version} fragment`, fields: toJson(c.fragment) as { [k: string]: Json } };
    case 'error':
      return { kind: 'error message', fields: toJson(c.error) as { [k: string]: Json } };
    case 'query':
      return { kind: 'query message', fields: { versions: c.versions } };
    case 'whitespace':
      return { kind: 'whitespace-tagged plaintext', fields: { versions: c.versions, text: c.text } };
    case 'plaintext':
      return { kind: 'plaintext', fields: { text: c.text } };
  }
}

/** The parsed message as indented "name: value" lines (long hex wrapped at 64 characters). */
export function formatParsed(p: ParsedMessage): string {
  const lines = [p.kind];
  const walk = (v: Json, key: string, indent: string): void => {
    if (v !== null && typeof v === 'object') {
      const entries = Array.isArray(v) ? v.map((x, i) => [String(i), x] as const) : Object.entries(v);
      lines.push(`${indent}${key}:${entries.length ? '' : Array.isArray(v) ? ' (none)' : ' {}'}`);
      for (const [k, x] of entries) walk(x, k, indent + '  ');
      return;
    }
    const s = typeof v === 'string' && /^[0-9a-f]+$/.test(v) && v.length > 64 ? v.match(/.{1,64}/g)!.join(`\n${indent}  `) : JSON.stringify(v);
    lines.push(`${indent}${key}: ${s}`);
  };
  for (const [k, v] of Object.entries(p.fields)) walk(v, k, '  ');
  return lines.join('\n');
}
