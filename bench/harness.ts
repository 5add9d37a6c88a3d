/**
 * The benchmark vocabulary. A suite module under bench/suites/ exports `cases(ctx)`; each case is one
 * operation under one implementation, and cases with the same `name` are compared side by side in one run.
 */
import type { CryptoBackend } from '../ts/backend/types.js';

export type Impl = 'wasm' | 'js' | 'noble' | 'native';

export interface BenchCase {
  /** What is measured, e.g. `ed448.sign`; the same name across impls means the same work. */
  name: string;
  impl: Impl;
  fn: () => unknown;
  /** Async preparation run just before this case is measured (e.g. starting a server), not at collection time. */
  setup?: () => Promise<void>;
}

export interface BenchContext {
  wasm: CryptoBackend;
  js: CryptoBackend;
}

export interface BenchResult {
  name: string;
  impl: Impl;
  opsPerSec: number;
  usPerOp: number;
  rme: number;
  samples: number;
}

export type SuiteModule = { cases(ctx: BenchContext): BenchCase[] | Promise<BenchCase[]> };
