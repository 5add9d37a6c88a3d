/**
 * The OTR side of the XMPP bridge: one Account (our XMPP account), one Conversation per peer's bare JID, and
 * the instances of each peer inside it (one per device / XMPP resource). It knows nothing of XMPP or of the
 * terminal: messages come in through receive(), user actions through the other methods; what must go on the
 * network goes to `transport`, what a person should see goes to `ui`.
 *
 * Every call follows the same order (docs/persistence.md): the library call, then the state is saved durably
 * (persistence.ts: a file written atomically, or the SQLite record store), and only once that save resolved is
 * the output transmitted. A crash at any point therefore never loses a message key that went out, and a
 * restart never reuses one. Saves run one at a time and transmissions keep the order of the calls; a save
 * taken later than its call holds that call's state and maybe more, never less.
 *
 * Routing: each outgoing OTR message carries the receiver's instance tag; the bridge sends it to the XMPP
 * resource that instance last wrote from, so another device of the same account never receives messages that
 * were not meant for it. Messages without a receiver (queries, the first Identity) go to the bare JID, i.e.
 * to every device, or back to the resource being answered.
 */
import { Account, type Outcome, type OtrEvent, type Policy } from '../../ts/index.js';
import { hexTag, wireTags } from './wire-tags.js';
import type { BridgeState, InstanceRecord } from './state-file.js';
import type { StateBackend } from './persistence.js';

export type UiEvent =
  | { kind: 'message'; peer: string; instance: number; text: string; encrypted: boolean }
  | { kind: 'otr'; peer: string; event: OtrEvent }
  | { kind: 'wire'; dir: 'in' | 'out'; jid: string; body: string }
  | { kind: 'info'; text: string }
  | { kind: 'error'; text: string };

export interface BridgeOptions {
  backend: StateBackend;
  /** Puts one message body on the network (to a bare or full JID). */
  transport: (to: string, body: string) => void;
  ui: (e: UiEvent) => void;
  /** Also report every message body crossing the bridge (tests check ciphertexts with it). */
  wire?: boolean;
  /** A save failed: nothing more will be transmitted; the host should stop. */
  fatal?: (e: Error) => void;
}

export const bareJid = (jid: string): string => jid.split('/')[0]!.toLowerCase();

/** RFC 7622: localpart, domainpart and resourcepart are at most 1023 bytes each (so 3071 characters bound a JID). */
const MAX_JID_CHARS = 3 * 1023 + 2;
/** A bare JID a peer can have: localpart@domainpart, no spaces (a server or component address is no chat peer). */
const PEER_JID = /^[^@/\s]+@[^@/\s]+$/;

/**
 * The peer (bare JID) of a sender address from the network, or undefined when it cannot be one: too long, no
 * localpart, empty. This also keeps names such as `__proto__` or `constructor` (no `@`) out of the
 * per-peer records, which are plain objects keyed by bare JID.
 */
export function peerOf(from: string): string | undefined {
  if (from.length > MAX_JID_CHARS) return undefined;
  const peer = bareJid(from);
  return PEER_JID.test(peer) ? peer : undefined;
}

export class OtrBridge {
  /** The save in flight or queued; transmissions wait on it. */
  private saving: Promise<void> = Promise.resolve();
  /** A save queued behind the one in flight: later calls join it instead of queueing one each. */
  private queued: Promise<void> | undefined;
  /** Set when a save failed: nothing is transmitted any more (the state on disk is behind the session). */
  private broken: Error | undefined;

  private constructor(
    readonly account: Account,
    private readonly peers: BridgeState['peers'],
    private readonly o: BridgeOptions,
  ) {}

  /** Restores the account from the backend, or creates one (and saves it at once: a stable identity). */
  static async open(accountId: string, policy: Partial<Policy>, o: BridgeOptions): Promise<{ bridge: OtrBridge; restored: boolean }> {
    const saved = await o.backend.load();
    const account = saved
      ? Account.restore(Buffer.from(saved.account, 'base64'), { policy })
      : Account.create({ accountId, policy, dsaKey: null });
    const bridge = new OtrBridge(account, saved?.peers ?? {}, o);
    if (!saved) await bridge.persist();
    return { bridge, restored: saved !== undefined };
  }

  /** Resolves when every save asked for so far is durable and every output transmitted (or the bridge broke). */
  idle(): Promise<void> {
    return this.saving.then(() => undefined, () => undefined);
  }

