/**
 * Attack (session 16): the OTRv3 state record's new optional field `endedMacKeys` (the MAC keys of sessions the
 * peer ended, kept until our next OTRv3 data message publishes them) is hostile input on restore. Each bad value
 * gives an OtrDecodeError, never a state that fails later; a list longer than limits.maxMacKeysToReveal (a record
 * written under a higher limit) keeps its newest keys, the host told — a lowered limit never makes the account
 * unrestorable (session 15, [s15-restore]); and records without the field — every record written before, and every
 * record without kept keys — restore and re-encode byte for byte.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { WASM } from '../helpers/backends.js';
import { encryptedPair, pump } from '../interop/v3-pair.js';
import { V3_RECORD_ENCRYPTED_S15, V3_RECORD_FINISHED_S15 } from '../helpers/v3-records-s15.js';
import { bytesToHex, hexToBytes } from '../../ts/bytes.js';
import { OtrDecodeError } from '../../ts/errors.js';
import { V3Conversation, type V3Options, type V3Peer, restoreV3State, serializeV3State } from '../../ts/v3/index.js';
import { type StateValue, decodeState, encodeState } from '../../ts/session/state-codec.js';

const be = WASM;

/** Bob after Alice's disconnect: his record holds kept MAC keys. */
function finishedBob(seed: number): { opts: V3Options; bytes: Uint8Array; conv: V3Conversation } {
  const { a, b } = encryptedPair(be, {}, seed);
  pump(a, b, a.conv.send('one').toSend);
  pump(a, b, a.conv.end().toSend);
  return { opts: b.opts, bytes: b.conv.serialize(), conv: b.conv };
}

/** The record `bytes` with its top-level field endedMacKeys set to `v` (undefined: removed). */
function withField(bytes: Uint8Array, v: StateValue | undefined): Uint8Array {
  const s = { ...(decodeState('otrv3', bytes) as Record<string, StateValue>) };
  if (v === undefined) delete s.endedMacKeys;
  else s.endedMacKeys = v;
  return encodeState('otrv3', s);
}

const keys = (n: number, from = 1): Uint8Array => {
  const out = new Uint8Array(20 * n);
  for (let i = 0; i < n; i++) out.fill(from + i, 20 * i, 20 * i + 20);
  return out;
};

test('the record of a session the peer ended holds its kept MAC keys, and round-trips byte for byte', () => {
  const { opts, bytes, conv } = finishedBob(1611);
  const kept = conv.peerState.endedMacKeys;
  assert.ok(kept && kept.length >= 20 && kept.length % 20 === 0);
  const restored = V3Conversation.restore(opts, bytes);
  assert.is(bytesToHex(restored.peerState.endedMacKeys!), bytesToHex(kept));
  assert.is(bytesToHex(restored.serialize()), bytesToHex(bytes));
});

test('more keys than maxMacKeysToReveal (a record written under a higher limit, or a hostile count): the newest kept, the host told', () => {
  const { opts, bytes } = finishedBob(1612);
  const told: [number, number][] = [];
  const restored = V3Conversation.restore({ ...opts, limits: { maxMacKeysToReveal: 3 } }, withField(bytes, keys(10)), (instance, count) => told.push([instance, count]));
  assert.is(bytesToHex(restored.peerState.endedMacKeys!), bytesToHex(keys(3, 8)));
  assert.equal(told, [[0, 7]]);
  // Under the default limit all ten stay.
  assert.is(restoreV3State(withField(bytes, keys(10))).endedMacKeys!.length, 200);
});

test('refused: a partial key (not whole 20-byte keys)', () => {
  const { bytes } = finishedBob(1613);
  for (const n of [1, 19, 21, 39, 41]) assert.throws(() => restoreV3State(withField(bytes, new Uint8Array(n).fill(7))), (e: unknown) => e instanceof OtrDecodeError, `${n} bytes`);
});

test('refused: not bytes (a list of keys, a number, a string, a bigint, a record, true)', () => {
  const { bytes } = finishedBob(1614);
  const bad: StateValue[] = [[keys(1)], 20, 'keys', 20n, { k: keys(1) }, true];
  for (const v of bad) assert.throws(() => restoreV3State(withField(bytes, v)), (e: unknown) => e instanceof OtrDecodeError, String(v));
});

test('refused: a record cut short anywhere in the field', () => {
  const { bytes, conv } = finishedBob(1615);
  // Cut inside the field's key, its length, its tag, its bytes.
  const at = bytesToHex(bytes).indexOf(bytesToHex(new TextEncoder().encode('endedMacKeys'))) / 2;
  assert.ok(at > 0);
  for (let cut = at - 4; cut < at + 12 + 5 + conv.peerState.endedMacKeys!.length; cut++) assert.throws(() => restoreV3State(bytes.subarray(0, cut)), (e: unknown) => e instanceof OtrDecodeError, `cut at ${cut}`);
});

test('an empty or null field is no keys (restores as none, and is not written again)', () => {
  const { bytes } = finishedBob(1616);
  const without = withField(bytes, undefined);
  for (const v of [new Uint8Array(0), null]) {
    const s: V3Peer = restoreV3State(withField(bytes, v));
    assert.is(s.endedMacKeys, undefined);
    assert.is(bytesToHex(serializeV3State(s)), bytesToHex(without));
  }
});

test('records written before the field existed restore and re-encode unchanged (fixtures of session 15)', () => {
  for (const hex of [V3_RECORD_ENCRYPTED_S15, V3_RECORD_FINISHED_S15]) {
    const s = restoreV3State(hexToBytes(hex));
    assert.is(s.endedMacKeys, undefined);
    assert.is(bytesToHex(serializeV3State(s)), hex);
  }
});

test('a state without kept keys writes no field (records of live sessions stay as before)', () => {
  const { a, b } = encryptedPair(be, {}, 1617);
  pump(a, b, a.conv.send('one').toSend);
  assert.not.ok(bytesToHex(b.conv.serialize()).includes(bytesToHex(new TextEncoder().encode('endedMacKeys'))));
});

test.run();
