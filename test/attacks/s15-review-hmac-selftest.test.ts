/**
 * Attack (session 15, review of session 14's WASM HMAC-SHA1 and its start-up check): the self-test that guards
 * against a miscompiled, truncated or altered module (ts/backend/selftest.ts) checked OTRv3's HMAC-SHA1 with one
 * RFC 2202 vector — a 4-byte key and 28 bytes of data. That runs one path of assembly/sha1.ts only: the one-call
 * export with a key under a block and data under a block. The module has three more, all on OTRv3's receive
 * path: whole blocks hashed straight from the data (every message over 64 bytes), a key over a block hashed
 * first, and the streamed exports (hmac_sha1_key / sha1_update / hmac_sha1_final) for messages over the I/O
 * region. A fault in any of them passed the self-test; the backend was used, and every such OTRv3 message was
 * refused as forged (BAD_MAC) — or, with a fault that ignores part of the data, accepted unauthenticated.
 *
 * The plants below are each one such fault, made by wrapping one export of a real module (the rest exact):
 * each must make the self-test fail on 'hmac-sha1', so the WASM backend is refused for JS.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { chooseWasmBackend, instantiateWasmModules } from '../../ts/backend/wasm/index.js';
import { hmacOps } from '../../ts/backend/wasm/hmac.js';
import type { WasmContext } from '../../ts/backend/wasm/context.js';
import type { CryptoBackend } from '../../ts/backend/types.js';
import { selfTest } from '../../ts/backend/selftest.js';
import { OtrError } from '../../ts/errors.js';

const { main, simd } = await instantiateWasmModules();
const good = chooseWasmBackend({ main, simd });

/** `main` with one export replaced by `wrap(real)`. */
function planted(name: string, wrap: (real: (...a: number[]) => void) => (...a: number[]) => void): WasmContext {
  const real = main.exports[name] as (...a: number[]) => void;
  return { ...main, exports: { ...main.exports, [name]: wrap(real) } };
}

const plants: Record<string, WasmContext> = {
  // A fault in the streamed MAC only (its key set-up): messages over the I/O region.
  'streamed key set-up': planted('hmac_sha1_key', (real) => (k) => {
    main.mem[main.io]! ^= 1;
    real(k);
  }),
  // A fault in the streamed data only.
  'streamed data': planted('sha1_update', (real) => (n) => {
    if (n > 100) main.mem[main.io + 100]! ^= 1;
    real(n);
  }),
  // The one-call MAC wrong on data past its first block (the whole-block loop): every message over 64 bytes.
  'data past one block': planted('hmac_sha1', (real) => (k, n) => {
    if (n > 64) main.mem[main.io + k + 64]! ^= 1;
    real(k, n);
  }),
  // The one-call MAC wrong on a key over a block (RFC 2104 hashes it first).
  'key over one block': planted('hmac_sha1', (real) => (k, n) => {
    if (k > 64) main.mem[main.io + 64]! ^= 1;
    real(k, n);
  }),
};

test('each plant is a real fault: on its path the planted module MACs wrong', () => {
  const key = new Uint8Array(20).fill(7);
  const long = new Uint8Array(100).fill(9);
  const io = main.ioSize;
  const cases: Record<string, [Uint8Array, Uint8Array]> = {
    'streamed key set-up': [key, new Uint8Array(io + 10)],
    'streamed data': [key, new Uint8Array(io + 10)],
    'data past one block': [key, new Uint8Array(200)],
    'key over one block': [long, new Uint8Array(10)],
  };
  for (const [name, ctx] of Object.entries(plants)) {
    const [k, d] = cases[name]!;
    assert.not.equal(hmacOps(ctx).hmacSha1!(k, d), good.hmacSha1!(k, d), name);
    // And right on RFC 2202's second case (key "Jefe", 28 bytes): the one check the self-test made.
    const jefe = new TextEncoder().encode('Jefe');
    const q = new TextEncoder().encode('what do ya want for nothing?');
    assert.equal(hmacOps(ctx).hmacSha1!(jefe, q), good.hmacSha1!(jefe, q), `${name}: right on RFC 2202 case 2`);
  }
});

test('the self-test fails a backend whose HMAC-SHA1 is wrong on any of its paths, and the WASM backend is refused', () => {
  for (const [name, ctx] of Object.entries(plants)) {
    const bad: CryptoBackend = { ...good, ...hmacOps(ctx) };
    assert.is(selfTest(bad), 'hmac-sha1', name);
    try {
      chooseWasmBackend({ main: ctx, simd });
      assert.unreachable(`${name}: a module whose HMAC-SHA1 computes wrong was accepted`);
    } catch (e) {
      assert.instance(e, OtrError, name);
      assert.is((e as OtrError).code, 'BACKEND', name);
    }
  }
  // The real module passes.
  assert.is(selfTest(good), undefined);
});

test.run();
