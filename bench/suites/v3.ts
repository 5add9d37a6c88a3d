/**
 * OTRv3 fallback: `ake.v3` is one full AKE, both sides (D-H Commit to Signature, 4 messages, fresh
 * conversations each time); `data.v3.100` is one 100-byte message sent and received with the direction
 * alternating, so every message also rotates D-H keys as a chat does (key generation plus a session-key
 * derivation: two 1536-bit modPows); `data.v3.100.burst` is the same message one way, no rotation (AES-CTR,
 * HMAC-SHA1, codecs). Each under the `wasm` and `js` backends (they differ in modPow and HMAC-SHA1), and under
 * `hybrid` where it loads (OpenSSL's modPow; HMAC-SHA1 by WASM below 1536 bytes and OpenSSL above, session 15).
 */
import type { CryptoBackend } from '../../ts/backend/types.js';
import { dsaGenerateKey } from '../../ts/crypto/dsa.js';
import { V3Conversation } from '../../ts/v3/index.js';
import type { BenchCase, BenchContext, Impl } from '../harness.js';

function seeded(seed: number): (n: number) => Uint8Array {
  let s = seed >>> 0 || 1;
  return (n) => {
    const out = new Uint8Array(n);
    for (let i = 0; i < n; i++) {
      s ^= s << 13;
      s ^= s >>> 17;
      s ^= s << 5;
      out[i] = s & 0xff;
    }
    return out;
  };
}

const aliceKey = dsaGenerateKey(seeded(11), { rounds: 20 });
const bobKey = dsaGenerateKey(seeded(12), { rounds: 20 });

function pair(backend: CryptoBackend): [V3Conversation, V3Conversation] {
  const a = new V3Conversation({ backend, dsaKey: aliceKey, instanceTag: 0x1000, now: () => 0 });
  const b = new V3Conversation({ backend, dsaKey: bobKey, instanceTag: 0x2000, now: () => 0 });
  return [a, b];
}

function pump(from: V3Conversation, to: V3Conversation, msgs: string[]): void {
  let q = msgs;
  let [src, dst] = [from, to];
  while (q.length) {
    const next: string[] = [];
    for (const m of q) next.push(...dst.receive(m).toSend);
    q = next;
    [src, dst] = [dst, src];
  }
}

function ake(backend: CryptoBackend): () => unknown {
  return () => {
    const [a, b] = pair(backend);
    pump(b, a, b.startAke().toSend);
    if (a.msgstate !== 'encrypted' || b.msgstate !== 'encrypted') throw new Error('AKE failed');
  };
}

function data(backend: CryptoBackend, alternate: boolean): () => unknown {
  const [a, b] = pair(backend);
  pump(b, a, b.startAke().toSend);
  const text = 'm'.repeat(100);
  let turn = false;
  return () => {
    const [x, y] = alternate && (turn = !turn) ? [b, a] : [a, b];
    const out = x.send(text).toSend;
    const r = y.receive(out[0]!);
    if (r.toUser[0] !== text) throw new Error('message lost');
  };
}

export function cases(ctx: BenchContext): BenchCase[] {
  const out: BenchCase[] = [];
  const backends: [Impl, CryptoBackend][] = [
    ['wasm', ctx.wasm],
    ['js', ctx.js],
  ];
  if (ctx.hybrid) backends.push(['hybrid', ctx.hybrid]);
  for (const [impl, backend] of backends) {
    out.push(
      { name: 'ake.v3', impl, fn: ake(backend) },
      { name: 'data.v3.100', impl, fn: data(backend, true) },
      { name: 'data.v3.100.burst', impl, fn: data(backend, false) },
    );
  }
  return out;
}
