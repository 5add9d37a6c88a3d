/**
 * OTRv3 AKE secrets are wiped when an AKE state is superseded inside a step, not only when the whole context
 * is dropped. Each step works on a copy of the context (structuredClone); the superseded context is wiped
 * afterwards, but an auth state replaced *within* the copy used to stay in memory. The sharpest case: both
 * sides send a D-H Commit at once; the side with the lower hashed g^x forgets its commitment and answers the
 * other's — its private x must then be gone from every copy, while the winner keeps its own (it is live).
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { equalBytes } from '../ts/bytes.js';
import { DH_SECRET_BYTES } from '../ts/crypto/dh.js';
import { JS } from './helpers/backends.js';
import { seededRandom } from './helpers/rng.js';
import { makeSide, pump } from './interop/v3-pair.js';

/** Every byte array in every context copy the library makes while `body` runs. */
function watchCopies<T>(body: () => T): { out: T; copies: Uint8Array[] } {
  const copies: Uint8Array[] = [];
  const collect = (v: unknown, depth: number): void => {
    if (depth > 32 || v === null || typeof v !== 'object') return;
    if (v instanceof Uint8Array) copies.push(v);
    else for (const x of Array.isArray(v) ? v : Object.values(v)) collect(x, depth + 1);
  };
  const original = globalThis.structuredClone;
  globalThis.structuredClone = ((v: unknown, o?: StructuredSerializeOptions) => {
    const c = original(v, o);
    collect(c, 0);
    return c;
  }) as typeof structuredClone;
  try {
    return { out: body(), copies };
  } finally {
    globalThis.structuredClone = original;
  }
}

/** A random source that remembers (a copy of) its first D-H secret draw: the x of the side's D-H Commit. */
function recordingRandom(seed: number): { random: (n: number) => Uint8Array; x: () => Uint8Array } {
  const base = seededRandom(seed);
  let x: Uint8Array | undefined;
  return {
    random: (n: number) => {
      const b = base(n);
      if (n === DH_SECRET_BYTES && !x) x = b.slice();
      return b;
    },
    x: () => x!,
  };
}

test('simultaneous D-H Commits: the loser’s x is wiped in every copy, the winner’s stays live', () => {
  const ra = recordingRandom(0x51);
  const rb = recordingRandom(0x52);
  const a = makeSide(JS, 'alice', { random: ra.random });
  const b = makeSide(JS, 'bob', { random: rb.random });
  const { copies } = watchCopies(() => {
    // Each side answers the other's query with a D-H Commit; the commits cross.
    const qa = a.conv.start().toSend;
    const qb = b.conv.start().toSend;
    const commitB = qa.flatMap((m) => b.conv.receive(m).toSend);
    const commitA = qb.flatMap((m) => a.conv.receive(m).toSend);
    const fromA = commitB.flatMap((m) => a.conv.receive(m).toSend);
    const fromB = commitA.flatMap((m) => b.conv.receive(m).toSend);
    // Finish the AKE, so the test also shows the race was resolved (one D-H Key answered one commitment).
    pump(b, a, fromB);
    pump(a, b, fromA);
  });
  assert.is(a.conv.msgstate, 'encrypted');
  assert.is(b.conv.msgstate, 'encrypted');
  const holds = (x: Uint8Array) => copies.some((c) => c.length === x.length && equalBytes(c, x));
  const [xa, xb] = [ra.x(), rb.x()];
  assert.ok(xa.some((v) => v !== 0) && xb.some((v) => v !== 0));
  // Exactly one side lost the race; its x must not survive in any copy. (The winner's x became the
  // session's previous D-H key, still live in the encrypted state, so it may be found.)
  const lost = [holds(xa), holds(xb)].filter((h) => !h).length;
  assert.is(lost, 1, `one commitment is forgotten and wiped everywhere (alice found: ${holds(xa)}, bob found: ${holds(xb)})`);
});

test.run();
