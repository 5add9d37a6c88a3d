/**
 * Prekey profiles, prekey messages and ensembles on both backends: wire bytes (the `11 00` key type), create /
 * renew / validate, every ensemble defect refused with its typed error (expired profiles, wrong signatures,
 * mismatched instance tags, reused prekey, invalid points and DH values), choosing among several ensembles,
 * the owner store's use-once deletion and persistence, and hostile input to every decoder.
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { BACKENDS, JS } from './helpers/backends.js';
import { seededRandom } from './helpers/rng.js';
import { assertBitFlipsSafe, assertRandomSafe, assertTruncationsRejected } from './helpers/mutate.js';
import { bigToBytesBE, bytesToHex, hexToBytes } from '../ts/bytes.js';
import { OtrError } from '../ts/errors.js';
import { Writer } from '../ts/codec/primitives.js';
import { MODP3072 } from '../ts/crypto/dh-groups.js';
import { expiryFromNow } from '../ts/profile/client-profile.js';
import {
  addPrekeyProfile,
  addPrekeys,
  chooseEnsembles,
  consumePrekey,
  createPrekeyProfile,
  decodeEnsemble,
  decodePrekeyMessage,
  decodePrekeyOwnerState,
  decodePrekeyProfile,
  encodePrekeyMessage,
  encodePrekeyOwnerState,
  generatePrekeyMessages,
  InvalidEnsembleError,
  MAX_OWNER_PREKEY_PROFILES,
  prekeyProfileNeedsRenewal,
  prunePrekeyOwnerState,
  renewPrekeyProfile,
  sharedPrekeyMatches,
  signPrekeyProfile,
  validateEnsemble,
  validatePrekeyProfile,
  writeEnsemble,
  type EnsembleDefect,
  type PrekeyEnsemble,
} from '../ts/prekey/index.js';
import { decodeNonInteractiveAuth, sendNonInteractiveAuth } from '../ts/offline/index.js';
import { makeParty, makePublisher, NOW_MS } from './prekey-fixtures.test.js';

const TAG = 0x0b0b0b0b;
const DAY = 86400_000;
/** (0, -1): a point of order 2, on the curve but not in the prime-order subgroup. */
const TORSION = hexToBytes('fe' + 'ff'.repeat(27) + 'fe' + 'ff'.repeat(27) + '00');

function expectDefect(fn: () => unknown, defect: EnsembleDefect, code: string): void {
  try {
    fn();
  } catch (e) {
    assert.instance(e, InvalidEnsembleError, `${defect}: ${(e as Error).message}`);
    assert.is((e as InvalidEnsembleError).defect, defect);
    assert.is((e as InvalidEnsembleError).code, code, (e as Error).message);
    return;
  }
  assert.unreachable(`${defect} accepted`);
}

function encodeEnsemble(e: PrekeyEnsemble): Uint8Array {
  const w = new Writer();
  writeEnsemble(w, e);
  return w.finish();
}