  /** A message body from the network. `from` is the sender's full JID. */
  receive(from: string, body: string): void {
    const peer = peerOf(from);
    if (peer === undefined) {
      // Not echoed: the address is the sender's choice, of any size.
      this.o.ui({ kind: 'error', text: 'ignored a message from an address that is not a user@domain JID' });
      return;
    }
    if (this.o.wire) this.o.ui({ kind: 'wire', dir: 'in', jid: from, body });
    const tags = wireTags(body);
    // otrv4.md §Instance Tags: "If a client receives a message that lists a destination instance tag different
    // from its own, the client should discard the message." The server relays such messages to us when the
    // device they were for is offline (RFC 6121 §8.5.3.2.1 treats a chat message to an unavailable resource as
    // sent to the bare JID). The library would report them unreadable and answer with an OTR error.
    if (tags && tags.receiver !== 0 && tags.receiver !== this.account.instanceTag) {
      this.o.ui({ kind: 'otr', peer, event: { type: 'ignored', instance: tags.sender, reason: `for another device (#${hexTag(tags.receiver)})` } });
      return;
    }
    const conv = this.account.conversation(peer);
    const out = conv.receive(body);
    // Learn where this instance lives, once the library accepted it as an instance (forged tags never are).
    if (tags && conv.instanceTags.includes(tags.sender)) this.record(peer, tags.sender).resource = from;
    this.finish(peer, out, from);
  }

  /** Sends a user message to the peer's current instance (or `instance`). */
  send(peer: string, text: string, instance?: number): void {
    this.finish(peer, this.account.conversation(peer).send(text, instance === undefined ? {} : { instance }));
  }

  /** Sends a user message to every instance of the peer with an encrypted session; returns how many. */
  sendAll(peer: string, text: string): number {
    const tags = this.encryptedInstances(peer);
    for (const t of tags) this.send(peer, text, t);
    return tags.length;
  }

  /** Asks the peer (every device) to start OTR. */
  start(peer: string): void {
    this.finish(peer, this.account.conversation(peer).start());
  }

  startSmp(peer: string, secret: string, question?: string): void {
    this.finish(peer, this.account.conversation(peer).startSmp(secret, question));
  }

  answerSmp(peer: string, secret: string): void {
    this.finish(peer, this.account.conversation(peer).answerSmp(secret));
  }

  end(peer: string): void {
    this.finish(peer, this.account.conversation(peer).end());
  }

  /** Instances of `peer` whose session is encrypted, as far as the events have told us. */
  encryptedInstances(peer: string): number[] {
    return Object.entries(this.peers[peer] ?? {})
      .filter(([, r]) => r.encrypted)
      .map(([t]) => parseInt(t, 16));
  }

  status(): { peer: string; instance: number; record: InstanceRecord; current: boolean }[] {
    const rows = [];
    for (const [peer, insts] of Object.entries(this.peers)) {
      const current = this.account.conversation(peer).currentInstance;
      for (const [t, record] of Object.entries(insts)) rows.push({ peer, instance: parseInt(t, 16), record, current: parseInt(t, 16) === current });
    }
    return rows;
  }

  /**
   * Saves the state durably: joins the save queued behind the one in flight, if any (it will serialize the
   * account when it starts, so it includes this call), else queues one.
   */
  persist(): Promise<void> {
    if (this.queued) return this.queued;
    const next = this.saving.then(async () => {
      this.queued = undefined;
      if (this.broken) throw this.broken;
      await this.o.backend.save({ account: Buffer.from(this.account.serialize()).toString('base64'), peers: this.peers });
    });
    this.queued = next;
    this.saving = next.catch((e: Error) => {
      this.broken ??= e;
    });
    return next;
  }

  private record(peer: string, tag: number): InstanceRecord {
    const insts = (this.peers[peer] ??= {});
    return (insts[hexTag(tag)] ??= { encrypted: false });
  }

  /** Persist, show, then transmit: the order that keeps a crash from reusing a key. */
  private finish(peer: string, out: Outcome, replyTo?: string): void {
    for (const e of out.events) {
      if (e.type === 'encrypted') Object.assign(this.record(peer, e.instance), { encrypted: true, ssid: e.ssid, fingerprint: e.peerFingerprint });
      if (e.type === 'finished' || e.type === 'ended') this.record(peer, e.instance).encrypted = false;
    }
    const durable = out.toSend.length || out.events.length || out.messages.length ? this.persist() : Promise.resolve();
    for (const m of out.messages) this.o.ui({ kind: 'message', peer, instance: m.instance, text: m.text, encrypted: m.encrypted });
    for (const e of out.events) this.o.ui({ kind: 'otr', peer, event: e });
    if (!out.toSend.length) return;
    // Resolved routes now (the call's view); sent once the save is durable, in call order (saves are ordered).
    const sends = out.toSend.map((body) => {
      const tags = wireTags(body);
      const to = (tags && tags.receiver ? this.peers[peer]?.[hexTag(tags.receiver)]?.resource : undefined) ?? replyTo ?? peer;
      return { to, body };
    });
    durable.then(
      () => {
        for (const { to, body } of sends) {
          if (this.o.wire) this.o.ui({ kind: 'wire', dir: 'out', jid: to, body });
          this.o.transport(to, body);
        }
      },
      (e: Error) => {
        this.o.ui({ kind: 'error', text: `state not saved (${e.message}): ${sends.length} message(s) to ${peer} NOT sent; the bridge stops` });
        this.o.fatal?.(e);
      },
    );
  }
}
