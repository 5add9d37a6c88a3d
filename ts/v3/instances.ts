/**
 * One OTRv3 conversation with one peer: a context per remote instance (the peer's clients), as libotr keeps
 * them (otrv3-protocol.html §Instance Tags), plus the master context, which holds what belongs to no instance
 * yet — a D-H Commit we sent to "anyone" (receiver tag 0) after a query, and untagged plaintext handling
 * before any instance is known.
 *
 * Why: an OTRv3 message's instance tags are not authenticated until an AKE completes. With one context for
 * the whole peer, a single forged D-H Commit carrying another sender tag re-bound an encrypted session (both
 * sides then dropped each other's messages) or killed an AKE in progress. Here a message only ever reaches the
 * context of its own sender tag, so an unauthenticated message can change nothing but that instance's own AKE
 * state; established sessions change only through an authenticated AKE of their own instance or the user.
 *
 * Routing (receive):
 * - D-H Commit from X: X's context (created if new; bounded, see `admit`). If X's context has no AKE running
 *   and the master awaits a D-H Key, the master's commitment is copied in first (the commit race, per instance).
 * - D-H Key from X: X's context if it runs an AKE; otherwise, when the master awaits a D-H Key (we committed to
 *   anyone), the master's AKE state is copied into X's context (created if new) and continues there — so each
 *   of the peer's clients that answers gets its own AKE, and the master keeps its own for the next one.
 * - Reveal Signature, Signature, Data from X: X's context only; if there is none, a Data message is
 *   `otherInstance` (or, before any instance exists, unreadable: the peer's session predates ours).
 * - Untagged input (plaintext, whitespace tags, queries, errors) is shown through the current context; a query
 *   or whitespace tag starts an AKE from the master.
 * - Fragments are reassembled per sender instance (fragment.ts), linear and bounded, never persisted.
 *
 * The current instance is the one `send()`, SMP and the extra key use. It becomes the instance that most
 * recently completed an AKE; every change is reported as an `instanceChanged` event (the host, or the v4
 * session layer above, tells the user: a new instance may be the peer's other client or someone with another
 * key — the `encrypted` event before it names the fingerprint).
 *
 * The `v3*` functions are transitions on plain data: (options, peer, …) -> { state, toSend, toUser, messages,
 * events }. Each copies only the one context it changes; a rejected input leaves every context as it was. The
 * fragment table is the one mutable, transient part, passed in by the caller.
 */
import { concatBytes, utf8 } from '../bytes.js';
import { classifyIncoming } from '../codec/classify.js';
import { OtrArgumentError, OtrDecodeError, OtrError, OtrStateError } from '../errors.js';
import { type Limits, resolveLimits } from '../limits.js';
import type { AuthState } from './ake.js';
import { RESEND_INTERVAL_MS } from './constants.js';
import {
  DEFAULT_V3_POLICY,
  type Tx,
  type V3Event,
  type V3Options,
  type V3Result,
  type V3State,
  ctxAbortSmp,
  ctxEnd,
  ctxReceiveMessage,
  ctxReceiveUntagged,
  ctxRespondSmp,
  ctxSend,
  ctxStart,
  ctxStartAke,
  ctxStartSmp,
  ctxUseExtraKey,
  newV3Context,
  runOnContext,
  wipeState,
} from './conversation.js';
import { keepNewest } from './data.js';
import type { FragmentTable } from './fragment.js';
import { type V3Message, decodeMessage } from './messages.js';
import { MessageTypeV3 } from '../wire/header.js';

/** Everything we hold for one peer (plain data; persisted by state-codec.ts). */
export interface V3Peer {
  ourTag: number;
  /** theirTag 0: never encrypted; its AKE is a D-H Commit sent to anyone (auth none or awaitingDhKey). */
  master: V3State;
  /** One context per remote instance (theirTag ≥ 0x100, each once), oldest first. */
  instances: readonly V3State[];
  /** The remote instance `send()` uses; 0: the master (no instance yet). */
  current: number;
  /**
   * Receiving MAC keys (20 bytes each, concatenated, oldest first) of sessions the peer ended, kept until our
   * next OTRv3 data message to the peer publishes them (data.ts endKeysKeepingMacKeys, `Acc.keepEnded` below).
   * Absent when there is none.
   */
  endedMacKeys?: Uint8Array;
}

/** A message shown to the user, with the remote instance it came from (0: untagged plaintext). */
export interface V3Delivered {
  text: string;
  instance: number;
  /** It arrived in an OTR data message (not as plaintext). */
  encrypted: boolean;
}

