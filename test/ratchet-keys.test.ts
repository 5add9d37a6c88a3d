/**
 * The ratchet's building blocks in isolation: the key schedule (ts/ratchet/keys.ts) against node:crypto's
 * SHAKE-256 and ChaCha20 on random inputs, the per-TLV extra symmetric keys (esk.ts) against a by-hand
 * derivation, when the base extra key is derived, and the skipped-key store (skipped.ts). Once per backend.
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { createCipheriv, createHash } from 'node:crypto';
import { BACKENDS } from './helpers/backends.js';
import { seededRandom } from './helpers/rng.js';
import { bytesToHex, equalBytes, utf8 } from '../ts/bytes.js';
import { OtrArgumentError } from '../ts/errors.js';
import { encodeTlvs, splitPlaintext, TlvType } from '../ts/wire/tlv.js';
import { generateEcdh } from '../ts/crypto/ecdh.js';
import { dhKeyPair } from '../ts/crypto/dh.js';
import { decodeDataMessage } from '../ts/wire/data.js';
import {
  addSkipped,
  authenticator,
  authenticatorMatches,
  braceKeyFromDh,
  carriesExtraKeyTlv,
  chachaXor,
  decryptDataMessage,
  deriveExtraKey,
  deriveRatchetKeys,
  deriveTlvExtraKeys,
  encryptDataMessage,
  expireSkipped,
  extraKeyContext,
  extraSymmetricKey,
  findSkipped,
  initRatchetAsAuthIReceiver,
  initRatchetAsAuthISender,
  MAX_EXTRA_KEYS,
  messageKeys,
  mixedSecret,
  nextBraceKey,
  removeSkipped,
  type SkippedKey,
} from '../ts/ratchet/index.js';

const CASES = 64;

function H(usage: number, parts: Uint8Array[], n: number): string {
  const h = createHash('shake256', { outputLength: n });
  h.update(utf8('OTRv4'));
  h.update(Uint8Array.of(usage));
  for (const p of parts) h.update(p);
  return h.digest('hex');
}

function chachaRef(key: Uint8Array, msg: Uint8Array): string {
  const c = createCipheriv('chacha20', key.subarray(0, 32), new Uint8Array(16));
  return Buffer.concat([c.update(msg), c.final()]).toString('hex');
}

for (const b of BACKENDS) {
  const t = suite(`ratchet keys [${b.name}]`);

  t('key schedule = SHAKE-256("OTRv4" || usage || ...) with the usage IDs of interpretations.md §5-§6', () => {
    const rnd = seededRandom(1);
    for (let n = 0; n < CASES; n++) {
      const ck = rnd(64);
      const kDh = rnd(1 + (n % 384));
      const brace = rnd(32);
      const kEcdh = rnd(57);
      const root = rnd(64);
      assert.is(bytesToHex(braceKeyFromDh(b, kDh)), H(0x01, [kDh], 32));
      assert.is(bytesToHex(nextBraceKey(b, brace)), H(0x02, [brace], 32));
      assert.is(bytesToHex(mixedSecret(b, kEcdh, brace)), H(0x03, [kEcdh, brace], 64));
      const d = deriveRatchetKeys(b, root, ck);
      assert.is(bytesToHex(d.root), H(0x12, [root, ck], 64));
      assert.is(bytesToHex(d.chain), H(0x13, [root, ck], 64));
      const k = messageKeys(b, ck);
      assert.is(bytesToHex(k.mkEnc), H(0x15, [ck], 64));
      assert.is(bytesToHex(k.mkMac), H(0x16, [k.mkEnc], 64));
      assert.is(bytesToHex(k.next), H(0x14, [ck], 64));
      assert.is(bytesToHex(extraSymmetricKey(b, ck)), H(0x17, [Uint8Array.of(0xff), ck], 64));
      const authd = rnd(n * 7);
      assert.is(bytesToHex(authenticator(b, k.mkMac, authd)), H(0x18, [k.mkMac, authd], 64));
      assert.ok(authenticatorMatches(b, k.mkMac, authd, authenticator(b, k.mkMac, authd)));
      const bad = authenticator(b, k.mkMac, authd);
      bad[n % 64]! ^= 1;
      assert.not.ok(authenticatorMatches(b, k.mkMac, authd, bad));
      const msg = rnd(n * 37);
      assert.is(bytesToHex(chachaXor(b, k.mkEnc, msg)), chachaRef(k.mkEnc, msg));
    }
  });

  t('per-TLV extra keys: key_{n+1} = KDF(index, ctx4 || key_n, 64), index counting every TLV', () => {
    const rnd = seededRandom(2);
    const base = rnd(64);
    const tlvs = [
      { type: TlvType.disconnected, value: new Uint8Array(0) },
      { type: TlvType.extraSymmetricKey, value: Uint8Array.of(0, 0, 0, 0x42, 9, 9, 9) },
      { type: TlvType.smp1, value: rnd(10) },
      { type: TlvType.extraSymmetricKey, value: Uint8Array.of(0x10, 0x4a) }, // short: zero-padded context
      { type: TlvType.padding, value: new Uint8Array(2) },
      { type: TlvType.extraSymmetricKey, value: new Uint8Array(0) },
    ];
    const keys = deriveTlvExtraKeys(b, base, tlvs);
    assert.equal(keys.map((k) => k.index), [1, 3, 5]);
    const k1 = H(1, [Uint8Array.of(0, 0, 0, 0x42), base], 64);
    const k2 = H(3, [Uint8Array.of(0x10, 0x4a, 0, 0), Buffer.from(k1, 'hex')], 64);
    const k3 = H(5, [new Uint8Array(4), Buffer.from(k2, 'hex')], 64);
    assert.equal(keys.map((k) => bytesToHex(k.key)), [k1, k2, k3]);
    // The same through the decoder, which drops padding but keeps wire positions.
    const decoded = splitPlaintext(new Uint8Array([...utf8('m'), 0, ...encodeTlvs(tlvs)])).tlvs;
    assert.is(decoded.length, tlvs.length - 1);
    assert.equal(deriveTlvExtraKeys(b, base, decoded).map((k) => bytesToHex(k.key)), [k1, k2, k3]);
    assert.is(bytesToHex(extraKeyContext(Uint8Array.of(1, 2, 3, 4, 5))), '01020304');
    // At most ten keys per message.
    const many = Array.from({ length: 12 }, () => ({ type: TlvType.extraSymmetricKey, value: new Uint8Array(4) }));
    assert.is(deriveTlvExtraKeys(b, base, many).length, MAX_EXTRA_KEYS);
    assert.throws(() => deriveExtraKey(b, 256, new Uint8Array(4), base), (e: unknown) => e instanceof OtrArgumentError);
    assert.throws(() => deriveExtraKey(b, 0, new Uint8Array(3), base), (e: unknown) => e instanceof OtrArgumentError);
  });

  t('the base extra key is derived exactly for messages carrying a type-7 TLV (or when asked)', () => {
    assert.not.ok(carriesExtraKeyTlv(utf8('plain text')));
    assert.not.ok(carriesExtraKeyTlv(new Uint8Array([...utf8('x'), 0, ...encodeTlvs([{ type: TlvType.disconnected, value: new Uint8Array(0) }])])));
    const withKey = new Uint8Array([...utf8('x'), 0, ...encodeTlvs([{ type: TlvType.extraSymmetricKey, value: Uint8Array.of(0, 0, 0, 1) }])]);
    assert.ok(carriesExtraKeyTlv(withKey));
    assert.not.ok(carriesExtraKeyTlv(new Uint8Array([0, 0, 7, 0, 9]))); // truncated record: nothing usable

    const rnd = seededRandom(3);
    const prevRoot = rnd(64);
    const [aE, aD, bE, bD] = [generateEcdh(b, rnd), dhKeyPair(b, rnd), generateEcdh(b, rnd), dhKeyPair(b, rnd)];
    let alice = initRatchetAsAuthIReceiver(b, { prevRoot, ourEcdh: aE, ourDh: aD, theirEcdh: bE.public, theirDh: bD.public });
    let bob = initRatchetAsAuthISender(b, { prevRoot, ourEcdh: bE, ourDh: bD, theirEcdh: aE.public, theirDh: aD.public });
    const opts = { senderTag: 0x100, receiverTag: 0x200 };
    const plain = encryptDataMessage(b, rnd, alice, utf8('no key'), opts);
    alice = plain.state;
    const keyed = encryptDataMessage(b, rnd, alice, withKey, opts);
    alice = keyed.state;
    assert.is(plain.esk, null);
    assert.ok(keyed.esk);
    // Receive the keyed one first (through the chain, storing the plain one's key), then the plain one.
    const r1 = decryptDataMessage(b, bob, decodeDataMessage(keyed.message), { now: 0 });
    bob = r1.state;
    assert.ok(equalBytes(r1.esk!, keyed.esk!));
    const r0 = decryptDataMessage(b, bob, decodeDataMessage(plain.message), { now: 0 });
    assert.is(r0.source, 'skipped');
    assert.is(r0.esk, null);
  });

  t('skipped-key store: append, bound (oldest first), expiry, lookup by (ratchet, message, ECDH key)', () => {
    const rnd = seededRandom(4);
    const ecdhA = rnd(57);
    const ecdhB = rnd(57);
    const e = (ratchetId: number, messageId: number, theirEcdh: Uint8Array, storedAt: number): SkippedKey => ({
      ratchetId, messageId, theirEcdh, mkEnc: rnd(64), esk: rnd(64), storedAt,
    });
    const first = [e(0, 0, ecdhA, 0), e(0, 1, ecdhA, 10)];
    const { store: s1, dropped: d1 } = addSkipped([], first, 3);
    assert.is(s1.length, 2);
    assert.is(d1.length, 0);
    const { store: s2, dropped: d2 } = addSkipped(s1, [e(1, 0, ecdhB, 20), e(1, 1, ecdhB, 30)], 3);
    assert.equal(s2.map((x) => [x.ratchetId, x.messageId]), [[0, 1], [1, 0], [1, 1]]);
    assert.is(d2[0], first[0]);
    assert.is(s1.length, 2, 'inputs are never modified');
    assert.is(findSkipped(s2, 1, 0, ecdhB), 1);
    assert.is(findSkipped(s2, 1, 0, ecdhA), -1, 'the ECDH key must match too');
    assert.is(findSkipped(s2, 2, 0, ecdhB), -1);
    assert.equal(removeSkipped(s2, 1).map((x) => x.messageId), [1, 1]);
    const { store: s3, dropped: d3 } = expireSkipped(s2, 40, 15);
    assert.equal(s3.map((x) => x.storedAt), [30]);
    assert.equal(d3.map((x) => x.storedAt), [10, 20]);
    assert.is(addSkipped(s2, [], 0).store.length, 0);
  });

  t.run();
}
