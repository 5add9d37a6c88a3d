/**
 * One conversation with one peer: the OTRv4 protocol state machine (otrv4.md §The Protocol State Machine)
 * over the pure layers below (ake/ for the DAKE, ratchet/ for data messages, smp/ for SMP, v3/ for peers that
 * only speak OTRv3). Every call returns an `Outcome` — strings to transmit, messages to show, events — and
 * nothing is delivered by callback; nothing here does I/O or reads a clock or randomness other than the
 * account's injected ones.
 *
 * Instances. A peer may be logged in several times; each of their clients has an instance tag, and we keep
 * one `Instance` (DAKE state, ratchet, SMP) per remote tag. An Identity message we send before we know the
 * peer's tag (after a query) is addressed to 0 and kept apart as the "unbound" DAKE until an Auth-R binds it.
 * `send` uses the instance that most recently completed a DAKE.
 *
 * Robustness. `receive` never throws on peer input: malformed, truncated, replayed or forged messages
 * produce an `unreadable` or `ignored` event (and, where the spec says so, an OTR error message to send).
 * The lower layers leave their state untouched on failure, and this layer assigns new state only after a
 * step succeeded, so a bad message never corrupts or loses a session.
 */
import { EarlyRatchetKeys } from './early-keys.js';
import { EARLY_MESSAGE_COST } from '../shared-budget.js';
import type { Limits } from '../limits.js';
import type { ConversationHost } from './host.js';
import type { ConversationState, OtrEvent, Outcome, ProtocolVersion } from './events.js';
import { emptyOutcome } from './events.js';
import { DEFAULT_POLICY, resolvePolicy, type Policy } from './policy.js';
import { encodeConstant, expect, putArray, putBoolean, putBytes, putEncoded, putIterable, putNull, putNumber, putOptionalBytes, putString, putValue, schema, type StateValue } from './state-codec.js';
import { instanceFromValue, instancesWithinLimit, instanceState, instanceToValue, liveEvictionFields, newInstance, prefetchInstance, type Instance } from './instance.js';
import { evictionOrder } from './instance-eviction.js';
import { dakeFromValue, dakeToValue, writeRatchetKept } from './persist.js';
import { encodeSmpState } from '../smp/persist.js';
import { OneSmpStep } from '../smp/one-step.js';
import type { SmpState } from '../smp/state.js';
import type { Writer } from '../codec/primitives.js';
import { OtrError, OtrArgumentError, OtrCryptoError, OtrDecodeError, OtrStateError } from '../errors.js';
import { receivedBefore } from '../ratchet/replay.js';
import { TokenBucket } from './budget.js';
import { bytesToHex, fromUtf8, utf8, wipe } from '../bytes.js';
import { classifyIncoming } from '../codec/classify.js';
import { armour } from '../codec/armour.js';
import { FragmentReassembler, fragmentMessage, randomFragmentIdentifier } from '../codec/fragment.js';
import { buildQuery } from '../codec/query.js';
import { tagPlaintext } from '../codec/whitespace.js';
import { buildErrorMessage, OtrErrorCode as WireErrorCode } from '../codec/error-message.js';
import { HEADER_BYTES, MessageType, PROTOCOL_VERSION_3, PROTOCOL_VERSION_4, peekHeader } from '../wire/header.js';
import { decodeDataMessage, FLAG_IGNORE_UNREADABLE } from '../wire/data.js';
import { decodeIdentity } from '../wire/dake.js';
import { joinTextPlaintext, splitPlaintextView, TlvType, type Tlv } from '../wire/tlv.js';
import { isValidSenderTag } from '../instance-tag.js';
import {
  DAKE_IDLE,
  receiveAuthI,
  receiveAuthR,
  receiveIdentity,
  startDake,
  wipeDakeState,
  type DakeEstablished,
  type DakeLocal,
  type DakeState,
} from '../ake/interactive.js';
import { decryptDataMessage, encryptDataMessage, expireSkippedKeys, inheritMacKeys, wipeRatchetState, withMacKeysAhead, type RatchetState } from '../ratchet/index.js';
import { deriveTlvExtraKeys, EXTRA_KEY_CONTEXT_BYTES, type TlvExtraKey } from '../ratchet/esk.js';
import { dropOldestMacKeys, macKeyCount, NO_MAC_KEYS, releaseMacKeys } from '../ratchet/mac-queue.js';
import { endedMacKeysFromValue, keepEndedMacKeys } from './ended-mac-keys.js';
import { smpAbort, smpAnswer, smpReceive, smpReset, smpStart, type SmpResult } from '../smp/state.js';
import { isSmpTlvType } from '../smp/tlv-types.js';
import { profileFingerprint } from '../profile/client-profile.js';
import { V3Conversation, type V3Options, type V3Output } from '../v3/index.js';
import { mapV3Event, v3TypeOfFirstPiece } from './v3-bridge.js';
import { ownIdentity, receiveNonInteractiveAuth, sendNonInteractiveAuth, type OfflineLocal } from '../offline/dake.js';
import { chooseEnsembles, type PrekeyEnsemble } from '../prekey/ensemble.js';
import { judgeFingerprint, smpVerified } from './trust.js';
import { Healer, type HealReason } from './healing.js';
import { device, type Device } from './devices.js';


export interface SendOptions {
  /**
   * Send to this remote instance instead of the current one; `'all'` sends to every instance (device of the
   * peer) with an encrypted session, and falls back to the ordinary behaviour when there is none.
   */
  instance?: number | 'all';
  /**
   * Attach a TLV 7 asking the peer to derive the extra symmetric key: `context` (4 bytes) tells the peer what
   * it is for, `data` travels along. The derived key comes back as an `extra-key` event.
   */
  extraKey?: { context: Uint8Array; data?: Uint8Array };
  /** Send as a heartbeat-style message the peer should not complain about if unreadable. */
  ignoreUnreadable?: boolean;
}

const TAG_ANY = 0;
/** OTRv3 AKE message types (otrv3-protocol: D-H Commit, D-H Key, Reveal Signature, Signature). */
const V3_DH_COMMIT = 0x02;
const V3_AKE_TYPES: ReadonlySet<number> = new Set([V3_DH_COMMIT, 0x0a, 0x11, 0x12]);

export class Conversation {
  private readonly instances = new Map<number, Instance>();
  /** Our Identity sent with receiver tag 0 (after a query): it belongs to no instance until Auth-R arrives. */
  private unbound: DakeState = DAKE_IDLE;
  /** When the unbound DAKE began (it expires after limits.pendingDakeExpiryMs). */
  private unboundSince = 0;
  /**
   * Whether the unbound Identity standing now answered the peer's query (offered) rather than our own start
   * (startDake, a send under requireEncryption, a repair): only then is it a DAKE the peer started, which
   * limits.maxAccountPendingDakes may evict. Our own DAKE is never the peer's, even after the peer's query
   * was answered first (attacks/s10-review3-dake-eviction). Runtime only: a restored one counts as ours.
   */
  private unboundAnswersQuery = false;
  /** The remote instance `send` uses. */
  private current = TAG_ANY;
  /** User messages waiting for an encrypted session (requireEncryption, or typed during the DAKE). */
  private queue: string[] = [];
  /** Keep advertising OTR by whitespace tag until the peer answers in plaintext (otrv4.md §Whitespace Tags). */
  private advertise = true;
  /** The protocol version of the encrypted session in use, if any. */
  private active: ProtocolVersion | null = null;
  /**
   * MAC keys of OTRv4 sessions that ended without publishing them (the peer's disconnect, a rollback), for the
   * next session to publish (ended-mac-keys.ts): an owned queue (ratchet/mac-queue.ts), persisted as the
   * record's `endedMacKeys` while not empty.
   */
  private endedMacKeys: Uint8Array = NO_MAC_KEYS;
  /**
   * What the restore of this conversation dropped to bring a record written under higher limits within the
   * account's (state-trimmed events): handed to the host with the conversation's first outcome (records.ts).
   */
  private trimmedOnRestore: OtrEvent[] | null = null;
  private v3conv: V3Conversation | null = null;
  /** Fragments are transient: a restart drops half-received fragmented messages (they are resent or lost). */
  private readonly reassembler: FragmentReassembler;
  readonly peerId: string;
  private readonly peerIdBytes: Uint8Array;
  private policyOverride: Partial<Policy> | undefined;
  /** The account policy with the override applied, resolved once (read several times per message). */
  private resolvedPolicy: Policy | undefined;
  /** Unauthenticated DAKE work for this peer (limits.dakeBudgetPeer*); runtime only. */
  private readonly dakeBudget: TokenBucket;
  /** The version and remote instance `send` last used: a change is reported (`version-switched`, `instance-switched`). */
  private lastTarget: { version: ProtocolVersion; instance: number } | null = null;
  /** Sessions that heal (policy.healSessions): repair DAKEs, unreadable counts, unconfirmed messages; runtime only. */
  private readonly healer: Healer;
  /**
   * @internal Message keys used so far (OTRv4 data messages sealed or opened); runtime only. A call that moves it
   * changed the state for certain — a key used must never be usable again — so the record book writes that
   * call's record without first comparing it with the last one (records.ts).
   */
  keysUsed = 0;
  /**
   * @internal (records.ts, limits.maxAccountConversations) When this conversation's record was last handed out,
   * as the record book counts writes (0: not written by this process): "least recently written" is the idle
   * order in which records are evicted. A field, not a table: it is set on every write of a record.
   */
  recordSeq = 0;
  /**
   * @internal (account.ts) The host asked for something here (start, startDake, send, sendOffline, an SMP): the
   * conversation is one the user wants, whatever the peer is. Persisted (session 12: field `host` of the record,
   * written while the conversation holds anything else), so a restart ranks it as the host's too.
   */
  hostEngaged = false;
  /** @internal (account.ts) Set when the account evicted this conversation: every later call is refused. */
  evicted = false;

  constructor(
    private readonly account: ConversationHost,
    peerId: string,
  ) {
    this.peerId = peerId;
    this.peerIdBytes = utf8(peerId);
    this.reassembler = new FragmentReassembler(account.limits, account.fragmentBudget);
    this.dakeBudget = new TokenBucket(account.limits.dakeBudgetPeerBurst, account.limits.dakeBudgetPeerPerSecond);
    this.healer = new Healer(account.limits);
  }

  // ------------------------------------------------------------------ public API

  /** This conversation's policy: the account's, with any per-peer override. */
  get policy(): Policy {
    return this.resolvedPolicy ?? this.account.policy;
  }

  /** Overrides the account policy for this peer (e.g. require encryption with Bob, allow OTRv3 with Carol). */
  setPolicy(p: Partial<Policy>): void {
    this.policyOverride = { ...this.policyOverride, ...checkPolicyOverride(p) };
    this.resolvedPolicy = resolvePolicy(this.account.policy, this.policyOverride);
  }

  /** The state of the current instance, in the spec's terms. */
  get state(): ConversationState {
    if (this.active === 3 && this.v3conv) return this.v3conv.msgstate === 'encrypted' ? 'ENCRYPTED_MESSAGES' : this.v3conv.msgstate === 'finished' ? 'FINISHED' : 'START';
    // Before any session, the instance whose DAKE is under way speaks for the conversation.
    const inst = this.instances.get(this.current) ?? [...this.instances.values()].find((i) => i.dake.kind !== 'idle');
    if (inst) return instanceState(inst);
    if (this.unbound.kind === 'awaiting-auth-r') return 'WAITING_AUTH_R';
    return 'START';
  }

  /** The protocol version of the encrypted session, if one is up. */
  get version(): ProtocolVersion | undefined {
    return this.active ?? undefined;
  }

  /** The SSID of the current session (hex), for users to compare. */
  get ssid(): string | undefined {
    if (this.active === 3) {
      const s = this.v3conv?.state.peer?.ssid;
      return s ? bytesToHex(s) : undefined;
    }
    const inst = this.instances.get(this.current);
    return inst?.ssid ? bytesToHex(inst.ssid) : undefined;
  }

  /** The peer's long-term fingerprint in the current session (hex). */
  get peerFingerprint(): string | undefined {
    if (this.active === 3) {
      const f = this.v3conv?.peerFingerprint;
      return f ? bytesToHex(f) : undefined;
    }
    const inst = this.instances.get(this.current);
    return inst?.peerProfile ? bytesToHex(profileFingerprint(this.account.backend, inst.peerProfile)) : undefined;
  }

  /** The remote instance tags we hold state for. */
  get instanceTags(): number[] {
    return [...this.instances.keys()];
  }

  /**
   * The peer's devices: every remote instance we hold state for (and the OTRv3 session), with the fingerprint
   * of its session, that fingerprint's trust in the account's store, and its state (docs/trust.md).
   */
  get devices(): Device[] {
    const store = this.account.fingerprints;
    const list = [...this.instances.values()].map((i) =>
      device(store, this.peerId, {
        instance: i.peerTag,
        version: 4,
        state: instanceState(i),
        ...(i.peerProfile ? { fingerprint: bytesToHex(profileFingerprint(this.account.backend, i.peerProfile)) } : {}),
        current: this.active === 4 && i.peerTag === this.current,
        healing: this.healer.healing(i.peerTag),
      }),
    );
    const v3 = this.v3conv;
    if (v3 && v3.msgstate !== 'plaintext') {
      const f = v3.peerFingerprint;
      list.push(
        device(store, this.peerId, {
          instance: v3.state.theirTag ?? TAG_ANY,
          version: 3,
          state: v3.msgstate === 'encrypted' ? 'ENCRYPTED_MESSAGES' : 'FINISHED',
          ...(f ? { fingerprint: bytesToHex(f) } : {}),
          current: this.active === 3,
          healing: false,
        }),
      );
    }
    return list;
  }

  /** Every fingerprint seen for this peer, with its trust (the account's store). */
  get fingerprints() {
    return this.account.fingerprints.list(this.peerId);
  }

  /** Marks the peer's fingerprint (default: the current session's) as verified by hand. */
  verifyFingerprint(fingerprint: string | undefined = this.peerFingerprint): void {
    if (fingerprint === undefined) throw new OtrStateError('no fingerprint to verify: no session yet');
    this.account.fingerprints.verify(this.peerId, fingerprint);
  }

