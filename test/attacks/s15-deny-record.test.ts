/**
 * Attack (session 15): the MAC keys an ended session still had to publish live in the conversation record
 * (field `endedMacKeys`: the 64-byte keys concatenated, oldest first) until the next session publishes them.
 * A record is input from the disk — a hostile or damaged one — so its restore must refuse, with a typed error,
 * a field that is not bytes, holds a partial key, holds more keys than limits.maxMacKeysToReveal, or is cut
 * short; never build a conversation from it, never allocate past the bound. Records written before the field
 * existed (none of it) restore and re-encode unchanged, and a record with it round-trips byte for byte.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Account } from '../../ts/index.js';
import { OtrDecodeError } from '../../ts/errors.js';
import { DEFAULT_LIMITS } from '../../ts/limits.js';
import { decodeState, encodeState, type StateValue } from '../../ts/session/state-codec.js';
import { encodeConversationRecord } from '../../ts/session/records.js';
import { WASM } from '../helpers/backends.js';
import { MAIN_RECORDS } from '../helpers/record-fixtures.js';
import { ALICE_ID, establish, makePair, pump, type Pair } from '../helpers/session-pair.js';

const be = WASM;
const KEY = `conv:${ALICE_ID}`;
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const fromHex = (h: string) => Uint8Array.from(Buffer.from(h, 'hex'));

/** Bob after Alice read-and-ended: his record holds kept MAC keys. Returns the pair and that record's bytes. */
function bobWithKeptKeys(seed: number, bobSendsFirst = false): { p: Pair; bytes: Uint8Array } {
  const p = makePair(be, seed);
  establish(p);
  // Bob's own send marks the conversation as the host's (the record's `host` field beside `endedMacKeys`).
  if (bobSendsFirst) pump(p.b, p.a, p.b.send('hi'));
  for (let i = 0; i < 3; i++) p.b.receive(p.a.send(`m${i}`).toSend[0]!);
  pump(p.a, p.b, p.a.end());
  assert.is(p.b.state, 'FINISHED');
  const rec = p.bob.changes({ all: true }).find((c) => c.key === KEY);
  assert.ok(rec?.bytes);
  return { p, bytes: rec.bytes };
}

type RecordValue = { peer: string; state: Record<string, StateValue> };

function withField(bytes: Uint8Array, value: StateValue | undefined): Uint8Array {
  const v = decodeState('conversation', bytes) as RecordValue;
  return encodeState('conversation', { ...v, state: { ...v.state, endedMacKeys: value } });
}

/** A fresh account of Bob's (from his account record) with `bytes` attached as the conversation record. */
function restoreWith(p: Pair, bytes: Uint8Array) {
  const account = p.bob.changes({ all: true }).find((c) => c.key === 'account')!;
  const bob = Account.fromRecord({ bytes: account.bytes!, generation: 1 }, { backend: be, clock: p.clock, random: p.randB });
  bob.attachRecord({ key: KEY, bytes, generation: 1 });
  return bob;
}

function refused(p: Pair, bytes: Uint8Array, why: RegExp): void {
  const bob = restoreWith(p, bytes);
  try {
    bob.conversation(ALICE_ID);
    assert.unreachable('restored');
  } catch (e) {
    assert.instance(e, OtrDecodeError);
    assert.match((e as Error).message, why);
  }
}

test('the record of an ended session holds its kept MAC keys, and round-trips byte for byte', () => {
  const { p, bytes } = bobWithKeptKeys(1511);
  const v = decodeState('conversation', bytes) as RecordValue;
  const kept = v.state.endedMacKeys;
  assert.ok(kept instanceof Uint8Array);
  assert.is(kept.length, 4 * 64, 'three messages and the disconnect');
  const bob = restoreWith(p, bytes);
  assert.is(bob.conversation(ALICE_ID).state, 'FINISHED');
  const again = bob.changes({ all: true }).find((c) => c.key === KEY);
  assert.ok(again?.bytes);
  assert.is(hex(again.bytes), hex(bytes));
  // The record writer (after every call) and the generic encoder of toState() agree on the field.
  assert.is(hex(encodeConversationRecord(ALICE_ID, p.b.toState())), hex(bytes));
});

test("with the host's mark too: the record writer and the generic encoder agree", () => {
  const { p, bytes } = bobWithKeptKeys(1517, true);
  const v = decodeState('conversation', bytes) as RecordValue;
  assert.is(v.state.host, true);
  assert.ok(v.state.endedMacKeys instanceof Uint8Array);
  assert.is(hex(encodeConversationRecord(ALICE_ID, p.b.toState())), hex(bytes));
});

test('more keys than maxMacKeysToReveal (a record written under a higher limit, or a hostile count): the newest kept (session 15, s15-restore-lowered-limits)', () => {
  const { p, bytes } = bobWithKeptKeys(1512);
  const keys = new Uint8Array((DEFAULT_LIMITS.maxMacKeysToReveal + 1) * 64).map((_, n) => (n >> 6) & 0xff);
  const c = restoreWith(p, withField(bytes, keys)).conversation(ALICE_ID);
  const kept = (c.toState() as { endedMacKeys: Uint8Array }).endedMacKeys;
  assert.ok(Buffer.from(kept).equals(Buffer.from(keys.subarray(64))), 'all but the oldest');
});

test('refused: a partial key (not whole 64-byte keys)', () => {
  const { p, bytes } = bobWithKeptKeys(1513);
  refused(p, withField(bytes, new Uint8Array(65)), /endedMacKeys.*64-byte/);
  refused(p, withField(bytes, new Uint8Array(63)), /endedMacKeys.*64-byte/);
});

test('refused: not bytes (a list of keys, a number, a string)', () => {
  const { p, bytes } = bobWithKeptKeys(1514);
  for (const bad of [[new Uint8Array(64)], 64, 'keys', true] as StateValue[]) refused(p, withField(bytes, bad), /endedMacKeys/);
});

test('refused: a record cut short anywhere in the field', () => {
  const { p, bytes } = bobWithKeptKeys(1515);
  // The field is the record's last bytes but a few: every cut in its last 300 bytes is refused, typed.
  for (let cut = bytes.length - 300; cut < bytes.length; cut += 7) refused(p, bytes.subarray(0, cut), /./);
});

test('an empty field is no keys (restores as none, and is not written again)', () => {
  const { p, bytes } = bobWithKeptKeys(1516);
  const bob = restoreWith(p, withField(bytes, new Uint8Array(0)));
  const c = bob.conversation(ALICE_ID);
  assert.is(c.state, 'FINISHED');
  assert.is((c.toState() as Record<string, StateValue>).endedMacKeys, undefined);
});

test("records written before the field existed restore and re-encode unchanged (main's fixtures)", () => {
  for (const fx of Object.values(MAIN_RECORDS)) {
    const account = Account.create({ accountId: 'me@x', backend: be, clock: () => 1_750_000_000_000, dsaKey: null });
    account.attachRecord({ key: `conv:${fx.peer}`, bytes: fromHex(fx.hex), generation: 3 });
    const c = account.conversation(fx.peer);
    assert.is((c.toState() as Record<string, StateValue>).endedMacKeys, undefined);
    const out = c.receive('?OTR:AAQD' + 'A'.repeat(40) + '.');
    assert.equal(out.changed, [], 'nothing changed: no record written');
  }
});

test.run();
