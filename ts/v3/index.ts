/**
 * OTRv3 — the fallback for peers that run libotr 4.1.x (Pidgin, Adium, most XMPP clients). Kept apart from
 * the v4 code; the v4 session layer dispatches to it by protocol version.
 *
 * API (all synchronous after `await init()`):
 *
 *   const conv = new V3Conversation({ backend, dsaKey, instanceTag, random?, now?, policy?, limits?, fragmentSize? });
 *   conv.receive(text)   -> { toSend, toUser, messages, events }  // anything from the network; messages name their instance
 *   conv.send(text, instance?) -> { toSend, toUser: [], events }  // our user typed text: to the current instance
 *   conv.start()         -> query message "?OTRv3?" (the peer answers with a D-H Commit)
 *   conv.startAke()      -> a D-H Commit straight away
 *   conv.startSmp(secret, question?) / conv.respondSmp(secret) / conv.abortSmp()
 *   conv.useExtraKey(use, useData) -> { toSend, key }                                   // TLV 8 + the 32-byte key
 *   conv.end(instance?)  -> TLV 1 (disconnected) to every encrypted instance (or one) and back to plaintext
 *   conv.serialize(): Uint8Array;  V3Conversation.restore(options, bytes)
 *   conv.abandon()       -> drops every session unannounced (a rollback); null, or a conversation holding only
 *                           the MAC keys still to publish (V3Peer.endedMacKeys: the next data message publishes them)
 *   conv.msgstate, conv.peerFingerprint, conv.ssid, conv.state     // of the current instance
 *   conv.current, conv.instances, conv.peerState, conv.engaged     // every remote instance (instances.ts)
 *
 * Every event carries `version: 3` and the remote `instance` it concerns; types: encrypted (with the peer's fingerprint and ssid, `refreshed` on a
 * re-AKE), finished (peer ended), plaintext (we ended), unencrypted (plaintext received where not expected),
 * heartbeat, unreadable, ignored (bad input dropped; the state did not change), otherInstance, instanceChanged
 * (the instance `send()` uses changed: `from` → `to`), errorReceived,
 * cannotSend, extraKey (peer's TLV 8 with the derived key), tlv (unknown TLV), smpRequest, smpResult,
 * smpAborted, smpError.
 *
 * Underneath, the same operations exist as transitions on plain data (`v3Receive(options, peer, fragments,
 * text)` … returning `{ state, toSend, toUser, messages, events }`), with randomness and the clock injected and
 * no I/O.
 * Modules: constants, crypto (AES-CTR/SHA/HMAC and the h1/h2 derivations), group (1536-bit MODP), messages
 * (wire formats), ake, data (key rotation, counters, MAC revelation), tlv, smp, fragment (v3 reassembly),
 * persist + state-codec (versioned state bytes, every field checked on restore), conversation (one context),
 * instances (a context per remote instance). Armour, fragment syntax, query, whitespace and
 * error messages come from ts/codec; D-H from ts/crypto/dh.ts; DSA from ts/crypto/dsa.ts.
 *
 * Choices where the v3 spec leaves room (tested in test/v3-*.test.ts):
 * - An AKE message that fails a check is ignored and the AKE state kept (the html spec says authstate returns
 *   to NONE "regardless"; otrv4.md's appendix and robustness against forged messages say ignore).
 * - One context per remote instance, as libotr keeps them (instances.ts): an unauthenticated message reaches
 *   only the context of its own sender tag, so it can never re-bind or end another instance's session or AKE.
 *   The instance that last completed an AKE is the one `send()` uses; each change is an `instanceChanged` event.
 * - A truncated trailing TLV ends TLV parsing (earlier TLVs are kept), as libotr does.
 */
import { concatBytes, wipe } from '../bytes.js';
import { DATA_MAC_BYTES } from './constants.js';
import { systemRandom } from '../crypto/random.js';
import { OtrArgumentError, OtrDecodeError } from '../errors.js';
import { endKeysKeepingMacKeys, keepNewest } from './data.js';
import { resolveLimits } from '../limits.js';
import { type V3Event, type V3Options, type V3State, type MsgState, wipeState } from './conversation.js';
import { FragmentTable } from './fragment.js';
import {
  type V3Delivered,
  type V3Peer,
  type V3PeerResult,
  currentContext,
  newV3Peer,
  v3AbortSmp,
  v3End,
  v3Receive,
  v3RespondSmp,
  v3Send,
  v3Start,
  v3StartAke,
  v3StartSmp,
  v3UseExtraKey,
} from './instances.js';
import { restoreV3State, serializeV3State } from './state-codec.js';

export * from './conversation.js';
export * from './instances.js';
export { restoreV3State, serializeV3State } from './state-codec.js';
export { dsaFingerprint, dsaGenerateKey } from '../crypto/dsa.js';