  /** Revokes trust in one of the peer's fingerprints (default: the current session's). */
  revokeFingerprint(fingerprint: string | undefined = this.peerFingerprint): void {
    if (fingerprint === undefined) throw new OtrStateError('no fingerprint to revoke: no session yet');
    this.account.fingerprints.revoke(this.peerId, fingerprint);
  }

  /** The remote instance `send` uses (0 before any DAKE). */
  get currentInstance(): number {
    return this.current;
  }

  /** Asks the peer to start OTR: a query message offering the versions the policy allows. */
  start(): Outcome {
    this.hostEngaged = true;
    const out = emptyOutcome();
    out.toSend.push(this.query());
    return out;
  }

  /**
   * start()'s query message. Calls inside the conversation use this, never start(): the public calls are
   * wrapped by the record book (records.ts instrument), and a nested wrapped call would hand the changes made
   * so far out in an outcome the outer call throws away (attacks/s7-nested-records).
   */
  private query(): string {
    const versions = this.allowedVersions();
    if (versions.length === 0) throw new OtrStateError('the policy allows no OTR version');
    return buildQuery(versions);
  }

  /** Starts the OTRv4 DAKE directly (otrv4.md §Starting a conversation interactively): sends an Identity message. */
  startDake(instance = TAG_ANY): Outcome {
    this.hostEngaged = true;
    const out = emptyOutcome();
    if (!this.policy.allowV4) throw new OtrStateError('the policy does not allow OTRv4');
    this.sendIdentity(out, instance);
    return out;
  }

  /**
   * Starts a conversation with a peer who is offline (otrv4.md §Sending a Data Message to an offline
   * participant): from the prekey ensembles a prekey server returned for the peer, one valid ensemble per
   * instance is chosen (invalid ones are reported as `ignored` events), a Non-Interactive-Auth message is made
   * for each, the session is encrypted at once, and `text` (if given) follows as the first data message.
   */
  sendOffline(ensembles: readonly PrekeyEnsemble[], text?: string): Outcome {
    this.hostEngaged = true;
    if (!Array.isArray(ensembles)) throw new OtrArgumentError('ensembles must be an array');
    // Each validated below field by field; an entry without the three parts would fail there as a TypeError
    // (through the pool: an `internal` failure that reverts the account; session 8, test/attacks/s8-pool).
    for (const e of ensembles as unknown[]) {
      const parts = e as Partial<Record<keyof PrekeyEnsemble, unknown>> | null;
      if (typeof parts !== 'object' || parts === null || [parts.clientProfile, parts.prekeyProfile, parts.prekeyMessage].some((x) => typeof x !== 'object' || x === null))
        throw new OtrArgumentError('each ensemble must be an object with clientProfile, prekeyProfile and prekeyMessage');
    }
    if (text !== undefined && (typeof text !== 'string' || text.includes('\0'))) throw new OtrArgumentError('text must be a string without NUL');
    if (!this.policy.allowV4) throw new OtrStateError('the policy does not allow OTRv4');
    const out = emptyOutcome();
    const b = this.account.backend;
    const now = this.account.clock();
    // Our own ensemble handed out as the peer's (a hostile prekey server) is refused with the invalid ones.
    const choice = chooseEnsembles(b, ensembles, { nowMs: now, own: ownIdentity(this.offlineLocal()) });
    for (const r of choice.rejected) out.events.push({ type: 'ignored', instance: TAG_ANY, reason: `prekey ensemble ${r.index}: ${r.error.message}` });
    for (const e of choice.chosen) {
      const r = sendNonInteractiveAuth(b, this.account.random, this.offlineLocal(), e, now);
      const inst = this.instance(e.prekeyMessage.ownerTag);
      // otrv4.md §Starting an offline conversation after an online one: end the online session first (TLV 1).
      if (inst.ratchet && !inst.finished) this.sayGoodbye(out, inst);
      out.toSend.push(...this.wire(r.message, inst.peerTag));
      this.establish(out, inst, r.established);
      if (text !== undefined) this.sendData(out, inst, text, [], 0);
    }
    return out;
  }

  /** Receives one message from the network. Never throws on peer input. */
  receive(text: string): Outcome {
    if (typeof text !== 'string') throw new OtrArgumentError('received message must be a string');
    const out = emptyOutcome();
    this.expireIfIdle(out);
    try {
      this.dispatch(text, out, 0);
    } catch (e) {
      this.report(out, TAG_ANY, e);
    }
    return out;
  }

  /** Sends a user message: encrypted when a session is up, otherwise as the policy says. */
  send(text: string, options: SendOptions = {}): Outcome {
    if (typeof text !== 'string') throw new OtrArgumentError('message must be a string');
    if (text.includes('\0')) throw new OtrArgumentError('message text must not contain NUL');
    // The default covers only undefined: null (or a number) would be read below as a TypeError (session 8).
    if (typeof options !== 'object' || options === null) throw new OtrArgumentError('send options must be an object');
    this.hostEngaged = true;
    const out = emptyOutcome();
    this.expireIfIdle(out);
    if (options.instance === 'all' && this.sendAll(out, text, options)) return out;
    const target = options.instance === 'all' ? undefined : options.instance;
    if (this.active === 3 && this.v3conv && !target) {
      if (this.v3conv.msgstate === 'encrypted') this.account.fingerprints.markContact(this.peerId);
      this.absorbV3(this.v3conv.send(text), out);
      return out;
    }
    const inst = this.instances.get(target ?? this.current);
    if (inst && this.healer.healing(inst.peerTag)) {
      // A repair DAKE is under way: the old session is what the peer cannot read. Sent when the new one is up.
      this.queue.push(text);
      out.events.push({ type: 'not-sent', reason: 'queued', text });
      return out;
    }
    if (inst?.ratchet && !inst.finished) {
      this.sendUser(out, inst, text, options);
      return out;
    }
    if (inst?.finished && this.policy.healSessions && this.healer.wasExpired(inst.peerTag)) {
      // Our own expiry (not the peer's end): queue the text and start again instead of refusing it.
      this.queue.push(text);
      out.events.push({ type: 'not-sent', reason: 'queued', text });
      this.heal(out, inst, 'expired');
      return out;
    }
    if (inst?.finished || (!inst && this.state === 'FINISHED')) {
      // otrv4.md §Sending a Data Message: in FINISHED the user must start again; never fall back to plaintext.
      out.events.push({ type: 'not-sent', reason: 'finished', text });
      return out;
    }
    const p = this.policy;
    if (p.requireEncryption || this.dakeInProgress()) {
      this.queue.push(text);
      out.events.push({ type: 'not-sent', reason: 'queued', text });
      if (!this.dakeInProgress()) out.toSend.push(this.query());
      return out;
    }
    const versions = this.allowedVersions();
    out.toSend.push(p.sendWhitespaceTag && this.advertise && versions.length ? tagPlaintext(text, versions) : text);
    return out;
  }

  /** One user message on `inst`'s session, kept as unconfirmed until the peer shows it reads us. */
  private sendUser(out: Outcome, inst: Instance, text: string, options: SendOptions): void {
    const tlvs: Tlv[] = [];
    if (options.extraKey) tlvs.push(extraKeyTlv(options.extraKey));
    this.sendData(out, inst, text, tlvs, options.ignoreUnreadable ? FLAG_IGNORE_UNREADABLE : 0);
    this.healer.sent(inst.peerTag, text);
    // Our user wrote to this peer: a contact, whose keys a flood of strangers must not push out of the trust
    // store (attacks/s11-review-trust-flood). A map lookup; the account record changes the first time only.
    this.account.fingerprints.markContact(this.peerId);
  }

  /** `send(text, { instance: 'all' })`: to every device with a usable session; false if there is none. */
  private sendAll(out: Outcome, text: string, options: SendOptions): boolean {
    let sent = 0;
    for (const inst of this.instances.values()) {
      if (!inst.ratchet || inst.finished || this.healer.healing(inst.peerTag)) continue;
      this.sendUser(out, inst, text, options);
      sent++;
    }
    if (this.v3conv && this.v3conv.msgstate === 'encrypted') {
      this.account.fingerprints.markContact(this.peerId);
      this.absorbV3(this.v3conv.send(text), out);
      sent++;
    }
    return sent > 0;
  }

  /**
   * Starts a repair DAKE on `inst` (policy.healSessions), within the repair budget: the messages the peer may
   * not have read go to the front of the queue and are sent on the new session. Every step is a `heal` event.
   */
  private heal(out: Outcome, inst: Instance, reason: HealReason): void {
    if (!this.policy.healSessions || !this.policy.allowV4) return;
    const r = this.healer.begin(inst.peerTag, reason, this.account.clock());
    if (r.step === 'pending') return;
    if (r.step === 'throttled') {
      out.events.push({ type: 'heal', instance: inst.peerTag, step: 'throttled', reason });
      return;
    }
    this.queue.unshift(...r.resend);
    this.sendIdentity(out, inst.peerTag);
    out.events.push({ type: 'heal', instance: inst.peerTag, step: 'started', reason, count: r.resend.length });
  }

  /**
   * Ends the encrypted session(s) (otrv4.md §User requests to end an OTRv4 Conversation): a data message with
   * TLV 1 and every pending MAC key revealed, then back to START. In FINISHED, simply back to START.
   */
  end(): Outcome {
    const out = emptyOutcome();
    if (this.v3conv && this.v3conv.msgstate !== 'plaintext') this.absorbV3(this.v3conv.end(), out);
    for (const inst of this.instances.values()) {
      if (inst.ratchet && !inst.finished) this.sayGoodbye(out, inst);
      const from = instanceState(inst);
      this.closeInstance(inst);
      this.healer.forget(inst.peerTag);
      inst.finished = false;
      if (from !== 'START') out.events.push({ type: 'state', instance: inst.peerTag, from, to: 'START' });
      out.events.push({ type: 'ended', instance: inst.peerTag });
    }
    wipeDakeState(this.unbound);
    this.unbound = DAKE_IDLE;
    this.active = null;
    return out;
  }

  /**
   * Timers: expires an idle session (otrv4.md §Session Expiration) and drops stale stored keys. Hosts call it
   * now and then (every call to send/receive does it too).
   */
  poll(): Outcome {
    const out = emptyOutcome();
    this.expireIfIdle(out);
    return out;
  }

  /**
   * Forgets this conversation (account.forget): every key wiped, the record deleted (commit the returned
   * outcome's `changed`). The object is unusable afterwards; account.conversation(peer) starts afresh.
   */
  forget(): Outcome {
    return this.account.forget(this.peerId);
  }

  /** Starts SMP with the shared secret `answer` and an optional question. */
  startSmp(answer: string | Uint8Array, question?: string): Outcome {
    this.hostEngaged = true;
    const out = emptyOutcome();
    if (this.active === 3 && this.v3conv) {
      this.absorbV3(this.v3conv.startSmp(answer, question), out);
      return out;
    }
    const inst = this.encryptedInstance();
    const r = smpStart(this.account.backend, inst.smp, this.smpInput(inst, answer), { rng: this.account.random, question, maxQuestionBytes: this.account.limits.maxSmpQuestionBytes });
    this.applySmp(out, inst, r);
    return out;
  }

  /** Answers the peer's SMP question (after an `smp` event with status `asked`). */
  answerSmp(answer: string | Uint8Array): Outcome {
    this.hostEngaged = true;
    const out = emptyOutcome();
    if (this.active === 3 && this.v3conv) {
      this.absorbV3(this.v3conv.respondSmp(answer), out);
      return out;
    }
    const inst = this.encryptedInstance();
    this.applySmp(out, inst, smpAnswer(this.account.backend, inst.smp, this.smpInput(inst, answer), { rng: this.account.random }));
    return out;
  }

  /** Aborts a running SMP. */
  abortSmp(): Outcome {
    const out = emptyOutcome();
    if (this.active === 3 && this.v3conv) {
      this.absorbV3(this.v3conv.abortSmp(), out);
      return out;
    }
    const inst = this.encryptedInstance();
    this.applySmp(out, inst, smpAbort(inst.smp));
    return out;
  }

  // ------------------------------------------------------------------ receiving

