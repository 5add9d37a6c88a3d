/**
 * Attack (session 15 review of session 15's first wave, [s15-review2]): resolveLimits checks an object it made
 * only once (a WeakSet, f1aa1b4) — but the object it returned was an ordinary mutable one, handed to the host as
 * `account.limits` (and `conversation.limits` of OTRv3, `store.limits` …). A host that changed a key of it after
 * the check (a config reload writing `undefined` or NaN into it) and gave it to another account, store or OTRv3
 * conversation skipped the check entirely: `resolved.has(overrides)` was true, so the undefined/NaN went in and
 * every comparison with that limit was false again — the unbounded MAC-key queue of attacks/s15-review-limits
 * (a peer streaming one-way grows it past what restore accepts). The account holding the object read the new
 * value on its next message too (OTRv3 resolves it on every call without a check). Now a resolved limits
 * object is frozen: what was checked is what every holder reads, and the cache stays sound.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Account } from '../../ts/index.js';
import { DEFAULT_LIMITS, resolveLimits, type Limits } from '../../ts/limits.js';
import { OtrArgumentError } from '../../ts/errors.js';
import { WASM } from '../helpers/backends.js';
import { establish, makePair } from '../helpers/session-pair.js';

const be = WASM;

/** Sets `key` of a resolved limits object as a host might; a frozen object refuses (strict mode: TypeError). */
function tamper(limits: Limits, key: keyof Limits, value: unknown): void {
  try {
    (limits as unknown as Record<string, unknown>)[key] = value;
  } catch (e) {
    assert.instance(e, TypeError);
  }
}

test('a resolved limits object cannot be changed after its check (it is what every holder reads)', () => {
  const a = Account.create({ accountId: 'a@example', backend: be, dsaKey: null });
  for (const bad of [undefined, Number.NaN, '7']) tamper(a.limits, 'maxMacKeysToReveal', bad);
  assert.is(a.limits.maxMacKeysToReveal, DEFAULT_LIMITS.maxMacKeysToReveal);
  const r = resolveLimits({ maxSkip: 10 });
  tamper(r, 'maxSkip', undefined);
  assert.is(resolveLimits(r).maxSkip, 10, 'passed back to resolveLimits, the checked value');
});

test("another account made with a tampered account's limits gets checked numbers only", () => {
  const a = Account.create({ accountId: 'a@example', backend: be, dsaKey: null });
  tamper(a.limits, 'maxMacKeysToReveal', undefined);
  tamper(a.limits, 'maxStoredMessageKeys', Number.NaN);
  let b: Account;
  try {
    b = Account.create({ accountId: 'b@example', backend: be, dsaKey: null, limits: a.limits });
  } catch (e) {
    assert.instance(e, OtrArgumentError);
    return;
  }
  for (const [k, v] of Object.entries(b.limits)) assert.ok(typeof v === 'number' && !Number.isNaN(v), `limits.${k} is a number (got ${String(v)})`);
});

test('a one-way stream under limits taken from a tampered resolved object stays within maxMacKeysToReveal', () => {
  const base = resolveLimits({ maxMacKeysToReveal: 40 });
  tamper(base, 'maxMacKeysToReveal', Number.NaN);
  let p;
  try {
    p = makePair(be, 15201, { limits: base });
  } catch (e) {
    assert.instance(e, OtrArgumentError);
    return;
  }
  establish(p);
  p.a.receive(p.b.send('hi').toSend[0]!);
  for (let i = 0; i < 120; i++) p.b.receive(p.a.send(`m${i}`).toSend[0]!);
  const insts = [...(p.b as unknown as { instances: Map<number, { ratchet: { macKeysToReveal: Uint8Array } | null }> }).instances.values()];
  const queued = Math.max(...insts.map((i) => (i.ratchet ? i.ratchet.macKeysToReveal.length / 64 : 0)));
  assert.ok(queued <= 40, `Bob's queue holds ${queued} keys (cap 40)`);
});

test.run();
