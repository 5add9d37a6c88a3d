/**
 * record-bound.ts's evictLeastValuable on seeded random candidates (live, unloaded, attached with a guess
 * below or at their real value, some whose own call is under way): the decoding it does per call is capped
 * (attacks/s12-review-settle-flood), the excess is always met while anything can go, the batch never takes the
 * host's unless the excess did, and the host's go only once nothing else could.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { evictLeastValuable, type RecordCandidate } from '../ts/session/record-bound.js';
import { seededRandom } from './helpers/rng.js';

const ITERATIONS = 20_000;

interface Truth {
  real: number;
  busy: boolean;
}

test(`evictLeastValuable: ${ITERATIONS} seeded random rankings`, () => {
  const rand = seededRandom(1212);
  const int = (n: number) => rand(4).reduce((a, b) => a * 256 + b, 0) % n;
  for (let it = 0; it < ITERATIONS; it++) {
    const n = int(40);
    const truth = new Map<string, Truth>();
    const candidates: RecordCandidate[] = [];
    for (let k = 0; k < n; k++) {
      const peer = `p${k}`;
      const real = int(3);
      const provisional = int(2) === 0;
      const value = provisional ? int(real + 1) : real; // a guess never above the real value
      truth.set(peer, { real, busy: int(10) === 0 });
      candidates.push({ peer, value, seq: provisional ? 0 : int(50), provisional });
    }
    const required = int(4);
    const batch = int(4);
    /** Settled and found not to be the host's: what the cap bounds (a record of the host's is the user's doing). */
    let settled = 0;
    const evicted: string[] = [];
    const count = evictLeastValuable(candidates.slice(), required, batch, {
      settle: (peer) => {
        if (truth.get(peer)!.real < 2) settled++;
        return truth.get(peer)!.real;
      },
      evict: (peer) => {
        if (truth.get(peer)!.busy) return false;
        evicted.push(peer);
        return true;
      },
    });
    const where = `iteration ${it}: n ${n}, required ${required}, batch ${batch}`;
    assert.is(count, evicted.length, where);
    assert.is(new Set(evicted).size, evicted.length, `${where}: evicted twice`);
    const evictable = [...truth.values()].filter((t) => !t.busy).length;
    // Up to the excess and the batch before the cap, then one per record the excess takes (or finds busy).
    assert.ok(settled <= 2 * required + batch + (n - evictable), `${where}: ${settled} settled`);
    assert.ok(count >= Math.min(required, evictable), `${where}: ${count} evicted`);
    assert.ok(count <= required + batch, where);
    const hosts = evicted.filter((p) => truth.get(p)!.real === 2).length;
    if (hosts > 0) {
      // The host's went: the excess reached them, so nothing of less worth that could go was left.
      const left = [...truth].filter(([p, t]) => !t.busy && t.real < 2 && !evicted.includes(p));
      assert.is(left.length, 0, `${where}: a host record evicted while ${left.map(([p]) => p)} stayed`);
      assert.ok(count - hosts < required, `${where}: the batch took the host's`);
    }
  }
});

test.run();
