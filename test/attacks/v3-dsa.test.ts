/**
 * The peer's DSA key in the OTRv3 AKE (issue 10, "One message must not cost seconds of CPU"): the key inside
 * a Reveal Signature or Signature message is read by the one bounded DSA reader (ts/crypto/dsa.ts) — p of
 * 1024–3072 bits, q of exactly 160 bits, 1 < g < p, 1 < y < p — before any arithmetic. A peer with a key
 * outside the bounds cannot complete an AKE, and the honest AKE state is kept.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { modInverse, modPowBig } from '../../ts/backend/js/bigint-math.js';
import { bigToBytesBE, bytesToBigBE, concatBytes } from '../../ts/bytes.js';
import { armour, dearmour } from '../../ts/codec/armour.js';
import { encode } from '../../ts/codec/primitives.js';
import { type DsaPrivateKey, dsaGenerateKey, encodeDsaPublicKey, encodeDsaSignature } from '../../ts/crypto/dsa.js';
import { aesCtr, deriveAkeKeys, hmacSha256, hmacSha256_160, secBytes } from '../../ts/v3/crypto.js';
import { dhSharedV3 } from '../../ts/v3/group.js';
import { contextOf } from '../../ts/v3/instances.js';
import { decodeMessage, encodeMessage } from '../../ts/v3/messages.js';
import { V3Conversation, type V3Event } from '../../ts/v3/index.js';
import { MessageTypeV3 } from '../../ts/wire/header.js';
import { JS } from '../helpers/backends.js';
import { seededRandom } from '../helpers/rng.js';
import { makeSide } from '../interop/v3-pair.js';

/**
 * Mallory's Signature message with any DSA key: our own dsaSign refuses out-of-bounds keys, so she signs by
 * hand (textbook DSA) over exactly what the spec's M_A covers (§Signature Message).
 */
function forgedSignature(mallory: V3Conversation, revealText: string, key: DsaPrivateKey): string {
  const reveal = decodeMessage(dearmour(revealText));
  if (reveal.type !== MessageTypeV3.revealSignature) throw new Error('not a Reveal Signature');
  const ctx = contextOf(mallory.peerState, reveal.senderTag)!;
  if (ctx.auth.kind !== 'awaitingRevealSig') throw new Error('Mallory is not awaiting a Reveal Signature');
  const gxmpi = aesCtr(reveal.r, new Uint8Array(8), ctx.auth.encGx);
  const gx = bytesToBigBE(gxmpi.subarray(4));
  const keys = deriveAkeKeys(secBytes(dhSharedV3(JS, ctx.auth.ours.priv, gx)));
  const mpi = (v: bigint): Uint8Array => encode((w) => w.mpi(bigToBytesBE(v)));
  const pub = encodeDsaPublicKey(key);
  const keyid = encode((w) => w.int(1));
  const m = bytesToBigBE(hmacSha256(keys.m1Prime, concatBytes(mpi(ctx.auth.ours.pub), mpi(gx), pub, keyid))) % key.q;
  const k = 12345n;
  let sig = { r: 1n, s: 1n }; // for parameters that cannot sign at all: Bob must refuse the key before verifying
  try {
    const r = modPowBig(key.g, k, key.p) % key.q;
    sig = { r, s: (modInverse(k, key.q) * (m + key.x * r)) % key.q };
  } catch {
    /* keep the placeholder */
  }
  const encSig = aesCtr(keys.cPrime, new Uint8Array(8), concatBytes(pub, keyid, encodeDsaSignature(sig)));
  const mac = hmacSha256_160(keys.m2Prime, encode((w) => w.data(encSig)));
  return armour(encodeMessage({ type: MessageTypeV3.signature, senderTag: ctx.ourTag, receiverTag: reveal.senderTag, encSig, mac }));
}

/** Bob commits; Mallory (tag 0x66660100) answers and finishes with a Signature carrying `key`. */
function akeWith(key: DsaPrivateKey): { bob: V3Event[]; bobState: string } {
  const b = makeSide(JS, 'bob');
  const m = new V3Conversation({ backend: JS, dsaKey: large, instanceTag: 0x6666_0100, random: seededRandom(9), now: () => 1_700_000_000_000 });
  const bob: V3Event[] = [];
  const dhKey = b.conv.startAke().toSend.flatMap((x) => m.receive(x).toSend);
  const reveal = dhKey.flatMap((x) => b.conv.receive(x).toSend);
  assert.is(reveal.length, 1);
  bob.push(...b.conv.receive(forgedSignature(m, reveal[0]!, key)).events);
  return { bob, bobState: b.conv.msgstate };
}

const small = dsaGenerateKey(seededRandom(0x512), { pBits: 512, rounds: 10 });
const large = dsaGenerateKey(seededRandom(0x1024), { pBits: 1024, rounds: 10 });

test('a peer key with p below 1024 bits never completes an OTRv3 AKE', () => {
  const r = akeWith(small);
  assert.is(r.bobState, 'plaintext');
  assert.not.ok(r.bob.some((e) => e.type === 'encrypted'));
  assert.ok(r.bob.some((e) => e.type === 'ignored' && /DSA p/.test(e.reason)), JSON.stringify(r.bob));
});

test('control: the same hand-made Signature with a 1024-bit key completes the AKE', () => {
  const r = akeWith(large);
  assert.is(r.bobState, 'encrypted', JSON.stringify(r.bob));
});

test('keys outside the bounds in the AKE (q of 159 bits, g = 1, y = p + 1, p of 3080 bits) are refused while decoding', () => {
  const bad: [string, DsaPrivateKey][] = [
    ['q of 159 bits', { ...large, q: large.q >> 1n }],
    ['g = 1', { ...large, g: 1n }],
    ['y = p + 1', { ...large, y: large.p + 1n }],
    ['p of 3080 bits', { ...large, p: (1n << 3079n) + 1n }],
  ];
  for (const [what, key] of bad) {
    const r = akeWith(key);
    assert.is(r.bobState, 'plaintext', what);
    assert.not.ok(r.bob.some((e) => e.type === 'encrypted'), what);
    assert.ok(r.bob.some((e) => e.type === 'ignored' && e.code === 'MALFORMED'), `${what}: ${JSON.stringify(r.bob)}`);
  }
});

test.run();