  private dispatch(text: string, out: Outcome, depth: number): void {
    const L = this.account.limits;
    const incoming = classifyIncoming(text, L);
    const p = this.policy;
    switch (incoming.kind) {
      case 'fragment': {
        const f = incoming.fragment;
        if (this.reflected(out, f.senderTag)) return;
        if (f.version === 3) {
          // The OTRv3 layer reassembles its own fragments; an AKE message is gated and budgeted on its first
          // piece (which carries its type), as it is unfragmented (test/attacks/v3-fragmented-ake.test.ts).
          const type = f.index === 1 ? v3TypeOfFirstPiece(f.piece) : undefined;
          // A D-H Commit completed by its last piece starts an AKE the peer started, counted against the
          // account's bound as a whole one is below (uncounted, fragments bypassed maxAccountPendingDakes:
          // attacks/s11-review-v3-fragment-bound). Only a D-H Commit turns a conversation v3AkeOnly on a
          // fragment (a query, the other way, is never fragmented).
          const akeBefore = this.v3AkeOnly();
          if (type === undefined || !V3_AKE_TYPES.has(type)) this.fromV3(text, out, f.senderTag, 'message');
          else {
            if (!this.v3Gate(out, f.senderTag, type === V3_DH_COMMIT ? 'ake-start' : 'message')) return;
            if (!this.spendDakeBudget(out, f.senderTag)) return;
            this.toV3(text, out);
          }
          if (!akeBefore && this.v3AkeOnly()) this.account.pendingDakeStarted(out, this.peerId, false);
          return;
        }
        if (depth > 0) throw new OtrError('MALFORMED', 'a reassembled message is itself a fragment');
        if (f.receiverTag !== TAG_ANY && f.receiverTag !== this.account.instanceTag) {
          out.events.push({ type: 'ignored', instance: f.senderTag, reason: 'fragment for another instance' });
          return;
        }
        const r = this.reassembler.add(f);
        if (r.status === 'complete') return this.dispatch(r.message, out, depth + 1);
        if (r.status === 'rejected') out.events.push({ type: 'ignored', instance: f.senderTag, reason: `fragment rejected: ${r.reason}` });
        return;
      }
      case 'encoded': {
        const h = peekHeader(incoming.bytes);
        if (this.reflected(out, h.senderTag)) return;
        if (h.version === PROTOCOL_VERSION_3) {
          const ake = V3_AKE_TYPES.has(h.type);
          if (ake && !this.v3Gate(out, h.senderTag, h.type === V3_DH_COMMIT ? 'ake-start' : 'message')) return;
          // An OTRv3 AKE message costs modular exponentiations before the peer is authenticated: budgeted.
          if (ake && !this.spendDakeBudget(out, h.senderTag)) return;
          if (!ake) return this.fromV3(text, out, h.senderTag, 'message');
          this.toV3(text, out);
          // A D-H Commit answered: an OTRv3 AKE the peer started, kept in the record like an OTRv4 pending DAKE.
          if (h.type === V3_DH_COMMIT && this.v3AkeOnly()) this.account.pendingDakeStarted(out, this.peerId, false);
          return;
        }
        if (h.version !== PROTOCOL_VERSION_4) throw new OtrError('MALFORMED', `unsupported protocol version ${h.version}`);
        if (!p.allowV4) {
          out.events.push({ type: 'ignored', instance: h.senderTag, reason: 'OTRv4 is not allowed by the policy' });
          return;
        }
        return this.receiveV4(incoming.bytes, h.type, h.senderTag, out);
      }
      case 'error':
        out.events.push({ type: 'peer-error', code: incoming.error.code === undefined ? undefined : `ERROR_${incoming.error.code}`, message: incoming.error.text });
        if (this.active === 3 && this.v3conv) this.absorbV3(this.v3conv.receive(text), out);
        else if ((incoming.error.code === WireErrorCode.unreadable || incoming.error.code === WireErrorCode.notInPrivateState) && this.usable(this.current)) this.heal(out, this.instances.get(this.current)!, 'peer-error');
        else if (p.errorStartAke && this.state !== 'ENCRYPTED_MESSAGES' && this.allowedVersions().length) out.toSend.push(this.query());
        return;
      case 'query':
        return this.offered(incoming.versions, text, out);
      case 'whitespace':
        this.showPlaintext(incoming.text, out);
        // otrv4.md §Receiving plaintext with the whitespace tag: in ENCRYPTED_MESSAGES or FINISHED, display only.
        if (p.whitespaceStartAke && this.state !== 'ENCRYPTED_MESSAGES' && this.v4State() !== 'ENCRYPTED_MESSAGES' && this.v4State() !== 'FINISHED')
          this.offered(incoming.versions, text, out);
        return;
      case 'plaintext':
        this.advertise = false;
        this.showPlaintext(incoming.text, out);
        return;
    }
  }

  /** A query or whitespace tag offered `versions`: start the best DAKE both allow (otrv4.md §Receiving a Query Message). */
  private offered(versions: number[], text: string, out: Outcome): void {
    const p = this.policy;
    if (versions.includes(4) && p.allowV4) {
      if (this.unbound.kind === 'awaiting-auth-r') {
        // Our Identity is already out, but may have been lost: resend the same bytes (a peer that has it
        // ignores a byte-identical Identity while awaiting Auth-I).
        out.toSend.push(...this.wire(this.unbound.identityMessage, TAG_ANY));
        return;
      }
      // New DAKE keys for a peer that has proven nothing, kept as long as a DAKE we answered: budgeted and
      // bounded alike (a query costs nothing to send from as many JIDs as a server likes).
      if (!this.spendDakeBudget(out, TAG_ANY)) return;
      this.sendIdentity(out, TAG_ANY);
      this.unboundAnswersQuery = true;
      this.account.pendingDakeStarted(out, this.peerId, true);
    } else if (versions.includes(3) && p.allowV3 && this.account.v3Capable) {
      // The OTRv3 D-H Commit we answer an offer with: the same, once through the gate.
      if (!this.v3Gate(out, TAG_ANY, 'offer') || !this.spendDakeBudget(out, TAG_ANY)) return;
      this.toV3(text, out);
      if (this.v3AkeOnly()) this.account.pendingDakeStarted(out, this.peerId, false);
    }
  }

  /**
   * Our own message sent back to us: its sender tag is ours, which no peer has (but by a 2^-32 accident).
   * Ignored before any work. Without this, our own OTRv4 Identity (receiver tag 0) read as a simultaneous
   * start lost the tie-break of two equal values and dropped the DAKE it belongs to; a reflected OTRv3
   * D-H Commit cost a budgeted AKE step answering ourselves (test/attacks/s10-review-reflection.test.ts).
   */
  private reflected(out: Outcome, senderTag: number): boolean {
    if (senderTag !== this.account.instanceTag) return false;
    out.events.push({ type: 'ignored', instance: senderTag, reason: 'reflected message (our own instance tag as sender)' });
    return true;
  }

  private showPlaintext(text: string, out: Outcome): void {
    if (text.length > 0) out.messages.push({ text, encrypted: false, instance: TAG_ANY });
    if (this.policy.requireEncryption || this.state === 'ENCRYPTED_MESSAGES' || this.state === 'FINISHED')
      out.events.push({ type: 'unencrypted-warning', instance: TAG_ANY });
  }

  private receiveV4(bytes: Uint8Array, type: number, senderTag: number, out: Outcome): void {
    if (!isValidSenderTag(senderTag)) throw new OtrError('MALFORMED', 'invalid sender instance tag');
    switch (type) {
      case MessageType.identity:
        return this.onIdentity(bytes, senderTag, out);
      case MessageType.authR:
        return this.onAuthR(bytes, senderTag, out);
      case MessageType.authI:
        return this.onAuthI(bytes, senderTag, out);
      case MessageType.data:
        this.onData(bytes, senderTag, out);
        return;
      case MessageType.nonInteractiveAuth:
        return this.onNonInteractiveAuth(bytes, senderTag, out);
      default:
        out.events.push({ type: 'ignored', instance: senderTag, reason: `unsupported message type 0x${type.toString(16)}` });
    }
  }

  private onIdentity(bytes: Uint8Array, peerTag: number, out: Outcome): void {
    // An instance is stored only once a message from it validates: forged Identities must not grow the state.
    const known = this.instances.get(peerTag);
    const inst = known ?? newInstance(peerTag);
    // A byte-identical Identity is answered at most once (per account, while remembered): a resend (e.g. the
    // tie-break winner's) must not cancel the Auth-R already on its way, and replaying recorded Identities
    // must not make us run the responder again and again.
    // Structure first (bounded, no hashing, no arithmetic): a malformed or oversized Identity costs no digest.
    try {
      decodeIdentity(bytes, this.account.limits.maxFieldBytes);
    } catch (e) {
      this.ignore(out, peerTag, e);
      return;
    }
    const digest = this.account.identityDigest(this.peerIdBytes, bytes);
    if (this.account.identitySeen(digest)) {
      out.events.push({ type: 'ignored', instance: peerTag, reason: 'replayed Identity message (already answered)' });
      return;
    }
    // A new instance must find room without evicting a session or a fresh pending DAKE: refuse before any work.
    if (!known && !this.roomForUnauthenticated()) {
      out.events.push({ type: 'ignored', instance: peerTag, reason: 'no room for another instance: every slot holds a session or a pending DAKE' });
      return;
    }
    if (!this.spendDakeBudget(out, peerTag)) return;
    // Remembered only once processed: an Identity dropped unread (no room, throttled) may come again.
    this.account.rememberIdentity(digest);
    const useUnbound = inst.dake.kind === 'idle' && this.unbound.kind === 'awaiting-auth-r';
    const before = useUnbound ? this.unbound : inst.dake;
    const from = instanceState(inst);
    let r;
    try {
      r = receiveIdentity(this.account.backend, this.account.random, this.local(), before, bytes, this.account.clock());
    } catch (e) {
      this.ignore(out, peerTag, e);
      return;
    }
    if (r.state === before) {
      // We won the simultaneous-start tie-break: resend our Identity; the peer answers it with Auth-R.
      if (r.message) out.toSend.push(...this.wire(r.message, useUnbound ? TAG_ANY : peerTag));
      return;
    }
    if (!known) this.admitUnauthenticated(inst);
    if (useUnbound) this.unbound = DAKE_IDLE;
    inst.dake = r.state;
    inst.pendingSince = this.account.clock();
    if (r.message) out.toSend.push(...this.wire(r.message, peerTag));
    this.stateEvent(out, inst, from);
    // Counted against the account's bound last: an eviction it causes touches other conversations only.
    this.account.pendingDakeStarted(out, this.peerId, false);
  }

  private onAuthR(bytes: Uint8Array, peerTag: number, out: Outcome): void {
    const inst = this.instances.get(peerTag) ?? newInstance(peerTag);
    const useUnbound = inst.dake.kind !== 'awaiting-auth-r' && this.unbound.kind === 'awaiting-auth-r';
    const before = useUnbound ? this.unbound : inst.dake;
    if (before.kind !== 'awaiting-auth-r') {
      out.events.push({ type: 'ignored', instance: peerTag, reason: 'Auth-R without a pending Identity' });
      return;
    }
    if (!this.spendDakeBudget(out, peerTag)) return;
    let r;
    try {
      r = receiveAuthR(this.account.backend, this.account.random, this.local(), before, bytes, this.account.clock());
    } catch (e) {
      this.ignore(out, peerTag, e);
      this.peerIdMismatch(out, peerTag, 'auth-r', e);
      return;
    }
    this.admit(inst);
    if (useUnbound) this.unbound = DAKE_IDLE;
    inst.dake = r.state;
    if (r.message) out.toSend.push(...this.wire(r.message, peerTag));
    if (r.established) this.establish(out, inst, r.established);
  }

  private onAuthI(bytes: Uint8Array, peerTag: number, out: Outcome): void {
    const inst = this.instances.get(peerTag);
    if (!inst || inst.dake.kind !== 'awaiting-auth-i') {
      out.events.push({ type: 'ignored', instance: peerTag, reason: 'Auth-I without a pending Auth-R' });
      return;
    }
    // Not budgeted: an Auth-I costs one ring verification and can only reach a DAKE already pending for its
    // sender tag; a flood of forged ones must not starve the honest Auth-I out of a spent bucket.
    let r;
    try {
      r = receiveAuthI(this.account.backend, this.local(), inst.dake, bytes);
    } catch (e) {
      this.ignore(out, peerTag, e);
      this.peerIdMismatch(out, peerTag, 'auth-i', e);
      return;
    }
    inst.dake = r.state;
    if (r.established) this.establish(out, inst, r.established);
    // Data messages that overtook the Auth-I are readable now.
    const horizon = this.account.clock() - this.policy.earlyDataRetentionMs;
    const early = inst.early.filter((e) => e.at >= horizon);
    this.dropEarly(inst);
    // Read until the first forgery (session 13): one costs up to maxSkip chain steps and a DH ratchet before its
    // authenticator fails, and this Auth-I is not budgeted, so 100 queued forgeries made one Auth-I cost ~64
    // DAKE steps and 100 error messages (test/attacks/s13-dos-early-replay). An honest peer's early messages all
    // authenticate (a duplicate is refused before any work and does not stop the rest); after a forgery the
    // rest are an injector's to drop anyway (it can push them out of the bounded queue). Except once: a
    // failure that may be a message of the peer's previous session (./early-keys.ts, session 15).
    const keys = new EarlyRatchetKeys(early.map((e) => e.bytes));
    let readAny = false;
    for (let i = 0; i < early.length; i++) {
      const e = early[i]!;
      if (keys.underPassedKey(i)) {
        out.events.push({ type: 'ignored', instance: peerTag, reason: 'early data message under a ratchet key that did not authenticate (the peer\'s previous session?)' });
        continue;
      }
      const before = inst.ratchet;
      const passed = this.onData(e.bytes, peerTag, out);
      // A message read replaces the ratchet state; a refusal leaves it as it was.
      if (inst.ratchet !== before) readAny = true;
      if (passed || keys.passOver(i, readAny)) continue;
      const rest = early.length - i - 1;
      if (rest > 0) out.events.push({ type: 'ignored', instance: peerTag, reason: `${rest} early data messages dropped after one that did not authenticate` });
      break;
    }
  }

  /** otrv4.md §Receiving a Non-Interactive-Auth Message: a peer wrote to us while we were offline. */
  private onNonInteractiveAuth(bytes: Uint8Array, peerTag: number, out: Outcome): void {
    // Accepted in FINISHED too (docs/interop.md): the spec's "starting an offline conversation after an online
    // one" sends TLV 1 and then this message, which the peer would otherwise have to drop.
    const inst = this.instances.get(peerTag) ?? newInstance(peerTag);
    if (!this.spendDakeBudget(out, peerTag)) return;
    let r;
    try {
      r = receiveNonInteractiveAuth(this.account.backend, this.offlineLocal(), this.account.prekeyOwnerState, bytes, this.account.clock());
    } catch (e) {
      this.ignore(out, peerTag, e);
      return;
    }
    // The used prekey is gone for good (a replay of this message is refused): persist before showing messages.
    this.account.setPrekeyOwnerState(r.ownerState);
    this.admit(inst);
    wipeDakeState(inst.dake);
    inst.dake = DAKE_IDLE;
    this.establish(out, inst, r.established);
  }

