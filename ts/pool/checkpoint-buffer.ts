/**
 * The latest checkpoint of one account, held in one long-lived buffer that each new checkpoint overwrites in
 * place. Why: with `checkpoints: 'every-call'` every call makes a new ~3.5 KB checkpoint per account, and a
 * bridge calls every account about once per batch of traffic — so a fresh `Uint8Array` per call lives just
 * long enough (until the account's next call) to survive the young generation and be promoted, and the old
 * generation fills with dead checkpoints at the rate of the traffic: major collections on the thread that
 * holds them (the host's event loop, a worker). Overwriting one buffer per account keeps that memory out of
 * the collector's way; the per-call buffers that cross threads die young.
 *
 * Secrets: the buffer holds the whole account (long-term keys, ratchets). A shorter checkpoint zeroes the
 * tail it no longer uses, a grown one zeroes the buffer it leaves, and `wipe()` zeroes all of it.
 * What leaves the holder is always a copy (`copy()`): `Account.restore` may keep views into its input (attached
 * records), and those must never see a later overwrite.
 */
export class CheckpointBuffer {
  private buf: Uint8Array;
  private len = 0;

  constructor(bytes: Uint8Array) {
    this.buf = new Uint8Array(capacityFor(bytes.length));
    this.set(bytes);
  }

  /** A second holder with the same bytes (a revert: the two then change apart). */
  static from(other: CheckpointBuffer): CheckpointBuffer {
    const bytes = other.copy();
    const b = new CheckpointBuffer(bytes);
    bytes.fill(0);
    return b;
  }

  /** Replaces the held checkpoint with `bytes` (copied in; `bytes` stays the caller's). */
  set(bytes: Uint8Array): void {
    if (bytes.length > this.buf.length) {
      const old = this.buf;
      this.buf = new Uint8Array(capacityFor(bytes.length));
      old.fill(0);
    } else if (bytes.length < this.len) this.buf.fill(0, bytes.length, this.len);
    this.buf.set(bytes);
    this.len = bytes.length;
  }

  get length(): number {
    return this.len;
  }

  /** A copy of the held checkpoint, owned by the caller. */
  copy(): Uint8Array {
    return this.buf.slice(0, this.len);
  }

  /** Zeroes the buffer; the holder is empty afterwards. */
  wipe(): void {
    this.buf.fill(0);
    this.len = 0;
  }
}

/** Room to grow: an account's checkpoint changes size a little from call to call (ratchet and skipped keys). */
function capacityFor(n: number): number {
  return n + (n >> 3) + 64;
}
