/**
 * Session 9 review: the WASM sponge absorbs and squeezes eight bytes a step at any block position (603b9c4).
 * Every position in the block × short and rate-sized lengths, for both directions, against node:crypto, through
 * the module's incremental entry points (the adapter's one-call path only ever squeezes from position 0, and its
 * streamed path only in chunks that keep the position a multiple of eight, so they alone would not reach these).
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createHash } from 'node:crypto';
import { WASM } from '../helpers/backends.js';
import { seededRandom } from '../helpers/rng.js';
import type { WasmContext } from '../../ts/backend/wasm/context.js';

const RATE = 136;
const ctx = (WASM as unknown as { context: WasmContext }).context;
const ex = ctx.exports as Record<string, (n?: number) => void>;
const LENGTHS = [...Array.from({ length: 25 }, (_, i) => i), RATE - 9, RATE - 8, RATE - 1, RATE, RATE + 1, RATE + 7, RATE + 8, 2 * RATE + 3];

function absorb(part: Uint8Array): void {
  ctx.mem.set(part, ctx.io);
  ex.shake256_absorb!(part.length);
}

function squeeze(n: number): Uint8Array {
  ex.shake256_squeeze!(n);
  return ctx.mem.slice(ctx.io, ctx.io + n);
}

test('absorb: a second part of every short length at every block position equals node:crypto', () => {
  const msg = seededRandom(603)(3 * RATE + 64);
  for (let a = 0; a <= 2 * RATE + 8; a++) {
    for (const b of LENGTHS) {
      const first = msg.subarray(0, a);
      const second = msg.subarray(a, a + b);
      ex.shake256_init!();
      absorb(first);
      absorb(second);
      ex.shake256_finish!();
      const got = squeeze(64);
      ex.shake256_wipe!();
      const want = createHash('shake256', { outputLength: 64 }).update(first).update(second).digest();
      if (!want.equals(got)) assert.unreachable(`absorb ${a} then ${b}`);
    }
  }
});

test('squeeze: output read in two calls split at every block position equals node:crypto', () => {
  const input = seededRandom(604)(77);
  const total = 3 * RATE + 40;
  const want = createHash('shake256', { outputLength: total }).update(input).digest();
  for (let k = 0; k <= 2 * RATE + 8; k++) {
    for (const m of LENGTHS) {
      if (k + m > total) continue;
      ex.shake256_init!();
      absorb(input);
      ex.shake256_finish!();
      const one = squeeze(k);
      const two = squeeze(m);
      const rest = squeeze(total - k - m);
      ex.shake256_wipe!();
      const got = Buffer.concat([one, two, rest]);
      if (!want.equals(got)) assert.unreachable(`squeeze ${k}, ${m}, then ${total - k - m}`);
    }
  }
});

test.after(() => {
  ctx.mem.fill(0, ctx.io, ctx.io + 4 * RATE);
});

test.run();
