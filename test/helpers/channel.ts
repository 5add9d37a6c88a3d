/**
 * A seeded adversarial network channel for session tests: one direction of a transport that drops,
 * duplicates and reorders the strings put on it. Everything is driven by a seeded PRNG, so a failing run is
 * replayed exactly by its seed.
 *
 *   const ch = new AdversarialChannel<Meta>(seededUniform(7), { drop: 0.05, duplicate: 0.03, window: 6 });
 *   ch.send(text, meta);                 // false if the channel dropped it
 *   const p = ch.deliver();              // one of the first `window` strings in flight, or undefined
 *
 * Reordering: `deliver` takes a string chosen uniformly among the `window` oldest in flight, so a string can
 * be overtaken by at most window − 1 later ones per delivery (fragments of neighbouring messages interleave).
 * Duplication: a delivered string is, with probability `duplicate`, put back in flight at a random place in
 * the window, so the copy arrives later (a replay). Outages: with probability `outage.probability` per
 * string sent, that string and up to `outage.maxLength` − 1 following ones are all dropped (a burst loss).
 */
import { seededRandom } from './rng.js';

/** Uniform floats in [0, 1) from the seeded xorshift byte stream of rng.ts. */
export function seededUniform(seed: number): () => number {
  const bytes = seededRandom(seed);
  return () => {
    const b = bytes(4);
    return (((b[0]! << 24) | (b[1]! << 16) | (b[2]! << 8) | b[3]!) >>> 0) / 2 ** 32;
  };
}

/** An integer in [0, n). */
export function randomInt(u: () => number, n: number): number {
  return Math.min(n - 1, Math.floor(u() * n));
}

export interface ChannelOptions {
  /** Probability that a string is lost. */
  drop: number;
  /** Probability that a delivered string arrives a second time later. */
  duplicate: number;
  /** How many of the oldest strings in flight may be delivered next (1: in order). */
  window: number;
  /** Burst losses. */
  outage?: { probability: number; maxLength: number };
}

export interface Packet<M> {
  readonly text: string;
  readonly meta: M;
  /** 0 for the original, 1 for a duplicate. */
  readonly copy: number;
}

export interface ChannelStats {
  sent: number;
  dropped: number;
  duplicated: number;
  delivered: number;
  /** Deliveries that overtook at least one older string in flight. */
  reordered: number;
}

export class AdversarialChannel<M> {
  private readonly inFlight: Packet<M>[] = [];
  private outageLeft = 0;
  readonly stats: ChannelStats = { sent: 0, dropped: 0, duplicated: 0, delivered: 0, reordered: 0 };

  constructor(
    private readonly u: () => number,
    private readonly o: ChannelOptions,
  ) {
    if (!(o.window >= 1)) throw new Error('window must be at least 1');
  }

  /** Puts `text` on the channel; returns false when the channel dropped it. */
  send(text: string, meta: M): boolean {
    this.stats.sent++;
    if (this.outageLeft === 0 && this.o.outage && this.u() < this.o.outage.probability) this.outageLeft = 1 + randomInt(this.u, this.o.outage.maxLength);
    if (this.outageLeft > 0) {
      this.outageLeft--;
      this.stats.dropped++;
      return false;
    }
    if (this.u() < this.o.drop) {
      this.stats.dropped++;
      return false;
    }
    this.inFlight.push({ text, meta, copy: 0 });
    return true;
  }

  get pending(): number {
    return this.inFlight.length;
  }

  /** The next string to arrive, or undefined when nothing is in flight. */
  deliver(): Packet<M> | undefined {
    if (this.inFlight.length === 0) return undefined;
    const n = Math.min(this.o.window, this.inFlight.length);
    const i = randomInt(this.u, n);
    if (i > 0) this.stats.reordered++;
    const [p] = this.inFlight.splice(i, 1);
    this.stats.delivered++;
    if (this.u() < this.o.duplicate) {
      this.stats.duplicated++;
      const at = randomInt(this.u, Math.min(this.o.window, this.inFlight.length) + 1);
      this.inFlight.splice(at, 0, { ...p!, copy: 1 });
    }
    return p;
  }
}
