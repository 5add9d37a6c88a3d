/**
 * Known-answer transcript: one interactive DAKE and the first data messages, from a seeded RandomSource and a
 * fixed clock, must reproduce vectors/transcripts/dake-ratchet.json byte for byte on both backends. Any change
 * to a wire byte, a KDF input, the seeding or the ratchet's key schedule shows up here.
 *
 * Regenerate (only for a deliberate, reviewed change):  OTR_WRITE_VECTORS=1 node scripts/run-tests.mjs dake-transcript
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { dirname } from 'node:path';
import type { CryptoBackend } from '../ts/backend/types.js';
import { BACKENDS } from './helpers/backends.js';
import { seededRandom } from './helpers/rng.js';
import { bytesToHex, fromUtf8, utf8 } from '../ts/bytes.js';
import { ed448KeyPair } from '../ts/crypto/eddsa.js';
import { createClientProfile } from '../ts/profile/client-profile.js';
import { decodeDataMessage } from '../ts/wire/data.js';
import { encodeTlvs, TlvType } from '../ts/wire/tlv.js';
import { DAKE_IDLE, receiveAuthI, receiveAuthR, receiveIdentity, startDake, type DakeLocal } from '../ts/ake/index.js';
import { decryptDataMessage, deriveTlvExtraKeys, encryptDataMessage, type RatchetState } from '../ts/ratchet/index.js';

const FILE = new URL('../../vectors/transcripts/dake-ratchet.json', import.meta.url);
const SEED = 0x0714_2024;
const NOW_MS = 1_700_000_000_000;

interface Transcript {
  description: string;
  seed: number;
  nowMs: number;
  bobProfile: string;
  aliceProfile: string;
  identity: string;
  authR: string;
  authI: string;
  ssid: string;
  data: { from: 'alice' | 'bob'; text: string; message: string; esk: string }[];
  tlvExtraKeys: string[];
}

/** The scripted conversation: who says what, in order (alternations make new ratchets; 0..2 share a chain). */
const SCRIPT: ['alice' | 'bob', string][] = [
  ['alice', 'Alice, first chain, message 0'],
  ['alice', 'Alice, first chain, message 1'],
  ['bob', 'Bob, first chain'],
  ['alice', 'Alice, ratchet 1'],
  ['bob', 'Bob, ratchet 2'],
  ['alice', 'Alice, ratchet 3 (a DH step)'],
  ['alice', 'Alice, ratchet 3, message 1'],
  ['bob', 'Bob, ratchet 4'],
];

