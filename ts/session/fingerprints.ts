/**
 * The long-term fingerprint last seen for each peer, per protocol version (v4: the client profile's
 * fingerprint; v3: the DSA key's SHA-1 fingerprint). Only fingerprints of completed (authenticated) DAKEs are
 * recorded, so an unauthenticated peer cannot write here. It tells the session layer two things: that a
 * peer's key changed (a `fingerprint-changed` event) and that we have seen the peer speak OTRv4 (an OTRv3
 * offer from them afterwards is a possible downgrade). Persisted with the account; the trust store grows from
 * this module.
 */
import { expect, type StateValue } from './state-codec.js';
import { OtrDecodeError } from '../errors.js';

export interface SeenFingerprints {
  v4?: string;
  v3?: string;
}

/** Peers remembered at most (one entry per conversation the host opened; bounds a restored file too). */
const MAX_PEERS = 1 << 20;
/** Hex lengths: a v4 fingerprint is 56 bytes, a v3 (SHA-1) one 20. */
const HEX = { v4: /^[0-9a-f]{112}$/, v3: /^[0-9a-f]{40}$/ } as const;

export class LastSeenFingerprints {
  private readonly byPeer = new Map<string, SeenFingerprints>();

  /** What we last saw for `peer`. */
  get(peer: string): SeenFingerprints | undefined {
    return this.byPeer.get(peer);
  }

  /** Whether `peer` has completed an OTRv4 DAKE with us (so it can speak v4). */
  seenV4(peer: string): boolean {
    return this.byPeer.get(peer)?.v4 !== undefined;
  }

  /**
   * Records the fingerprint of a completed DAKE; returns the previous one if it was different (undefined the
   * first time and when unchanged).
   */
  observe(peer: string, version: 3 | 4, fingerprintHex: string): string | undefined {
    const entry = this.byPeer.get(peer) ?? {};
    const key = version === 4 ? 'v4' : 'v3';
    const previous = entry[key];
    entry[key] = fingerprintHex;
    this.byPeer.set(peer, entry);
    return previous !== undefined && previous !== fingerprintHex ? previous : undefined;
  }

  toValue(): StateValue {
    return [...this.byPeer].map(([peer, f]) => ({ peer, v4: f.v4 ?? null, v3: f.v3 ?? null }));
  }

  static fromValue(v: StateValue | undefined): LastSeenFingerprints {
    const out = new LastSeenFingerprints();
    if (v === undefined || v === null) return out;
    for (const e of expect.array(v, 'fingerprints', MAX_PEERS)) {
      const r = expect.record(e, 'fingerprints[]');
      const peer = expect.string(r.peer, 'fingerprints.peer');
      const f: SeenFingerprints = {};
      for (const k of ['v4', 'v3'] as const) {
        if (r[k] === null || r[k] === undefined) continue;
        const hex = expect.string(r[k], `fingerprints.${k}`);
        if (!HEX[k].test(hex)) throw new OtrDecodeError(`state: fingerprints.${k} is not a fingerprint`);
        f[k] = hex;
      }
      if (out.byPeer.has(peer)) throw new OtrDecodeError('state: fingerprints: duplicated peer');
      out.byPeer.set(peer, f);
    }
    return out;
  }
}
