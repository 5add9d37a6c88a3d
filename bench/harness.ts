/**
 * The benchmark vocabulary. A suite module under bench/suites/ exports `cases(ctx)`; each case is one
 * operation under one implementation, and cases with the same `name` are compared side by side in one run.
 */
import type { CryptoBackend } from '../ts/backend/types.js';

/** A crypto implementation (`hybrid`: the Node default backend, WASM + OpenSSL for modPow and large ChaCha20
 * inputs), or (bridge.* and prekeyserver.* families) the store a case runs on. */
export type Impl = 'wasm' | 'js' | 'hybrid' | 'noble' | 'native' | 'memory' | 'file' | 'sqlite' | 'postgres';

export interface BenchCase {
  /** What is measured, e.g. `ed448.sign`; the same name across impls means the same work. */
  name: string;
  impl: Impl;
  fn: () => unknown;
  /** Async preparation run just before this case is measured (e.g. starting a server), not at collection time. */
  setup?: () => Promise<void>;
  /** `fn` returns a promise that ends the operation (a database commit): measured as a deferred benchmark. */
  deferred?: boolean;
  /** Run after the case is measured (closing connections). */
  teardown?: () => Promise<void>;
  /**
   * For work benchmark.js cannot time (asynchronous, on other threads, seconds per op): the case measures
   * itself and `fn` is not run. `extra` holds figures the case reports beside the time (e.g. main-thread
   * blocking); they go to the JSON as they are.
   */
  measure?: () => Promise<{ usPerOp: number; rme: number; samples: number; extra?: Record<string, number> }>;
}

export interface BenchContext {
  wasm: CryptoBackend;
  js: CryptoBackend;
  /** Node only (the browser bench has no OpenSSL): suites add their `hybrid` cases when it is present. */
  hybrid?: CryptoBackend;
}

export interface BenchResult {
  name: string;
  impl: Impl;
  opsPerSec: number;
  usPerOp: number;
  rme: number;
  samples: number;
  extra?: Record<string, number>;
}

export type SuiteModule = { cases(ctx: BenchContext): BenchCase[] | Promise<BenchCase[]> };

/** µs with sensible precision. */
export function fmtUs(x: number): string {
  return x >= 100 ? x.toFixed(0) : x >= 1 ? x.toFixed(2) : x.toFixed(3);
}

/** Per operation, each impl's time and how much slower it is than wasm (>1: wasm wins), all from one run. */
export function printTable(results: readonly BenchResult[]): void {
  const byName = new Map<string, BenchResult[]>();
  for (const r of results) byName.set(r.name, [...(byName.get(r.name) ?? []), r]);
  console.log('\noperation              impl         µs/op     ops/s   wasm speed-up');
  for (const [name, rs] of byName) {
    const wasm = rs.find((r) => r.impl === 'wasm');
    for (const r of rs) {
      const ratio = wasm && r !== wasm ? `${(r.usPerOp / wasm.usPerOp).toFixed(2)}×` : '';
      console.log(`${name.padEnd(22)} ${r.impl.padEnd(7)} ${fmtUs(r.usPerOp).padStart(12)} ${r.opsPerSec.toFixed(0).padStart(9)}   ${ratio}`);
    }
  }
}
