/**
 * Mutants of OTRv4 wire messages for the session-level hostile-input suite and the long fuzz: truncations,
 * bit flips placed by field (every small field densely, large fields at their edges and sampled inside),
 * oversized length/count fields, wrong instance tags, random bytes behind a valid header, and text-level
 * mutants of the armoured string. Each mutant is a [description, text] pair ready for Conversation.receive.
 */
import { armour } from '../../ts/codec/armour.js';
import { decodeAuthR, decodeIdentity } from '../../ts/wire/dake.js';
import { decodeDataMessage } from '../../ts/wire/data.js';
import { MessageType, peekHeader } from '../../ts/wire/header.js';
import { randomInt } from './channel.js';

export type Mutant = readonly [desc: string, text: string];

export interface Field {
  readonly name: string;
  readonly start: number;
  readonly end: number;
}

const HEADER = 11;
const POINT = 57;
const SIGMA = 6 * 57;
const MAC = 64;

/** The fields of a v4 binary message (by its type), laid end to end; checked to cover the bytes exactly. */
export function layout(bytes: Uint8Array): Field[] {
  const f: Field[] = [];
  let o = 0;
  const put = (name: string, len: number) => {
    f.push({ name, start: o, end: o + len });
    o += len;
  };
  put('version', 2);
  put('type', 1);
  put('sender tag', 4);
  put('receiver tag', 4);
  const type = peekHeader(bytes).type;
  if (type === MessageType.identity || type === MessageType.authR) {
    const m = type === MessageType.identity ? decodeIdentity(bytes) : decodeAuthR(bytes);
    put('client profile', m.profile.encoded.length);
    put(type === MessageType.identity ? 'Y' : 'X', POINT);
    const big = type === MessageType.identity ? (m as ReturnType<typeof decodeIdentity>).b : (m as ReturnType<typeof decodeAuthR>).a;
    put('B/A length', 4);
    put('B/A', big.length);
    if (type === MessageType.authR) put('sigma', SIGMA);
    put('ecdh0', POINT);
    put('dh0 length', 4);
    put('dh0', m.dhFirst.length);
  } else if (type === MessageType.authI) {
    put('sigma', SIGMA);
  } else if (type === MessageType.data) {
    const m = decodeDataMessage(bytes);
    put('flags', 1);
    put('pn', 4);
    put('ratchet id', 4);
    put('message id', 4);
    put('ecdh', POINT);
    put('dh length', 4);
    put('dh', m.dh.length);
    put('ciphertext length', 4);
    put('ciphertext', m.ciphertext.length);
    put('authenticator', MAC);
    put('revealed length', 4);
    put('revealed MACs', m.revealedMacs.length);
  }
  if (o !== bytes.length) throw new Error(`layout covers ${o} of ${bytes.length} bytes`);
  return f.filter((x) => x.end > x.start);
}

const text = (bytes: Uint8Array): string => (bytes.length === 0 ? '?OTR:.' : armour(bytes));

/** Every prefix of the decoded bytes, re-armoured. */
export function* truncations(bytes: Uint8Array): Generator<Mutant> {
  for (let n = 0; n < bytes.length; n++) yield [`truncated to ${n}`, text(bytes.subarray(0, n))];
}

/**
 * Single-bit flips. Fields of at most 16 bytes: every byte, every bit. Larger fields: the first four and
 * the last byte with two bits each, and about `interior` more positions spread over the field (one bit
 * each, the bit rotating), so every field is hit whatever its size.
 */
export function* bitFlips(bytes: Uint8Array, fields: readonly Field[], interior: number): Generator<Mutant> {
  const flip = function* (pos: number, bits: number[], name: string): Generator<Mutant> {
    for (const bit of bits) {
      const m = bytes.slice();
      m[pos]! ^= 1 << bit;
      yield [`${name}: flip byte ${pos} bit ${bit}`, text(m)];
    }
  };
  for (const f of fields) {
    const len = f.end - f.start;
    if (len <= 16) {
      for (let p = f.start; p < f.end; p++) yield* flip(p, [0, 1, 2, 3, 4, 5, 6, 7], f.name);
      continue;
    }
    for (const p of [f.start, f.start + 1, f.start + 2, f.start + 3, f.end - 1]) yield* flip(p, [p % 8, 7 - (p % 8)], f.name);
    const stride = Math.max(1, Math.floor((len - 5) / Math.max(1, interior)));
    for (let p = f.start + 4, n = 0; p < f.end - 1; p += stride, n++) yield* flip(p, [(p * 5 + n) % 8], f.name);
  }
}