export interface V3Output {
  toSend: string[];
  /** The texts of `messages` (kept for hosts that do not care which instance a message came from). */
  toUser: string[];
  /** What to show, each with the remote instance it came from and whether it arrived encrypted. */
  messages: V3Delivered[];
  events: V3Event[];
}

/** What a host may show about one remote instance. */
export interface V3InstanceInfo {
  instance: number;
  msgstate: MsgState;
  /** The fingerprint of the long-term key this instance authenticated with (null before its first AKE). */
  fingerprint: Uint8Array | null;
}

export class V3Conversation {
  private p: V3Peer;
  /** Partial fragmented messages: transient (never persisted), mutated in place so reassembly is linear. */
  private readonly frags: FragmentTable;

  constructor(
    private readonly opts: V3Options,
    state?: V3Peer,
  ) {
    if (!opts || !opts.backend || !opts.dsaKey) throw new OtrArgumentError('V3Conversation needs a backend and a DSA key');
    this.p = state ?? newV3Peer(opts.instanceTag);
    if (this.p.ourTag !== opts.instanceTag) throw new OtrArgumentError('state belongs to another instance tag');
    this.frags = new FragmentTable(resolveLimits(opts.limits), opts.fragmentBudget);
  }

  /**
   * Restores serialize() output; bytes that are not a state of this instance tag give an OtrDecodeError.
   * `trimmed` hears of what was dropped because the state was written under higher limits than `opts.limits`
   * (restoreV3State): MAC keys to reveal past maxMacKeysToReveal, per remote instance, how many; remote
   * instances past maxInstancesPerConversation (instance 0), how many.
   */
  static restore(opts: V3Options, bytes: Uint8Array, trimmed?: (instance: number, count: number, what: 'mac-keys' | 'instances') => void): V3Conversation {
    const state = restoreV3State(bytes, opts.limits, trimmed, (opts.now ?? Date.now)());
    if (opts && state.ourTag !== opts.instanceTag) throw new OtrDecodeError('OTRv3 state: saved for another instance tag of ours');
    return new V3Conversation(opts, state);
  }

  /** Adopts the new state and wipes every context it superseded (contexts are never shared between states). */
  private commit(r: V3PeerResult): V3Output {
    const next = r.state;
    if (next !== this.p) {
      const kept = new Set<V3State>([next.master, ...next.instances]);
      for (const c of [this.p.master, ...this.p.instances]) if (!kept.has(c)) wipeState(c);
      // Kept MAC keys published (or joined into a new list) are wiped here: the new state no longer holds them.
      if (this.p.endedMacKeys !== undefined && this.p.endedMacKeys !== next.endedMacKeys) this.p.endedMacKeys.fill(0);
      this.p = next;
    }
    return { toSend: r.toSend, toUser: r.toUser, messages: r.messages, events: r.events };
  }

  receive(text: string): V3Output {
    return this.commit(v3Receive(this.opts, this.p, this.frags, text));
  }
  /** Sends to the current instance, or to `instance` (which must have a context). */
  send(text: string, instance?: number): V3Output {
    return this.commit(v3Send(this.opts, this.p, text, instance));
  }
  start(): V3Output {
    return this.commit(v3Start(this.opts, this.p));
  }
  startAke(): V3Output {
    return this.commit(v3StartAke(this.opts, this.p));
  }
  startSmp(secret: string | Uint8Array, question?: string): V3Output {
    return this.commit(v3StartSmp(this.opts, this.p, secret, question));
  }
  respondSmp(secret: string | Uint8Array): V3Output {
    return this.commit(v3RespondSmp(this.opts, this.p, secret));
  }
  abortSmp(): V3Output {
    return this.commit(v3AbortSmp(this.opts, this.p));
  }
  useExtraKey(use: number, useData?: Uint8Array): V3Output & { key: Uint8Array | null } {
    const r = v3UseExtraKey(this.opts, this.p, use, useData);
    return { ...this.commit(r), key: r.key };
  }
  /** Ends the private conversation with every instance (or just `instance`). */
  end(instance?: number): V3Output {
    return this.commit(v3End(this.opts, this.p, instance));
  }

  serialize(): Uint8Array {
    return serializeV3State(this.p);
  }