function run(b: CryptoBackend): Transcript {
  const rnd = seededRandom(SEED);
  const mk = (tag: number, acct: string, peer: string): DakeLocal => {
    const identitySecret = rnd(57);
    const forgingKey = ed448KeyPair(b, rnd(57)).publicKey;
    const profile = createClientProfile(b, { ownerTag: tag, identitySecret, forgingKey, versions: '4', expiry: BigInt(NOW_MS / 1000 + 7 * 86400) });
    return { instanceTag: tag, profile, identityScalar: ed448KeyPair(b, identitySecret).scalar, accountId: utf8(acct), peerAccountId: utf8(peer) };
  };
  const bob = mk(0x0000_0b0b, 'bob@example.org', 'alice@example.org');
  const alice = mk(0x0000_0a0a, 'alice@example.org', 'bob@example.org');
  const s1 = startDake(b, rnd, bob, 0);
  const s2 = receiveIdentity(b, rnd, alice, DAKE_IDLE, s1.message!, NOW_MS);
  const s3 = receiveAuthR(b, rnd, bob, s1.state, s2.message!, NOW_MS);
  const s4 = receiveAuthI(b, alice, s2.state, s3.message!);
  const states: Record<'alice' | 'bob', RatchetState> = { alice: s4.established!.ratchet, bob: s3.established!.ratchet };
  const tags = { alice: alice.instanceTag, bob: bob.instanceTag };
  const data: Transcript['data'] = [];
  for (const [from, text] of SCRIPT) {
    const to = from === 'alice' ? 'bob' : 'alice';
    const s = encryptDataMessage(b, rnd, states[from], utf8(text), { senderTag: tags[from], receiverTag: tags[to], extraKey: true });
    states[from] = s.state;
    const r = decryptDataMessage(b, states[to], decodeDataMessage(s.message), { now: NOW_MS, extraKey: true });
    states[to] = r.state;
    assert.is(fromUtf8(r.plaintext), text);
    assert.is(bytesToHex(r.esk!), bytesToHex(s.esk!));
    data.push({ from, text, message: bytesToHex(s.message), esk: bytesToHex(s.esk!) });
  }
  // A message with two extra-symmetric-key TLVs: the per-TLV keys of interpretations.md §8.
  const tlvs = [
    { type: TlvType.padding, value: new Uint8Array(3) },
    { type: TlvType.extraSymmetricKey, value: Uint8Array.of(0, 0, 0, 0x42, 1, 2) },
    { type: TlvType.extraSymmetricKey, value: Uint8Array.of(0x10, 0x4a) },
  ];
  const plaintext = new Uint8Array([...utf8('file transfer'), 0, ...encodeTlvs(tlvs)]);
  const s = encryptDataMessage(b, rnd, states.bob, plaintext, { senderTag: tags.bob, receiverTag: tags.alice });
  // No extraKey option: a type-7 TLV makes both ends derive the base key.
  assert.ok(s.esk, 'sender derives the extra key for a TLV-7 message');
  data.push({ from: 'bob', text: '(TLV 7 x2)', message: bytesToHex(s.message), esk: bytesToHex(s.esk!) });
  const r = decryptDataMessage(b, states.alice, decodeDataMessage(s.message), { now: NOW_MS });
  assert.ok(r.esk, 'receiver derives the extra key for a TLV-7 message');
  const keys = deriveTlvExtraKeys(b, r.esk!, tlvs);
  assert.equal(keys.map((k) => bytesToHex(k.key)), deriveTlvExtraKeys(b, s.esk!, tlvs).map((k) => bytesToHex(k.key)));
  return {
    description:
      'OTRv4 interactive DAKE + double ratchet known-answer transcript (this project; interpretations.md §3-§8). ' +
      'seededRandom(seed) from test/helpers/rng.ts drives every random draw; see test/dake-transcript.test.ts for the script.',
    seed: SEED,
    nowMs: NOW_MS,
    bobProfile: bytesToHex(bob.profile.encoded),
    aliceProfile: bytesToHex(alice.profile.encoded),
    identity: bytesToHex(s1.message!),
    authR: bytesToHex(s2.message!),
    authI: bytesToHex(s3.message!),
    ssid: bytesToHex(s3.established!.ssid),
    data,
    tlvExtraKeys: keys.map((k) => bytesToHex(k.key)),
  };
}

const t = suite('DAKE + ratchet known-answer transcript');

if (process.env.OTR_WRITE_VECTORS === '1') {
  const path = fileURLToPath(FILE);
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, JSON.stringify(run(BACKENDS[BACKENDS.length - 1]!), null, 2) + '\n');
}

const expected: Transcript = JSON.parse(readFileSync(FILE, 'utf8'));

for (const b of BACKENDS) {
  t(`${b.name}: the transcript is reproduced byte for byte`, () => {
    const got = run(b);
    for (const k of ['bobProfile', 'aliceProfile', 'identity', 'authR', 'authI', 'ssid'] as const) assert.is(got[k], expected[k], k);
    assert.is(got.data.length, expected.data.length);
    got.data.forEach((d, n) => {
      assert.is(d.message, expected.data[n]!.message, `data message ${n}`);
      assert.is(d.esk, expected.data[n]!.esk, `esk ${n}`);
    });
    assert.equal(got.tlvExtraKeys, expected.tlvExtraKeys);
  });
}

t('the stored transcript is self-consistent (ratchet ids, DH keys every third ratchet)', () => {
  const ids = expected.data.map((d) => decodeDataMessage(Uint8Array.from(Buffer.from(d.message, 'hex'))));
  assert.equal(ids.map((m) => m.ratchetId), [0, 0, 0, 1, 2, 3, 3, 4, 4]);
  assert.equal(ids.map((m) => m.messageId), [0, 1, 0, 0, 0, 0, 1, 0, 1]);
  assert.equal(ids.map((m) => m.dh.length > 0), [true, true, true, false, false, true, true, false, false]);
});

t.run();