export interface V3PeerResult {
  state: V3Peer;
  toSend: string[];
  toUser: string[];
  messages: V3Delivered[];
  events: V3Event[];
}

export function newV3Peer(instanceTag: number): V3Peer {
  return { ourTag: instanceTag, master: newV3Context(instanceTag), instances: [], current: 0 };
}

/** The context of remote instance `tag` (0: the master), if any. */
export function contextOf(peer: V3Peer, tag: number): V3State | undefined {
  return tag === 0 ? peer.master : peer.instances.find((c) => c.theirTag === tag);
}

/** The context `send()` uses. */
export function currentContext(peer: V3Peer): V3State {
  return contextOf(peer, peer.current) ?? peer.master;
}

// ---------------------------------------------------------------------------------------------------------

/** The output of one call, built up context step by context step. */
class Acc {
  readonly toSend: string[] = [];
  readonly toUser: string[] = [];
  readonly messages: V3Delivered[] = [];
  readonly events: V3Event[] = [];
  readonly limits: Readonly<Limits>;
  readonly now: number;
  /** The caller's contexts: V3Conversation wipes those the result drops; copies made in between are ours to wipe. */
  private readonly original: ReadonlySet<V3State>;
  /** The caller's kept MAC keys (V3Peer.endedMacKeys), likewise wiped by V3Conversation if the result drops them. */
  private readonly originalEnded: Uint8Array | undefined;

  constructor(
    readonly opts: V3Options,
    public peer: V3Peer,
  ) {
    this.limits = resolveLimits(opts.limits);
    this.now = (opts.now ?? Date.now)();
    this.original = new Set([peer.master, ...peer.instances]);
    this.originalEnded = peer.endedMacKeys;
  }

  event(e: V3Event): void {
    this.events.push(e);
  }

  result(): V3PeerResult {
    return { state: this.peer, toSend: this.toSend, toUser: this.toUser, messages: this.messages, events: this.events };
  }

  /**
   * Runs `body` on (a copy of) `ctx` and commits the result into the peer: `ctx` is an existing context, or
   * a new one for `admitting` (then `evict`, if given, makes room). Returns whether the step succeeded.
   */
  step(ctx: V3State, body: (tx: Tx) => void, how: { encrypted?: boolean; evict?: number | null; admitting?: boolean } = {}): boolean {
    const r: V3Result = runOnContext(this.opts, ctx, body, this.peer.endedMacKeys);
    this.toSend.push(...r.toSend);
    this.toUser.push(...r.toUser);
    for (const text of r.toUser) this.messages.push({ text, instance: ctx.theirTag, encrypted: how.encrypted ?? false });
    this.events.push(...r.events);
    if (r.state === ctx) return false;
    this.replace(r.state, how.admitting ? (how.evict ?? null) : undefined);
    if (r.publishedEnded || r.ended) this.keepEnded(r.publishedEnded, r.ended);
    if (ctx.theirTag !== 0 && r.events.some((e) => e.type === 'encrypted')) this.authenticated(r.state.theirTag);
    return true;
  }

  private replace(next: V3State, evict?: number | null): void {
    const p = this.peer;
    const old = contextOf(p, next.theirTag);
    if (old && old !== next && !this.original.has(old)) wipeState(old);
    if (next.theirTag === 0) {
      this.peer = { ...p, master: next };
      return;
    }
    let instances = p.instances.filter((c) => c.theirTag !== evict);
    instances = evict === undefined ? instances.map((c) => (c.theirTag === next.theirTag ? next : c)) : [...instances, next];
    this.peer = { ...p, instances };
  }

  /**
   * The peer's kept MAC keys of ended sessions (V3Peer.endedMacKeys): dropped once a data message published
   * them, then joined by those of a session the peer just ended — at most maxMacKeysToReveal, the newest,
   * however many sessions a peer ends. Kept per peer, not per context: the peer's next session may be with
   * another of its instances, and a context without a session may be evicted (`admit`). A list this call made
   * and then replaced is wiped; the caller's own goes with its state (V3Conversation.commit).
   */
  private keepEnded(published: boolean, ended: Uint8Array | null): void {
    const before = this.peer.endedMacKeys;
    let kept = published ? undefined : before;
    if (ended !== null && ended.length > 0) kept = kept === undefined ? ended : keepNewest(concatBytes(kept, ended), this.limits.maxMacKeysToReveal);
    if (before !== undefined && before !== kept && before !== this.originalEnded) before.fill(0);
    this.peer = { ...this.peer, endedMacKeys: kept };
  }

