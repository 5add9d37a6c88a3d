/**
 * Attack (session 12 review): an account whose store holds far more conversation records than
 * limits.maxAccountConversations — filled by the flood session 11 bounded, before the bound existed (an
 * upgrade); the bound lowered by its host; rows written into an unsealed store by a hostile store client — is
 * brought back under its bound by the first call that creates a record. At open the listing counts every row;
 * the helper then loaded (read, unsealed, attached) every record the excess named, and that one call decoded
 * and evicted them all: at the default limits and a store at maxRecordsPerAccount, 80,000 reads before a
 * stranger's first message is handed out, up to ~185 MB of records in memory at once (2.3 KB a session record), and one synchronous call that
 * decoded and evicted all 80,000 (1.4–1.5 s of CPU, measured with every record attached as the pool's reload
 * does it) for one stranger's plaintext.
 *
 * Now a call takes a step of the excess, not all of it: the records it created plus the batch (a 64th of the
 * bound; at least one), so the account still shrinks with every record created and never grows, and no call
 * reads or decodes more than the ordinary batch eviction does.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Account, type Outcome } from '../../ts/index.js';
import { MemoryStore } from '../../ts/store/memory.js';
import { openStoredAccount } from '../../ts/session/account-store.js';
import { WASM as be } from '../helpers/backends.js';
import { seededRandom } from '../helpers/rng.js';
import { ALICE_ID, testClock } from '../helpers/session-pair.js';
import { countingStore } from '../helpers/record-flood.js';

const ROWS = 400;
const BOUND = 128;
/** record-bound's batch at this bound (a 64th) and what one call may take while far over it. */
const BATCH = Math.floor(BOUND / 64);
const STEP = 1 + BATCH;

/** conversation-evicted events of an outcome: each evicted record was decoded (settled) to be ranked, or known. */
const evictions = (out: Outcome) => out.events.filter((e) => e.type === 'conversation-evicted').length;

/** A store holding ROWS strangers' plaintext records of Alice's, written under a bound that allowed them. */
async function overfullStore(): Promise<MemoryStore> {
  const store = new MemoryStore();
  const alice = await openStoredAccount(store, ALICE_ID, { account: { backend: be, clock: testClock(), dsaKey: null, limits: { maxAccountConversations: 10 * ROWS }, random: seededRandom(1260) }, create: true });
  for (let k = 0; k < ROWS; k++) await alice.commit((await alice.conversation(`old-${k}@evil.example`)).receive('buy now'));
  await alice.close();
  assert.is((await store.keys(ALICE_ID)).length, ROWS + 1);
  return store;
}

const limits = { maxAccountConversations: BOUND };

test('reopened under a smaller bound: each new record takes a step of the excess, reading and decoding no more than that', async () => {
  const backing = await overfullStore();
  const { store, reads } = countingStore(backing);
  const alice = await openStoredAccount(store, ALICE_ID, { account: { backend: be, clock: testClock(), dsaKey: null, limits, random: seededRandom(1261) } });
  let rows = ROWS;
  for (let k = 0; rows > BOUND; k++) {
    assert.ok(k < ROWS, 'the account came back under its bound');
    const before = reads();
    const conv = await alice.conversation(`new-${k}@evil.example`);
    // Before: the first stranger read the 275 records the excess named (ROWS + 1 - BOUND + BATCH), and its one
    // message decoded and evicted all of them.
    assert.ok(reads() - before <= 1 + STEP + BATCH, `stranger ${k}: ${reads() - before} records read before its conversation was handed out`);
    const out = conv.receive('hello?');
    assert.ok(evictions(out) <= STEP + BATCH, `stranger ${k}: ${evictions(out)} records decoded and evicted by one message`);
    assert.ok(evictions(out) >= 2, `stranger ${k}: the account shrinks (${evictions(out)} evicted for the one record it created)`);
    await alice.commit(out);
    const now = (await backing.keys(ALICE_ID)).length - 1;
    assert.ok(now < rows, `stranger ${k}: ${now} records, ${rows} before`);
    rows = now;
  }
  await alice.close();
});

test('every record attached (the pool reloading the account): one call decodes a step, not the whole excess', async () => {
  const backing = await overfullStore();
  const clock = testClock();
  const records = [];
  for (const key of await backing.keys(ALICE_ID)) {
    const r = await backing.load(ALICE_ID, key);
    records.push({ key, generation: r!.generation, bytes: r!.bytes });
  }
  const account = Account.fromRecord(records.find((r) => r.key === 'account')!, { backend: be, clock, limits, random: seededRandom(1262) });
  for (const r of records) if (r.key !== 'account') account.attachRecord(r);
  let total = ROWS;
  for (let k = 0; total > BOUND; k++) {
    assert.ok(k < ROWS, 'the account came back under its bound');
    const out = account.conversation(`new-${k}@evil.example`).receive('hello?');
    assert.ok(evictions(out) <= STEP + BATCH, `stranger ${k}: ${evictions(out)} records decoded and evicted by one message`);
    const created = out.changed!.filter((c) => c.generation === 1 && c.key.startsWith('conv:')).length;
    const deleted = out.changed!.filter((c) => c.bytes === null).length;
    assert.ok(deleted > created, `stranger ${k}: ${deleted} deleted for ${created} created`);
    total += created - deleted;
  }
});

test.run();
