/**
 * OTRv3 — the fallback for peers that run libotr 4.1.x (Pidgin, Adium, most XMPP clients). Kept apart from
 * the v4 code; the v4 session layer dispatches to it by protocol version.
 *
 * API (all synchronous after `await init()`):
 *
 *   const conv = new V3Conversation({ backend, dsaKey, instanceTag, random?, now?, policy?, limits?, fragmentSize? });
 *   conv.receive(text)   -> { toSend: string[], toUser: string[], events: V3Event[] }   // anything from the network
 *   conv.send(text)      -> { toSend, toUser: [], events }                            // our user typed text
 *   conv.start()         -> query message "?OTRv3?" (the peer answers with a D-H Commit)
 *   conv.startAke()      -> a D-H Commit straight away
 *   conv.startSmp(secret, question?) / conv.respondSmp(secret) / conv.abortSmp()
 *   conv.useExtraKey(use, useData) -> { toSend, key }                                   // TLV 8 + the 32-byte key
 *   conv.end()           -> TLV 1 (disconnected) and back to plaintext
 *   conv.serialize(): Uint8Array;  V3Conversation.restore(options, bytes)
 *   conv.msgstate, conv.peerFingerprint, conv.ssid, conv.state
 *
 * Every event carries `version: 3`; types: encrypted (with the peer's fingerprint and ssid, `refreshed` on a
 * re-AKE), finished (peer ended), plaintext (we ended), unencrypted (plaintext received where not expected),
 * heartbeat, unreadable, ignored (bad input dropped; the state did not change), otherInstance, errorReceived,
 * cannotSend, extraKey (peer's TLV 8 with the derived key), tlv (unknown TLV), smpRequest, smpResult,
 * smpAborted, smpError.
 *
 * Underneath, the same operations exist as transitions on plain data (`v3Receive(options, state, text)` …
 * returning `{ state, toSend, toUser, events }`), with randomness and the clock injected and no I/O.
 * Modules: constants, crypto (AES-CTR/SHA/HMAC and the h1/h2 derivations), group (1536-bit MODP), messages
 * (wire formats), ake, data (key rotation, counters, MAC revelation), tlv, smp, fragment (v3 reassembly),
 * persist + state-codec (versioned state bytes), conversation. Armour, fragment syntax, query, whitespace and
 * error messages come from ts/codec; D-H from ts/crypto/dh.ts; DSA from ts/crypto/dsa.ts.
 *
 * Choices where the v3 spec leaves room (tested in test/v3-*.test.ts):
 * - An AKE message that fails a check is ignored and the AKE state kept (the html spec says authstate returns
 *   to NONE "regardless"; otrv4.md's appendix and robustness against forged messages say ignore).
 * - One conversation object follows one remote instance: it binds to the sender tag of the AKE; messages from
 *   other instances are reported as `otherInstance`, except a D-H Commit, which starts a new AKE with it.
 * - A truncated trailing TLV ends TLV parsing (earlier TLVs are kept), as libotr does.
 */
import { OtrArgumentError } from '../errors.js';
import type { V3Event, V3Options, V3Result, V3State, MsgState } from './conversation.js';
import {
  newV3State,
  restoreV3State,
  serializeV3State,
  v3AbortSmp,
  v3End,
  v3Receive,
  v3RespondSmp,
  v3Send,
  v3Start,
  v3StartAke,
  v3StartSmp,
  v3UseExtraKey,
  wipeState,
} from './conversation.js';

export * from './conversation.js';
export { dsaFingerprint, dsaGenerateKey } from '../crypto/dsa.js';

export interface V3Output {
  toSend: string[];
  toUser: string[];
  events: V3Event[];
}

export class V3Conversation {
  private s: V3State;

  constructor(
    private readonly opts: V3Options,
    state?: V3State,
  ) {
    if (!opts || !opts.backend || !opts.dsaKey) throw new OtrArgumentError('V3Conversation needs a backend and a DSA key');
    this.s = state ?? newV3State(opts.instanceTag);
    if (this.s.ourTag !== opts.instanceTag) throw new OtrArgumentError('state belongs to another instance tag');
  }

  static restore(opts: V3Options, bytes: Uint8Array): V3Conversation {
    return new V3Conversation(opts, restoreV3State(bytes, opts.limits));
  }

  private commit(r: V3Result): V3Output {
    if (r.state !== this.s) {
      wipeState(this.s);
      this.s = r.state;
    }
    return { toSend: r.toSend, toUser: r.toUser, events: r.events };
  }

  receive(text: string): V3Output {
    return this.commit(v3Receive(this.opts, this.s, text));
  }
  send(text: string): V3Output {
    return this.commit(v3Send(this.opts, this.s, text));
  }
  start(): V3Output {
    return this.commit(v3Start(this.opts, this.s));
  }
  startAke(): V3Output {
    return this.commit(v3StartAke(this.opts, this.s));
  }
  startSmp(secret: string | Uint8Array, question?: string): V3Output {
    return this.commit(v3StartSmp(this.opts, this.s, secret, question));
  }
  respondSmp(secret: string | Uint8Array): V3Output {
    return this.commit(v3RespondSmp(this.opts, this.s, secret));
  }
  abortSmp(): V3Output {
    return this.commit(v3AbortSmp(this.opts, this.s));
  }
  useExtraKey(use: number, useData?: Uint8Array): V3Output & { key: Uint8Array | null } {
    const r = v3UseExtraKey(this.opts, this.s, use, useData);
    return { ...this.commit(r), key: r.key };
  }
  end(): V3Output {
    return this.commit(v3End(this.opts, this.s));
  }

  serialize(): Uint8Array {
    return serializeV3State(this.s);
  }

  /** The current state (read-only view; pass to the v3* transitions or serialise). */
  get state(): Readonly<V3State> {
    return this.s;
  }
  get msgstate(): MsgState {
    return this.s.msgstate;
  }
  get peerFingerprint(): Uint8Array | null {
    return this.s.peer ? this.s.peer.fingerprint.slice() : null;
  }
  get ssid(): Uint8Array | null {
    return this.s.peer ? this.s.peer.ssid.slice() : null;
  }
}
