/**
 * Review of session 6's record AEAD in WASM (ts/backend/wasm/aead.ts): the sealing key goes into the module's
 * memory before the associated data and the record; an input that makes the copy throw after that must not
 * leave the key (or the record) there. Also pins the exact area limits (AAD of 4,096 bytes in the module,
 * 4,097 through the fallback; a record of exactly the data area) against noble, zero lengths included.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { randomBytes as nodeRandomBytes } from 'node:crypto';
import { nobleAead } from '../../ts/store/aead-noble.js';
import type { SealAead } from '../../ts/store/aead.js';
import { aeadOps } from '../../ts/backend/wasm/aead.js';
import { backendSealAead } from '../../ts/store/aead-backend.js';
import type { WasmBackend } from '../../ts/backend/wasm/index.js';
import type { WasmContext } from '../../ts/backend/wasm/context.js';
import { WASM } from '../helpers/backends.js';

const ctx: WasmContext = (WASM as WasmBackend).context;
const simdCtx: WasmContext | undefined = (WASM as WasmBackend).simdContext;
const PATHS: readonly [string, SealAead][] = [['scalar', backendSealAead(aeadOps(ctx), nobleAead)!], ['simd', backendSealAead(aeadOps(ctx, simdCtx), nobleAead)!]];
const randomBytes = (n: number) => Uint8Array.from(nodeRandomBytes(n));
const dataMax = ctx.io + ctx.ioSize - (ctx.exports.chacha20_data() as number);
const aadMax = ctx.exports.aead_aad_max() as number;

function inMemory(needle: Uint8Array): boolean {
  for (const c of [ctx, simdCtx]) if (c && Buffer.from(c.mem.buffer).indexOf(Buffer.from(needle)) >= 0) return true;
  return false;
}

/** A Uint8Array whose buffer was transferred away (as a pool transfer leaves it): length 0, and copying from it throws. */
function detached(n: number): Uint8Array {
  const a = new Uint8Array(n);
  structuredClone(a.buffer, { transfer: [a.buffer] });
  return a;
}

test('attack: a copy that throws after the key went in (detached AAD or record) leaves no key nor record in the module', () => {
  for (const [name, aead] of PATHS) {
    const key = randomBytes(32);
    const nonce = randomBytes(24);
    const plain = randomBytes(200);
    // Detached AAD: length 0 passes the checks, copying it throws.
    assert.throws(() => aead.encryptInto(key, nonce, detached(10), plain, new Uint8Array(216)));
    assert.not.ok(inMemory(key), `${name} seal, detached AAD: the key was left in the module's memory`);
    const sealed = new Uint8Array(216);
    aead.encryptInto(key, nonce, new Uint8Array(0), plain, sealed);
    assert.throws(() => aead.decrypt(key, nonce, detached(10), sealed));
    assert.not.ok(inMemory(key), `${name} open, detached AAD: the key was left in the module's memory`);
    // Detached record: length 0, copying it throws after the key went in.
    assert.throws(() => aead.encryptInto(key, nonce, new Uint8Array(3), detached(50), new Uint8Array(16)));
    assert.not.ok(inMemory(key), `${name} seal, detached record: the key was left in the module's memory`);
    assert.not.ok(inMemory(plain.subarray(0, 32)), `${name}: the record was left in the module's memory`);
  }
});

test('safe: AAD of exactly the module\'s area and one byte past it, records of 0 and exactly the data area: noble\'s bytes, and they open', () => {
  assert.is(aadMax, 4096);
  for (const [name, aead] of PATHS) {
    for (const [aadLen, len] of [[aadMax, 0], [aadMax, 100], [aadMax + 1, 100], [0, 0], [0, dataMax], [aadMax, dataMax], [aadMax + 1, dataMax + 1]]) {
      const key = randomBytes(32);
      const nonce = randomBytes(24);
      const aad = randomBytes(aadLen!);
      const plain = randomBytes(len!);
      const a = new Uint8Array(len! + 16);
      const b = new Uint8Array(len! + 16);
      aead.encryptInto(key, nonce, aad, plain, a);
      nobleAead.encryptInto(key, nonce, aad, plain, b);
      assert.ok(Buffer.from(a).equals(Buffer.from(b)), `${name}: aad ${aadLen}, record ${len}`);
      assert.ok(Buffer.from(aead.decrypt(key, nonce, aad, a)).equals(Buffer.from(plain)));
      a[a.length - 1]! ^= 1;
      assert.throws(() => aead.decrypt(key, nonce, aad, a), /invalid tag|invalid/i);
      assert.not.ok(inMemory(key), `${name}: key left after aad ${aadLen}, record ${len}`);
    }
    // Shorter than a tag, wrong key and nonce lengths: refused before anything enters the module.
    assert.throws(() => aead.decrypt(randomBytes(32), randomBytes(24), new Uint8Array(0), new Uint8Array(15)));
    assert.throws(() => aead.encryptInto(randomBytes(31), randomBytes(24), new Uint8Array(0), new Uint8Array(1), new Uint8Array(17)));
    assert.throws(() => aead.encryptInto(randomBytes(32), randomBytes(24), new Uint8Array(0), new Uint8Array(1), new Uint8Array(16)));
  }
});

test.run();
