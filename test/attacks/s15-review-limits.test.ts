/**
 * Attack (session 15, review of session 14's bounds on the MAC keys to reveal, and of its NaN-budget fix): the
 * bounds `queueReveals` / `inheritMacKeys` (OTRv4) and `keepNewest` (OTRv3) apply are `Math.max(1, cap)` of
 * limits.maxMacKeysToReveal — and NaN there, or `undefined` (a limits object built from a config file with the
 * key present but empty: `{ ...DEFAULT_LIMITS, ...{ maxMacKeysToReveal: undefined } }` overrides the default),
 * makes every comparison false: no bound at all. A peer streaming one-way then grows Bob's queue by a key a
 * message, past what restore accepts — the account lost at the next restart — and every other limit given the
 * same way fails open the same way. Session 14 closed this for the prekey server's budgets only (NaN). Now the
 * one place every component resolves its limits (resolveLimits) takes `undefined` as "not given" (the default)
 * and refuses a value that is not a number (NaN included) with a typed error, when the account, the OTRv3
 * conversation, the store or the server is made.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Account } from '../../ts/index.js';
import { DEFAULT_LIMITS, resolveLimits, type Limits } from '../../ts/limits.js';
import { OtrArgumentError } from '../../ts/errors.js';
import { WASM } from '../helpers/backends.js';
import { establish, makePair } from '../helpers/session-pair.js';
import { makeSide } from '../interop/v3-pair.js';

const be = WASM;

/** Bob's queue after Alice streams `n` messages one-way; undefined when the account could not be made. */
function streamed(limits: Partial<Limits>, n: number): number | undefined {
  let p;
  try {
    p = makePair(be, 1521, { limits });
  } catch (e) {
    assert.instance(e, OtrArgumentError, `a typed error, not ${String(e)}`);
    return undefined;
  }
  establish(p);
  p.a.receive(p.b.send('hi').toSend[0]!);
  for (let i = 0; i < n; i++) p.b.receive(p.a.send(`m${i}`).toSend[0]!);
  const insts = [...(p.b as unknown as { instances: Map<number, { ratchet: { macKeysToReveal: Uint8Array } | null }> }).instances.values()];
  return Math.max(...insts.map((i) => (i.ratchet ? i.ratchet.macKeysToReveal.length / 64 : 0)));
}

test('maxMacKeysToReveal NaN: no longer an unbounded queue (the account is refused when made)', () => {
  const held = streamed({ maxMacKeysToReveal: NaN }, DEFAULT_LIMITS.maxMacKeysToReveal + 100);
  assert.is(held, undefined, `an account with a NaN limit was made, and queued ${held} MAC keys`);
});

test('maxMacKeysToReveal undefined: the default bound applies', () => {
  const held = streamed({ maxMacKeysToReveal: undefined } as unknown as Partial<Limits>, DEFAULT_LIMITS.maxMacKeysToReveal + 100);
  assert.ok(held !== undefined && held <= DEFAULT_LIMITS.maxMacKeysToReveal, `${held} MAC keys queued`);
});

test('resolveLimits: undefined is the default, a value that is not a number is refused; OTRv3 and accounts refuse it when made', () => {
  const r = resolveLimits({ maxSkip: undefined, maxTlvs: 7 } as unknown as Partial<Limits>);
  assert.is(r.maxSkip, DEFAULT_LIMITS.maxSkip);
  assert.is(r.maxTlvs, 7);
  for (const bad of [{ maxSkip: NaN }, { maxSkip: '10' }, { maxMacKeysToReveal: null }, { maxTlvs: {} }])
    assert.throws(() => resolveLimits(bad as unknown as Partial<Limits>), (e: unknown) => e instanceof OtrArgumentError, JSON.stringify(bad));
  assert.throws(() => makeSide(be, 'alice', { limits: { maxMacKeysToReveal: NaN } }), (e: unknown) => e instanceof OtrArgumentError, 'OTRv3');
  assert.throws(() => Account.create({ accountId: 'x@example.org', backend: be, dsaKey: null, limits: { maxSkip: NaN } }), (e: unknown) => e instanceof OtrArgumentError, 'account');
  // Infinity is a number: an explicit "no limit" the host chose, as before.
  assert.is(resolveLimits({ maxSkip: Infinity }).maxSkip, Infinity);
});

test.run();
