/**
 * The store of skipped message keys (otrv4.md §When you receive a Data Message, §Deletion of Stored Message
 * Keys), as plain data: an array of entries, oldest first. Every function returns a new array and never
 * modifies its input, so a receive that fails its MAC check leaves the caller's store untouched.
 *
 * Returned stores may be the input array itself when nothing changed; stores are never modified in place.
 *
 * An entry keeps MKenc and the extra symmetric key of one message that has not arrived, never the chain key
 * (a stored chain key would let a later compromise derive every following message key of that chain).
 * Entries are found by (ratchet id, message id), and the message's ECDH key must equal the chain's.
 *
 * Three bounds keep it small: a receive may add at most `maxSkip` entries (checked by the caller), the store
 * holds at most `maxStoredMessageKeys` (the oldest go first), and entries older than
 * `maxStoredMessageKeyAgeMs` are dropped. Dropped entries are returned, so their MAC keys can be revealed.
 */
import { equalBytes } from '../bytes.js';

export interface SkippedKey {
  /** The sender's ratchet id of the chain the key belongs to. */
  readonly ratchetId: number;
  /** The message id within that chain. */
  readonly messageId: number;
  /** The sender's public ECDH key of that chain (public; compared on lookup). */
  readonly theirEcdh: Uint8Array;
  /** MKenc (64 bytes, secret). MKmac is KDF(0x16, MKenc). */
  readonly mkEnc: Uint8Array;
  /** The message's base extra symmetric key (64 bytes, secret). */
  readonly esk: Uint8Array;
  /** When the key was stored, in the injected clock's milliseconds. */
  readonly storedAt: number;
}

export type SkippedStore = readonly SkippedKey[];

/** Index of the entry for (ratchetId, messageId) whose ECDH key is `theirEcdh`, or -1. */
export function findSkipped(store: SkippedStore, ratchetId: number, messageId: number, theirEcdh: Uint8Array): number {
  for (let n = 0; n < store.length; n++) {
    const e = store[n]!;
    if (e.ratchetId === ratchetId && e.messageId === messageId && equalBytes(e.theirEcdh, theirEcdh)) return n;
  }
  return -1;
}

/** The store without entry `index` (the entry itself is not wiped: the caller still uses it). */
export function removeSkipped(store: SkippedStore, index: number): SkippedStore {
  return store.filter((_, n) => n !== index);
}

/** No entries: shared by every answer that adds or drops nothing (never modified). */
export const NO_SKIPPED_KEYS: readonly SkippedKey[] = Object.freeze([]);

/**
 * Appends `added` (oldest first), then drops the oldest entries beyond `maxEntries`. Returns the new store
 * and the dropped entries, whose secrets the caller reveals (MKmac) and wipes once the new state is committed.
 */
export function addSkipped(store: SkippedStore, added: readonly SkippedKey[], maxEntries: number): { store: SkippedStore; dropped: readonly SkippedKey[] } {
  const limit = Math.max(0, maxEntries);
  if (added.length === 0 && store.length <= limit) return { store, dropped: NO_SKIPPED_KEYS }; // the common case: no copy
  const all = store.concat(added);
  const excess = Math.max(0, all.length - limit);
  return { store: all.slice(excess), dropped: all.slice(0, excess) };
}

/**
 * Whether an entry was stored more than `maxAgeMs` before `now`. Asked on every send and receive of every
 * session, almost always of an empty store: a plain loop, no closure and no result object.
 */
export function anyExpired(store: SkippedStore, now: number, maxAgeMs: number): boolean {
  for (let n = 0; n < store.length; n++) if (now - store[n]!.storedAt > maxAgeMs) return true;
  return false;
}

/** Drops entries stored more than `maxAgeMs` before `now`. Returns the kept store and the dropped entries. */
export function expireSkipped(store: SkippedStore, now: number, maxAgeMs: number): { store: SkippedStore; dropped: readonly SkippedKey[] } {
  if (!anyExpired(store, now, maxAgeMs)) return { store, dropped: NO_SKIPPED_KEYS }; // nothing expired: no copy
  const kept: SkippedKey[] = [];
  const dropped: SkippedKey[] = [];
  for (const e of store) (now - e.storedAt > maxAgeMs ? dropped : kept).push(e);
  return { store: kept, dropped };
}
