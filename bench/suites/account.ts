/**
 * Cheap accounts (issue 14 item 3): `account.create` is `Account.create()` with the default policy (OTRv3
 * allowed), which makes the identity and forging keys, the instance tag and the signed client profile — and,
 * since the DSA key became lazy, no OTRv3 key. `account.create.eagerdsa` is the old behaviour for comparison:
 * the same create followed by `prepareV3()` (a 1024-bit DSA key and the profile re-issued with its
 * transitional signature). DSA key generation is BigInt work, the same under every backend, so the eager case
 * runs under one impl.
 */
import { Account } from '../../ts/session/account.js';
import type { CryptoBackend } from '../../ts/backend/types.js';
import type { BenchCase, BenchContext, Impl } from '../harness.js';

function create(backend: CryptoBackend): () => unknown {
  let n = 0;
  return () => {
    const a = Account.create({ accountId: `bench${n++}@example.org`, backend });
    if (a.dsaKey !== null || !a.v3Capable) throw new Error('create made a DSA key or lost OTRv3');
    return a;
  };
}

function createEager(backend: CryptoBackend): () => unknown {
  let n = 0;
  return () => {
    const a = Account.create({ accountId: `eager${n++}@example.org`, backend });
    a.prepareV3();
    return a;
  };
}

export function cases(ctx: BenchContext): BenchCase[] {
  const impls: [Impl, CryptoBackend][] = [...(ctx.hybrid ? [['hybrid', ctx.hybrid] as [Impl, CryptoBackend]] : []), ['wasm', ctx.wasm], ['js', ctx.js]];
  const out: BenchCase[] = impls.map(([impl, b]) => ({ name: 'account.create', impl, fn: create(b) }));
  const [eagerImpl, eagerBackend] = impls[0]!;
  out.push({ name: 'account.create.eagerdsa', impl: eagerImpl, fn: createEager(eagerBackend) });
  return out;
}