  /** Instance `tag` completed an AKE: it becomes current (reported), and a message stored at the master goes to it. */
  private authenticated(tag: number): void {
    const from = this.peer.current;
    if (from !== tag) {
      this.peer = { ...this.peer, current: tag };
      this.events.push({ version: 3, instance: tag, type: 'instanceChanged', from, to: tag });
    }
    const stored = this.peer.master.stored;
    if (!stored) return;
    // Through a step (a copy): a context is never shared between two states, since superseded ones are wiped.
    this.step(this.peer.master, (tx) => void (tx.s.stored = null));
    const ctx = contextOf(this.peer, tag)!;
    if (this.now - stored.at <= RESEND_INTERVAL_MS && ctx.msgstate === 'encrypted') this.step(ctx, (tx) => tx.sendData(utf8(stored.text), [], 0));
  }

  /**
   * Room for a context of a new remote instance, or null if there is none. Unauthenticated input never
   * evicts an encrypted context nor the current one, nor an AKE in progress that moved within the last
   * pendingDakeProtectMs (the same protection the OTRv4 DAKE has): a flood of forged D-H Commits from fresh
   * tags cannot push out the peer's genuine AKE.
   */
  admit(): { evict: number | null } | null {
    const p = this.peer;
    if (p.instances.length < this.limits.maxInstancesPerConversation) return { evict: null };
    // The ranking a restore under a lower limit keeps by too; unauthenticated input goes no further than stale AKEs.
    const first = contextsInEvictionOrder(p.instances, p.current, this.now, this.limits)[0];
    return first !== undefined && evictionRank(first, this.now, this.limits) <= V3Eviction.staleAke ? { evict: first.theirTag } : null;
  }
}

/** How readily a context goes when a peer has too many, lowest first. */
const enum V3Eviction {
  /** No AKE running (a plaintext or finished context): nothing to lose but its tag. */
  idle = 0,
  /** An AKE that has not moved for limits.pendingDakeProtectMs. */
  staleAke = 1,
  /** An AKE that moved recently: unauthenticated input never evicts it (a flood cannot push out a genuine AKE). */
  freshAke = 2,
  /** An encrypted session: the live bound never evicts one (a new instance is refused instead). */
  encrypted = 3,
}

/** What evictionRank and the order read are a context's tag, msgstate, AKE kind and lastSentAt: cheap in a record too. */
function evictionRank(c: Pick<V3State, 'msgstate' | 'auth' | 'lastSentAt'>, now: number, L: Pick<Limits, 'pendingDakeProtectMs'>): V3Eviction {
  if (c.msgstate === 'encrypted') return V3Eviction.encrypted;
  if (c.auth.kind === 'none') return V3Eviction.idle;
  return now - c.lastSentAt >= L.pendingDakeProtectMs ? V3Eviction.staleAke : V3Eviction.freshAke;
}

/**
 * The contexts other than `current`, in the order they go, first first: by evictionRank, within a rank in
 * admission order (the list's); encrypted sessions least recently sent on first. The live admission takes the
 * first if it is idle or a stale AKE; a restore under a lower maxInstancesPerConversation than its record was
 * written with (state-codec.ts) takes as many as it must — the only time an encrypted OTRv3 session goes, as
 * OTRv4's admit() lets the least recently used one go.
 */
export function contextsInEvictionOrder<C extends Pick<V3State, 'theirTag' | 'msgstate' | 'auth' | 'lastSentAt'>>(
  instances: readonly C[],
  current: number,
  now: number,
  L: Pick<Limits, 'pendingDakeProtectMs'>,
): C[] {
  const ranked = instances.filter((c) => c.theirTag !== current).map((c) => ({ c, rank: evictionRank(c, now, L) }));
  // Stable: equal keys keep admission order.
  ranked.sort((x, y) => x.rank - y.rank || (x.rank === V3Eviction.encrypted ? x.c.lastSentAt - y.c.lastSentAt : 0));
  return ranked.map((x) => x.c);
}

function cloneAuth(a: AuthState): AuthState {
  return structuredClone(a);
}

// ---- receiving -----------------------------------------------------------------------------------------