  /**
   * A data message from `peerTag`. False when the ratchet refused it after working on it — a failed
   * authenticator or a bad new ratchet key, found only after the chain steps and DH it costs (what a forgery
   * costs); true otherwise (read, kept, or refused before any work).
   */
  private onData(bytes: Uint8Array, peerTag: number, out: Outcome): boolean {
    const inst = this.instances.get(peerTag);
    // The flags byte follows the header; read before decoding so an unreadable message can still be quiet.
    const flags = bytes.length > HEADER_BYTES ? bytes[HEADER_BYTES]! : 0;
    const quiet = (flags & FLAG_IGNORE_UNREADABLE) !== 0;
    const L = this.account.limits;
    const receiverTag = peekHeader(bytes).receiverTag;
    if (receiverTag !== this.account.instanceTag && isValidSenderTag(receiverTag)) {
      // Another device of ours (same account, another instance tag) is the addressee: not ours to read or answer.
      out.events.push({ type: 'ignored', instance: peerTag, reason: `data message for another of our instances (${receiverTag.toString(16)})` });
      return true;
    }
    if (!inst?.ratchet || inst.finished) {
      if (inst && inst.dake.kind === 'awaiting-auth-i') {
        // otrv4.md §Receiving a Data Message: the first messages after a DAKE may overtake its last message.
        this.keepEarly(out, inst, bytes);
        return true;
      }
      out.events.push({ type: 'unreadable', instance: peerTag, code: 'STATE', detail: 'data message outside an encrypted session' });
      if (!quiet) out.toSend.push(buildErrorMessage(WireErrorCode.notInPrivateState));
      return true;
    }
    let msg;
    let r;
    let refusedByRatchet = false;
    try {
      msg = decodeDataMessage(bytes, L.maxFieldBytes);
      if (msg.receiverTag !== this.account.instanceTag) throw new OtrStateError('data message for another instance');
      refusedByRatchet = true;
      // transientPlaintext: the text is decoded and the plaintext wiped below before anything calls out.
      r = decryptDataMessage(this.account.backend, inst.ratchet, msg, { now: this.account.clock(), limits: L, transientPlaintext: true });
    } catch (e) {
      // A ratchet we have not reached: our state may be an older copy (restored backup, lost save). Unauthenticated.
      if (msg && msg.ratchetId > inst.ratchet.i) out.events.push({ type: 'rollback-suspected', instance: peerTag, ratchetId: msg.ratchetId, ourRatchet: inst.ratchet.i });
      let alreadyReceived = false;
      if (!quiet) {
        // No key for it (STATE) and it verifies under a MAC key of ours not yet revealed: a message received
        // before (a redelivery after a crash between commit and showing). Decided after that MAC check only
        // (ratchet/replay.ts); the wire answer is the same either way.
        alreadyReceived = refusedByRatchet && e instanceof OtrStateError && receivedBefore(this.account.backend, inst.ratchet, msg!);
        this.report(out, peerTag, e, alreadyReceived ? 'already-received' : undefined);
        out.toSend.push(buildErrorMessage(WireErrorCode.unreadable));
      } else out.events.push({ type: 'ignored', instance: peerTag, reason: errorText(e) });
      // Unreadable in a row from an instance we have a session with: the session is broken on one side. Not a
      // message already received (authenticated under our key: the session works) — a backlog redelivered
      // after a crash, or old messages replayed by anyone who saw them, started a repair DAKE (s10 review).
      if (!alreadyReceived && this.healer.unreadableFrom(peerTag)) this.heal(out, inst, 'unreadable');
      return !(refusedByRatchet && e instanceof OtrCryptoError);
    }
    inst.ratchet = r.state;
    this.keysUsed++;
    // The message is a view into the decrypted plaintext (itself maybe the ratchet's reused buffer): decoded
    // to text, the TLVs copied out, and the plaintext wiped, before any host code (the clock) can run.
    let plain;
    let text;
    try {
      plain = splitPlaintextView(r.plaintext, L.maxTlvs);
      text = decodeText(plain.message);
    } finally {
      wipe(r.plaintext);
    }
    this.healer.readable(peerTag);
    if (r.source === 'new-ratchet') inst.lastKeyAt = this.account.clock();
    if (text.length > 0) out.messages.push({ text, encrypted: true, instance: peerTag, version: 4 });
    if (r.esk) {
      for (const k of deriveTlvExtraKeys(this.account.backend, r.esk, plain.tlvs)) out.events.push(extraKeyEvent(peerTag, k, 'received'));
      wipe(r.esk);
    }
    // One SMP step per data message (../smp/one-step.ts); the replies go out in one data message.
    const smpReplies: Tlv[] = [];
    let smpSteps: OneSmpStep | undefined;
    for (const tlv of plain.tlvs) {
      if (tlv.type === TlvType.disconnected) {
        if (smpReplies.length) this.sendData(out, inst, '', smpReplies, FLAG_IGNORE_UNREADABLE);
        const from = instanceState(inst);
        // The spec forgets every key here; the MAC keys still unpublished are kept for the next session (s15).
        this.keepEndedSessionMacKeys(inst);
        this.closeInstance(inst);
        inst.finished = true;
        if (this.current === peerTag && this.active === 4) this.active = null;
        out.events.push({ type: 'finished', instance: peerTag, reason: 'peer-ended' });
        this.stateEvent(out, inst, from);
        return true;
      }
      if (isSmpTlvType(tlv.type)) {
        smpSteps ??= new OneSmpStep();
        if (!smpSteps.admits(tlv.type === TlvType.smpAbort)) continue;
        // An abort owed for a shed exchange is settled by any SMP message of the peer's: one of that exchange
        // is answered by an abort here (out of turn), an abort needs none, and an SMP1 begins anew — an owed
        // abort sent after it would kill the exchange the users just started ([s16-review3]).
        inst.smpAbortOwed = false;
        const r = smpReceive(this.account.backend, inst.smp, { tlvType: tlv.type, body: tlv.value }, { rng: this.account.random, maxQuestionBytes: L.maxSmpQuestionBytes });
        this.applySmp(out, inst, r, smpReplies);
      }
    }
    const smpIgnored = smpSteps?.ignoredReason();
    if (smpIgnored !== undefined) out.events.push({ type: 'ignored', instance: peerTag, reason: smpIgnored });
    if (smpReplies.length) this.sendData(out, inst, '', smpReplies, FLAG_IGNORE_UNREADABLE);
    // Heartbeat: keep the peer's session from expiring if we have been silent (otrv4.md §Receiving a Data Message).
    const idle = out.toSend.length === 0 && !quiet && this.account.clock() - inst.lastSentAt >= this.policy.heartbeatMs;
    // ... or publish the MAC keys of what we read (session 16, docs/deniability.md [s16-reveal]): a side that
    // only reads held up to maxMacKeysToReveal of them in its record (rewritten on every read), those messages
    // unforgeable until it spoke. Only a message read queues a key (a forgery or replay never gets here), and
    // this message empties the queue (revealAll: even Bob's first sending chain, which the spec has reveal
    // nothing), so a peer gets at most one per threshold of its messages read. Not gated on `quiet`: that stops
    // us answering an idle peer's heartbeat with ours (two idle clients ping-ponging); here the threshold does.
    const reveal = macKeyCount(inst.ratchet.macKeysToReveal) >= revealThreshold(L);
    if (idle || reveal) this.sendData(out, inst, '', [], FLAG_IGNORE_UNREADABLE, reveal);
    return true;
  }

  // ------------------------------------------------------------------ sending

  private sendIdentity(out: Outcome, peerTag: number): void {
    const r = startDake(this.account.backend, this.account.random, this.local(), peerTag);
    if (peerTag === TAG_ANY) {
      wipeDakeState(this.unbound);
      this.unbound = r.state;
      this.unboundSince = this.account.clock();
      this.unboundAnswersQuery = false; // ours unless offered() says otherwise
    } else {
      const inst = this.instance(peerTag);
      const from = instanceState(inst);
      wipeDakeState(inst.dake);
      inst.dake = r.state;
      inst.pendingSince = this.account.clock();
      this.stateEvent(out, inst, from);
    }
    out.toSend.push(...this.wire(r.message!, peerTag));
  }

  /** Encrypts `text [0x00 TLV*]` on `inst` and appends the wire strings to `out`. */
  private sendData(out: Outcome, inst: Instance, text: string, tlvs: Tlv[], flags: number, revealAll = false): void {
    // The host's clock and random source run in the middle of a send and may send again from there (on another
    // conversation, of any account: the same one is refused, GUARDED_CALLS below): such a nested send builds its
    // plaintext and message in arrays of its own, leaving the shared buffers to the send under way.
    const nested = sendsUnderWay > 0;
    // An SMP exchange shed from the record (shedState): the peer hears of it with this message.
    const owed = inst.smpAbortOwed && !tlvs.some((t) => t.type === TlvType.smpAbort);
    sendsUnderWay++;
    try {
      this.sendDataOnce(out, inst, text, owed ? [SMP_ABORT_TLV, ...tlvs] : tlvs, flags, revealAll, nested);
    } finally {
      sendsUnderWay--;
    }
    inst.smpAbortOwed = false;
  }

  private sendDataOnce(out: Outcome, inst: Instance, text: string, tlvs: Tlv[], flags: number, revealAll: boolean, nested: boolean): void {
    // The plaintext is assembled in a shared buffer (wire/tlv.ts joinTextPlaintext) and wiped as soon as it
    // is encrypted, whatever happens.
    const { plaintext } = joinTextPlaintext(text, tlvs, this.policy.paddingBlock, !nested);
    const before = inst.ratchet!.i;
    let r;
    try {
      r = encryptDataMessage(this.account.backend, this.account.random, inst.ratchet!, plaintext, {
        senderTag: this.account.instanceTag,
        receiverTag: inst.peerTag,
        flags,
        revealAll,
        // We built the TLV list: tell the ratchet whether to derive the extra key instead of re-scanning it.
        extraKey: hasExtraKeyTlv(tlvs),
        // Armoured below before anything else is sent: the message may live in the wire layer's reused buffer.
        transientMessage: !nested,
      });
    } finally {
      wipe(plaintext);
    }
    inst.ratchet = r.state;
    this.keysUsed++;
    const now = this.account.clock();
    inst.lastSentAt = now;
    if (r.state.i !== before) inst.lastKeyAt = now;
    if (r.esk) {
      // The padding record goes after `tlvs` (joinTextPlaintext), so their wire positions are their indices here.
      for (const k of deriveTlvExtraKeys(this.account.backend, r.esk, tlvs)) out.events.push(extraKeyEvent(inst.peerTag, k, 'sent'));
      wipe(r.esk);
    }
    out.toSend.push(...this.wire(r.message, inst.peerTag));
  }

  /** Armours and, if the policy limits message size, fragments. */
  private wire(bytes: Uint8Array, receiverTag: number): string[] {
    const text = armour(bytes);
    const max = this.policy.maxMessageSize;
    if (max <= 0 || text.length <= max) return [text];
    return fragmentMessage(text, max, {
      identifier: randomFragmentIdentifier(this.account.random),
      senderTag: this.account.instanceTag,
      receiverTag,
    });
  }

  // ------------------------------------------------------------------ session lifecycle

  private establish(out: Outcome, inst: Instance, e: DakeEstablished): void {
    const fp = bytesToHex(profileFingerprint(this.account.backend, e.peerProfile));
    const verdict = judgeFingerprint(this.account.fingerprints, this.peerId, inst.peerTag, 4, fp, this.account.clock(), this.policy.refuseUnverifiedChange);
    if (verdict.refuse) return this.refuse(out, inst, e, fp, verdict);
    const from = instanceState(inst);
    const replaced = inst.ratchet !== null || inst.finished;
    // A session still up is replaced: its MAC keys not yet revealed go to the new one, which reveals them
    // (inheritMacKeys; it wipes the old state). So do those kept from sessions that ended unpublished
    // (endedMacKeys), older still: ahead of them. A session ended otherwise revealed its keys in its disconnect.
    let next = inst.ratchet ? inheritMacKeys(this.account.backend, inst.ratchet, e.ratchet, this.account.limits) : e.ratchet;
    if (this.endedMacKeys.length > 0) {
      next = withMacKeysAhead(next, this.endedMacKeys, this.account.limits);
      this.endedMacKeys = NO_MAC_KEYS;
    }
    inst.ratchet = next;
    inst.smp = smpReset(inst.smp);
    inst.smpAbortOwed = false; // owed in the session replaced: this one has no exchange to abort
    inst.ssid = e.ssid;
    inst.peerProfile = e.peerProfile;
    inst.finished = false;
    const now = this.account.clock();
    inst.lastKeyAt = now;
    inst.lastSentAt = now;
    this.current = inst.peerTag;
    this.active = 4;
    out.events.push({ type: 'encrypted', instance: inst.peerTag, ssid: bytesToHex(e.ssid), version: 4, peerFingerprint: fp });
    // Takeover visibility (docs/security.md): each of these is a distinct event, never just another `encrypted`.
    if (replaced) out.events.push({ type: 'session-replaced', instance: inst.peerTag, version: 4 });
    this.noteTarget(out);
    out.events.push(...verdict.events);
    this.stateEvent(out, inst, from);
    const healed = this.healer.completed(inst.peerTag);
    if (healed) out.events.push({ type: 'heal', instance: inst.peerTag, step: 'completed', reason: healed.reason });
    // otrv4.md §Receiving an Auth-I Message: "If a plaintext message is waiting to be sent, encrypt it and send it."
    const queued = this.queue;
    this.queue = [];
    for (const text of queued) this.sendUser(out, inst, text, {});
    if (healed && healed.resent > 0) out.events.push({ type: 'heal', instance: inst.peerTag, step: 'resent', reason: healed.reason, count: healed.resent });
  }

  /**
   * policy.refuseUnverifiedChange: a DAKE completed with a changed, unverified (or a revoked) fingerprint. Its
   * keys say goodbye (a disconnect message, so the peer does not think it is encrypted) and are wiped; whatever
   * the instance held before (a session with the known key) is left as it was.
   */
  private refuse(out: Outcome, inst: Instance, e: DakeEstablished, fp: string, verdict: { events: OtrEvent[]; previous?: string; refuse?: 'changed-unverified' | 'revoked' }): void {
    out.events.push(...verdict.events);
    const scratch = newInstance(inst.peerTag);
    scratch.ratchet = e.ratchet;
    this.sendData(out, scratch, '', [{ type: TlvType.disconnected, value: new Uint8Array(0) }], FLAG_IGNORE_UNREADABLE, true);
    wipeRatchetState(scratch.ratchet!);
    wipe(e.ssid);
    out.events.push({ type: 'session-refused', instance: inst.peerTag, version: 4, fingerprint: fp, reason: verdict.refuse!, ...(verdict.previous ? { previous: verdict.previous } : {}) });
  }