  /**
   * Drops every context without a word — the session layer's rollback of the store (Conversation.abandonSessions:
   * a disconnect could use a key that was used already) — and returns a fresh conversation holding only the MAC
   * keys the dropped sessions still had to publish, with those kept already (at most maxMacKeysToReveal, the
   * newest), for the peer's next OTRv3 session; null when there are none. Every key of this one is wiped. The
   * same reasoning as the peer's disconnect (data.ts endKeysKeepingMacKeys): no session under them remains here.
   */
  abandon(): V3Conversation | null {
    const limits = resolveLimits(this.opts.limits);
    const env = { backend: this.opts.backend, random: this.opts.random ?? systemRandom, ourTag: this.p.ourTag, theirTag: 0, maxMacKeysToReveal: limits.maxMacKeysToReveal };
    const parts = [this.p.endedMacKeys ?? new Uint8Array(0)];
    for (const c of this.p.instances) if (c.keys) parts.push(endKeysKeepingMacKeys(env, c.keys));
    const kept = keepNewest(concatBytes(...parts), limits.maxMacKeysToReveal);
    for (const part of parts) part.fill(0);
    for (const c of [this.p.master, ...this.p.instances]) wipeState(c);
    this.frags.clear();
    this.p = newV3Peer(this.opts.instanceTag);
    if (kept.length === 0) return null;
    return new V3Conversation(this.opts, { ...newV3Peer(this.opts.instanceTag), endedMacKeys: kept });
  }

  /** Everything held for this peer (read-only view; pass to the v3* transitions or serialise). */
  get peerState(): Readonly<V3Peer> {
    return this.p;
  }
  /** The context of the current instance (the master's before any): read-only view. */
  get state(): Readonly<V3State> {
    return currentContext(this.p);
  }
  /** The remote instance `send()` uses; 0 before any instance completed an AKE. */
  get current(): number {
    return this.p.current;
  }
  /** Every remote instance we hold a context for, oldest first. */
  get instances(): V3InstanceInfo[] {
    return this.p.instances.map((c) => ({ instance: c.theirTag, msgstate: c.msgstate, fingerprint: c.peer ? c.peer.fingerprint.slice() : null }));
  }
  /**
   * Wipes unrevealed the oldest half of the largest list of MAC keys still to reveal — a context's, or the
   * ended sessions' (V3Peer.endedMacKeys) — for the session layer's bound on the record (session/conversation.ts
   * shedState: MAC keys before SMP and sessions, as for OTRv4). Returns the remote instance (0: the ended
   * sessions') and how many went; null when there are none.
   */
  shedMacKeys(): { instance: number; count: number } | null {
    let ctx: V3State | undefined;
    for (const c of this.p.instances) if (c.keys && c.keys.pendingReveal.length > (ctx?.keys!.pendingReveal.length ?? 0)) ctx = c;
    const ended = this.p.endedMacKeys ?? new Uint8Array(0);
    const fromContext = ctx !== undefined && ctx.keys!.pendingReveal.length >= ended.length;
    const list = fromContext ? ctx!.keys!.pendingReveal : ended;
    if (list.length === 0) return null;
    const count = Math.max(1, (list.length / DATA_MAC_BYTES) >> 1);
    const kept = list.slice(count * DATA_MAC_BYTES);
    wipe(list);
    if (fromContext) {
      ctx!.keys!.pendingReveal = kept;
      return { instance: ctx!.theirTag, count };
    }
    // The optional field is left out, not undefined, when it empties (as the codec writes it).
    const { endedMacKeys: _dropped, ...rest } = this.p;
    this.p = kept.length > 0 ? { ...rest, endedMacKeys: kept } : rest;
    return { instance: 0, count };
  }

  /**
   * Abandons every SMP exchange in progress, nothing sent: the session layer sheds it when the conversation's
   * record is over limits.maxConversationStateBytes (session/conversation.ts shedSmp). The peer's next SMP
   * message is then out of turn and answered by an abort. Returns the remote instances whose exchange went.
   * (SMP values are bigints, which cannot be wiped; they are dropped with the state.)
   */
  abandonSmp(): number[] {
    const tags: number[] = [];
    // In place: a context belongs to this state alone (commit), and its SMP field is replaced whole.
    for (const c of this.p.instances) {
      if (c.smp.kind === 'expect1') continue;
      (c as V3State).smp = { kind: 'expect1' };
      tags.push(c.theirTag);
    }
    return tags;
  }
  /**
   * Wipes every key held — each context's session keys, DH private keys and AKE secrets, and the MAC keys kept
   * for publication — and drops partial fragments: what the session layer's forget, unload and eviction of a
   * stranger's AKE leave (Conversation.wipeAll, dropPeerDakes), which dropped this conversation unwiped before
   * (attacks/s16-review2-v3-wipe). Holds nothing afterwards.
   */
  wipe(): void {
    for (const c of [this.p.master, ...this.p.instances]) wipeState(c);
    this.p.endedMacKeys?.fill(0);
    this.frags.clear();
    this.p = newV3Peer(this.opts.instanceTag);
  }

