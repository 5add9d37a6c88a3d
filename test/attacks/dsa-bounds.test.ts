/**
 * Attack: one DSA key costs seconds of CPU (issue 10, "One message must not cost seconds of CPU"). The
 * transitional DSA key of a client profile was read without size bounds and then checked with BigInt modPow:
 * an Identity message whose (validly Ed448-signed) profile carried a 1-megabit p took 13.5 s in receive().
 * Now one bounded reader (crypto/dsa.ts readBoundedDsaPublicKey) refuses every out-of-bounds field while
 * decoding — p 1024..3072 bits, q exactly 160 bits, 1 < g < p, 1 < y < p — before any arithmetic, and
 * signing/verifying refuse keys outside the bounds (g = 0 used to loop forever, p = 0 threw a RangeError).
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Account } from '../../ts/index.js';
import { OtrArgumentError, OtrDecodeError, OtrError } from '../../ts/errors.js';
import {
  decodeDsaPublicKey,
  dsaPublicKeyInBounds,
  dsaSign,
  dsaVerify,
  encodeDsaPublicKey,
  readBoundedDsaPublicKey,
  type DsaPublicKey,
} from '../../ts/crypto/dsa.js';
import { decodeClientProfile } from '../../ts/profile/client-profile.js';
import { Reader, Writer } from '../../ts/codec/primitives.js';
import { bigToBytesBE } from '../../ts/bytes.js';
import { WASM } from '../helpers/backends.js';
import { seededRandom } from '../helpers/rng.js';
import { testDsaKey } from '../interop/v3-pair.js';
import { attackerIdentity, makeAttacker } from './attacker.js';
import { testClock } from '../helpers/session-pair.js';

const GOOD = testDsaKey(0x5ec);
const NOW = 1_700_000_000_000;

/** Keys that break exactly one bound each (the values an attacker controls). */
function outOfBounds(): { label: string; key: DsaPublicKey }[] {
  const big = (bits: number) => (1n << BigInt(bits - 1)) | 1n;
  return [
    { label: 'p of 3073 bits', key: { ...GOOD, p: big(3073) } },
    { label: 'p of 8192 bits', key: { ...GOOD, p: big(8192) } },
    { label: 'p of 1023 bits', key: { ...GOOD, p: big(1023), g: 2n, y: 2n } },
    { label: 'q of 159 bits', key: { ...GOOD, q: big(159) } },
    { label: 'q of 161 bits', key: { ...GOOD, q: big(161) } },
    { label: 'g = 0', key: { ...GOOD, g: 0n } },
    { label: 'g = 1', key: { ...GOOD, g: 1n } },
    { label: 'g = p', key: { ...GOOD, g: GOOD.p } },
    { label: 'y = 1', key: { ...GOOD, y: 1n } },
    { label: 'y = p + 1', key: { ...GOOD, y: GOOD.p + 1n } },
  ];
}

test('the bounded reader refuses every out-of-bounds field while decoding (typed OtrDecodeError)', () => {
  for (const { label, key } of outOfBounds()) {
    const enc = encodeDsaPublicKey(key);
    try {
      readBoundedDsaPublicKey(new Reader(enc));
      assert.unreachable(`accepted ${label}`);
    } catch (e) {
      assert.instance(e, OtrDecodeError, label);
    }
    assert.not.ok(dsaPublicKeyInBounds(key), label);
  }
  assert.ok(dsaPublicKeyInBounds(GOOD));
  assert.equal(readBoundedDsaPublicKey(new Reader(encodeDsaPublicKey(GOOD))), { p: GOOD.p, q: GOOD.q, g: GOOD.g, y: GOOD.y });
});

test('a 1-megabit p is refused from its length prefix alone, before its bytes are read', () => {
  // Only the length prefix of p is present: a reader that bounds while decoding never gets to "truncated".
  const w = new Writer();
  w.short(0).int(1 << 17);
  try {
    readBoundedDsaPublicKey(new Reader(w.finish()));
    assert.unreachable('accepted');
  } catch (e) {
    assert.instance(e, OtrDecodeError);
    assert.match((e as Error).message, /exceeds the limit/);
  }
});

test('client profile: the transitional DSA key goes through the bounded reader', () => {
  const be = WASM;
  for (const { label, key } of outOfBounds()) {
    const evil = makeAttacker(be, { tag: 0x1234_5678, seed: 7, nowMs: NOW, dsaKey: key });
    try {
      decodeClientProfile(evil.profile.encoded);
      assert.unreachable(`profile with ${label} decoded`);
    } catch (e) {
      assert.instance(e, OtrDecodeError, label);
    }
  }
  // A well-formed key still decodes.
  const ok = makeAttacker(be, { tag: 0x1234_5678, seed: 7, nowMs: NOW, dsaKey: GOOD });
  assert.equal(decodeClientProfile(ok.profile.encoded).dsaKey, { p: GOOD.p, q: GOOD.q, g: GOOD.g, y: GOOD.y });
});

test('receive(): an Identity whose signed profile carries an 8192-bit p is refused as malformed, unanswered', () => {
  const be = WASM;
  const clock = testClock(NOW);
  const victim = Account.create({ accountId: 'bob@example.org', backend: be, random: seededRandom(1), clock, dsaKey: null });
  const conv = victim.conversation('alice@example.org');
  const big = (1n << 8191n) | 1n;
  const evil = makeAttacker(be, { tag: 0x2222_2222, seed: 9, nowMs: NOW, dsaKey: { ...GOOD, p: big, g: 2n, y: 3n } });
  const out = conv.receive(attackerIdentity(be, evil, 'alice@example.org', 'bob@example.org'));
  assert.equal(out.toSend, []);
  const ev = out.events.find((e) => e.type === 'ignored');
  assert.ok(ev, 'an ignored event');
  assert.match((ev as { reason: string }).reason, /^MALFORMED: DSA p/);
  assert.is(conv.state, 'START');
});

test('signing with g = 0 or g = 1 refuses (it looped forever); verifying with p = 0 is false (it threw RangeError)', () => {
  const rnd = seededRandom(3);
  for (const g of [0n, 1n]) {
    try {
      dsaSign({ ...GOOD, g }, 12345n, rnd);
      assert.unreachable('signed');
    } catch (e) {
      assert.instance(e, OtrArgumentError);
    }
  }
  const sig = dsaSign(GOOD, 12345n, rnd);
  assert.ok(dsaVerify(GOOD, 12345n, sig));
  assert.not.ok(dsaVerify({ ...GOOD, p: 0n }, 12345n, sig));
  assert.not.ok(dsaVerify({ ...GOOD, p: (1n << 20000n) + 1n }, 12345n, sig));
});

test('the v3 PUBKEY decoder is the same bounded reader (plus the subgroup checks)', () => {
  for (const { label, key } of outOfBounds()) {
    try {
      decodeDsaPublicKey(encodeDsaPublicKey(key));
      assert.unreachable(label);
    } catch (e) {
      assert.instance(e, OtrError, label);
    }
  }
  // A p encoded with leading zero bytes is still measured by its magnitude.
  const w = new Writer();
  w.short(0).data(Uint8Array.from([0, 0, ...bigToBytesBE(GOOD.p)])).mpi(bigToBytesBE(GOOD.q)).mpi(bigToBytesBE(GOOD.g)).mpi(bigToBytesBE(GOOD.y));
  assert.equal(decodeDsaPublicKey(w.finish()).p, GOOD.p);
});

test.run();