  /** Whether `peerTag` has a usable OTRv4 session (encrypted, not finished). */
  private usable(peerTag: number): boolean {
    const i = this.instances.get(peerTag);
    return this.active === 4 && !!i?.ratchet && !i.finished;
  }

  /**
   * A DAKE step failed only at the ring signature, after the profile and keys validated: the transcript
   * differs, and the part of it the host chooses is phi's account ids. Named as the likely cause (it may
   * also be a forgery; the message is ignored either way).
   */
  private peerIdMismatch(out: Outcome, peerTag: number, step: 'auth-r' | 'auth-i', e: unknown): void {
    if (!(e instanceof OtrError) || e.code !== 'BAD_SIGNATURE') return;
    out.events.push({ type: 'peer-id-mismatch', instance: peerTag, step, ourId: decodeText(this.account.accountId), peerId: this.peerId });
  }

  /**
   * The disconnect message (TLV 1) of `inst`'s session, revealing every MAC key it still holds: the queue and,
   * derived, those of its stored skipped keys (expireSkippedKeys with any age) — otrv4.md §Session Expiration,
   * and §Revealing MAC Keys for every other deletion of the store (end(), an offline conversation after an
   * online one). Before session 14 only expiry derived them: after end() a message still on its way stayed
   * authenticated under a key nobody published (docs/security.md [s14-deny]). The keys are wiped after, by
   * the caller (closeInstance or a replacing DAKE).
   */
  private sayGoodbye(out: Outcome, inst: Instance): void {
    inst.ratchet = expireSkippedKeys(this.account.backend, inst.ratchet!, Number.MAX_SAFE_INTEGER, this.account.limits);
    this.sendData(out, inst, '', [{ type: TlvType.disconnected, value: new Uint8Array(0) }], FLAG_IGNORE_UNREADABLE, true);
  }

  /**
   * `inst`'s session ends without a message of its own (the peer's disconnect, a rollback): the MAC keys it
   * still had to publish are kept for the conversation's next session (ended-mac-keys.ts), the rest wiped.
   */
  private keepEndedSessionMacKeys(inst: Instance): void {
    if (!inst.ratchet) return;
    this.endedMacKeys = keepEndedMacKeys(this.account.backend, this.endedMacKeys, inst.ratchet, this.account.limits);
    inst.ratchet = null;
  }

  /** Forgets every key of `inst` (wiped) and SMP; the DAKE state is kept (a new DAKE may be under way). */
  private closeInstance(inst: Instance): void {
    if (inst.ratchet) wipeRatchetState(inst.ratchet);
    inst.ratchet = null;
    inst.smp = smpReset(inst.smp);
    inst.smpAbortOwed = false; // the session it was owed on is gone
    if (inst.ssid) wipe(inst.ssid);
    inst.ssid = null;
    this.dropEarly(inst);
  }

  /** otrv4.md §Session Expiration: after `sessionExpiryMs` without a new ECDH key, reveal, disconnect, forget. */
  private expireIfIdle(out: Outcome): void {
    const now = this.account.clock();
    const p = this.policy;
    this.expirePendingDakes(out, now);
    for (const inst of this.instances.values()) {
      if (!inst.ratchet || inst.finished) continue;
      if (now - inst.lastKeyAt >= p.sessionExpiryMs) {
        const from = instanceState(inst);
        this.sayGoodbye(out, inst);
        this.closeInstance(inst);
        inst.finished = true;
        this.healer.markExpired(inst.peerTag);
        if (this.current === inst.peerTag && this.active === 4) this.active = null;
        out.events.push({ type: 'finished', instance: inst.peerTag, reason: 'expired' });
        this.stateEvent(out, inst, from);
      } else {
        const aged = expireSkippedKeys(this.account.backend, inst.ratchet, now, this.account.limits);
        if (aged !== inst.ratchet) inst.ratchet = aged;
      }
    }
  }

  /** Pending DAKEs older than limits.pendingDakeExpiryMs go (their keys wiped), and instances left empty with them. */
  private expirePendingDakes(out: Outcome, now: number): void {
    const ttl = this.account.limits.pendingDakeExpiryMs;
    if (this.unbound.kind !== 'idle' && now - this.unboundSince >= ttl) {
      wipeDakeState(this.unbound);
      this.unbound = DAKE_IDLE;
      out.events.push({ type: 'dake-expired', instance: TAG_ANY });
    }
    // Runs on every send/receive: iterates the Map itself, no copy (deleting the entry being visited is
    // well-defined for a Map iterator: iteration goes on with the next entry).
    for (const inst of this.instances.values()) {
      if (inst.dake.kind === 'idle' || now - inst.pendingSince < ttl) continue;
      const from = instanceState(inst);
      wipeDakeState(inst.dake);
      inst.dake = DAKE_IDLE;
      this.dropEarly(inst);
      out.events.push({ type: 'dake-expired', instance: inst.peerTag });
      this.stateEvent(out, inst, from);
      if (!inst.ratchet && !inst.finished && inst.peerTag !== this.current) this.instances.delete(inst.peerTag);
    }
  }

  // ------------------------------------------------------------------ records (records.ts, account-store.ts)

  /**
   * @internal (records.ts) Whether this conversation holds nothing a fresh one would not: no instance, no DAKE
   * of our own, no queued message, no OTRv3 state holding anything (v3Kept), no session, no policy of its own, still advertising, no last
   * send target. A change that leaves it so deletes its record (restoring without one gives the same
   * conversation). O(1): runs after every call that changed a record.
   */
  holdsNothing(): boolean {
    // lastTarget too: a conversation that had a session remembers where `send` last went, from which a later
    // switch is reported; deleting its record would make the first switch after a restart silent
    // (attacks/s10-review3-v3-contact: an evicted OTRv3 AKE in a contact's ended conversation deleted it).
    return this.instances.size === 0 && this.unbound.kind === 'idle' && this.holdsNoSettings() && (this.v3conv === null || this.v3conv.holdsNothing);
  }

  /**
   * The part of holdsNothing that holdsOnlyPeerDakes shares, written once so the two cannot drift apart (a
   * field checked by one and not the other deleted a contact's record: attacks/s10-review3-v3-contact): no
   * queued message, no active version, no policy of its own, still advertising, no last send target, no MAC
   * keys of an ended session to publish.
   */
  private holdsNoSettings(): boolean {
    return this.queue.length === 0 && this.active === null && this.policyOverride === undefined && this.advertise && this.lastTarget === null && this.endedMacKeys.length === 0;
  }

  /**
   * @internal (account.ts, limits.maxAccountConversations) What this conversation's record is worth keeping,
   * as the account ranks records to evict (least first): 2 the host's (it asked for something here, set a
   * policy of its own, or has user messages queued), 1 a session now or before (a ratchet, an ended session,
   * an OTRv3 session, a last send target: a peer that completed a DAKE), 0 anything else (a stranger's
   * plaintext, pending DAKEs its peer started). O(instances): asked only when a record is evicted.
   */
  recordValue(): 0 | 1 | 2 {
    if (this.hostEngaged || this.policyOverride !== undefined || this.queue.length > 0) return 2;
    if (this.active !== null || this.lastTarget !== null || this.endedMacKeys.length > 0 || (this.v3conv !== null && !this.v3AkeOnly())) return 1;
    for (const inst of this.instances.values()) if (inst.ratchet || inst.finished) return 1;
    return 0;
  }

  /**
   * @internal (account.ts, limits.maxAccountPendingDakes) The pending DAKEs this conversation's peer started:
   * every instance awaiting Auth-I (we answered its Identity), an OTRv3 AKE without any OTRv3 session (v3AkeOnly),
   * and with `withUnbound` our unbound Identity (sent in answer to the peer's query).
   */
  peerDakes(withUnbound: boolean): number {
    let n = (this.peerUnbound(withUnbound) ? 1 : 0) + (this.v3AkeOnly() ? 1 : 0);
    for (const inst of this.instances.values()) if (inst.dake.kind === 'awaiting-auth-i') n++;
    return n;
  }

  /** Whether (with `withUnbound`) the unbound Identity is one we sent in answer to the peer's query, still awaiting Auth-R. */
  private peerUnbound(withUnbound: boolean): boolean {
    return withUnbound && this.unboundAnswersQuery && this.unbound.kind === 'awaiting-auth-r';
  }

  /**
   * Whether the OTRv3 state holds an AKE and nothing else: no OTRv3 instance encrypted or finished, and no MAC
   * keys of sessions the peer ended (those say the peer completed an AKE before, as a session does).
   */
  private v3AkeOnly(): boolean {
    const v3 = this.v3conv;
    return v3 !== null && this.active !== 3 && v3.engaged && !v3.holdsEndedMacKeys && v3.instances.every((i) => i.msgstate === 'plaintext');
  }

  /**
   * @internal (account.ts) Whether, without the pending DAKEs its peer started (peerDakes), this conversation
   * would hold nothing (holdsNothing): a stranger's, unless the trust store knows the peer.
   */
  holdsOnlyPeerDakes(withUnbound: boolean): boolean {
    if (this.unbound.kind !== 'idle' && !this.peerUnbound(withUnbound)) return false;
    if ((this.v3conv !== null && !this.v3AkeOnly() && !this.v3conv.holdsNothing) || !this.holdsNoSettings()) return false;
    for (const inst of this.instances.values()) if (inst.ratchet || inst.finished || inst.dake.kind !== 'awaiting-auth-i') return false;
    return true;
  }

  /**
   * @internal (account.ts) Whether this conversation holds something the user asked for: a queued message or a
   * policy of its own. Such a conversation's pending DAKEs go in the second pass only, as a contact's do.
   */
  holdsUsersRequest(): boolean {
    return this.queue.length > 0 || this.policyOverride !== undefined;
  }

  /**
   * @internal (account.ts) Drops the pending DAKEs its peer started (peerDakes), keys wiped, to keep the
   * account's bound; an instance left with nothing goes with its DAKE. Returns how many went.
   */
  dropPeerDakes(withUnbound: boolean): number {
    let n = 0;
    if (this.v3AkeOnly()) {
      // Nothing but an AKE in the OTRv3 state (no session, encrypted or finished): the whole of it goes, as forget does.
      this.v3conv!.wipe();
      this.v3conv = null;
      n++;
    }
    if (this.peerUnbound(withUnbound)) {
      wipeDakeState(this.unbound);
      this.unbound = DAKE_IDLE;
      n++;
    }
    for (const inst of this.instances.values()) {
      if (inst.dake.kind !== 'awaiting-auth-i') continue;
      n++;
      if (!inst.ratchet && !inst.finished && inst.peerTag !== this.current) this.evict(inst);
      else {
        wipeDakeState(inst.dake);
        inst.dake = DAKE_IDLE;
        this.dropEarly(inst);
      }
    }
    return n;
  }

  /**
   * @internal Drops the least valuable piece of state to bound the record (records.ts): an unauthenticated
   * pending DAKE (oldest first), else the oldest half of the largest store of skipped keys, else of unrevealed
   * MAC keys (OTRv4's, then OTRv3's), else of queued user messages; then an SMP exchange in progress (aborted:
   * shedSmp); last, every session of the conversation (endSessionsToFit). What went is told by events pushed to
   * `events`; false when nothing is left (the record is then only the host's settings: peer id, policy, marks).
   */
  shedState(events: OtrEvent[]): boolean {
    const pending = [...this.instances.values()].filter((i) => i.dake.kind === 'awaiting-auth-i').sort((x, y) => x.pendingSince - y.pendingSince)[0];
    if (pending) {
      this.shedInstanceDake(pending, events);
      return true;
    }
    const most = (size: (r: RatchetState) => number) =>
      [...this.instances.values()].filter((i) => i.ratchet && size(i.ratchet) > 0).sort((x, y) => size(y.ratchet!) - size(x.ratchet!))[0];
    const skipped = most((r) => r.skipped.length);
    if (skipped) {
      const r = skipped.ratchet!;
      const n = Math.max(1, r.skipped.length >> 1);
      for (const e of r.skipped.slice(0, n)) wipe(e.mkEnc, e.esk);
      skipped.ratchet = { ...r, skipped: r.skipped.slice(n) };
      events.push({ type: 'state-trimmed', instance: skipped.peerTag, what: 'skipped-keys', count: n });
      return true;
    }
    const macs = most((r) => r.macKeysToReveal.length);
    if (macs) {
      const r = macs.ratchet!;
      const n = Math.max(1, macKeyCount(r.macKeysToReveal) >> 1);
      // The oldest n keys wiped (mac-queue.ts: in place when this state owns the queue's buffer).
      macs.ratchet = { ...r, macKeysToReveal: dropOldestMacKeys(r.macKeysToReveal, n) };
      events.push({ type: 'state-trimmed', instance: macs.peerTag, what: 'mac-keys', count: n });
      return true;
    }
    if (this.endedMacKeys.length > 0) {
      const n = Math.max(1, macKeyCount(this.endedMacKeys) >> 1);
      this.endedMacKeys = dropOldestMacKeys(this.endedMacKeys, n);
      events.push({ type: 'state-trimmed', instance: TAG_ANY, what: 'mac-keys', count: n });
      return true;
    }
    const v3macs = this.v3conv?.shedMacKeys();
    if (v3macs) {
      events.push({ type: 'state-trimmed', instance: v3macs.instance || TAG_ANY, what: 'mac-keys', count: v3macs.count });
      return true;
    }
    if (this.queue.length) {
      const n = Math.max(1, this.queue.length >> 1);
      this.queue = this.queue.slice(n);
      events.push({ type: 'state-trimmed', instance: TAG_ANY, what: 'queued-messages', count: n });
      return true;
    }
    return this.shedOwnDake(events) || this.shedSmp(events) || this.endSessionsToFit(events);
  }

