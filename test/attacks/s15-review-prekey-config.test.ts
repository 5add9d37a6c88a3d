/**
 * Attack (session 15, review of session 14's NaN-budget fix in the prekey server's token buckets): session 14
 * refused a budget of NaN when the server is made, since NaN compares false with everything and `tokens < n`
 * never refused. The check was `Number.isNaN`, which lets through the other values that behave the same:
 * - a budget left `undefined` — a `fetchRate` given as `{ burst: 20 }` without its rate, or a limit a config
 *   file left empty (`{ ...DEFAULT_LIMITS, ...{ publishBurst: undefined } }` overrides the default; resolveLimits
 *   now takes that as the default, attacks/s15-review-limits): `undefined` tokens are never fewer than n, and a
 *   refill of `tokens + dt * undefined` is NaN, so the bucket allowed everything — every ensemble query, DAKE-1;
 * - `maxRateLimitKeys` (the table's bound) of NaN: `size >= NaN` is false, so the bucket table grew by one
 *   bucket per requester/identity without bound (memory, and the bound's protection against flushing an
 *   emptied bucket, both gone).
 * A host's slip, not a peer's doing — but it makes the server fail open, which the session-14 check meant to
 * rule out. Now every number of a rate configuration is checked when the limiter is made (typed error).
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { WASM } from '../helpers/backends.js';
import { MemoryStore, PrekeyServer } from '../../ts/prekey-server/index.js';
import { allowAll, RateLimiter, type RateLimitConfig } from '../../ts/prekey-server/rate-limit.js';
import type { Limits } from '../../ts/limits.js';
import { OtrArgumentError } from '../../ts/errors.js';
import { seededRandom } from '../helpers/rng.js';

const refused = (e: unknown) => e instanceof OtrArgumentError;

function serverWith(o: { limits?: Partial<Limits>; fetchRate?: RateLimitConfig; publishRate?: RateLimitConfig }) {
  return new PrekeyServer({ backend: WASM, random: seededRandom(1), now: () => 0, identity: 'prekey.test', identitySecret: new Uint8Array(57), store: new MemoryStore(), ...o });
}

test('a bucket whose rate or burst is missing allowed everything (it is refused when made)', () => {
  // What the unchecked bucket did: 1,000 requests in the same millisecond against a burst of 2.
  let made: RateLimiter | undefined;
  try {
    made = new RateLimiter({ burst: 2 } as unknown as RateLimitConfig, () => 0);
  } catch (e) {
    assert.ok(refused(e), `a typed error, not ${String(e)}`);
  }
  if (made) {
    let allowed = 0;
    for (let i = 0; i < 1000; i++) if (made.allow('k')) allowed++;
    assert.ok(allowed <= 2, `${allowed} of 1000 requests allowed by a bucket of burst 2`);
  }
  for (const cfg of [{ perSecond: 1 }, { burst: 2 }, { burst: '2', perSecond: 1 }, { burst: 2, perSecond: null }] as unknown as RateLimitConfig[])
    assert.throws(() => new RateLimiter(cfg, () => 0), refused, JSON.stringify(cfg));
});

test('a table bound (maxKeys) of NaN let the bucket table grow without bound (it is refused when made)', () => {
  let made: RateLimiter | undefined;
  try {
    made = new RateLimiter({ burst: 1, perSecond: 1, maxKeys: NaN }, () => 0);
  } catch (e) {
    assert.ok(refused(e), `a typed error, not ${String(e)}`);
  }
  if (made) {
    for (let i = 0; i < 5000; i++) made.allow(`requester ${i}`);
    assert.ok(made.size <= 1, `${made.size} buckets kept with maxKeys NaN`);
  }
  assert.throws(() => new RateLimiter({ burst: 1, perSecond: 1, pruneIntervalMs: NaN }, () => 0), refused, 'pruneIntervalMs NaN');
});

test('the prekey server refuses such limits when it is made, as it refuses a NaN budget', () => {
  const cases: Parameters<typeof serverWith>[0][] = [
    { limits: { maxRateLimitKeys: NaN } },
    { fetchRate: { burst: 20 } as unknown as RateLimitConfig },
    { publishRate: { burst: 20, perSecond: 1, maxKeys: NaN } },
  ];
  for (const c of cases) assert.throws(() => serverWith(c), refused, JSON.stringify(c, (_k, v) => (v === undefined ? 'undefined' : Number.isNaN(v) ? 'NaN' : v)));
});

test('pins: the ordinary configurations still make a server, an infinite budget included (an explicit "no limit")', () => {
  serverWith({});
  // A limit given as undefined is the default (resolveLimits, attacks/s15-review-limits), not a missing budget.
  serverWith({ limits: { publishBurst: undefined, fetchTargetPerSecond: undefined } as unknown as Partial<Limits> });
  serverWith({ limits: { publishBurst: 5, publishPerSecond: 0 } });
  serverWith({ fetchRate: { burst: Infinity, perSecond: 1 }, limits: { maxRateLimitKeys: Infinity } });
  const unlimited = new RateLimiter({ burst: Infinity, perSecond: 0 }, () => 0);
  for (let i = 0; i < 100; i++) assert.ok(unlimited.allow('k'));
  // A burst of 0 refuses everything (fails closed), as it always did.
  assert.not.ok(new RateLimiter({ burst: 0, perSecond: 1 }, () => 0).allow('k'));
});

test('pins (allowAll): a charge taken from the shared overflow bucket is given back to it, never to a bucket of its own', () => {
  // A table of one key, full: a newcomer is charged on the overflow bucket everyone new shares.
  const now = () => 0;
  const own = new RateLimiter({ burst: 1, perSecond: 0, maxKeys: 1 }, now);
  const other = new RateLimiter({ burst: 0, perSecond: 0 }, now); // refuses everything
  assert.ok(own.allow('first'), 'the one bucket');
  assert.is(allowAll([[own, 'newcomer', 1], [other, 'x', 1]]), 1, 'refused by the second charge');
  assert.is(own.size, 1, 'no bucket made for the newcomer by the refund');
  // The overflow bucket's token is back: another newcomer gets it, and the next finds it spent.
  assert.ok(own.allow('another newcomer'));
  assert.not.ok(own.allow('a third'));
  // A refund never lifts a bucket past its burst, and all-or-none holds with the same limiter twice.
  const two = new RateLimiter({ burst: 2, perSecond: 0 }, now);
  assert.is(allowAll([[two, 'a', 1], [two, 'b', 1], [other, 'x', 1]]), 2);
  assert.is(allowAll([[two, 'a', 2], [two, 'b', 2]]), -1, 'both buckets were left full');
  assert.is(allowAll([[two, 'a', 1]]), 0, 'a is empty now');
});

test.run();