/** Every 4-byte field overwritten with huge or off-by-one values (length prefixes, counters, tags). */
export function* oversized(bytes: Uint8Array, fields: readonly Field[]): Generator<Mutant> {
  for (const f of fields) {
    if (f.end - f.start !== 4) continue;
    const v = ((bytes[f.start]! << 24) | (bytes[f.start + 1]! << 16) | (bytes[f.start + 2]! << 8) | bytes[f.start + 3]!) >>> 0;
    for (const n of [0xffffffff, 0x80000000, 0x7fffffff, 0x00100001, (v + 1) >>> 0, (v - 1) >>> 0]) {
      const m = bytes.slice();
      m[f.start] = n >>> 24;
      m[f.start + 1] = (n >>> 16) & 0xff;
      m[f.start + 2] = (n >>> 8) & 0xff;
      m[f.start + 3] = n & 0xff;
      yield [`${f.name} := 0x${n.toString(16)}`, text(m)];
    }
  }
}

/** Sender/receiver tags replaced: another valid instance, 0, and the reserved 1..0xff range. */
export function* wrongTags(bytes: Uint8Array): Generator<Mutant> {
  for (const [name, at] of [
    ['sender tag', 3],
    ['receiver tag', 7],
  ] as const) {
    for (const tag of [0, 1, 0xff, 0x100, 0x12345678, 0xffffffff]) {
      const m = bytes.slice();
      m[at] = tag >>> 24;
      m[at + 1] = (tag >>> 16) & 0xff;
      m[at + 2] = (tag >>> 8) & 0xff;
      m[at + 3] = tag & 0xff;
      yield [`${name} := 0x${tag.toString(16)}`, text(m)];
    }
  }
}

/** Random bodies behind the message's own 11-byte header, and wholly random bytes. */
export function* randomBodies(bytes: Uint8Array, u: () => number, count: number): Generator<Mutant> {
  for (let i = 0; i < count; i++) {
    const len = randomInt(u, 2 * bytes.length + 1);
    const m = new Uint8Array(len);
    for (let k = 0; k < len; k++) m[k] = randomInt(u, 256);
    if (i % 2 === 0) m.set(bytes.subarray(0, Math.min(HEADER, len)));
    yield [`random ${i} (${len} bytes${i % 2 === 0 ? ', valid header' : ''})`, text(m)];
  }
}

const ALPHABET = 'AZaz09+/=.,|?:OTR \t\x00é✓';

/** Text-level mutants: every prefix (by `step`), a character replaced at every `step`-th position, inserted junk. */
export function* textMutants(s: string, u: () => number, step = 1): Generator<Mutant> {
  for (let n = 0; n < s.length; n += step) yield [`text cut to ${n}`, s.slice(0, n)];
  for (let i = 0; i < s.length; i += step) {
    let c = ALPHABET[randomInt(u, ALPHABET.length)]!;
    if (c === s[i]) c = c === 'A' ? 'B' : 'A';
    yield [`char ${i} := ${JSON.stringify(c)}`, s.slice(0, i) + c + s.slice(i + 1)];
  }
  for (let i = 0; i < 8; i++) {
    const at = randomInt(u, s.length + 1);
    yield [`junk inserted at ${at}`, s.slice(0, at) + ALPHABET.slice(randomInt(u, ALPHABET.length)) + s.slice(at)];
  }
}

/** Every mutant kind for one binary message. */
export function* binaryMutants(bytes: Uint8Array, u: () => number, interior: number, randomCount = 24): Generator<Mutant> {
  const fields = layout(bytes);
  yield* truncations(bytes);
  yield* bitFlips(bytes, fields, interior);
  yield* oversized(bytes, fields);
  yield* wrongTags(bytes);
  yield* randomBodies(bytes, u, randomCount);
  const s = armour(bytes);
  for (const [d, t] of textMutants(s, u, Math.max(1, Math.floor(s.length / 24)))) yield [`armour ${d}`, t];
}