  /**
   * shedState's step before SMP and the sessions: a DAKE of ours in progress (our Identity awaiting Auth-R —
   * the unbound one first, which anyone's query message starts, then one per instance) is dropped, keys wiped;
   * then OTRv3's AKEs in progress (a forged D-H Commit needs no key either).
   * Without this step a query message, which needs no key, took a record near its bound straight to
   * endSessionsToFit: the established sessions ended for a DAKE that is restarted for free ([s16-review3]).
   */
  private shedOwnDake(events: OtrEvent[]): boolean {
    if (this.unbound.kind === 'awaiting-auth-r') {
      wipeDakeState(this.unbound);
      this.unbound = DAKE_IDLE;
      events.push({ type: 'state-trimmed', instance: TAG_ANY, what: 'pending-dake', count: 1 });
      return true;
    }
    const inst = [...this.instances.values()].find((i) => i.dake.kind === 'awaiting-auth-r');
    if (inst === undefined) {
      // OTRv3's AKEs in progress, all at once (each unauthenticated until its Signature message).
      const v3 = this.v3conv?.dropAkes() ?? [];
      for (const tag of v3) events.push({ type: 'state-trimmed', instance: tag, what: 'pending-dake', count: 1 });
      return v3.length > 0;
    }
    this.shedInstanceDake(inst, events);
    return true;
  }

  /** An instance's DAKE in progress dropped, keys wiped; the instance too when that leaves it holding nothing. */
  private shedInstanceDake(inst: Instance, events: OtrEvent[]): void {
    if (!inst.ratchet && !inst.finished && inst.peerTag !== this.current) this.evict(inst);
    else {
      wipeDakeState(inst.dake);
      inst.dake = DAKE_IDLE;
    }
    events.push({ type: 'state-trimmed', instance: inst.peerTag, what: 'pending-dake', count: 1 });
  }

  /**
   * shedState's next step: every SMP exchange in progress is aborted, as the spec lets either side at any time
   * (its question — what a peer or an old record can make large, up to limits.maxSmpQuestionBytes — and its
   * secrets wiped). The host is told (`smp` aborted, then `state-trimmed` smp); an OTRv4 peer gets the abort TLV
   * with our next message (Instance.smpAbortOwed); an OTRv3 one when it next sends SMP (out of turn here, so
   * answered by an abort). Starting again works as ever.
   */
  private shedSmp(events: OtrEvent[]): boolean {
    // One OTRv4 exchange per step, the one holding the longest question first (the rest are a few group
    // elements each): the others may go on if that was enough.
    let inst: Instance | undefined;
    for (const i of this.instances.values()) if (i.smp.phase !== 'idle' && (inst === undefined || smpQuestionBytes(i.smp) > smpQuestionBytes(inst.smp))) inst = i;
    if (inst !== undefined) {
      inst.smp = smpReset(inst.smp);
      if (inst.ratchet && !inst.finished) inst.smpAbortOwed = true;
      events.push({ type: 'smp', instance: inst.peerTag, status: 'aborted' }, { type: 'state-trimmed', instance: inst.peerTag, what: 'smp', count: 1 });
      return true;
    }
    const v3 = this.v3conv?.abandonSmp() ?? [];
    for (const tag of v3) events.push({ type: 'smp', instance: tag, status: 'aborted' }, { type: 'state-trimmed', instance: tag, what: 'smp', count: 1 });
    return v3.length > 0;
  }

  /**
   * shedState's last step, for a bound that not even the sessions fit (a host's limit lowered below them, or
   * one a peer can fill with authenticated instances): every session and DAKE of this conversation ends — keys
   * wiped, instances and OTRv3 state dropped, no message sent (a disconnect would need an outcome to carry it;
   * the peer's next message is unreadable and its repair starts afresh). Each session that was up reports
   * `finished` (reason `state-limit`), then one `state-trimmed` (`sessions`, how many instances went). What
   * stays is the host's settings, so only this conversation is touched: never the account (a flush hands out
   * all or nothing, and used to throw for all).
   */
  private endSessionsToFit(events: OtrEvent[]): boolean {
    // A session ended here lands in FINISHED, as one the peer ended: the user's next message is refused, not sent
    // in plaintext (START would, under the default policy) — and the marker, a bare instance, is in the record, so
    // a restart keeps it ([s16-review3]). Bare FINISHED instances are what is left: written whatever the bound.
    const bare = (i: Instance) => i.finished && !i.ratchet && i.dake.kind === 'idle' && i.smp.phase === 'idle';
    const live = [...this.instances.values()].filter((i) => !bare(i));
    const v3Live = this.v3conv !== null && this.v3conv.holdsLive;
    if (live.length === 0 && this.unbound.kind === 'idle' && !v3Live) return false;
    for (const inst of live) {
      if (inst.ratchet && !inst.finished) {
        const from = instanceState(inst);
        this.closeInstance(inst);
        wipeDakeState(inst.dake);
        inst.dake = DAKE_IDLE;
        inst.finished = true;
        inst.peerProfile = null; // its ~300 bytes are the ended session's: the marker is what must fit
        if (this.current === inst.peerTag && this.active === 4) this.active = null;
        events.push({ type: 'finished', instance: inst.peerTag, reason: 'state-limit' }, { type: 'state', instance: inst.peerTag, from, to: 'FINISHED', version: 4 });
      } else if (inst.finished) {
        // Already FINISHED (the peer ended it): a DAKE under way goes, the marker stays.
        this.closeInstance(inst);
        wipeDakeState(inst.dake);
        inst.dake = DAKE_IDLE;
        inst.peerProfile = null;
      } else this.evict(inst);
    }
    wipeDakeState(this.unbound);
    this.unbound = DAKE_IDLE;
    // `send` reads the current instance: never one evicted here (START, plaintext) while a session just ended.
    if (!this.instances.has(this.current)) this.current = live.find((i) => i.finished && this.instances.has(i.peerTag))?.peerTag ?? TAG_ANY;
    let v3n = 0;
    if (this.v3conv && v3Live) {
      const tags = this.v3conv.finishAll();
      v3n = tags.length;
      for (const tag of tags) events.push({ type: 'finished', instance: tag, reason: 'state-limit' });
      if (this.v3conv.holdsNothing) {
        this.v3conv = null;
        if (this.active === 3) this.active = null;
      }
    }
    events.push({ type: 'state-trimmed', instance: TAG_ANY, what: 'sessions', count: Math.max(live.length + v3n, 1) });
    return true;
  }


  /**
   * @internal The saved state this conversation was restored from is older than state already used (a
   * rollback, account-store.ts): its message keys may have been used on the wire. Every session and pending
   * DAKE is dropped, keys wiped, without encrypting anything (no TLV 1: that would use a key again); each
   * session that was up reports `finished` with reason `rollback`. A new DAKE (start()) makes a fresh session.
   */
  abandonSessions(): Outcome {
    const out = emptyOutcome();
    const events = out.events;
    for (const inst of this.instances.values()) {
      if (inst.ratchet && !inst.finished) {
        const from = instanceState(inst);
        // No disconnect may be sent (it would use a key again): the next session publishes its MAC keys.
        this.keepEndedSessionMacKeys(inst);
        this.closeInstance(inst);
        inst.finished = true;
        events.push({ type: 'finished', instance: inst.peerTag, reason: 'rollback' });
        events.push({ type: 'state', instance: inst.peerTag, from, to: 'FINISHED', version: 4 });
      }
      wipeDakeState(inst.dake);
      inst.dake = DAKE_IDLE;
    }
    wipeDakeState(this.unbound);
    this.unbound = DAKE_IDLE;
    if (this.v3conv) {
      if (this.v3conv.msgstate === 'encrypted') events.push({ type: 'finished', instance: this.v3conv.state.theirTag ?? TAG_ANY, reason: 'rollback' });
      // Its MAC keys still to publish are kept for the peer's next OTRv3 session (session 16, [s16-v3deny]).
      this.v3conv = this.v3conv.abandon();
    }
    if (this.active === 3) this.active = null;
    if (this.active === 4 && !this.instances.get(this.current)?.ratchet) this.active = null;
    return out;
  }

  /** @internal (account.forget) Wipes every key this conversation holds; it is unusable afterwards. */
  wipeAll(): void {
    for (const inst of this.instances.values()) {
      this.closeInstance(inst);
      wipeDakeState(inst.dake);
    }
    this.instances.clear();
    // Wiped with the rest: unload() leaves them in the record, forget() deletes it with them (docs/security.md [s15-deny]).
    releaseMacKeys(this.endedMacKeys);
    this.endedMacKeys = NO_MAC_KEYS;
    wipeDakeState(this.unbound);
    this.unbound = DAKE_IDLE;
    // Partial fragments go back to the account's budget (a dropped table would only be drained later).
    this.reassembler.clear();
    this.v3conv?.wipe();
    this.v3conv = null;
    this.active = null;
    this.queue = [];
  }

  // ------------------------------------------------------------------ SMP

  private smpInput(inst: Instance, answer: string | Uint8Array) {
    return {
      ourFingerprint: this.account.fingerprintBytes,
      theirFingerprint: profileFingerprint(this.account.backend, inst.peerProfile!),
      ssid: inst.ssid!,
      answer,
    };
  }

  /** Adopts an SMP step: its TLVs are sent at once, or added to `replies` (a received message's, sent once at its end). */
  private applySmp(out: Outcome, inst: Instance, r: SmpResult, replies?: Tlv[]): void {
    inst.smp = r.state;
    if (r.send.length) {
      const tlvs = r.send.map((t) => ({ type: t.tlvType, value: t.body }));
      if (replies) replies.push(...tlvs);
      else this.sendData(out, inst, '', tlvs, FLAG_IGNORE_UNREADABLE);
    }
    if (r.event) {
      const ev = r.event;
      out.events.push({ type: 'smp', instance: inst.peerTag, status: ev.type, ...(ev.type === 'asked' ? { question: ev.question } : {}) });
      if (ev.type === 'succeeded' && inst.peerProfile)
        out.events.push(smpVerified(this.account.fingerprints, this.peerId, inst.peerTag, 4, bytesToHex(profileFingerprint(this.account.backend, inst.peerProfile))));
    }
  }

  private encryptedInstance(): Instance {
    const inst = this.instances.get(this.current);
    if (!inst?.ratchet || inst.finished || !inst.ssid || !inst.peerProfile) throw new OtrStateError('SMP needs an encrypted session');
    return inst;
  }

  // ------------------------------------------------------------------ OTRv3

  private toV3(text: string, out: Outcome): void {
    if (!this.policy.allowV3 || !this.account.v3Capable) {
      out.events.push({ type: 'ignored', instance: TAG_ANY, reason: 'OTRv3 is not allowed by the policy' });
      return;
    }
    if (!this.v3conv) this.v3conv = this.newV3();
    this.absorbV3(this.v3conv.receive(text), out);
  }

  private newV3(): V3Conversation {
    return new V3Conversation(this.v3Options());
  }

  private v3Options(): V3Options {
    const a = this.account;
    const p = this.policy;
    return {
      backend: a.backend,
      // The OTRv3 context is made when an OTRv3 AKE is answered or started: the key is made then, once.
      dsaKey: a.prepareV3(),
      instanceTag: a.instanceTag,
      random: a.random,
      now: a.clock,
      limits: a.limits,
      fragmentSize: p.maxMessageSize,
      fragmentBudget: a.fragmentBudget,
      policy: { allowV3: p.allowV3, requireEncryption: p.requireEncryption, sendWhitespaceTag: p.sendWhitespaceTag, whitespaceStartAke: p.whitespaceStartAke, errorStartAke: p.errorStartAke },
    };
  }

  /** Maps the v3 conversation's output onto ours: one kind of conversation whatever the version. */
  private absorbV3(r: V3Output, out: Outcome): void {
    out.toSend.push(...r.toSend);
    // Each shown message and event names the remote instance it came from: not necessarily the current one
    // (the peer's other client, or the previous instance after a switch). docs/security-v3.md §For the session layer.
    for (const m of r.messages) out.messages.push({ text: m.text, encrypted: m.encrypted, instance: m.instance || TAG_ANY, version: 3 });
    for (const e of r.events) {
      const tag = e.instance || TAG_ANY;
      const ev = mapV3Event(e, tag);
      if (ev) out.events.push(ev);
      if (e.type === 'smpResult' && e.success) {
        const fp = this.v3conv?.instances.find((i) => i.instance === e.instance)?.fingerprint ?? this.v3conv?.peerFingerprint;
        if (fp) out.events.push(smpVerified(this.account.fingerprints, this.peerId, tag, 3, bytesToHex(fp)));
      }
      if (e.type === 'encrypted') {
        this.active = 3;
        this.noteTarget(out);
        const fp = bytesToHex(e.fingerprint);
        this.noteFingerprint(out, tag, 3, fp);
        // A new AKE on an instance that already had a session: the v3 analogue of OTRv4's replaced session.
        if (e.refreshed) out.events.push({ type: 'session-replaced', instance: tag, version: 3 });
        // An OTRv3 session with a peer that has spoken OTRv4 with us before, while we both allow OTRv4.
        if (!e.refreshed && this.downgradePossible()) out.events.push({ type: 'downgrade', instance: tag, reason: 'v3-session' });
        const queued = this.queue;
        this.queue = [];
        for (const t of queued) out.toSend.push(...this.v3conv!.send(t).toSend);
      }
      if ((e.type === 'finished' || e.type === 'plaintext') && this.active === 3) this.active = null;
    }
  }

  // ------------------------------------------------------------------ helpers

  private allowedVersions(): number[] {
    const p = this.policy;
    const v: number[] = [];
    if (p.allowV3 && this.account.v3Capable) v.push(3);
    if (p.allowV4) v.push(4);
    return v;
  }

  private dakeInProgress(): boolean {
    if (this.unbound.kind !== 'idle') return true;
    for (const i of this.instances.values()) if (i.dake.kind !== 'idle' && !i.ratchet) return true;
    return false;
  }

  private local(): DakeLocal {
    const a = this.account;
    const local: DakeLocal = { instanceTag: a.instanceTag, profile: a.clientProfile, identityScalar: a.identity.scalar, accountId: a.accountId, peerAccountId: this.peerIdBytes };
    const signer = a.identitySigner;
    return signer ? { ...local, identitySigner: signer } : local;
  }

