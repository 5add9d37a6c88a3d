/**
 * One complete SMP exchange, both sides (start, receive SMP1, answer, SMP2 -> SMP3 -> SMP4 -> result):
 * the CPU time a user waits for between asking and seeing "verified", minus the network. Randomness is
 * the system CSPRNG, as in real use.
 */
import type { CryptoBackend } from '../../ts/backend/types.js';
import { systemRandom } from '../../ts/crypto/random.js';
import { initialSmpState, smpAnswer, smpReceive, smpStart } from '../../ts/smp/state.js';
import type { BenchCase, BenchContext } from '../harness.js';

const FP_A = new Uint8Array(56).fill(0xa1);
const FP_B = new Uint8Array(56).fill(0xb2);
const SSID = new Uint8Array(8).fill(7);
const alice = { ourFingerprint: FP_A, theirFingerprint: FP_B, ssid: SSID, answer: 'the answer' };
const bob = { ourFingerprint: FP_B, theirFingerprint: FP_A, ssid: SSID, answer: 'the answer' };
const opts = { rng: systemRandom };

function full(b: CryptoBackend): () => unknown {
  return () => {
    const r1 = smpStart(b, initialSmpState(), alice, { ...opts, question: 'q' });
    const asked = smpReceive(b, initialSmpState(), r1.send[0]!, opts);
    const r2 = smpAnswer(b, asked.state, bob, opts);
    const r3 = smpReceive(b, r1.state, r2.send[0]!, opts);
    const r4 = smpReceive(b, r2.state, r3.send[0]!, opts);
    const r5 = smpReceive(b, r3.state, r4.send[0]!, opts);
    if (r4.event?.type !== 'succeeded' || r5.event?.type !== 'succeeded') throw new Error('SMP benchmark: exchange did not succeed');
    return r5;
  };
}

export function cases(ctx: BenchContext): BenchCase[] {
  return [
    { name: 'smp.full', impl: 'wasm', fn: full(ctx.wasm) },
    { name: 'smp.full', impl: 'js', fn: full(ctx.js) },
  ];
}
