import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { equalBytes } from '../ts/bytes.js';

// equalBytes compares words from 128 bytes when both views are 4-byte aligned, bytes otherwise: both paths
// must find a difference at every position, in the word body and in the bytewise tail.
test('equalBytes: every length to 300, aligned and unaligned views, a single flipped bit anywhere', () => {
  const backA = new Uint8Array(310);
  const backB = new Uint8Array(310);
  for (let i = 0; i < backA.length; i++) backA[i] = backB[i] = (i * 37 + 11) & 0xff;
  for (const [offA, offB] of [[0, 0], [4, 8], [1, 1], [0, 3], [2, 2]] as const) {
    for (let len = 0; len <= 300; len++) {
      const a = backA.subarray(offA, offA + len);
      const b = backB.subarray(offB, offB + len);
      b.set(a);
      assert.ok(equalBytes(a, b), `equal: offsets ${offA}/${offB} len ${len}`);
      for (let at = 0; at < len; at++) {
        for (const bit of [0x01, 0x80]) {
          b[at]! ^= bit;
          assert.not.ok(equalBytes(a, b), `offsets ${offA}/${offB} len ${len} at ${at} bit ${bit}`);
          b[at]! ^= bit;
        }
      }
    }
  }
  assert.not.ok(equalBytes(new Uint8Array(200), new Uint8Array(201)), 'different lengths');
});

test.run();
