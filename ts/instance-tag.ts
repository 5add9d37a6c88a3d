/**
 * Instance tags (otrv4.md §Instance Tags; interpretations.md §10). A tag is a 32-bit value; 1..0xff are
 * reserved, so a valid tag is 0 ("unknown") or >= 0x100. A sender always knows its own tag, so a sender tag
 * must be >= 0x100; a receiver tag may be 0 only where the sender cannot know it yet (the Identity message,
 * and OTRv3's D-H Commit).
 */
import { OtrArgumentError } from './errors.js';
import type { RandomSource } from './crypto/random.js';

export const MIN_INSTANCE_TAG = 0x100;
export const MAX_INSTANCE_TAG = 0xffffffff;

function isU32(t: unknown): t is number {
  return typeof t === 'number' && Number.isInteger(t) && t >= 0 && t <= MAX_INSTANCE_TAG;
}

/** 0 or >= 0x100. */
export function isValidInstanceTag(t: number): boolean {
  return isU32(t) && (t === 0 || t >= MIN_INSTANCE_TAG);
}

/** A sender tag must be a real tag: >= 0x100. */
export function isValidSenderTag(t: number): boolean {
  return isU32(t) && t >= MIN_INSTANCE_TAG;
}

/** A receiver tag is 0 (unknown) or a real tag. */
export const isValidReceiverTag = isValidInstanceTag;

/**
 * A fresh random tag >= 0x100, from the injected randomness. Rejection sampling (not `| 0x100`) keeps the
 * distribution uniform over the valid range; a draw is rejected with probability 2^-24.
 */
export function generateInstanceTag(random: RandomSource): number {
  for (let i = 0; i < 64; i++) {
    const b = random(4);
    const t = ((b[0]! << 24) | (b[1]! << 16) | (b[2]! << 8) | b[3]!) >>> 0;
    if (t >= MIN_INSTANCE_TAG) return t;
  }
  // 64 consecutive draws below 0x100 means the source is broken (all zeros, for example).
  throw new OtrArgumentError('random source keeps returning values below 0x100');
}

/**
 * Whether a message addressed to `receiverTag` is for us (tag `ourTag`). A non-zero receiver tag must equal
 * ours; 0 is accepted only when `allowZero` — the caller passes true for the Identity message (and OTRv3's
 * D-H Commit), whose sender cannot know our tag yet (interpretations.md §10).
 */
export function receiverTagMatches(receiverTag: number, ourTag: number, allowZero: boolean): boolean {
  if (!isValidReceiverTag(receiverTag)) return false;
  if (receiverTag === 0) return allowZero;
  return receiverTag === ourTag;
}

/**
 * The full inbound check on a message's tags: the sender tag is a real tag, and the receiver tag is ours
 * (or 0 where allowed). Messages failing it are discarded (otrv4.md §Instance Tags).
 */
export function acceptInboundTags(senderTag: number, receiverTag: number, ourTag: number, allowZeroReceiver: boolean): boolean {
  return isValidSenderTag(senderTag) && receiverTagMatches(receiverTag, ourTag, allowZeroReceiver);
}

/** Formats a tag as OTR fragments and UIs do: 8 lowercase hex digits. */
export function formatInstanceTag(t: number): string {
  if (!isU32(t)) throw new OtrArgumentError('instance tag must be a 32-bit unsigned integer');
  return t.toString(16).padStart(8, '0');
}