  /**
   * Stores an instance made by our own action or by an authenticated DAKE. A peer can make any number of
   * valid client profiles, so the number of instances is bounded (limits.maxInstancesPerConversation): the
   * oldest instance without an encrypted session makes room; if every one holds a session, the oldest
   * finished one goes, else the least recently keyed. The current instance is never evicted.
   */
  private admit(inst: Instance): void {
    if (this.instances.has(inst.peerTag)) return;
    const max = this.account.limits.maxInstancesPerConversation;
    while (this.instances.size >= max) {
      // The ranking a restore under a lower limit keeps by too (instance-eviction.ts).
      const victim = evictionOrder(this.instances.values(), this.current, liveEvictionFields)[0];
      if (!victim) break;
      this.evict(victim);
    }
    this.instances.set(inst.peerTag, inst);
  }

  /**
   * Instances an unauthenticated Identity may displace: holding no session (not even a finished one), and
   * neither our own pending DAKE nor a pending DAKE younger than limits.pendingDakeProtectMs. A newer
   * unauthenticated DAKE never evicts a fresh pending one (issue 10: 32 Identities from fresh tags used to
   * evict a legitimate pending DAKE).
   */
  private displaceable(): Instance[] {
    const protectFrom = this.account.clock() - this.account.limits.pendingDakeProtectMs;
    return [...this.instances.values()].filter(
      (i) =>
        i.peerTag !== this.current &&
        !i.ratchet &&
        !i.finished &&
        i.dake.kind !== 'awaiting-auth-r' &&
        (i.dake.kind === 'idle' || i.pendingSince < protectFrom),
    );
  }

  private roomForUnauthenticated(): boolean {
    return this.instances.size < this.account.limits.maxInstancesPerConversation || this.displaceable().length > 0;
  }

  /** Stores an instance created by a validated but unauthenticated Identity (roomForUnauthenticated was checked). */
  private admitUnauthenticated(inst: Instance): void {
    while (this.instances.size >= this.account.limits.maxInstancesPerConversation) {
      const victim = this.displaceable().sort((x, y) => x.pendingSince - y.pendingSince)[0];
      if (!victim) return;
      this.evict(victim);
    }
    this.instances.set(inst.peerTag, inst);
  }

  private evict(victim: Instance): void {
    this.healer.forget(victim.peerTag);
    this.closeInstance(victim);
    wipeDakeState(victim.dake);
    this.instances.delete(victim.peerTag);
  }

  /**
   * One token of unauthenticated DAKE work from this peer's bucket and the account's; false (with a
   * `throttled` event) when either is empty, and then the message is dropped unprocessed.
   */
  private spendDakeBudget(out: Outcome, instance: number): boolean {
    const now = this.account.clock();
    if (!this.dakeBudget.has(now)) {
      out.events.push({ type: 'throttled', instance, scope: 'peer' });
      return false;
    }
    if (!this.account.spendDakeBudget(now)) {
      out.events.push({ type: 'throttled', instance, scope: 'account' });
      return false;
    }
    this.dakeBudget.take(now);
    return true;
  }

  /** Keeps a data message that may have overtaken Auth-I: bounded by count and bytes, aged, memory only. */
  private keepEarly(out: Outcome, inst: Instance, bytes: Uint8Array): void {
    const L = this.account.limits;
    const now = this.account.clock();
    const horizon = now - this.policy.earlyDataRetentionMs;
    while (inst.early.length && inst.early[0]!.at < horizon) this.dropOldestEarly(inst);
    if (bytes.length > L.maxEarlyDataBytes) {
      out.events.push({ type: 'ignored', instance: inst.peerTag, reason: 'early data message larger than limits.maxEarlyDataBytes' });
      return;
    }
    while (inst.early.length && (inst.early.length >= L.maxEarlyDataMessages || inst.earlyBytes + bytes.length > L.maxEarlyDataBytes))
      this.dropOldestEarly(inst);
    // The instance bounds itself; the account bounds all instances of all conversations together (other
    // instances' oldest early messages go first): else every pending DAKE a peer with many identities opens
    // could hold maxEarlyDataBytes (test/attacks/s10-review-early-data-budget.test.ts).
    const holder = (inst.earlyHolder ??= { dropOldest: () => this.dropOldestEarly(inst) });
    this.account.earlyDataBudget.grow(holder, bytes.length + EARLY_MESSAGE_COST);
    inst.early.push({ bytes, at: now });
    inst.earlyBytes += bytes.length;
  }

  /** Drops the oldest early data message of `inst`; false if it holds none. */
  private dropOldestEarly(inst: Instance): boolean {
    const e = inst.early.shift();
    if (!e) return false;
    inst.earlyBytes -= e.bytes.length;
    if (inst.earlyHolder) this.account.earlyDataBudget.changed(inst.earlyHolder, -(e.bytes.length + EARLY_MESSAGE_COST));
    return true;
  }

  /** Drops every early data message of `inst` (read, or its DAKE or session gone). */
  private dropEarly(inst: Instance): void {
    if (inst.earlyHolder) this.account.earlyDataBudget.writeOff(inst.earlyHolder);
    inst.early = [];
    inst.earlyBytes = 0;
  }

  // ------------------------------------------------------------------ downgrade and takeover visibility

  /** The conversation's OTRv4 state over all instances (the spec's state, for the OTRv3 rules). */
  private v4State(): ConversationState {
    let finished = false;
    let waiting = this.unbound.kind !== 'idle';
    for (const i of this.instances.values()) {
      if (i.ratchet && !i.finished) return 'ENCRYPTED_MESSAGES';
      if (i.finished) finished = true;
      if (i.dake.kind !== 'idle') waiting = true;
    }
    if (finished) return 'FINISHED';
    return waiting ? 'WAITING_AUTH_R' : 'START';
  }

  /** Both sides allow OTRv4 (we by policy, the peer by a completed OTRv4 DAKE): OTRv3 would be a downgrade. */
  private downgradePossible(): boolean {
    return this.policy.allowV4 && this.account.fingerprints.seenV4(this.peerId);
  }

  /**
   * Whether OTRv3 input may be acted on (otrv4.md §Protocol Events: "The only state where OTRv3 messages are
   * taken into account is the START state"; FINISHED: "If a OTRv3 message is received in this state, it
   * should be ignored"). An OTRv3 AKE or session already under way keeps receiving its messages unless an
   * OTRv4 session is up; with an OTRv4 DAKE under way, nothing new starts in OTRv3. `kind` says what arrived:
   * an offer (query or whitespace tag offering only 3), the start of an OTRv3 AKE, or any other message.
   */
  private v3Gate(out: Outcome, instance: number, kind: 'offer' | 'ake-start' | 'message'): boolean {
    if (!this.policy.allowV3 || !this.account.v3Capable) {
      out.events.push({ type: 'ignored', instance, reason: 'OTRv3 is not allowed by the policy' });
      return false;
    }
    const starts = kind !== 'message';
    if (starts && this.downgradePossible()) out.events.push({ type: 'downgrade', instance, reason: kind === 'offer' ? 'v3-only-offer' : 'v3-ake' });
    const v4 = this.v4State();
    if (v4 === 'ENCRYPTED_MESSAGES' || v4 === 'FINISHED') {
      out.events.push({ type: 'ignored', instance, reason: `OTRv3 message in the OTRv4 ${v4} state` });
      return false;
    }
    // Any OTRv3 instance encrypted or finished, or an AKE anywhere (not only the current context's).
    if (this.v3conv?.engaged) return true;
    if (v4 !== 'START') {
      out.events.push({ type: 'ignored', instance, reason: 'OTRv3 message while an OTRv4 DAKE is under way' });
      return false;
    }
    return true;
  }

  /** OTRv3 input other than a budgeted AKE message: through the gate, then to the OTRv3 conversation. */
  private fromV3(text: string, out: Outcome, instance: number, kind: 'offer' | 'message'): void {
    if (this.v3Gate(out, instance, kind)) this.toV3(text, out);
  }

  /** Reports a change of the version or remote instance `send` uses (never silent: docs/security.md). */
  private noteTarget(out: Outcome): void {
    const version = this.active;
    if (version === null) return;
    const instance = version === 3 ? (this.v3conv?.state.theirTag ?? TAG_ANY) : this.current;
    const last = this.lastTarget;
    this.lastTarget = { version, instance };
    if (!last) return;
    if (last.version !== version) out.events.push({ type: 'version-switched', instance, from: last.version, to: version });
    else if (last.instance !== instance) out.events.push({ type: 'instance-switched', from: last.instance, to: instance, version });
  }

  /**
   * Records the fingerprint of a completed OTRv3 AKE (new and changed keys are reported). The refusal policy
   * applies to OTRv4 sessions only (docs/trust.md): an OTRv3 session is reported, not refused.
   */
  private noteFingerprint(out: Outcome, instance: number, version: ProtocolVersion, fp: string): void {
    out.events.push(...judgeFingerprint(this.account.fingerprints, this.peerId, instance, version, fp, this.account.clock(), false).events);
  }

  private offlineLocal(): OfflineLocal {
    return this.local();
  }

  /** The instance for `peerTag`, created (within the instance bound) for our own actions. */
  private instance(peerTag: number): Instance {
    let inst = this.instances.get(peerTag);
    if (!inst) {
      inst = newInstance(peerTag);
      this.admit(inst);
    }
    return inst;
  }

  private stateEvent(out: Outcome, inst: Instance, from: ConversationState): void {
    const to = instanceState(inst);
    if (from !== to) out.events.push({ type: 'state', instance: inst.peerTag, from, to, version: 4 });
  }

  /** A DAKE message that fails validation is ignored (otrv4.md: "Ignore the message if validation fails"). */
  private ignore(out: Outcome, instance: number, e: unknown): void {
    if (!(e instanceof OtrError)) throw e;
    out.events.push({ type: 'ignored', instance, reason: errorText(e) });
  }

  private report(out: Outcome, instance: number, e: unknown, reason?: 'already-received'): void {
    if (!(e instanceof OtrError)) throw e;
    out.events.push({ type: 'unreadable', instance, code: e.code, detail: e.message, ...(reason ? { reason } : {}) });
  }

  // ------------------------------------------------------------------ persistence

  /**
   * Zeroes what `toState()` made afresh for its value rather than referencing live state — the OTRv3 state's
   * serialized bytes (its session keys) — once the value has been encoded. Every call re-encodes the record.
   */
  wipeState(state: StateValue): void {
    const v3 = (state as Record<string, StateValue> | null)?.v3;
    if (v3 instanceof Uint8Array) wipe(v3);
  }

  /** This conversation's state as a persistence value (see Account.serialize). */
  toState(withoutUnauthenticated = false): StateValue {
    // Without unauthenticated material (Account.serialize when the state would exceed limits.maxStateBytes):
    // DAKEs awaiting Auth-I are left out, and instances that hold nothing else with them.
    const kept = [...this.instances.values()]
      .filter((i) => !withoutUnauthenticated || i.ratchet || i.finished || i.dake.kind !== 'awaiting-auth-i')
      .map((i) => (withoutUnauthenticated && i.dake.kind === 'awaiting-auth-i' ? { ...i, dake: DAKE_IDLE } : i));
    return {
      instances: kept.map(instanceToValue),
      unbound: dakeToValue(this.unbound),
      unboundSince: this.unboundSince,
      current: this.current,
      queue: this.queue,
      advertise: this.advertise,
      active: this.active,
      v3: this.v3Kept()?.serialize() ?? null,
      policy: this.policyOverride ? { ...this.policyOverride } : null,
      lastTarget: this.lastTarget ? { version: this.lastTarget.version, instance: this.lastTarget.instance } : null,
      // Left out (undefined) unless set: a record without it is as before session 12 (writesHostMark).
      host: this.writesHostMark() ? true : undefined,
      // Left out when empty: a record without it is as before session 15.
      endedMacKeys: this.endedMacKeys.length > 0 ? this.endedMacKeys : undefined,
    };
  }

  /**
   * Whether the record carries the host's mark (hostEngaged): only with something else to keep. A conversation
   * holding nothing has no record, and the mark alone must not make one (start() on a new peer writes nothing,
   * as before); the record written once the DAKE completes carries it. Records of conversations the host never
   * engaged are byte for byte those of session 11.
   */
  private writesHostMark(): boolean {
    return this.hostEngaged && !this.holdsNothing();
  }

  /**
   * Reads, in one pass of loads that do not depend on one another, the objects and arrays that a call on this
   * conversation and its record (records.ts) are about to read, and returns a number that means nothing (the
   * caller keeps it, so the loads are not optimised away). Why (docs/stores.md, "session 12: the save's cold
   * path"): with a thousand live conversations, a call's state was last touched a thousand calls before and is out
   * of the caches; the protocol and the encoder then meet each miss one after another, each behind the work that
   * needed it, whereas here they are issued together and overlap. Lengths and counts only: no secret byte is read.
   */
  prefetch(): number {
    let n = this.queue.length + this.peerIdBytes.length + this.instances.size + this.healer.prefetch();
    if (this.lastTarget !== null) n += this.lastTarget.instance;
    for (const i of this.instances.values()) n += prefetchInstance(i);
    return n;
  }

  /**
   * Writes the value `toState()` builds, as the state codec would encode it, without building it: the record
   * written after every call (records.ts). Two definitions of one format: test/session-record-bytes.test.ts
   * checks they agree (and pins real records made before this writer existed).
   */
  writeState(w: Writer): void {
    Conversation.stateWriters[(this.writesHostMark() ? 1 : 0) | (this.endedMacKeys.length > 0 ? 2 : 0)]!(w, this);
  }