function receiveText(acc: Acc, frags: FragmentTable, text: string, fromFragments: boolean): void {
  const peer = acc.peer;
  const inc = classifyIncoming(text, acc.limits);
  if (inc.kind === 'fragment') {
    const f = inc.fragment;
    if (fromFragments) throw new OtrDecodeError('a fragment cannot contain a fragment');
    if (f.version !== 3) return acc.event({ version: 3, instance: 0, type: 'ignored', reason: 'OTRv4 fragment in an OTRv3 conversation' });
    if (f.receiverTag !== 0 && f.receiverTag !== peer.ourTag) return acc.event({ version: 3, instance: f.senderTag, type: 'otherInstance' });
    const whole = frags.add(f);
    if (whole !== null) receiveText(acc, frags, whole, true);
    return;
  }
  if (inc.kind === 'encoded') return receiveEncoded(acc, frags, inc.bytes, fromFragments);
  // Untagged input forgets every partial message (§Receiving Fragments: any unfragmented message does).
  if (!fromFragments) frags.clear();
  const cur = currentContext(peer);
  switch (inc.kind) {
    case 'error':
      acc.step(cur, (tx) => ctxReceiveUntagged(tx, { kind: 'error', text: inc.error.text }, false));
      return;
    case 'query':
      acc.step(peer.master, (tx) => ctxReceiveUntagged(tx, { kind: 'query', versions: inc.versions }, true));
      return;
    case 'whitespace': {
      const w = { kind: 'whitespace', text: inc.text, versions: inc.versions } as const;
      acc.step(cur, (tx) => ctxReceiveUntagged(tx, w, false));
      acc.step(acc.peer.master, (tx) => ctxReceiveUntagged(tx, w, true));
      return;
    }
    case 'plaintext':
      if (text.startsWith('?OTR,')) return acc.event({ version: 3, instance: 0, type: 'ignored', reason: 'OTRv2 fragment (version 2 is not supported)' });
      acc.step(cur, (tx) => ctxReceiveUntagged(tx, { kind: 'plaintext', text: inc.text }, false));
      return;
  }
}

function receiveEncoded(acc: Acc, frags: FragmentTable, bytes: Uint8Array, fromFragments: boolean): void {
  const policy = { ...DEFAULT_V3_POLICY, ...(acc.opts.policy ?? {}) };
  if (!policy.allowV3) return;
  const m = decodeMessage(bytes, acc.limits.maxFieldBytes);
  const peer = acc.peer;
  // A receiver tag other than ours (0: "anyone", as on a first D-H Commit) is for another of our instances.
  if (m.receiverTag !== 0 && m.receiverTag !== peer.ourTag) return acc.event({ version: 3, instance: m.senderTag, type: 'otherInstance' });
  if (!fromFragments) frags.forget(m.senderTag);
  const ctx = contextOf(peer, m.senderTag);
  const handle = (tx: Tx): void => ctxReceiveMessage(tx, m);
  switch (m.type) {
    case MessageTypeV3.dhCommit:
    case MessageTypeV3.dhKey: {
      const masterAke = peer.master.auth.kind === 'awaitingDhKey' ? peer.master.auth : null;
      if (ctx && (ctx.auth.kind !== 'none' || (m.type === MessageTypeV3.dhCommit && !masterAke))) return void acc.step(ctx, handle);
      // A D-H Key answers only a commitment of ours: without one (here or at the master) it is dropped.
      if (m.type === MessageTypeV3.dhKey && !masterAke) return;
      // Join the master's AKE (or start this instance's own): a context of its own for this instance.
      const begin = (tx: Tx): void => {
        if (masterAke) tx.s.auth = cloneAuth(masterAke);
        handle(tx);
      };
      if (ctx) return void acc.step(ctx, begin);
      return admitNew(acc, m, begin);
    }
    case MessageTypeV3.revealSignature:
    case MessageTypeV3.signature:
      // Only the context that runs this instance's AKE can use them; anything else is dropped (§AKE).
      if (ctx) acc.step(ctx, handle);
      return;
    case MessageTypeV3.data:
      if (ctx) return void acc.step(ctx, handle, { encrypted: true });
      // No session with this instance. Before any instance exists the master answers as the spec says for an
      // unreadable message (so a peer whose session we lost starts again); after, it is another instance's.
      if (peer.instances.length === 0) return void acc.step(peer.master, handle);
      return acc.event({ version: 3, instance: m.senderTag, type: 'otherInstance' });
  }
}