for (const b of BACKENDS) {
  const t = suite(`prekey profiles and ensembles [${b.name}]`);
  const rnd = seededRandom(0x5eed);
  const bob = makePublisher(b, rnd, TAG, 4);
  const good = bob.ensembles[0]!;

  t('prekey profile: wire bytes, round trip, signature, renewal', () => {
    const p = bob.prekeyProfile.profile;
    assert.is(p.encoded.length, 4 + 8 + 2 + 57 + 114);
    assert.is(bytesToHex(p.encoded.subarray(0, 4)), '0b0b0b0b');
    assert.is(bytesToHex(p.encoded.subarray(12, 14)), '1100', 'key type 0x0011 little-endian');
    const d = decodePrekeyProfile(p.encoded);
    assert.equal(d, p);
    assert.ok(sharedPrekeyMatches(b, p, bob.prekeyProfile.sharedPrekeySecret));
    validatePrekeyProfile(b, p, { nowMs: NOW_MS, identityKey: bob.profile.identityKey, expectedOwnerTag: TAG });
    assert.ok(prekeyProfileNeedsRenewal(p, NOW_MS, 8 * 86400));
    assert.not.ok(prekeyProfileNeedsRenewal(p, NOW_MS, 86400));
    const renewed = renewPrekeyProfile(b, rnd, p, bob.identitySecret, expiryFromNow(NOW_MS + 7 * DAY));
    assert.is(renewed.profile.ownerTag, TAG);
    assert.ok(renewed.profile.expiry > p.expiry);
    assert.not.equal(bytesToHex(renewed.profile.sharedPrekey), bytesToHex(p.sharedPrekey), 'renewal makes a new shared prekey');
    validatePrekeyProfile(b, renewed.profile, { nowMs: NOW_MS, identityKey: bob.profile.identityKey });
    // Wrong key type on the wire.
    const bad = p.encoded.slice();
    bad[12] = 0x10;
    assert.throws(() => decodePrekeyProfile(bad), (e: unknown) => e instanceof OtrError && e.code === 'MALFORMED');
  });

  t('prekey message: wire layout and checks', () => {
    const m = good.prekeyMessage;
    const bytes = encodePrekeyMessage(m);
    assert.is(bytesToHex(bytes.subarray(0, 3)), '00040f');
    assert.is(bytesToHex(bytes.subarray(7, 11)), '0b0b0b0b');
    assert.equal(decodePrekeyMessage(bytes), m);
    const ids = new Set(bob.prekeys.map((p) => p.message.id));
    assert.is(ids.size, 4, 'ids are distinct');
  });

  t('each defect: a typed InvalidEnsembleError naming it', () => {
    validateEnsemble(b, good, { nowMs: NOW_MS });
    // Expired client profile / prekey profile.
    const later = NOW_MS + 8 * DAY;
    expectDefect(() => validateEnsemble(b, good, { nowMs: later }), 'client-profile', 'EXPIRED');
    const shortPp = createPrekeyProfile(b, rnd, { ownerTag: TAG, identitySecret: bob.identitySecret, expiry: expiryFromNow(NOW_MS, 3600) });
    expectDefect(() => validateEnsemble(b, { ...good, prekeyProfile: shortPp.profile }, { nowMs: NOW_MS + 2 * 3600_000 }), 'prekey-profile', 'EXPIRED');
    // Wrong signatures: prekey profile signed by another identity; client profile signature flipped.
    const other = makeParty(b, rnd, TAG, 'eve', 'x');
    const foreignPp = createPrekeyProfile(b, rnd, { ownerTag: TAG, identitySecret: other.identitySecret, expiry: expiryFromNow(NOW_MS) });
    expectDefect(() => validateEnsemble(b, { ...good, prekeyProfile: foreignPp.profile }, { nowMs: NOW_MS }), 'prekey-profile', 'BAD_SIGNATURE');
    const sig = good.clientProfile.signature.slice();
    sig[3]! ^= 1;
    expectDefect(() => validateEnsemble(b, { ...good, clientProfile: { ...good.clientProfile, signature: sig } }, { nowMs: NOW_MS }), 'client-profile', 'BAD_SIGNATURE');
    // Mismatched instance tags: in the prekey message, in the prekey profile (validly signed).
    expectDefect(() => validateEnsemble(b, { ...good, prekeyMessage: { ...good.prekeyMessage, ownerTag: TAG + 1 } }, { nowMs: NOW_MS }), 'instance-tag-mismatch', 'MALFORMED');
    const otherTagPp = createPrekeyProfile(b, rnd, { ownerTag: TAG + 1, identitySecret: bob.identitySecret, expiry: expiryFromNow(NOW_MS) });
    expectDefect(() => validateEnsemble(b, { ...good, prekeyProfile: otherTagPp.profile }, { nowMs: NOW_MS }), 'instance-tag-mismatch', 'MALFORMED');
    // Reused prekey.
    const used = new Set([good.prekeyMessage.id]);
    expectDefect(() => validateEnsemble(b, good, { nowMs: NOW_MS, alreadyUsed: (m) => used.has(m.id) }), 'reused-prekey', 'STATE');
    // Invalid points: Y off the subgroup, Y the identity, Y not on the curve; D of small order (validly signed).
    for (const y of [TORSION, hexToBytes('01' + '00'.repeat(56)), hexToBytes('02' + '00'.repeat(56))])
      expectDefect(() => validateEnsemble(b, { ...good, prekeyMessage: { ...good.prekeyMessage, y } }, { nowMs: NOW_MS }), 'prekey-message', 'INVALID_POINT');
    const torsionPp = signPrekeyProfile(b, { ownerTag: TAG, expiry: expiryFromNow(NOW_MS), sharedPrekey: TORSION }, bob.identitySecret);
    expectDefect(() => validateEnsemble(b, { ...good, prekeyProfile: torsionPp }, { nowMs: NOW_MS }), 'prekey-profile', 'INVALID_POINT');
    // Invalid DH values: 1, p - 1, p, and p - 2 (in range, but a non-residue: p ≡ 7 mod 8 makes -2 one).
    for (const B of [Uint8Array.of(1), bigToBytesBE(MODP3072.p - 1n), bigToBytesBE(MODP3072.p), bigToBytesBE(MODP3072.p - 2n)])
      expectDefect(() => validateEnsemble(b, { ...good, prekeyMessage: { ...good.prekeyMessage, b: B } }, { nowMs: NOW_MS }), 'prekey-message', 'INVALID_DH_VALUE');
  });

  t('the sender refuses a bad ensemble before making anything', () => {
    const alice = makeParty(b, rnd, 0x0a0a0a0a, 'alice', 'bob');
    expectDefect(() => sendNonInteractiveAuth(b, rnd, alice.local, good, NOW_MS + 8 * DAY), 'client-profile', 'EXPIRED');
    expectDefect(
      () => sendNonInteractiveAuth(b, rnd, alice.local, { ...good, prekeyMessage: { ...good.prekeyMessage, y: TORSION } }, NOW_MS),
      'prekey-message',
      'INVALID_POINT',
    );
  });

  t('choosing among several ensembles: invalid and duplicates dropped, latest expiry per instance', () => {
    const carol = makePublisher(b, rnd, 0x0c0c0c0c, 2, 'carol', 'x');
    // An ensemble's expiry is the earlier of its two profiles': a prekey profile that expires in two days
    // makes the first one expire before the second.
    const soonPp = createPrekeyProfile(b, rnd, { ownerTag: TAG, identitySecret: bob.identitySecret, expiry: expiryFromNow(NOW_MS, 2 * 86400) });
    const sooner = { ...good, prekeyProfile: soonPp.profile };
    const later = bob.ensembles[1]!;
    const broken = { ...bob.ensembles[2]!, prekeyMessage: { ...bob.ensembles[2]!.prekeyMessage, y: TORSION } };
    const list = [sooner, sooner, later, broken, carol.ensembles[0]!, carol.ensembles[1]!];
    const c = chooseEnsembles(b, list, { nowMs: NOW_MS });
    assert.is(c.rejected.length, 1);
    assert.is(c.rejected[0]!.index, 3);
    assert.is(c.rejected[0]!.error.defect, 'prekey-message');
    assert.is(c.chosen.length, 2, 'one per instance tag');
    const forBob = c.chosen.find((e) => e.prekeyMessage.ownerTag === TAG)!;
    assert.is(forBob.prekeyMessage.id, later.prekeyMessage.id, 'the latest expiry wins');
    assert.is(c.dropped, 3);
  });

  t('owner store: use-once, persistence, pruning, limits', () => {
    const p = makePublisher(b, rnd, TAG, 3);
    const id = p.prekeys[1]!.message.id;
    const taken = consumePrekey(p.owner, id)!;
    assert.is(taken.prekey.id, id);
    assert.is(taken.state.prekeys.length, 2);
    assert.is(consumePrekey(taken.state, id), undefined, 'a used prekey is gone');
    const round = decodePrekeyOwnerState(encodePrekeyOwnerState(taken.state));
    assert.equal(round, taken.state);
    assert.is(consumePrekey(round, id), undefined);
    // Pruning: past expiry + grace the profile secret is dropped and wiped; old prekeys too.
    const pruned = prunePrekeyOwnerState(round, NOW_MS + 9 * DAY, 86400, 8 * DAY);
    assert.is(pruned.profiles.length, 0);
    assert.is(pruned.prekeys.length, 0);
    assert.ok(round.profiles[0]!.sharedPrekeySecret.every((x) => x === 0), 'wiped');
    // Limits and duplicates.
    assert.throws(() => addPrekeys(p.owner, generatePrekeyMessages(b, rnd, TAG, 2), NOW_MS, 4), (e: unknown) => e instanceof OtrError && e.code === 'LIMIT_EXCEEDED');
    assert.throws(() => addPrekeys(p.owner, [p.prekeys[0]!], NOW_MS), (e: unknown) => e instanceof OtrError && e.code === 'INVALID_ARGUMENT');
    // Profiles: as many as the decoder reads back, and no more (a full state still round-trips).
    let full = p.owner;
    while (full.profiles.length < MAX_OWNER_PREKEY_PROFILES) full = addPrekeyProfile(full, p.owner.profiles[0]!);
    assert.is(decodePrekeyOwnerState(encodePrekeyOwnerState(full)).profiles.length, MAX_OWNER_PREKEY_PROFILES);
    assert.throws(() => addPrekeyProfile(full, p.owner.profiles[0]!), (e: unknown) => e instanceof OtrError && e.code === 'LIMIT_EXCEEDED');
  });

  if (b === JS) {
    // The decoders involve no backend: once is enough.
    t('hostile input to every decoder: truncation, bit flips, random bytes', () => {
      const alice = makeParty(b, rnd, 0x0a0a0a0a, 'alice', 'bob');
      const ni = sendNonInteractiveAuth(b, rnd, alice.local, good, NOW_MS).message;
      const codecs: { name: string; bytes: Uint8Array; decode: (x: Uint8Array) => unknown }[] = [
        { name: 'prekey profile', bytes: bob.prekeyProfile.profile.encoded, decode: decodePrekeyProfile },
        { name: 'prekey message', bytes: encodePrekeyMessage(good.prekeyMessage), decode: decodePrekeyMessage },
        { name: 'ensemble', bytes: encodeEnsemble(good), decode: decodeEnsemble },
        { name: 'Non-Interactive-Auth', bytes: ni, decode: decodeNonInteractiveAuth },
        { name: 'owner state', bytes: encodePrekeyOwnerState(bob.owner), decode: decodePrekeyOwnerState },
      ];
      for (const c of codecs) {
        assertTruncationsRejected({ decode: c.decode }, c.bytes);
        assertBitFlipsSafe({ decode: c.decode }, c.bytes, c.bytes.length > 2000 ? 7 : 1);
        assertRandomSafe({ decode: c.decode }, 7, 300, c.bytes);
        assertRandomSafe({ decode: c.decode }, 8, 300);
      }
    });
  }

  t.run();
}
