/**
 * Attack (session 16 review of session 15's second wave, [s15-restore]): a record written under higher limits
 * restores under lower ones, trimmed as the live code trims. What a hostile reading asks of it, through the
 * record path a store uses (fromRecord, attachRecord, the outcome's `changed`), not the whole-account one:
 *   - the trimmed record the first outcome hands out re-encodes as the generic encoder does and restores again,
 *     under the lowered limits and under the old ones, with no second trimming and no second event;
 *   - the event goes with the write that persists the trim (the first outcome), exactly once;
 *   - what the trim dropped no longer decrypts, what it kept still does.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Account, type Conversation, type OtrEvent } from '../../ts/index.js';
import { WASM } from '../helpers/backends.js';
import { ALICE_ID, establish, makePair, type Pair } from '../helpers/session-pair.js';
import type { Limits } from '../../ts/limits.js';
import type { StoredRecord } from '../../ts/store/types.js';
import { conversationRecord, encodeConversationRecord } from '../../ts/session/records.js';
import type { RatchetState } from '../../ts/ratchet/state.js';

const be = WASM;
const KEY = 64;
const LOW: Partial<Limits> = { maxStoredMessageKeys: 50, maxMacKeysToReveal: 100 };

const ratchetOf = (c: Conversation): RatchetState => [...(c as unknown as { instances: Map<number, { ratchet: RatchetState | null }> }).instances.values()][0]!.ratchet!;
const trims = (events: readonly OtrEvent[]) => events.filter((e) => e.type === 'state-trimmed');
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

/** The account from `records` (account record first, conversations attached), under `limits`. */
function fromRecords(p: Pair, records: readonly StoredRecord[], limits: Partial<Limits>): Account {
  const account = Account.fromRecord(records.find((r) => r.key === 'account')!, { backend: be, clock: p.clock, limits });
  for (const r of records) if (r.key !== 'account' && r.bytes) account.attachRecord({ key: r.key, bytes: r.bytes, generation: r.generation });
  return account;
}

/** Bob with 300 stored skipped keys and 200 MAC keys to reveal (default limits); Alice's held messages. */
function loadedBob(seed: number): { p: Pair; held: string[] } {
  const p = makePair(be, seed);
  establish(p);
  p.a.receive(p.b.send('hi').toSend[0]!);
  const held = Array.from({ length: 300 }, (_, i) => p.a.send(`h${i}`).toSend[0]!);
  for (let i = 0; i < 200; i++) assert.is(p.b.receive(p.a.send(`m${i}`).toSend[0]!).messages.length, 1);
  assert.is(ratchetOf(p.b).skipped.length, 300);
  return { p, held };
}

test('the trimmed record an outcome hands out is the generic encoding, restores again with no second trim, and under the old limits too', () => {
  const { p, held } = loadedBob(1611);
  const bob = fromRecords(p, p.bob.records(), LOW);
  const conv = bob.conversation(ALICE_ID);
  const first = conv.receive('plain text, changes nothing else');
  const told = trims(first.events);
  assert.equal(
    told.map((e) => (e as { what: string }).what),
    ['skipped-keys', 'mac-keys'],
    'the restore told, with the write that persists it',
  );
  assert.is((told[0] as { count: number }).count, 250);
  const written = first.changed!.find((r) => r.key === `conv:${ALICE_ID}`);
  assert.ok(written?.bytes, 'the trimmed record is written with the event');
  assert.is(hex(written!.bytes!), hex(encodeConversationRecord(ALICE_ID, conv.toState())), 'the generic encoder writes the same bytes');
  assert.is(hex(written!.bytes!), hex(conversationRecord(conv)));
  assert.equal(trims(conv.receive('again').events), [], 'told once');
  // The host commits: the account's records are now the trimmed one.
  const committed = bob.records();
  for (const limits of [LOW, {}]) {
    const again = fromRecords(p, committed, limits);
    const c = again.conversation(ALICE_ID);
    assert.is(ratchetOf(c).skipped.length, 50);
    assert.ok(ratchetOf(c).macKeysToReveal.length / KEY <= 100);
    assert.equal(trims(c.receive('plain').events), [], `a trimmed record trimmed again (${JSON.stringify(limits)})`);
  }
  // What was kept still reads its late message; what was dropped does not.
  const later = fromRecords(p, committed, LOW).conversation(ALICE_ID);
  assert.equal(later.receive(held[299]!).messages.map((m) => m.text), ['h299']);
  assert.equal(later.receive(held[249]!).messages, []);
});

test('a restore that is not committed is trimmed and told again on the next restore (the record still holds it all)', () => {
  const { p } = loadedBob(1612);
  const records = p.bob.records();
  for (let round = 0; round < 2; round++) {
    const c = fromRecords(p, records, LOW).conversation(ALICE_ID);
    assert.is(trims(c.receive('plain').events).length, 2, `round ${round}`);
  }
});

test.run();
