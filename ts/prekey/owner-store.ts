/**
 * What a prekey owner keeps (otrv4.md §Prekey Message, §Prekey Profile, §Publishing Prekey Ensembles): the
 * secrets y and b of every published, unused prekey message, and the secret sk_d of each prekey profile that
 * is current or within its grace period. Plain data, pure transitions, persisted with the versioned state
 * codec (kind "prekey-owner").
 *
 * Use-once: `consumePrekey` returns the entry and a new state without it, and the non-interactive DAKE only
 * adopts that new state after the Non-Interactive-Auth message verifies. The caller must persist the new
 * state before acting on the conversation: a prekey whose entry is gone can never be used again, so a
 * replayed Non-Interactive-Auth message is refused.
 */
import { wipe } from '../bytes.js';
import { OtrArgumentError, OtrDecodeError, OtrLimitError } from '../errors.js';
import type { EcdhKeyPair } from '../crypto/ecdh.js';
import type { DhKeyPair } from '../crypto/dh.js';
import { decodeState, encodeState, expect, type StateValue } from '../session/state-codec.js';
import { decodePrekeyProfile, isPrekeyProfileExpired, type PrekeyProfile } from './prekey-profile.js';
import type { PrekeySecrets } from './prekey-message.js';
import { DEFAULT_LIMITS } from '../limits.js';

export interface OwnerPrekey {
  readonly id: number;
  readonly ownerTag: number;
  readonly ecdh: EcdhKeyPair;
  readonly dh: DhKeyPair;
  /** When it was generated (ms), so a host can expire prekeys the server never handed out. */
  readonly createdMs: number;
}

export interface OwnerPrekeyProfile {
  readonly profile: PrekeyProfile;
  /** sk_d. */
  readonly sharedPrekeySecret: Uint8Array;
}

export interface PrekeyOwnerState {
  readonly prekeys: readonly OwnerPrekey[];
  /** Newest first. */
  readonly profiles: readonly OwnerPrekeyProfile[];
}

export const EMPTY_PREKEY_OWNER_STATE: PrekeyOwnerState = Object.freeze({ prekeys: Object.freeze([]), profiles: Object.freeze([]) });

/** The ids still stored (pass to generatePrekeyMessages so new ids never collide). */
export function ownerPrekeyIds(s: PrekeyOwnerState): Set<number> {
  return new Set(s.prekeys.map((p) => p.id));
}

/** Adds a generated batch (after, or just before, publishing it). */
export function addPrekeys(s: PrekeyOwnerState, batch: readonly PrekeySecrets[], nowMs: number, max = DEFAULT_LIMITS.maxOwnerPrekeys): PrekeyOwnerState {
  if (s.prekeys.length + batch.length > max) throw new OtrLimitError(`an owner keeps at most ${max} unused prekeys`);
  const ids = ownerPrekeyIds(s);
  const added: OwnerPrekey[] = [];
  for (const p of batch) {
    if (ids.has(p.message.id)) throw new OtrArgumentError('duplicate prekey message id');
    ids.add(p.message.id);
    added.push({ id: p.message.id, ownerTag: p.message.ownerTag, ecdh: p.ecdh, dh: p.dh, createdMs: nowMs });
  }
  return { prekeys: [...s.prekeys, ...added], profiles: s.profiles };
}

/**
 * Prekey profiles an owner keeps: far above the one current profile plus those in their grace time, and the
 * bound decodePrekeyOwnerState reads back, so a state that was added to can always be restored.
 */
export const MAX_OWNER_PREKEY_PROFILES = DEFAULT_LIMITS.maxOwnerPrekeyProfiles;

/** Adds a new prekey profile (it becomes the current one). OtrLimitError when full: prune first. */
export function addPrekeyProfile(s: PrekeyOwnerState, p: OwnerPrekeyProfile): PrekeyOwnerState {
  if (s.profiles.length >= MAX_OWNER_PREKEY_PROFILES)
    throw new OtrLimitError(`an owner keeps at most ${MAX_OWNER_PREKEY_PROFILES} prekey profiles (prune expired ones)`);
  return { prekeys: s.prekeys, profiles: [p, ...s.profiles] };
}

