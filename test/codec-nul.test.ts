import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { indexOfNul, indexOfNulPortable } from '../ts/codec/nul.js';

// A deterministic byte stream (no zeros of its own) so failures reproduce.
function filler(n: number, seed: number): Uint8Array {
  const out = new Uint8Array(n);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = (x & 0xff) || 0x80;
  }
  return out;
}

// Both searches: what indexOfNul runs here (Node's native indexOf) and the word scan browsers run.
const SEARCHES = [
  ['indexOfNul', indexOfNul],
  ['word scan', indexOfNulPortable],
] as const;

for (const [name, find] of SEARCHES) {
  test(`${name}: same answer as indexOf: every length to 300, every alignment, NUL absent, first, last and in between`, () => {
    const backing = filler(300 + 8, 1);
    for (let off = 0; off < 4; off++) {
      for (let len = 0; len <= 300; len++) {
        const v = backing.subarray(off, off + len);
        assert.is(find(v), -1, `none, off ${off} len ${len}`);
        for (const at of new Set([0, 1, 2, 3, len >> 1, len - 4, len - 3, len - 2, len - 1])) {
          if (at < 0 || at >= len) continue;
          const keep = v[at]!;
          v[at] = 0;
          assert.is(find(v), at, `off ${off} len ${len} at ${at}`);
          assert.is(find(v), v.indexOf(0));
          v[at] = keep;
        }
      }
    }
  });

  test(`${name}: the FIRST NUL is found when several are present, wherever they fall in a word or a 16-byte block`, () => {
    const v = filler(4096 + 3, 7).subarray(3);
    for (let a = 0; a < 64; a++) {
      for (const gap of [1, 2, 3, 4, 5, 15, 16, 17]) {
        const b = 1000 + a;
        const c = b + gap;
        const ka = v[b]!;
        const kc = v[c]!;
        v[b] = 0;
        v[c] = 0;
        assert.is(find(v), b);
        v[b] = ka;
        v[c] = kc;
      }
    }
  });

  test(`${name}: bytes that defeat a naive word test (0x80, 0x01, 0xff neighbours) are not taken for NUL`, () => {
    for (const fill of [0x01, 0x80, 0x81, 0xff, 0x7f, 0x100 - 1]) {
      const v = new Uint8Array(1024).fill(fill);
      assert.is(find(v), -1, `fill ${fill}`);
      v[777] = 0;
      assert.is(find(v), 777);
    }
    // A word 0x01 0x00 … style pattern: 0x0100 borrows across bytes in the subtraction.
    const v = new Uint8Array(512).fill(0x01);
    v[401] = 0;
    v[400] = 0x01;
    assert.is(find(v), 401);
  });
}

test.run();
