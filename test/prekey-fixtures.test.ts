/**
 * Shared fixtures of the prekey / offline / prekey-server suites (imported by them), and the check that the
 * fixtures themselves produce valid ensembles on both backends.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { CryptoBackend } from '../ts/backend/types.js';
import type { RandomSource } from '../ts/crypto/random.js';
import { ed448KeyPair } from '../ts/crypto/eddsa.js';
import { createClientProfile, expiryFromNow, type ClientProfile } from '../ts/profile/client-profile.js';
import {
  addPrekeyProfile,
  addPrekeys,
  createPrekeyProfile,
  EMPTY_PREKEY_OWNER_STATE,
  generatePrekeyMessages,
  validateEnsemble,
  type PrekeyEnsemble,
  type PrekeyOwnerState,
  type PrekeyProfileWithSecret,
  type PrekeySecrets,
} from '../ts/prekey/index.js';
import type { OfflineLocal } from '../ts/offline/index.js';
import { BACKENDS, WASM } from './helpers/backends.js';
import { countingBackend } from './helpers/counting-backend.js';
import { MemoryStore, PrekeyServer, type PrekeyServerOptions, type PsServerInfo } from '../ts/prekey-server/index.js';
import { resolveLimits, type Limits } from '../ts/limits.js';
import { inProcessTransport } from './helpers/prekey-transport.js';
import { seededRandom } from './helpers/rng.js';

export const NOW_MS = 1_700_000_000_000;
const enc = new TextEncoder();

/**
 * A prekey server's two clocks, settable: the wall clock `now` (profile and prekey expiry; a test may step it
 * either way) and the monotonic `mono` (pending DAKEs' ages, rate-limit buckets). `elapse` is time passing: both
 * move. `options` is what the server takes.
 */
export function serverClock(now = NOW_MS) {
  const clock = {
    now,
    mono: 0,
    elapse(ms: number) {
      clock.now += ms;
      clock.mono += ms;
    },
    options: { now: () => clock.now, monotonicNow: () => clock.mono },
  };
  return clock;
}

/** A prekey server 'prekey.example.org' on `serverClock()` with a memory store (given the server's limits), and an in-process transport to it. */
export function clockedPrekeyServer(b: CryptoBackend, seed: number, opts: Partial<PrekeyServerOptions> = {}) {
  const clock = serverClock();
  // Storage limits are the store's to enforce: give it the same ones.
  const store = new MemoryStore(resolveLimits(opts.limits));
  const server = new PrekeyServer({
    backend: b,
    random: seededRandom(seed),
    ...clock.options,
    identity: 'prekey.example.org',
    identitySecret: seededRandom(seed + 1)(57),
    store,
    ...opts,
  });
  const info: PsServerInfo = { identity: 'prekey.example.org', publicKey: server.publicKey };
  const transport = inProcessTransport(server);
  return { clock, store, server, info, transport };
}

/**
 * A prekey server 'prekey.test' on a counting WASM backend with a settable clock and a memory store: the
 * hostile-cost tests count the server's work per request (never time it).
 */
export function countedPrekeyServer(seed: number, limits: Partial<Limits>) {
  const counted = countingBackend(WASM);
  const rnd = seededRandom(seed);
  const clock = serverClock();
  const store = new MemoryStore();
  const server = new PrekeyServer({
    backend: counted.backend,
    random: rnd,
    ...clock.options,
    identity: 'prekey.test',
    identitySecret: seededRandom(seed + 1)(57),
    store,
    limits,
  });
  return { counted, rnd, clock, store, server, info: { identity: 'prekey.test', publicKey: server.publicKey } };
}

export interface Party {
  readonly identitySecret: Uint8Array;
  readonly identityScalar: Uint8Array;
  readonly profile: ClientProfile;
  readonly local: OfflineLocal;
}

export function makeParty(b: CryptoBackend, random: RandomSource, tag: number, account: string, peer: string, nowMs = NOW_MS): Party {
  const identitySecret = random(57);
  const identityScalar = ed448KeyPair(b, identitySecret).scalar;
  const forgingKey = ed448KeyPair(b, random(57)).publicKey;
  const profile = createClientProfile(b, { ownerTag: tag, identitySecret, forgingKey, versions: '4', expiry: expiryFromNow(nowMs) });
  return {
    identitySecret,
    identityScalar,
    profile,
    local: { instanceTag: tag, profile, identityScalar, accountId: enc.encode(account), peerAccountId: enc.encode(peer) },
  };
}

export interface Publisher extends Party {
  readonly prekeyProfile: PrekeyProfileWithSecret;
  readonly prekeys: PrekeySecrets[];
  owner: PrekeyOwnerState;
  readonly ensembles: PrekeyEnsemble[];
}

export function makePublisher(b: CryptoBackend, random: RandomSource, tag: number, count: number, account = 'bob@example.org', peer = 'alice@example.org', nowMs = NOW_MS): Publisher {
  const party = makeParty(b, random, tag, account, peer, nowMs);
  const prekeyProfile = createPrekeyProfile(b, random, { ownerTag: tag, identitySecret: party.identitySecret, expiry: expiryFromNow(nowMs) });
  const prekeys = generatePrekeyMessages(b, random, tag, count);
  let owner = addPrekeyProfile(EMPTY_PREKEY_OWNER_STATE, prekeyProfile);
  owner = addPrekeys(owner, prekeys, nowMs);
  const ensembles = prekeys.map((p) => ({ clientProfile: party.profile, prekeyProfile: prekeyProfile.profile, prekeyMessage: p.message }));
  return { ...party, prekeyProfile, prekeys, owner, ensembles };
}

for (const b of BACKENDS) {
  test(`[${b.name}] fixtures: a publisher's ensembles validate`, () => {
    const bob = makePublisher(b, seededRandom(1), 0x1234, 2);
    assert.is(bob.ensembles.length, 2);
    for (const e of bob.ensembles) validateEnsemble(b, e, { nowMs: NOW_MS });
    assert.is(bob.owner.prekeys.length, 2);
    assert.is(bob.owner.profiles.length, 1);
  });
}

test.run();