/** The entry for `id` and the state without it; undefined if it was never stored or is already used. */
export function consumePrekey(s: PrekeyOwnerState, id: number): { prekey: OwnerPrekey; state: PrekeyOwnerState } | undefined {
  const i = s.prekeys.findIndex((p) => p.id === id);
  if (i < 0) return undefined;
  return { prekey: s.prekeys[i]!, state: { prekeys: [...s.prekeys.slice(0, i), ...s.prekeys.slice(i + 1)], profiles: s.profiles } };
}

/** Prekey profiles still usable locally at `nowMs` (the grace period is the spec's extra local validity). */
export function usablePrekeyProfiles(s: PrekeyOwnerState, nowMs: number, graceSeconds: number): OwnerPrekeyProfile[] {
  return s.profiles.filter((p) => !isPrekeyProfileExpired(p.profile, nowMs, graceSeconds));
}

/**
 * Drops (and wipes) profiles past expiry + grace and prekeys older than `maxPrekeyAgeMs` (when given). After
 * this the dropped secrets are gone for good: offline messages for them can no longer be read, which is the
 * forward secrecy the expiry buys.
 */
export function prunePrekeyOwnerState(s: PrekeyOwnerState, nowMs: number, graceSeconds: number, maxPrekeyAgeMs?: number): PrekeyOwnerState {
  const profiles = usablePrekeyProfiles(s, nowMs, graceSeconds);
  for (const p of s.profiles) if (!profiles.includes(p)) wipe(p.sharedPrekeySecret);
  const prekeys = maxPrekeyAgeMs === undefined ? s.prekeys : s.prekeys.filter((p) => nowMs - p.createdMs < maxPrekeyAgeMs);
  for (const p of s.prekeys) if (!prekeys.includes(p)) wipe(p.ecdh.secret, p.dh.secret);
  return { prekeys, profiles };
}

/** Wipes every secret (when the account is deleted). */
export function wipePrekeyOwnerState(s: PrekeyOwnerState): void {
  for (const p of s.prekeys) wipe(p.ecdh.secret, p.dh.secret);
  for (const p of s.profiles) wipe(p.sharedPrekeySecret);
}

// ---- persistence ----

const KIND = 'prekey-owner';

export function encodePrekeyOwnerState(s: PrekeyOwnerState): Uint8Array {
  const value: StateValue = {
    prekeys: s.prekeys.map((p) => ({
      id: p.id,
      ownerTag: p.ownerTag,
      ecdhSecret: p.ecdh.secret,
      ecdhPublic: p.ecdh.public,
      dhSecret: p.dh.secret,
      dhPublic: p.dh.public,
      createdMs: p.createdMs,
    })),
    profiles: s.profiles.map((p) => ({ profile: p.profile.encoded, secret: p.sharedPrekeySecret })),
  };
  return encodeState(KIND, value);
}

/** Restores a state written by encodePrekeyOwnerState; anything else is an OtrDecodeError. */
export function decodePrekeyOwnerState(bytes: Uint8Array, maxPrekeys = DEFAULT_LIMITS.maxOwnerPrekeys): PrekeyOwnerState {
  const root = expect.record(decodeState(KIND, bytes), 'prekey owner state');
  const prekeys = expect.array(root.prekeys, 'prekeys', maxPrekeys).map((v, i): OwnerPrekey => {
    const r = expect.record(v, `prekey ${i}`);
    return {
      id: expect.uint(r.id, 'prekey id', 0xffffffff),
      ownerTag: expect.uint(r.ownerTag, 'prekey owner tag', 0xffffffff),
      ecdh: { secret: expect.bytes(r.ecdhSecret, 'y', 57), public: expect.bytes(r.ecdhPublic, 'Y', 57) },
      dh: { secret: expect.bytes(r.dhSecret, 'b'), public: expect.bytes(r.dhPublic, 'B') },
      createdMs: expect.number(r.createdMs, 'createdMs'),
    };
  });
  const profiles = expect.array(root.profiles, 'profiles', MAX_OWNER_PREKEY_PROFILES).map((v, i): OwnerPrekeyProfile => {
    const r = expect.record(v, `profile ${i}`);
    return { profile: decodePrekeyProfile(expect.bytes(r.profile, 'prekey profile')), sharedPrekeySecret: expect.bytes(r.secret, 'sk_d', 57) };
  });
  if (new Set(prekeys.map((p) => p.id)).size !== prekeys.length) throw new OtrDecodeError('state: duplicate prekey ids');
  return { prekeys, profiles };
}
