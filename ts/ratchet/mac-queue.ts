/**
 * The MAC keys a ratchet state still has to reveal (otrv4.md §Revealing MAC Keys), held as ONE byte array:
 * the 64-byte keys concatenated, oldest first — exactly the `revealed MAC keys` field of the data message that
 * reveals them, and what the persisted record stores (session/persist.ts). A receiver that does not send (a
 * one-way stream) queues one key per message, up to limits.maxMacKeysToReveal; held as one array, a message
 * appends 64 bytes in place (amortised O(1)) and a record writes the queue with one copy, where an array of
 * key objects cost one object and one encoder call per queued key on every message (O(queue) per message).
 *
 * A queue is a view into a buffer with room past its end. Ratchet states are immutable values that share
 * such buffers, so the buffer remembers which view OWNS it: the one whose start and end it recorded when it
 * last made one. Only the owner appends in place (into bytes past its end, which no view covers) or drops
 * its oldest keys in place (wiping them); any other view — a stale state kept by mistake, a copy made with
 * cloneRatchetState, a restored array — is copied into a fresh buffer first. So appending or trimming
 * through one state never changes a byte another state sees. Releasing the owner (the keys were revealed, or
 * the state is wiped) wipes its whole buffer.
 */
import { wipe } from '../bytes.js';

/** One queued MAC key (MKmac): 64 bytes. */
export const MAC_KEY_BYTES = 64;

/** The empty queue, shared (never written: it has no room and no owner). */
export const NO_MAC_KEYS: Uint8Array = new Uint8Array(0);

/** Room made for the first keys of a queue: 16 keys. Grows by doubling, so a key costs O(1) amortised. */
const FIRST_ROOM = 16 * MAC_KEY_BYTES;

/** The owner of each queue buffer: the start and end (byte offsets) of the one view allowed to write in it. */
const owners = new WeakMap<ArrayBufferLike, { start: number; end: number }>();

/** How many keys `queue` holds. */
export function macKeyCount(queue: Uint8Array): number {
  return queue.length / MAC_KEY_BYTES;
}

function ownsBuffer(queue: Uint8Array): { start: number; end: number } | undefined {
  if (queue.length === 0) return undefined;
  const o = owners.get(queue.buffer);
  return o !== undefined && o.start === queue.byteOffset && o.end === queue.byteOffset + queue.length ? o : undefined;
}

/** A fresh owned buffer holding `keep` followed by room for at least `extra` more bytes; `keep` is not changed. */
function copied(keep: Uint8Array, extra: number): Uint8Array {
  const n = keep.length + extra;
  const room = Math.max(FIRST_ROOM, 2 * n);
  const out = new Uint8Array(new ArrayBuffer(room), 0, keep.length);
  out.set(keep);
  owners.set(out.buffer, { start: 0, end: keep.length });
  return out;
}

/**
 * `queue` with `key` (64 bytes) appended, as a new view: in place when `queue` owns its buffer and there is
 * room, else in a fresh buffer (twice the size). The bytes `queue` shows never change; when the owner moves to
 * a fresh buffer, the old one — whose only writer was `queue`, a state being consumed — is wiped.
 */
export function appendMacKey(queue: Uint8Array, key: Uint8Array): Uint8Array {
  if (key.length !== MAC_KEY_BYTES) throw new RangeError('a MAC key is 64 bytes');
  let base = queue;
  let owner = ownsBuffer(queue);
  if (owner === undefined || owner.end + MAC_KEY_BYTES > queue.buffer.byteLength) {
    base = copied(queue, MAC_KEY_BYTES);
    // The consumed owner's buffer goes now (its keys live on in the copy); a non-owner's bytes are another
    // state's and stay.
    if (owner !== undefined) releaseMacKeys(queue);
    owner = owners.get(base.buffer)!;
  }
  const n = base.length;
  const out = new Uint8Array(base.buffer, base.byteOffset, n + MAC_KEY_BYTES);
  out.set(key, n);
  owner.end += MAC_KEY_BYTES;
  return out;
}

/**
 * `queue` without its `count` oldest keys (count ≥ the queue's size: empty). The owner's dropped keys are wiped
 * in place and the rest stays its buffer's owner; any other view's rest is copied into a fresh owned buffer
 * (its bytes are another state's too, so nothing of them is wiped unless no queue tracks them).
 */
export function dropOldestMacKeys(queue: Uint8Array, count: number): Uint8Array {
  const cut = Math.min(queue.length, Math.max(0, count) * MAC_KEY_BYTES);
  if (cut === 0) return queue;
  if (cut === queue.length) {
    releaseMacKeys(queue);
    return NO_MAC_KEYS;
  }
  const owner = ownsBuffer(queue);
  if (owner === undefined) {
    const rest = copied(queue.subarray(cut), 0);
    if (!owners.has(queue.buffer)) wipe(queue.subarray(0, cut));
    return rest;
  }
  wipe(queue.subarray(0, cut));
  owner.start += cut;
  return queue.subarray(cut);
}

/**
 * Done with `queue` (its keys were revealed or the state is wiped): the owner's whole buffer is wiped and
 * forgotten. A view that does not own a tracked buffer (a stale state's) wipes nothing: its bytes are the
 * owner's too. An untracked array (built outside this module) is wiped, as the key arrays always were.
 */
export function releaseMacKeys(queue: Uint8Array): void {
  if (queue.length === 0) return;
  if (ownsBuffer(queue) !== undefined) {
    new Uint8Array(queue.buffer).fill(0);
    owners.delete(queue.buffer);
  } else if (!owners.has(queue.buffer)) wipe(queue);
}

/** An owned queue holding a copy of `keys` (64 bytes each, concatenated): a restored or cloned queue. */
export function macKeysFrom(keys: Uint8Array): Uint8Array {
  if (keys.length % MAC_KEY_BYTES !== 0) throw new RangeError('MAC keys are 64 bytes each');
  return keys.length === 0 ? NO_MAC_KEYS : copied(keys, 0);
}

/** The keys one by one (views), oldest first: for tests and callers that want them apart. */
export function macKeysOf(queue: Uint8Array): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (let at = 0; at < queue.length; at += MAC_KEY_BYTES) out.push(queue.subarray(at, at + MAC_KEY_BYTES));
  return out;
}

/**
 * One owned queue: `older`'s keys then `newer`'s, at most `cap` — the newest (the oldest wiped unrevealed, as
 * the receive path's bound does: that makes those messages less forgeable, never less secure). Consumes both
 * (`newer` is released; `older` is extended, in place when it owns its buffer). For queues handed from an ended
 * or replaced session to the next (receive.ts inheritMacKeys, session/conversation.ts endedMacKeys).
 */
export function joinMacKeys(older: Uint8Array, newer: Uint8Array, cap: number): Uint8Array {
  let out = older;
  for (let at = 0; at < newer.length; at += MAC_KEY_BYTES) out = appendMacKey(out, newer.subarray(at, at + MAC_KEY_BYTES));
  releaseMacKeys(newer);
  return keepNewestMacKeys(out, cap);
}

/**
 * `queue` with at most `cap` keys (never fewer than 1 allowed): the newest, the oldest wiped unrevealed
 * (dropOldestMacKeys). The bound of the queues joinMacKeys makes, and of the same queues restored from a record
 * written under a higher limit (session/ended-mac-keys.ts).
 */
export function keepNewestMacKeys(queue: Uint8Array, cap: number): Uint8Array {
  const excess = macKeyCount(queue) - Math.max(1, cap);
  return excess > 0 ? dropOldestMacKeys(queue, excess) : queue;
}
