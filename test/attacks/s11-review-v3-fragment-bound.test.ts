/**
 * Attack (session 11 review): the account's bound on pending DAKEs (limits.maxAccountPendingDakes, session 10)
 * bypassed by fragmenting OTRv3 D-H Commits.
 *
 * An OTRv3 AKE that a D-H Commit starts in a conversation without an OTRv3 session is a pending DAKE kept in
 * the conversation's record, counted against the bound — when the D-H Commit came whole. Sent as OTRv3
 * fragments, it was gated and budgeted on its first piece (attacks/v3-fragmented-ake) and answered when the
 * last piece completed it, but never counted: a hostile server's JIDs, one fragmented D-H Commit each at the
 * account's DAKE budget, made one stranger record each, however many — the flood session 10 bounded, through
 * the other door. Now the AKE a fragmented D-H Commit starts is counted as the whole one is.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { fragmentV3 } from '../../ts/v3/fragment.js';
import { WASM as be } from '../helpers/backends.js';
import { AppliedRecords } from '../helpers/applied-records.js';
import { makeV34Pair, mallory } from './attacker.js';

const BOUND = 8;

test('fragmented OTRv3 D-H Commits from many JIDs: the AKEs we answer are bounded like whole ones', () => {
  const p = makeV34Pair(be, 2600, { limits: { maxAccountPendingDakes: BOUND } });
  const store = new AppliedRecords();
  store.commit(p.alice.changes());
  for (let k = 0; k < 2 * BOUND; k++) {
    p.clock.advance(250); // the account's DAKE budget: 4 a second
    const m = mallory(be, p.clock, 2700 + k);
    const commit = m.startAke().toSend[0]!;
    const pieces = fragmentV3(commit, 120, 0x3333_0300, 0);
    assert.ok(pieces.length > 1, 'sent in pieces');
    const c = p.alice.conversation(`v3f-${k}@evil.example`);
    const outs = pieces.map((f) => c.receive(f));
    for (const o of outs) store.commit(o);
    assert.is(outs.flatMap((o) => o.toSend).length, 1, 'the D-H Commit is answered with a D-H Key once complete');
    assert.ok(store.count('v3f-') <= BOUND, `after ${k + 1} fragmented D-H Commits the store holds ${store.count('v3f-')} records`);
  }
});

test.run();
