/**
 * hostile.server.*: the most expensive request of each kind an UNAUTHENTICATED client can make of the prekey
 * server core (PrekeyServer.handle / handleText), per backend (issue 10: no single unauthenticated message may
 * cost more CPU than one honest DAKE step). The rate limits are set out of the way so every request is fully
 * processed (the point is the cost of ONE request; the budgets are tested in test/attacks/). Everything costly
 * to build is built in `setup`, so a filtered bench run does not pay for it.
 *   hostile.server.dake1          a DAKE-1 with the attacker's own valid client profile carrying a DSA key and
 *                                 transitional signature, under a claimed identity (profile checks, DSA verify,
 *                                 DAKE-2 ring signature, ECDH: the server's full DAKE-1 step);
 *   hostile.server.dake1.bigp     a DAKE-1 whose signed profile carries a DSA p of 1 Mbit (refused while decoding);
 *   hostile.server.dake3.publish  a DAKE-3 with a forged ring signature carrying a publication of 255 prekey
 *                                 messages (~120 KB), to a pending DAKE: decode + ring verification (timed alone;
 *                                 the DAKE-1 that makes the DAKE pending is not counted);
 *   hostile.server.fetch.unknown  an ensemble query for an identity the server does not know;
 *   hostile.server.line.oversized a text line at the message-size limit (base64 decoded, then refused), and
 *   hostile.server.line.over      one character over it (refused on length);
 *   hostile.server.honest.dake3   the reference: a genuine DAKE-3 with a storage request (ring verification,
 *                                 MAC, store count), timed alone like the forged one.
 */
import type { BenchCase, BenchContext, Impl } from '../harness.js';
import type { CryptoBackend } from '../../ts/backend/types.js';
import { systemRandom } from '../../ts/crypto/random.js';
import { ed448KeyPair } from '../../ts/crypto/eddsa.js';
import { dsaGenerateKey, type DsaPrivateKey } from '../../ts/crypto/dsa.js';
import { createClientProfile, expiryFromNow, signClientProfile, type ClientProfile } from '../../ts/profile/client-profile.js';
import { generatePrekeyMessages, type PrekeySecrets } from '../../ts/prekey/index.js';
import { DEFAULT_LIMITS } from '../../ts/limits.js';
import { decodePsMessage, encodeDake1, encodeDake3, ensembleQuery, MemoryStore, PrekeyServer, receiveDake2, startServerDake, type PsRequest } from '../../ts/prekey-server/index.js';

const OPEN = { burst: 1e9, perSecond: 1e9 };
const SERVER = 'prekey.bench';
let dsa: DsaPrivateKey | undefined;
let prekeys: PrekeySecrets[] | undefined;

function server(b: CryptoBackend): PrekeyServer {
  return new PrekeyServer({
    backend: b,
    random: systemRandom,
    now: () => Date.now(),
    identity: SERVER,
    identitySecret: systemRandom(57),
    store: new MemoryStore(),
    publishRate: OPEN,
    fetchRate: OPEN,
    targetRate: OPEN,
    limits: { publishServerBurst: 1e9, publishServerPerSecond: 1e9, publishPrekeysBurst: 1e9, publishPrekeysPerSecond: 1e9, publishPrekeysServerBurst: 1e9, publishPrekeysServerPerSecond: 1e9, maxPendingDakes: 1 << 20 },
  });
}

function client(b: CryptoBackend, tag: number, withDsa: boolean): { identity: string; instanceTag: number; profile: ClientProfile; identityScalar: Uint8Array } {
  const secret = systemRandom(57);
  const profile = createClientProfile(b, {
    ownerTag: tag,
    identitySecret: secret,
    forgingKey: ed448KeyPair(b, systemRandom(57)).publicKey,
    versions: withDsa ? '34' : '4',
    expiry: expiryFromNow(Date.now(), 86400),
    ...(withDsa ? { dsaKey: (dsa ??= dsaGenerateKey(systemRandom)), random: systemRandom } : {}),
  });
  return { identity: `m${tag}@bench`, instanceTag: tag, profile, identityScalar: ed448KeyPair(b, secret).scalar };
}

/** Times `step` alone, `prepare` (untimed) before each; n rounds. */
async function timed(n: number, prepare: () => Promise<void>, step: () => Promise<unknown>): Promise<{ usPerOp: number; rme: number; samples: number }> {
  const xs: number[] = [];
  for (let i = 0; i < n; i++) {
    await prepare();
    const t = performance.now();
    await step();
    xs.push((performance.now() - t) * 1000);
  }
  const mean = xs.reduce((a, x) => a + x, 0) / n;
  const sd = Math.sqrt(xs.reduce((a, x) => a + (x - mean) ** 2, 0) / Math.max(1, n - 1));
  return { usPerOp: mean, rme: (100 * 1.96 * sd) / Math.sqrt(n) / mean, samples: n };
}