  /**
   * Drops every AKE in progress (keys wiped, nothing sent), for the session layer's bound on the record
   * (session/conversation.ts shedOwnDake): a D-H Commit needs no key, so anyone who can put a line in the
   * conversation makes us hold one; it goes before an SMP exchange or the sessions ([s16-review3]). The peer's
   * next AKE message is then out of turn, as after a restart. Returns the instances (0: the master) whose AKE went.
   */
  dropAkes(): number[] {
    const tags: number[] = [];
    for (const c of [this.p.master, ...this.p.instances] as V3State[]) {
      if (c.auth.kind === 'none') continue;
      wipeState(c.auth);
      c.auth = { kind: 'none' };
      tags.push(c.theirTag);
    }
    return tags;
  }

  /**
   * Ends every session and AKE, nothing sent, for the session layer's bound on the record (session/conversation.ts
   * endSessionsToFit, the last thing it sheds): every key wiped, the MAC keys still to reveal too, and each
   * encrypted context left FINISHED — as after the peer's disconnect, so that the user's next message is refused
   * rather than sent in plaintext ([s16-review3]). Returns the remote instances whose session was encrypted.
   */
  finishAll(): number[] {
    const tags: number[] = [];
    // In place, as abandonSmp: a context belongs to this state alone.
    for (const c of [this.p.master, ...this.p.instances] as V3State[]) {
      if (c.msgstate === 'encrypted') {
        tags.push(c.theirTag);
        c.msgstate = 'finished';
      }
      if (c.keys !== null) wipeState(c.keys);
      c.keys = null;
      if (c.auth.kind !== 'none') wipeState(c.auth);
      c.auth = { kind: 'none' };
      c.smp = { kind: 'expect1' };
      c.stored = null;
    }
    this.p.endedMacKeys?.fill(0);
    const { endedMacKeys: _wiped, ...rest } = this.p;
    this.p = rest;
    this.frags.clear();
    return tags;
  }

  /** Whether anything but ended sessions is held: keys, an AKE, SMP, a stored message, MAC keys to reveal (finishAll leaves none). */
  get holdsLive(): boolean {
    if ((this.p.endedMacKeys?.length ?? 0) > 0) return true;
    return [this.p.master, ...this.p.instances].some((c) => c.keys !== null || c.auth.kind !== 'none' || c.smp.kind !== 'expect1' || c.msgstate === 'encrypted' || c.stored !== null);
  }

  /** Drops every partial fragmented message (its characters go back to the account's fragment budget). */
  dropFragments(): void {
    this.frags.clear();
  }
  /** Partial fragmented messages held (bounded by limits.maxPendingFragmentedMessages / maxPendingFragmentChars). */
  get pendingFragments(): { messages: number; chars: number } {
    return this.frags.pending;
  }
  /** Characters of fragment pieces buffered in all since creation: reassembly work is linear in it. */
  get fragmentCharsAppended(): number {
    return this.frags.charsAppended;
  }
  get msgstate(): MsgState {
    return this.state.msgstate;
  }
  /** Some instance is encrypted or finished, or an AKE runs (ours to anyone, or with some instance). */
  get engaged(): boolean {
    const p = this.p;
    return p.master.auth.kind !== 'none' || p.instances.some((c) => c.msgstate !== 'plaintext' || c.auth.kind !== 'none');
  }
  /**
   * Whether this state holds nothing a fresh one would not: no context with an AKE, a session (encrypted or
   * finished), keys, a peer or a stored message, and no remote instance `send()` would use. What unsolicited
   * OTRv3 input (a data message or D-H Key nobody asked for, a piece of a fragmented message) leaves; a
   * conversation holding only this has no record (attacks/s11-review-v3-junk-records). Partial fragments are
   * never persisted, so they do not count.
   */
  get holdsNothing(): boolean {
    const p = this.p;
    return p.current === 0 && idleContext(p.master) && p.instances.every(idleContext) && !this.holdsEndedMacKeys;
  }
  /** MAC keys of sessions the peer ended wait for our next OTRv3 data message (V3Peer.endedMacKeys). */
  get holdsEndedMacKeys(): boolean {
    return (this.p.endedMacKeys?.length ?? 0) > 0;
  }
  get peerFingerprint(): Uint8Array | null {
    const s = this.state;
    return s.peer ? s.peer.fingerprint.slice() : null;
  }
  get ssid(): Uint8Array | null {
    const s = this.state;
    return s.peer ? s.peer.ssid.slice() : null;
  }
}

/** A context as newV3Context makes it, but for lastSentAt (a heartbeat timer, meaningless without a session). */
function idleContext(c: V3State): boolean {
  return c.msgstate === 'plaintext' && c.auth.kind === 'none' && c.keys === null && c.peer === null && c.smp.kind === 'expect1' && c.stored === null && !c.receivedPlaintext;
}