function admitNew(acc: Acc, m: V3Message, body: (tx: Tx) => void): void {
  const room = acc.admit();
  if (!room) {
    acc.event({ version: 3, instance: m.senderTag, type: 'ignored', reason: 'too many OTRv3 instances with an AKE in progress', code: 'LIMIT_EXCEEDED' });
    return;
  }
  acc.step(newV3Context(acc.peer.ourTag, m.senderTag), body, { admitting: true, evict: room.evict });
}

// ---- public transitions --------------------------------------------------------------------------------

function run(opts: V3Options, peer: V3Peer, body: (acc: Acc) => void): V3PeerResult {
  const acc = new Acc(opts, peer);
  try {
    body(acc);
  } catch (e) {
    if (!(e instanceof OtrError)) throw e;
    // Typed failure before any context changed (decoding, limits): the input is dropped.
    acc.event({ version: 3, instance: 0, type: 'ignored', reason: e.message, code: e.code });
  }
  return acc.result();
}

/** A message from the network (any text: plaintext, query, error, encoded, fragment). */
export function v3Receive(opts: V3Options, peer: V3Peer, frags: FragmentTable, text: string): V3PeerResult {
  if (typeof text !== 'string') throw new OtrArgumentError('received message must be a string');
  return run(opts, peer, (acc) => receiveText(acc, frags, text, false));
}

function target(peer: V3Peer, instance: number | undefined): V3State {
  if (instance === undefined) return currentContext(peer);
  const c = instance === 0 ? undefined : contextOf(peer, instance);
  if (!c) throw new OtrArgumentError(`no OTRv3 context with remote instance ${instance.toString(16)}`);
  return c;
}

/** Our user typed `text`: to the current instance, or to `instance`. */
export function v3Send(opts: V3Options, peer: V3Peer, text: string, instance?: number): V3PeerResult {
  if (typeof text !== 'string') throw new OtrArgumentError('message must be a string');
  const ctx = target(peer, instance);
  return run(opts, peer, (acc) => void acc.step(ctx, (tx) => ctxSend(tx, text)));
}

/** Our user asks for a private conversation: a query message (the peer starts the AKE). */
export function v3Start(opts: V3Options, peer: V3Peer): V3PeerResult {
  return run(opts, peer, (acc) => void acc.step(peer.master, ctxStart));
}

/** Starts the AKE ourselves: a D-H Commit to any instance of the peer, from the master context. */
export function v3StartAke(opts: V3Options, peer: V3Peer): V3PeerResult {
  return run(opts, peer, (acc) => void acc.step(peer.master, ctxStartAke));
}

/** Our user ends the private conversation: with every instance that is not in plaintext (or just `instance`). */
export function v3End(opts: V3Options, peer: V3Peer, instance?: number): V3PeerResult {
  return run(opts, peer, (acc) => {
    const ends = instance !== undefined ? [target(peer, instance)] : peer.instances.filter((c) => c.msgstate !== 'plaintext');
    if (ends.length === 0) ends.push(currentContext(peer));
    for (const c of ends) acc.step(contextOf(acc.peer, c.theirTag)!, ctxEnd);
  });
}

/** Runs an operation of the current instance (SMP, extra key): it must exist. */
function onCurrent(opts: V3Options, peer: V3Peer, body: (tx: Tx) => void): V3PeerResult {
  const ctx = currentContext(peer);
  if (ctx.theirTag === 0) throw new OtrStateError('no OTRv3 instance to talk to');
  return run(opts, peer, (acc) => void acc.step(ctx, body));
}

export function v3StartSmp(opts: V3Options, peer: V3Peer, secret: string | Uint8Array, question?: string): V3PeerResult {
  return onCurrent(opts, peer, (tx) => ctxStartSmp(tx, secret, question));
}

export function v3RespondSmp(opts: V3Options, peer: V3Peer, secret: string | Uint8Array): V3PeerResult {
  return onCurrent(opts, peer, (tx) => ctxRespondSmp(tx, secret));
}

export function v3AbortSmp(opts: V3Options, peer: V3Peer): V3PeerResult {
  return onCurrent(opts, peer, ctxAbortSmp);
}

/** TLV 8 to the current instance; returns the extra symmetric key (see ctxUseExtraKey). */
export function v3UseExtraKey(opts: V3Options, peer: V3Peer, use: number, useData: Uint8Array = new Uint8Array(0)): V3PeerResult & { key: Uint8Array | null } {
  let key: Uint8Array | null = null;
  const r = onCurrent(opts, peer, (tx) => {
    key = ctxUseExtraKey(tx, use, useData);
  });
  return { ...r, key };
}
