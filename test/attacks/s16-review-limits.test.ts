/**
 * Attack (session 16 review of session 15's second wave): resolveLimits returns an object it made as it is, so
 * whatever it lets through once is trusted by every later holder (the WeakSet of resolved objects). Ways to hand
 * it something that looks checked but is not:
 *   - a Proxy whose `ownKeys` answers differently on each call: the spread that copies the overrides saw
 *     `maxMacKeysToReveal: NaN`, the loop that checks them (Object.keys(overrides), a second call) saw no key —
 *     the NaN went into a frozen, "checked" object, and every comparison with that limit was false (the
 *     unbounded MAC-key queue of attacks/s15-review-limits). The check now reads the copy it made, not the
 *     host's object a second time.
 *   - `limits: null` (a JSON config with the key set to null) threw a raw TypeError from Object.keys(null) —
 *     now the same as no overrides.
 * What held (pins): a Proxy of a resolved object, its structuredClone or a frozen copy are not the object, so
 * each is checked again.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Account } from '../../ts/index.js';
import { DEFAULT_LIMITS, resolveLimits, type Limits } from '../../ts/limits.js';
import { OtrArgumentError } from '../../ts/errors.js';
import { WASM } from '../helpers/backends.js';

const be = WASM;

/** A Proxy whose key list changes between the first look (the spread) and every later one. */
function shiftingKeys(key: keyof Limits, value: unknown): Partial<Limits> {
  let calls = 0;
  const target = { [key]: value };
  return new Proxy(target, {
    ownKeys: () => (calls++ === 0 ? [key] : []),
    getOwnPropertyDescriptor: () => ({ value, enumerable: true, configurable: true, writable: true }),
    get: () => value,
  }) as Partial<Limits>;
}

/** Every value of a resolved object is a number (Infinity allowed), or resolving refused typed. */
function checkedOrRefused(make: () => Readonly<Limits>): void {
  let limits: Readonly<Limits>;
  try {
    limits = make();
  } catch (e) {
    assert.instance(e, OtrArgumentError);
    return;
  }
  for (const [k, v] of Object.entries(limits)) assert.ok(typeof v === 'number' && !Number.isNaN(v), `limits.${k} is ${String(v)}`);
}

test('a Proxy that shows a NaN to the copy and no key to the check does not get the NaN past resolveLimits', () => {
  checkedOrRefused(() => resolveLimits(shiftingKeys('maxMacKeysToReveal', Number.NaN)));
  checkedOrRefused(() => resolveLimits(shiftingKeys('maxStoredMessageKeys', undefined)));
  checkedOrRefused(() => resolveLimits(shiftingKeys('maxSkip', '10' as unknown as number)));
  checkedOrRefused(() => Account.create({ accountId: 'a@example', backend: be, dsaKey: null, limits: shiftingKeys('maxMacKeysToReveal', Number.NaN) }).limits);
});

test('limits: null is no overrides (not a raw TypeError)', () => {
  const r = resolveLimits(null as unknown as Partial<Limits>);
  assert.is(r.maxMacKeysToReveal, DEFAULT_LIMITS.maxMacKeysToReveal);
  const a = Account.create({ accountId: 'a@example', backend: be, dsaKey: null, limits: null as unknown as Partial<Limits> });
  assert.is(a.limits.maxSkip, DEFAULT_LIMITS.maxSkip);
});

test('held: a Proxy, structuredClone or frozen copy of a resolved object is checked again, never taken as resolved', () => {
  const good = resolveLimits({ maxSkip: 10 });
  assert.is(resolveLimits(good), good, 'the object itself: as it is');
  // A Proxy of it is another object, checked again; and it cannot lie about the frozen values (the engine's
  // proxy invariants refuse a get that differs from a non-writable, non-configurable property).
  const viaProxy = new Proxy(good, {});
  const fromProxy = resolveLimits(viaProxy);
  assert.is.not(fromProxy, viaProxy);
  assert.is(fromProxy.maxSkip, 10);
  const lying = new Proxy(good, { get: (t, k) => (k === 'maxSkip' ? Number.NaN : Reflect.get(t, k)) });
  assert.throws(() => lying.maxSkip, (e: unknown) => e instanceof TypeError);
  const clone = structuredClone(good) as Record<string, unknown>;
  clone.maxSkip = Number.NaN;
  assert.throws(() => resolveLimits(clone as Partial<Limits>), (e: unknown) => e instanceof OtrArgumentError);
  const frozenBad = Object.freeze({ ...good, maxSkip: undefined }) as unknown as Partial<Limits>;
  const fixed = resolveLimits(frozenBad);
  assert.is.not(fixed, frozenBad);
  assert.is(fixed.maxSkip, DEFAULT_LIMITS.maxSkip);
});

test.run();
