/**
 * Ed448 signing and verification of a 100-byte message (about a client profile's size). `wasm`/`js` run
 * ts/crypto/eddsa.ts on each backend through the public entry points (ed448Sign re-expands the secret each
 * call, as noble's sign does; OpenSSL's KeyObject keeps the expanded key, which is why `ed448.signExpanded`
 * is measured too); `native` is node:crypto with KeyObjects made once.
 */
import { createPrivateKey, createPublicKey, sign as nodeSign, verify as nodeVerify } from 'node:crypto';
import { ed448 } from '@noble/curves/ed448.js';
import type { BenchCase, BenchContext } from '../harness.js';
import { ed448KeyPair, ed448Sign, ed448SignExpanded, ed448Verify } from '../../ts/crypto/eddsa.js';

export function cases(ctx: BenchContext): BenchCase[] {
  const secret = Uint8Array.from({ length: 57 }, (_, i) => (i * 53 + 11) & 0xff);
  const msg = Uint8Array.from({ length: 100 }, (_, i) => (i * 29 + 7) & 0xff);
  const pub = ed448.getPublicKey(secret);
  const sig = ed448.sign(msg, secret);
  const b64 = (b: Uint8Array) => Buffer.from(b).toString('base64url');
  const priv = createPrivateKey({ key: { kty: 'OKP', crv: 'Ed448', d: b64(secret), x: b64(pub) }, format: 'jwk' });
  const pubKey = createPublicKey({ key: { kty: 'OKP', crv: 'Ed448', x: b64(pub) }, format: 'jwk' });
  const wasmKey = ed448KeyPair(ctx.wasm, secret);
  const jsKey = ed448KeyPair(ctx.js, secret);
  return [
    { name: 'ed448.sign', impl: 'wasm', fn: () => ed448Sign(ctx.wasm, secret, msg) },
    { name: 'ed448.sign', impl: 'js', fn: () => ed448Sign(ctx.js, secret, msg) },
    { name: 'ed448.sign', impl: 'noble', fn: () => ed448.sign(msg, secret) },
    { name: 'ed448.sign', impl: 'native', fn: () => nodeSign(null, msg, priv) },
    { name: 'ed448.signExpanded', impl: 'wasm', fn: () => ed448SignExpanded(ctx.wasm, wasmKey, msg) },
    { name: 'ed448.signExpanded', impl: 'js', fn: () => ed448SignExpanded(ctx.js, jsKey, msg) },
    { name: 'ed448.signExpanded', impl: 'native', fn: () => nodeSign(null, msg, priv) },
    { name: 'ed448.verify', impl: 'wasm', fn: () => ed448Verify(ctx.wasm, pub, msg, sig) },
    { name: 'ed448.verify', impl: 'js', fn: () => ed448Verify(ctx.js, pub, msg, sig) },
    { name: 'ed448.verify', impl: 'noble', fn: () => ed448.verify(sig, msg, pub) },
    { name: 'ed448.verify', impl: 'native', fn: () => nodeVerify(null, msg, pubKey, sig) },
  ];
}
