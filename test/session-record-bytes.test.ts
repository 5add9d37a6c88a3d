/**
 * The conversation record's bytes are a stored format: records written by earlier releases must decode and
 * re-encode to the very same bytes (the per-call encoder of ts/session/records.ts is tuned for speed, so this
 * pins it). The fixtures are real records made by main's encoder before that tuning (helpers/record-fixtures.ts).
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { WASM as be } from './helpers/backends.js';
import { MAIN_RECORDS } from './helpers/record-fixtures.js';
import { Account } from '../ts/session/account.js';
import { decodeConversationRecord, encodeConversationRecord } from '../ts/session/records.js';
import { decodeState, encodeState } from '../ts/session/state-codec.js';
import { DEFAULT_LIMITS } from '../ts/limits.js';

const NOW = 1_750_000_000_000;
const clock = () => NOW;
const fromHex = (h: string) => Uint8Array.from(Buffer.from(h, 'hex'));
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

for (const [name, fx] of Object.entries(MAIN_RECORDS)) {
  test(`${name}: the generic encoder reproduces main's bytes from the decoded value`, () => {
    const bytes = fromHex(fx.hex);
    assert.is(hex(encodeState('conversation', decodeState('conversation', bytes))), fx.hex);
    const state = decodeConversationRecord(bytes, fx.peer, DEFAULT_LIMITS.maxStateBytes);
    assert.is(hex(encodeConversationRecord(fx.peer, state ?? null)), fx.hex);
  });

  test(`${name}: restored and recorded again, the conversation writes main's bytes`, () => {
    const account = Account.create({ accountId: 'me@x', backend: be, clock, dsaKey: null });
    account.attachRecord({ key: `conv:${fx.peer}`, bytes: fromHex(fx.hex), generation: 3 });
    account.conversation(fx.peer);
    // Every live conversation written again: the record of this one, as the per-call encoder makes it.
    const rec = account.changes({ all: true }).find((c) => c.key === `conv:${fx.peer}`);
    assert.ok(rec?.bytes, 'the conversation record is written');
    assert.is(rec.generation, 4);
    assert.is(hex(rec.bytes), fx.hex);
  });

  test(`${name}: a call that changes nothing writes nothing (the record compared is main's)`, () => {
    const account = Account.create({ accountId: 'me@x', backend: be, clock, dsaKey: null });
    account.attachRecord({ key: `conv:${fx.peer}`, bytes: fromHex(fx.hex), generation: 3 });
    const conv = account.conversation(fx.peer);
    // Garbage from the network: ignored, the state unchanged, so no record.
    const out = conv.receive('?OTR:AAQD' + 'A'.repeat(40) + '.');
    assert.equal(out.changed, []);
  });
}

test.run();
