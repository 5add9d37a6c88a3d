/**
 * Where the hybrid backend's HMAC-SHA1 should switch from the WASM kernel to OpenSSL (session 15;
 * HMAC_WASM_MAX_BYTES in ts/backend/hybrid/hmac.ts): the two kernels, each through its backend entry point
 * (argument checks included), on the same 20-byte key (OTRv3's MAC keys are SHA-1 outputs) and data of each
 * size, interleaved in one process. Every phase runs every size on both kernels (the order of the kernels
 * flipping every phase), each batch about BATCH_MS of this thread's CPU. Prints µs per call, min and median
 * over the phases, and OpenSSL / WASM of each; the crossover is where that ratio falls below 1. On a shared
 * machine only the comparison within one run means anything.
 *
 *   node build/bench/hmac-sha1-crossover.js [phases=9] [BATCH_MS=15] [sizes=0,64,…]
 */
import { loadBackend } from '../ts/backend/select.js';
import { opensslHmac } from '../ts/backend/hybrid/hmac.js';

const PHASES = Number(process.argv[2] ?? 9);
const BATCH_MS = Number(process.argv[3] ?? 15);
const SIZES = (process.argv[4] ?? '0,64,128,256,512,768,1024,1280,1536,1792,2048,3072,4096').split(',').map(Number);

const cpuMs = (): number => {
  const c = process.cpuUsage();
  return (c.user + c.system) / 1000;
};

const wasm = await loadBackend('wasm');
const wasmHmac = wasm.hmacSha1;
if (!wasmHmac) throw new Error('the WASM backend has no HMAC-SHA1');
const openssl = opensslHmac({ hmacSha1: wasmHmac }, 0); // a threshold of 0: OpenSSL for every size
const key = Uint8Array.from({ length: 20 }, (_, i) => i * 7 + 1);
const kernels = {
  wasm: (data: Uint8Array) => wasmHmac(key, data),
  openssl: (data: Uint8Array) => openssl.hmacSha1!(key, data),
};
type Kernel = keyof typeof kernels;
const data = new Map(SIZES.map((n) => [n, Uint8Array.from({ length: n }, (_, i) => (i * 29 + 3) & 0xff)]));

// Calls per batch, from the WASM kernel's speed at each size (warming both up on the way).
const counts = new Map<number, number>();
for (const n of SIZES) {
  for (const k of Object.keys(kernels) as Kernel[]) for (let i = 0; i < 200; i++) kernels[k](data.get(n)!);
  let calls = 16;
  for (;;) {
    const t = cpuMs();
    for (let i = 0; i < calls; i++) kernels.wasm(data.get(n)!);
    const spent = cpuMs() - t;
    if (spent >= BATCH_MS / 4) {
      counts.set(n, Math.max(1, Math.round((calls * BATCH_MS) / spent)));
      break;
    }
    calls *= 2;
  }
}

const us = new Map(SIZES.map((n) => [n, { wasm: [] as number[], openssl: [] as number[] }]));
for (let p = 0; p < PHASES; p++) {
  for (const n of SIZES) {
    const calls = counts.get(n)!;
    const d = data.get(n)!;
    for (const k of (p % 2 === 0 ? ['wasm', 'openssl'] : ['openssl', 'wasm']) as Kernel[]) {
      const f = kernels[k];
      const t = cpuMs();
      for (let i = 0; i < calls; i++) f(d);
      us.get(n)![k].push(((cpuMs() - t) * 1000) / calls);
    }
  }
}

const sorted = (xs: number[]) => [...xs].sort((x, y) => x - y);
const median = (xs: number[]) => sorted(xs)[xs.length >> 1]!;
const min = (xs: number[]) => sorted(xs)[0]!;
const f2 = (x: number) => x.toFixed(2).padStart(8);
console.log(`${PHASES} phases, ~${BATCH_MS} ms of CPU per batch; µs per call, min / median`);
console.log('   bytes      wasm min / median   openssl min / median   openssl/wasm (min, median)');
for (const n of SIZES) {
  const r = us.get(n)!;
  console.log(
    `${String(n).padStart(8)}  ${f2(min(r.wasm))} / ${f2(median(r.wasm))}    ${f2(min(r.openssl))} / ${f2(median(r.openssl))}     ` +
      `${(min(r.openssl) / min(r.wasm)).toFixed(2)}, ${(median(r.openssl) / median(r.wasm)).toFixed(2)}`,
  );
}