  private static readonly stateFields: Readonly<Record<string, (w: Writer, c: Conversation) => void>> = {
    instances: (w, c) => putIterable(w, c.instances.size, c.instances.values(), writeInstance),
    unbound: (w, c) => writeDake(w, c.unbound),
    unboundSince: (w, c) => putNumber(w, c.unboundSince),
    current: (w, c) => putNumber(w, c.current),
    queue: (w, c) => putArray(w, c.queue, putString),
    advertise: (w, c) => putBoolean(w, c.advertise),
    active: (w, c) => (c.active === null ? putNull(w) : putNumber(w, c.active)),
    v3: (w, c) => {
      const kept = c.v3Kept();
      if (!kept) return putNull(w);
      // The OTRv3 state's bytes hold its session keys: zeroed once written (as wipeState does for toState).
      const v3 = kept.serialize();
      try {
        putBytes(w, v3);
      } finally {
        wipe(v3);
      }
    },
    policy: (w, c) => putValue(w, c.policyOverride ? { ...c.policyOverride } : null),
    lastTarget: (w, c) => (c.lastTarget ? writeLastTarget(w, c.lastTarget) : putNull(w)),
  };

  /**
   * The optional fields, each left out of the record unless set: the host's mark (writesHostMark, `host: true`)
   * and the MAC keys of ended sessions to publish (endedMacKeys). Bit n of a writer's index says field n is in.
   */
  private static readonly optionalFields: readonly Readonly<Record<string, (w: Writer, c: Conversation) => void>>[] = [
    { host: (w) => putBoolean(w, true) },
    { endedMacKeys: (w, c) => putBytes(w, c.endedMacKeys) },
  ];
  /** One schema writer per set of optional fields present (writeState picks by the same bits). */
  private static readonly stateWriters = Array.from({ length: 1 << Conversation.optionalFields.length }, (_, bits) =>
    schema<Conversation>(Object.assign({ ...Conversation.stateFields }, ...Conversation.optionalFields.filter((_, n) => bits & (1 << n)))),
  );

  /**
   * The OTRv3 state as the record keeps it: none when it holds nothing a fresh one would not (what unsolicited
   * OTRv3 input leaves), so such input from a stranger writes no record (attacks/s11-review-v3-junk-records).
   */
  private v3Kept(): V3Conversation | null {
    return this.v3conv !== null && !this.v3conv.holdsNothing ? this.v3conv : null;
  }

  /** @internal (records.ts) The state-trimmed events of this conversation's restore, once (then null). */
  takeTrimmedOnRestore(): OtrEvent[] | null {
    const events = this.trimmedOnRestore;
    this.trimmedOnRestore = null;
    return events;
  }

  /**
   * Rebuilds a conversation from `toState()` output; throws OtrDecodeError on a malformed state. A record written
   * under higher limits than the account's is brought within them as the library would have kept it (see
   * instanceFromValue, endedMacKeysFromValue, V3Conversation.restore; docs/persistence.md, session 15).
   */
  static fromState(account: ConversationHost, peerId: string, v: StateValue | undefined): Conversation {
    const r = expect.record(v, 'conversation state');
    const c = new Conversation(account, peerId);
    const trimmed: OtrEvent[] = [];
    c.current = expect.uint(r.current, 'current', 0xffffffff);
    // No more instances than the live bound lets a conversation hold (instance-eviction.ts mostInstancesHeld). A
    // record written under a higher maxInstancesPerConversation keeps those admit() would keep, the rest wiped
    // unread; refusing it lost every conversation of the account (session 16). Each kept instance is checked
    // before use (Ed448 subgroup checks, a Legendre symbol), so the choice is made first, on cheap fields: a
    // hostile record of thousands (bounded by the record's bytes) costs the limit's worth of checks (session 13,
    // attacks/s13-dos-restore-instances; session 16, attacks/s16-restore-instances).
    const { kept, dropped } = instancesWithinLimit(expect.array(r.instances, 'instances'), c.current, account.limits.maxInstancesPerConversation);
    for (const i of kept) {
      const inst = instanceFromValue(account.backend, i, account.limits, account.clock(), trimmed);
      c.instances.set(inst.peerTag, inst);
    }
    if (dropped > 0) trimmed.push({ type: 'state-trimmed', instance: TAG_ANY, what: 'instances', count: dropped });
    c.unbound = dakeFromValue(account.backend, r.unbound);
    // States written before pending DAKEs expired have no start time: they count from the restore.
    c.unboundSince = r.unboundSince === undefined ? account.clock() : expect.number(r.unboundSince, 'unboundSince');
    c.queue = expect.array(r.queue, 'queue', 1 << 16).map((q) => expect.string(q, 'queue[]'));
    c.advertise = expect.boolean(r.advertise, 'advertise');
    const active = r.active === null ? null : expect.uint(r.active, 'active', 4);
    if (active !== null && active !== 3 && active !== 4) throw new OtrDecodeError('state: bad active version');
    c.active = active as ProtocolVersion | null;
    if (r.lastTarget !== null && r.lastTarget !== undefined) {
      const t = expect.record(r.lastTarget, 'lastTarget');
      const version = expect.uint(t.version, 'lastTarget.version', 4);
      if (version !== 3 && version !== 4) throw new OtrDecodeError('state: bad lastTarget version');
      c.lastTarget = { version, instance: expect.uint(t.instance, 'lastTarget.instance', 0xffffffff) };
    }
    if (r.policy !== null && r.policy !== undefined) c.setPolicy(expect.record(r.policy, 'policy') as Partial<Policy>);
    // Absent from records written before session 12 (and from those of conversations the host never engaged).
    c.hostEngaged = r.host === undefined || r.host === null ? false : expect.boolean(r.host, 'host');
    // Absent from records written before session 15 (and whenever there is none).
    const ended = endedMacKeysFromValue(r.endedMacKeys, account.limits);
    c.endedMacKeys = ended.keys;
    if (ended.dropped > 0) trimmed.push({ type: 'state-trimmed', instance: TAG_ANY, what: 'mac-keys', count: ended.dropped });
    if (r.v3 !== null && r.v3 !== undefined) {
      if (!account.dsaKey) throw new OtrDecodeError('state: an OTRv3 session without a DSA key');
      c.v3conv = V3Conversation.restore(c.v3Options(), expect.bytes(r.v3, 'v3'), (instance, count, what) =>
        trimmed.push({ type: 'state-trimmed', instance, what, count }),
      );
    }
    if (trimmed.length > 0) c.trimmedOnRestore = trimmed;
    return c;
  }
}

/** The length of the question an SMP state holds (one asked of us, waiting for the answer); 0 for any other. */
/**
 * The queued MAC keys at which a read is answered by a heartbeat revealing them: limits.revealMacKeysAt, or
 * maxMacKeysToReveal when lower (past it keys are dropped unrevealed); at least one key. Infinity: never.
 */
function revealThreshold(L: Limits): number {
  if (L.revealMacKeysAt === Infinity) return Infinity;
  return Math.max(1, Math.min(L.revealMacKeysAt, L.maxMacKeysToReveal));
}

function smpQuestionBytes(s: SmpState): number {
  return s.phase === 'asked' ? s.question.length : 0;
}

/** The SMP abort TLV (type 6, empty) owed to a peer whose exchange was shed (Instance.smpAbortOwed). */
const SMP_ABORT_TLV: Tlv = Object.freeze({ type: TlvType.smpAbort, value: new Uint8Array(0) });

// -------------------------------------------------------------------- module helpers

/** An idle DAKE's encoding (nearly every instance's, and the unbound one's): made once rather than per record. */
let idleDake: Uint8Array | undefined;

function writeDake(w: Writer, d: DakeState): void {
  if (d.kind === 'idle') putEncoded(w, (idleDake ??= encodeConstant(dakeToValue(d))));
  else putValue(w, dakeToValue(d));
}

const writeLastTarget = schema<{ version: ProtocolVersion; instance: number }>({
  version: (w, t) => putNumber(w, t.version),
  instance: (w, t) => putNumber(w, t.instance),
});

/** The idle SMP state's encoding (nearly every instance's): made once rather than per record. */
let idleSmp: Uint8Array | undefined;

function writeSmp(w: Writer, s: SmpState): void {
  if (s.phase === 'idle') return putBytes(w, (idleSmp ??= encodeSmpState(s)));
  // An exchange in progress holds its secret scalars: zeroed once written.
  const b = encodeSmpState(s);
  try {
    putBytes(w, b);
  } finally {
    wipe(b);
  }
}

/** Writes what encoding `instanceToValue(i)` (instance.ts) writes, field for field, without building it. */
const writeInstance = schema<Instance>({
  peerTag: (w, i) => putNumber(w, i.peerTag),
  dake: (w, i) => writeDake(w, i.dake),
  ratchet: (w, i) => writeRatchetKept(w, i),
  finished: (w, i) => putBoolean(w, i.finished),
  ssid: (w, i) => putOptionalBytes(w, i.ssid),
  peerProfile: (w, i) => putOptionalBytes(w, i.peerProfile ? i.peerProfile.encoded : null),
  smp: (w, i) => writeSmp(w, i.smp),
  lastSentAt: (w, i) => putNumber(w, i.lastSentAt),
  lastKeyAt: (w, i) => putNumber(w, i.lastKeyAt),
  pendingSince: (w, i) => putNumber(w, i.pendingSince),
  // Early data messages (i.early) are never persisted (instance.ts).
});


/** A per-peer override may only set known policy fields, each with its default's type (it may come from storage). */
function checkPolicyOverride(p: Partial<Policy>): Partial<Policy> {
  if (p === null || typeof p !== 'object') throw new OtrArgumentError('policy must be an object');
  for (const [k, v] of Object.entries(p)) {
    if (!(k in DEFAULT_POLICY) || typeof v !== typeof DEFAULT_POLICY[k as keyof Policy])
      throw new OtrArgumentError(`unknown policy field or wrong type: ${k}`);
  }
  return p;
}



/** Sends in progress on this thread (more than one only when a host callback sends from inside a send). */
let sendsUnderWay = 0;

/** Whether a TLV list we built asks for the extra symmetric key (the padding record never does). */
function hasExtraKeyTlv(tlvs: readonly Tlv[]): boolean {
  for (const t of tlvs) if (t.type === TlvType.extraSymmetricKey) return true;
  return false;
}

function extraKeyTlv(k: { context: Uint8Array; data?: Uint8Array }): Tlv {
  if (!(k.context instanceof Uint8Array) || k.context.length !== EXTRA_KEY_CONTEXT_BYTES)
    throw new OtrArgumentError('extra key context must be 4 bytes');
  const data = k.data ?? new Uint8Array(0);
  // Anything else would be copied as other bytes (a string as zeros) or throw untyped (attacks/s7-extra-key-args).
  if (!(data instanceof Uint8Array)) throw new OtrArgumentError('extra key data must be a Uint8Array');
  const value = new Uint8Array(EXTRA_KEY_CONTEXT_BYTES + data.length);
  value.set(k.context, 0);
  value.set(data, EXTRA_KEY_CONTEXT_BYTES);
  return { type: TlvType.extraSymmetricKey, value };
}

function extraKeyEvent(instance: number, k: TlvExtraKey, direction: 'sent' | 'received'): OtrEvent {
  return { type: 'extra-key', instance, key: k.key, context: k.context, data: k.value.slice(EXTRA_KEY_CONTEXT_BYTES), direction };
}

/** User text is UTF-8; a peer that sends invalid UTF-8 gets replacement characters, not an exception. */
function decodeText(b: Uint8Array): string {
  try {
    return fromUtf8(b);
  } catch {
    return new TextDecoder('utf-8').decode(b);
  }
}

function errorText(e: unknown): string {
  return e instanceof OtrError ? `${e.code}: ${e.message}` : String(e);
}

/**
 * Re-entrancy (session 7). The host's callbacks run in the middle of a conversation's calls: its clock (at
 * the start of every call, and in a send after the ratchet moved but before the message is out), its random
 * source (a sending ratchet step, the DAKE, SMP) and its backend. A call on the SAME conversation from inside
 * one of them would run on state the outer call is about to overwrite or has half-updated: a send nested in a
 * send's clock call made that message, and every later one in the session, unreadable by the peer (test/
 * attacks/s7-reentry.test.ts), and a forget() nested in a send would wipe the keys the send is using. So such
 * a nested call is refused with OtrStateError before it reads or changes anything, and the outer call goes on
 * (whether the error then escapes the callback is the host's choice). Calls on OTHER conversations from a
 * callback are allowed: their state is their own, and the send path's shared buffers know nested sends
 * (sendsUnderWay). The calls below are every public one that reads or moves session state (account.forget
 * and account.unload reach wipeAll); not start(), which only builds a query message from the policy (send and
 * receive build theirs through the private query(), so start() is never nested in them).
 */
const GUARDED_CALLS = ['startDake', 'sendOffline', 'receive', 'send', 'end', 'poll', 'forget', 'startSmp', 'answerSmp', 'abortSmp', 'abandonSessions', 'wipeAll'] as const satisfies readonly (keyof Conversation)[];

/** The conversations with a guarded call under way on this thread, outermost first (rarely more than one). */
const callsUnderWay: Conversation[] = [];

/** OtrStateError if one of `conv`'s guarded calls is under way: for the account's calls that reach a conversation
 *  through the record book before its own guarded call (unload), so they are refused before touching anything. */
export function refuseInsideOwnCall(conv: Conversation, what: string): void {
  if (callsUnderWay.length > 0 && callsUnderWay.includes(conv))
    throw new OtrStateError(`${what}() called on this conversation from inside one of its own calls (a host callback): refused, nothing changed`);
}

/** Whether one of `conv`'s guarded calls is under way on this thread (the account then leaves its state alone). */
export function callUnderWay(conv: Conversation): boolean {
  return callsUnderWay.length > 0 && callsUnderWay.includes(conv);
}

for (const name of GUARDED_CALLS) {
  const call = Conversation.prototype[name] as (this: Conversation, a?: unknown, b?: unknown) => unknown;
  // Two parameters: the most any guarded call takes (an argument left out arrives as undefined either way);
  // checked here, at load, so a call that grows a third parameter cannot have it silently dropped.
  if (call.length > 2) throw new Error(`Conversation.${name} takes ${call.length} parameters: the guard passes two`);
  Object.defineProperty(Conversation.prototype, name, {
    configurable: true,
    writable: true,
    value: function guarded(this: Conversation, a?: unknown, b?: unknown): unknown {
      refuseInsideOwnCall(this, name);
      callsUnderWay.push(this);
      try {
        return call.call(this, a, b);
      } finally {
        callsUnderWay.pop();
      }
    },
  });
}