/** A DAKE-3 made by an honest client against `s` (a DAKE-1 sent, the DAKE-2 answered) carrying `request`. */
async function dake3For(b: CryptoBackend, s: PrekeyServer, local: ReturnType<typeof client>, request: PsRequest): Promise<Uint8Array> {
  const start = startServerDake(b, systemRandom, local);
  const r = await s.handle(local.identity, start.message);
  return receiveDake2(b, systemRandom, local, { identity: SERVER, publicKey: s.publicKey }, start.state, r.reply!, request).message;
}

function casesFor(b: CryptoBackend, impl: Impl): BenchCase[] {
  const out: BenchCase[] = [];
  {
    let s: PrekeyServer;
    let msgs: Uint8Array[] = [];
    let i = 0;
    out.push({
      name: 'hostile.server.dake1',
      impl,
      setup: async () => {
        s = server(b);
        msgs = Array.from({ length: 4 }, (_, k) => {
          const c = client(b, 0x6100_0000 + k, true);
          return startServerDake(b, systemRandom, c).message;
        });
      },
      fn: () => s.handle(`u${i}@bench`, msgs[i++ % msgs.length]!),
      deferred: true,
    });
  }
  {
    let s: PrekeyServer;
    let msg: Uint8Array;
    out.push({
      name: 'hostile.server.dake1.bigp',
      impl,
      setup: async () => {
        s = server(b);
        const secret = systemRandom(57);
        const q = (dsa ??= dsaGenerateKey(systemRandom)).q;
        const profile = signClientProfile(
          b,
          {
            ownerTag: 0x6200_0000,
            identityKey: ed448KeyPair(b, secret).publicKey,
            forgingKey: ed448KeyPair(b, systemRandom(57)).publicKey,
            versions: '34',
            expiry: expiryFromNow(Date.now(), 86400),
            dsaKey: { p: 2n * ((1n << 999_999n) / q) * q + 1n, q, g: 2n, y: 3n },
            transitionalSignature: systemRandom(40),
          },
          secret,
        );
        msg = encodeDake1({ senderTag: 0x6200_0000, profile, i: ed448KeyPair(b, systemRandom(57)).publicKey });
      },
      fn: () => s.handle('mallory@bench', msg),
      deferred: true,
    });
  }
  {
    out.push({
      name: 'hostile.server.dake3.publish',
      impl,
      fn: () => undefined,
      measure: async () => {
        const s = server(b);
        const c = client(b, 0x6300_0000, false);
        prekeys ??= generatePrekeyMessages(b, systemRandom, 0x6300_0000, 255);
        const genuine = decodePsMessage(await dake3For(b, s, c, { kind: 'publish', prekeys })) as { sigma: Uint8Array; message: Uint8Array };
        const sigma = genuine.sigma.slice();
        sigma[10]! ^= 1;
        const forged = encodeDake3({ senderTag: c.instanceTag, sigma, message: genuine.message });
        const dake1 = startServerDake(b, systemRandom, c).message;
        return timed(
          20,
          async () => void (await s.handle(c.identity, dake1)),
          async () => {
            const r = await s.handle(c.identity, forged);
            if (r.error?.code !== 'BAD_SIGNATURE') throw new Error(`forged DAKE-3 not refused: ${r.error?.message}`);
          },
        );
      },
    });
  }
  {
    let s: PrekeyServer;
    const q = ensembleQuery(0x6400_0000, 'nobody@bench');
    out.push({ name: 'hostile.server.fetch.unknown', impl, setup: async () => void (s = server(b)), fn: () => s.handle('mallory@bench', q), deferred: true });
  }
  {
    let s: PrekeyServer;
    const max = DEFAULT_LIMITS.maxServerMessageChars;
    const atLimit = `${'A'.repeat(max - 1 - ((max - 1) % 4))}.`;
    const over = `${'A'.repeat(max)}.`;
    out.push({ name: 'hostile.server.line.oversized', impl, setup: async () => void (s = server(b)), fn: () => s.handleText('mallory@bench', atLimit), deferred: true });
    out.push({ name: 'hostile.server.line.over', impl, setup: async () => void (s = server(b)), fn: () => s.handleText('mallory@bench', over), deferred: true });
  }
  {
    out.push({
      name: 'hostile.server.honest.dake3',
      impl,
      fn: () => undefined,
      measure: async () => {
        const s = server(b);
        const c = client(b, 0x6500_0000, false);
        let d3: Uint8Array = new Uint8Array();
        return timed(
          20,
          async () => void (d3 = await dake3For(b, s, c, { kind: 'storage-status' })),
          async () => {
            const r = await s.handle(c.identity, d3);
            if (!r.reply || r.request !== 'storage-status') throw new Error(`honest DAKE-3 refused: ${r.error?.message}`);
          },
        );
      },
    });
  }
  return out;
}

export function cases(ctx: BenchContext): BenchCase[] {
  return [...casesFor(ctx.wasm, 'wasm'), ...casesFor(ctx.js, 'js')];
}
