/**
 * The prekey server's core (otrv4-prekey-server.md §Key Exchange, §State Machine, §Publishing Prekey Values,
 * §Retrieving Prekey Ensembles, §Query the Prekey Server for its Storage Status): transport-agnostic — bytes
 * (or text) in with the sender's network identity, bytes (or text) out. Randomness and the clock are injected;
 * storage is a `PrekeyStore`.
 *
 * What it refuses (each a typed OtrError in `error`; the spec's "rejects the message and does not send
 * anything further" means no reply, its "aborts and sends a Failure message" means a MAC'd Failure):
 * - no reply: undecodable input, unknown or client-bound message types, a DAKE-1 whose client profile or I is
 *   invalid, a DAKE-3 without a pending DAKE (the state machine: IN_DAKE only), a bad DAKE-3 ring signature,
 *   an attached message that is neither a publication nor a storage request, and rate-limited requests;
 * - Failure: a wrong Prekey / Storage Information MAC, prekey messages, profiles or proofs that do not
 *   validate (any invalid value refuses the whole publication, so what is stored is all-or-nothing), a
 *   client profile with a long-term key other than the one the DAKE authenticated, and storage limits.
 * A retrieval hands out one ensemble per instance whose profiles are unexpired, removing its prekey message
 * from the store before the answer leaves (at most once); none left gives "No Prekey Ensembles in Storage".
 *
 * Pending DAKEs are bounded (count and age), so half-finished handshakes cannot grow memory, and the table is
 * shared fairly by requester, so a flood of valid DAKE-1s cannot evict an honest client's DAKE: a DAKE is keyed
 * by its requester too (a DAKE-1 claiming someone's identity from another address is another DAKE); a full
 * table evicts the oldest DAKE of the requester holding the most — the newcomer's own if that is itself, never
 * the only DAKE of another requester — and otherwise refuses the newcomer (LIMIT_EXCEEDED, before any work; a
 * `rate-limited` event with limiter 'pending'). Rate limits (ts/limits.ts; rate-limit.ts): DAKE-1 per publisher identity and per requester; a query
 * per requester and per requested identity; DAKE-1s and prekey verifications for the whole server (session 13;
 * their refusals name the limiters 'publish-server' / 'publish-prekeys-server': RateLimiterName). The requester is what the transport vouches for — the remote
 * address over TCP (where the claimed identity is free), the authenticated identity over XMPP — passed as
 * `meta.requester`; without it the network identity `from` stands in.
 *
 * Every answer says which request class it was (`request`, for the operator's counters) and may carry
 * `events`: `prekeys-low` when a retrieval leaves an instance at or below limits.prekeysLowThreshold (the wire's
 * storage status carries only the count; see docs/prekey-server.md), `rate-limited` when a bucket bites.
 */
import type { CryptoBackend } from '../backend/types.js';
import type { RandomSource } from '../crypto/random.js';
import { utf8, wipe } from '../bytes.js';
import { OtrCryptoError, OtrDecodeError, OtrError, OtrLimitError, OtrStateError } from '../errors.js';
import { ecdh, generateEcdh } from '../crypto/ecdh.js';
import { ed448KeyPair } from '../crypto/eddsa.js';
import { equalBytes } from '../bytes.js';
import { PrekeyServerUsage } from '../crypto/usage.js';
import { validateClientProfile, type ClientProfile } from '../profile/client-profile.js';
import { decodeClientProfile } from '../profile/encoding.js';
import { decodePrekeyProfile, validatePrekeyProfile } from '../prekey/prekey-profile.js';
import { decodePrekeyMessage, encodePrekeyMessage, verifyPrekeyMessage } from '../prekey/prekey-message.js';
import { resolveLimits, type Limits } from '../limits.js';
import { psRingSign, psRingVerify } from './ring-sig.js';
import {
  decodePsMessage,
  decodePsMessageOf,
  encodeCompositeIdentity,
  encodeDake2,
  encodeEnsembleRetrieval,
  encodeNoEnsembles,
  encodeOutcome,
  encodeStorageStatus,
  fromServerText,
  NO_ENSEMBLES_TEXT,
  PsType,
  toServerText,
  type Dake1,
  type Dake3,
  type EnsembleQuery,
  type Publication,
} from './messages.js';
import { dake2Transcript, dake3Transcript, outcomeMac, prekeyMacKey, publicationBodyMac, serverFingerprint, serverPhi, serverSharedSecret, storageInfoMac, storageStatusMac } from './auth.js';
import { proofContext, verifyDhProof, verifyEcdhProof } from './proofs.js';
import { allowAll, RateLimiter, type Charge, type RateLimitConfig } from './rate-limit.js';
import type { PrekeyStore, PublicationRecord } from './store.js';

export interface PrekeyServerOptions {
  readonly backend: CryptoBackend;
  readonly random: RandomSource;
  /**
   * ms since the Unix epoch (Date.now in production): the wall clock, for what the spec dates — client and
   * prekey profile expiry, the prekey messages a retrieval may hand out.
   */
  readonly now: () => number;
  /**
   * A monotonic clock in ms, from any origin (default: performance.now): the pending DAKEs' ages and the
   * rate-limit buckets. Never the wall clock, which an NTP step or a restored VM moves either way: stepped back,
   * pending DAKEs stopped expiring for the length of the step (a table a flood filled refused every newcomer for
   * an hour, not pendingDakeTtlMs); stepped forward, every DAKE in flight expired at once
   * (attacks/s14-clock-prekey-server). It must never go back; tests pass their own.
   */
  readonly monotonicNow?: () => number;
  /** The server's identity, e.g. "prekey.example.org" (COMP-ID and phi). */
  readonly identity: string;
  /** The 57-byte seed of the server's long-term Ed448 key: read only by the constructor, so the caller may wipe it then. */
  readonly identitySecret: Uint8Array;
  readonly store: PrekeyStore;
  readonly limits?: Partial<Limits>;
  /** Per publisher identity and per requester, on DAKE-1 (default: limits publishBurst / publishPerSecond). */
  readonly publishRate?: RateLimitConfig;
  /** Per requester, on each query (default: limits fetchRequesterBurst / fetchRequesterPerSecond). */
  readonly fetchRate?: RateLimitConfig;
  /** Per requested identity, on each query (default: limits fetchTargetBurst / fetchTargetPerSecond). */
  readonly targetRate?: RateLimitConfig;
}

/** What the transport knows about the sender beyond the claimed network identity. */
export interface RequestMeta {
  /** A key the sender cannot choose freely (the remote address), for the per-requester rate limits. */
  readonly requester?: string;
}

/** The request classes the operator counts. */
export type RequestClass = 'dake1' | 'publish' | 'storage-status' | 'dake3' | 'fetch' | 'invalid';

/**
 * Which limit refused a request, in `rate-limited` events and the stats: 'publish' (DAKE-1s, or prekey
 * messages to verify, per identity and per requester), 'requester' / 'target' (ensemble queries), 'pending'
 * (the half-finished DAKE table), and the server-wide budgets 'publish-server' (DAKE-1s) and
 * 'publish-prekeys-server' (prekey verifications) — named apart so an operator tells a flood from many
 * addresses from one abusive identity or address.
 */
export type RateLimiterName = 'publish' | 'publish-server' | 'publish-prekeys-server' | 'requester' | 'target' | 'pending';

export type ServerEvent =
  | { readonly type: 'prekeys-low'; readonly identity: string; readonly instanceTag: number; readonly remaining: number }
  | { readonly type: 'rate-limited'; readonly limiter: RateLimiterName; readonly identity: string }
  /** The store failed (a database down, a disk error): the request got a typed STATE error; `message` is the store's. */
  | { readonly type: 'store-error'; readonly message: string };

export interface ServerReply {
  /** The message to send back, if the protocol sends one. */
  readonly reply?: Uint8Array;
  /** Why the input was refused (also set when a Failure message is the reply). */
  readonly error?: OtrError;
  /** Which kind of request this was (a DAKE-3 that fails before its attachment is read is 'dake3'). */
  readonly request?: RequestClass;
  /** Ensembles handed out by a retrieval. */
  readonly handedOut?: number;
  readonly events?: readonly ServerEvent[];
}

interface PendingDake {
  /** On the monotonic clock. */
  readonly createdMs: number;
  /** Who started it (the transport's remote address, else the network identity): its share of the table. */
  readonly requester: string;
  readonly profile: ClientProfile;
  readonly s: Uint8Array;
  readonly i: Uint8Array;
  readonly t3: Uint8Array;
  readonly macKey: Uint8Array;
  readonly sk: Uint8Array;
}

export class PrekeyServer {
  readonly publicKey: Uint8Array;
  readonly fingerprint: Uint8Array;
  private readonly scalar: Uint8Array;
  private readonly limits: Limits;
  private readonly pending = new Map<string, PendingDake>();
  /** The keys of each requester's pending DAKEs, oldest first. */
  private readonly pendingBy = new Map<string, Set<string>>();
  private readonly publishLimiter: RateLimiter;
  private readonly fetchLimiter: RateLimiter;
  private readonly targetLimiter: RateLimiter;
  private readonly verifyLimiter: RateLimiter;
  /** One bucket for every publisher together (limits publishPrekeysServerBurst / PerSecond). */
  private readonly serverVerifyLimiter: RateLimiter;
  /** One bucket for every DAKE-1 together (limits publishServerBurst / PerSecond). */
  private readonly serverPublishLimiter: RateLimiter;
  private readonly compositeIdentity: Uint8Array;
  private readonly monotonicNow: () => number;

  constructor(private readonly o: PrekeyServerOptions) {
    const kp = ed448KeyPair(o.backend, o.identitySecret);
    wipe(kp.secret, kp.prefix);
    this.scalar = kp.scalar;
    this.publicKey = kp.publicKey;
    this.fingerprint = serverFingerprint(o.backend, kp.publicKey);
    this.limits = resolveLimits(o.limits);
    this.compositeIdentity = encodeCompositeIdentity(o.identity, kp.publicKey);
    const l = this.limits;
    const mono = (this.monotonicNow = o.monotonicNow ?? (() => performance.now()));
    const rate = (c: RateLimitConfig | undefined, burst: number, perSecond: number) => new RateLimiter({ maxKeys: l.maxRateLimitKeys, ...(c ?? { burst, perSecond }) }, mono);
    this.publishLimiter = rate(o.publishRate, l.publishBurst, l.publishPerSecond);
    this.fetchLimiter = rate(o.fetchRate, l.fetchRequesterBurst, l.fetchRequesterPerSecond);
    this.targetLimiter = rate(o.targetRate, l.fetchTargetBurst, l.fetchTargetPerSecond);
    this.verifyLimiter = rate(undefined, l.publishPrekeysBurst, l.publishPrekeysPerSecond);
    this.serverVerifyLimiter = new RateLimiter({ maxKeys: 1, burst: l.publishPrekeysServerBurst, perSecond: l.publishPrekeysServerPerSecond }, mono);
    this.serverPublishLimiter = new RateLimiter({ maxKeys: 1, burst: l.publishServerBurst, perSecond: l.publishServerPerSecond }, mono);
  }

  get pendingDakes(): number {
    return this.pending.size;
  }

  /** Text in, text out (base64 + "."), for line-based transports. */
  async handleText(from: string, text: string, meta: RequestMeta = {}): Promise<Omit<ServerReply, 'reply'> & { reply?: string }> {
    let bytes: Uint8Array;
    try {
      bytes = fromServerText(text, this.limits.maxServerMessageChars);
    } catch (e) {
      if (e instanceof OtrError) return { error: e, request: 'invalid' };
      throw e;
    }
    const { reply, ...rest } = await this.handle(from, bytes, meta);
    return { ...rest, ...(reply ? { reply: toServerText(reply) } : {}) };
  }

  /** One message from the network identity `from`. Never throws for bad input: the error is returned. */
  async handle(from: string, bytes: Uint8Array, meta: RequestMeta = {}): Promise<ServerReply> {
    let request: RequestClass = 'invalid';
    const events: ServerEvent[] = [];
    try {
      if (typeof from !== 'string' || utf8(from).length > this.limits.maxIdentityBytes || from.length === 0)
        throw new OtrDecodeError('invalid sender identity');
      const m = decodePsMessage(bytes, this.limits);
      const requester = meta.requester ?? from;
      switch (m.type) {
        case PsType.dake1:
          request = 'dake1';
          return { request, reply: this.onDake1(from, requester, m, events), events };
        case PsType.dake3: {
          request = 'dake3';
          const r = await this.onDake3(from, requester, m, events);
          request = r.request;
          return { ...r, events };
        }
        case PsType.ensembleQuery: {
          request = 'fetch';
          const r = await this.onQuery(from, requester, m, events);
          return { request, reply: r.reply, handedOut: r.handedOut, events };
        }
        default:
          throw new OtrStateError(`a prekey server does not accept message type 0x${m.type.toString(16)}`);
      }
    } catch (e) {
      if (e instanceof OtrError) return { error: e, request, events };
      throw e;
    }
  }

  /** A pending DAKE's key: the requester is part of it, so another address cannot restart someone's DAKE. */
  private key(requester: string, from: string, tag: number): string {
    return JSON.stringify([requester, tag, from]);
  }

  private expirePending(): void {
    // Oldest first (insertion order), so the first entry young enough ends the scan: ages on the monotonic clock
    // keep that order true.
    const now = this.monotonicNow();
    for (const [k, p] of this.pending) {
      if (now - p.createdMs < this.limits.pendingDakeTtlMs && this.pending.size <= this.limits.maxPendingDakes) break;
      this.dropPending(k, p);
    }
  }

  private dropPending(k: string, p: PendingDake): void {
    wipe(p.macKey, p.sk);
    this.forgetPending(k, p);
  }

  private forgetPending(k: string, p: PendingDake): void {
    this.pending.delete(k);
    const mine = this.pendingBy.get(p.requester);
    mine?.delete(k);
    if (mine?.size === 0) this.pendingBy.delete(p.requester);
  }

  /**
   * Makes room in a full pending table for a DAKE of `requester`, fairly: a requester holding the most evicts
   * its own oldest; a newcomer holding fewer evicts the oldest of the requester holding the most, if that one
   * keeps at least one; else (every requester holds one: a flood from many addresses) the newcomer is refused,
   * so a DAKE that is some requester's only one is never evicted by another. Scans the requesters (at most
   * maxPendingDakes), which is far cheaper than the ring signature a DAKE-1 costs.
   */
  private makeRoom(requester: string, from: string, events: ServerEvent[]): void {
    if (this.pending.size < this.limits.maxPendingDakes) return;
    const mine = this.pendingBy.get(requester)?.size ?? 0;
    let top: string | undefined;
    let topN = 0;
    for (const [r, keys] of this.pendingBy) {
      if (keys.size > topN) {
        top = r;
        topN = keys.size;
      }
    }
    const victim = mine > 0 && mine >= topN ? requester : topN >= 2 && topN > mine ? top : undefined;
    if (victim === undefined) {
      events.push({ type: 'rate-limited', limiter: 'pending', identity: from });
      throw new OtrLimitError('the prekey server has too many DAKEs in progress; try again later');
    }
    const k = this.pendingBy.get(victim)!.values().next().value as string;
    this.dropPending(k, this.pending.get(k)!);
  }

  private onDake1(from: string, requester: string, m: Dake1, events: ServerEvent[]): Uint8Array {
    const b = this.o.backend;
    // The server's own bucket too, before the profile check and the ring signature: the per-key buckets alone
    // let many addresses buy thousands of those a second (session 13, docs/security.md "Session 13: cost of
    // hostile input"). All or none (allowAll): a DAKE-1 one bucket refuses spends nothing of the others.
    const refusedBy = chargePublisher(this.publishLimiter, this.serverPublishLimiter, from, requester, 1);
    if (refusedBy === 'server') {
      events.push({ type: 'rate-limited', limiter: 'publish-server', identity: from });
      throw new OtrLimitError('the prekey server has too many DAKEs starting; try again later');
    }
    if (refusedBy === 'own') {
      events.push({ type: 'rate-limited', limiter: 'publish', identity: from });
      throw new OtrLimitError('too many DAKEs from this identity');
    }
    validateClientProfile(b, m.profile, { nowMs: this.o.now(), expectedOwnerTag: m.senderTag });
    if (!b.pointIsValid(m.i)) throw new OtrCryptoError('INVALID_POINT', 'I is not a valid point');
    // Room in the pending table, before the ring signature (a refused DAKE-1 costs no more).
    const k = this.key(requester, from, m.senderTag);
    const old = this.pending.get(k);
    if (old) this.dropPending(k, old); // a new DAKE-1 restarts the requester's DAKE
    this.expirePending();
    this.makeRoom(requester, from, events);
    const s = generateEcdh(b, this.o.random);
    const parts = { clientProfile: m.profile.encoded, compositeIdentity: this.compositeIdentity, i: m.i, s: s.public, phi: serverPhi(from, this.o.identity) };
    const sigma = psRingSign(b, this.o.random, this.scalar, this.publicKey, [m.profile.identityKey, this.publicKey, m.i], dake2Transcript(b, parts));
    const skEcdh = ecdh(b, s.secret, m.i);
    const sk = serverSharedSecret(b, skEcdh);
    wipe(skEcdh, s.secret);
    this.pending.set(k, { createdMs: this.monotonicNow(), requester, profile: m.profile, s: s.public, i: m.i, t3: dake3Transcript(b, parts), macKey: prekeyMacKey(b, sk), sk });
    let mine = this.pendingBy.get(requester);
    if (!mine) this.pendingBy.set(requester, (mine = new Set()));
    mine.add(k);
    return encodeDake2({ receiverTag: m.senderTag, serverIdentity: this.o.identity, serverKey: this.publicKey, s: s.public, sigma });
  }

  private failure(request: RequestClass, tag: number, macKey: Uint8Array, error: OtrError): ServerReply & { request: RequestClass } {
    return { request, reply: encodeOutcome({ type: PsType.failure, receiverTag: tag, mac: outcomeMac(this.o.backend, macKey, PsType.failure, tag) }), error };
  }

  private async onDake3(from: string, requester: string, m: Dake3, events: ServerEvent[]): Promise<ServerReply & { request: RequestClass }> {
    const b = this.o.backend;
    this.expirePending();
    const k = this.key(requester, from, m.senderTag);
    const p = this.pending.get(k);
    if (!p) throw new OtrStateError('DAKE-3 without a DAKE in progress');
    if (!psRingVerify(b, [p.profile.identityKey, this.publicKey, p.s], m.sigma, p.t3)) {
      // The DAKE is over either way: a bad DAKE-3 is not retried against the same secrets.
      this.dropPending(k, p);
      throw new OtrCryptoError('BAD_SIGNATURE', 'DAKE-3 ring signature does not verify');
    }
    this.forgetPending(k, p);
    try {
      const attached = decodePsMessageOf(m.message, [PsType.publication, PsType.storageInfoRequest], this.limits);
      if (attached.type === PsType.storageInfoRequest) {
        if (!equalBytes(storageInfoMac(b, p.macKey), attached.mac))
          return this.failure('storage-status', m.senderTag, p.macKey, new OtrCryptoError('BAD_MAC', 'Storage Information MAC does not verify'));
        const count = await this.stored(events, () => this.o.store.count(from, m.senderTag));
        return { request: 'storage-status', reply: encodeStorageStatus({ receiverTag: m.senderTag, count, mac: storageStatusMac(b, p.macKey, m.senderTag, count) }) };
      }
      try {
        const record = this.checkPublication(p, m.senderTag, attached, from, requester, events);
        await this.stored(events, () => this.o.store.publish(from, record));
      } catch (e) {
        if (e instanceof OtrError) return this.failure('publish', m.senderTag, p.macKey, e);
        throw e;
      }
      return { request: 'publish', reply: encodeOutcome({ type: PsType.success, receiverTag: m.senderTag, mac: outcomeMac(b, p.macKey, PsType.success, m.senderTag) }) };
    } finally {
      wipe(p.macKey, p.sk);
    }
  }

  /** Every check of §Publishing Prekey Values step 7; returns what to store. */
  private checkPublication(p: PendingDake, tag: number, pub: Publication, from: string, requester: string, events: ServerEvent[]): PublicationRecord {
    const b = this.o.backend;
    const nowMs = this.o.now();
    // Over the parts' exact received bytes, as the publisher computed it over the bytes it sent.
    const mac = publicationBodyMac(b, p.macKey, pub, pub.prekeyMessagesBytes, pub.proofsBytes);
    if (!equalBytes(mac, pub.mac)) throw new OtrCryptoError('BAD_MAC', 'Prekey MAC does not verify');
    // Verifying costs a 3072-bit group check per prekey message (~13 ms each with WASM), and anyone can make
    // a key and publish: the prekey messages are paid for from a budget per identity and per requester before
    // any of them is verified.
    // The server's own bucket too, all or none (allowAll): a publisher its own buckets refuse spends nothing of
    // everyone's, and one the server's refuses during a flood keeps its own tokens for after it.
    const n = pub.prekeyMessages.length;
    const refusedBy = n === 0 ? undefined : chargePublisher(this.verifyLimiter, this.serverVerifyLimiter, from, requester, n);
    if (refusedBy === 'server') {
      events.push({ type: 'rate-limited', limiter: 'publish-prekeys-server', identity: from });
      throw new OtrLimitError('the prekey server has too many prekey messages to verify; try again later');
    }
    if (refusedBy === 'own') {
      events.push({ type: 'rate-limited', limiter: 'publish', identity: from });
      throw new OtrLimitError('too many prekey messages published recently; try again later');
    }
    // Profiles: the client profile must carry the long-term key the DAKE just authenticated.
    const cp = pub.clientProfile;
    if (cp) {
      validateClientProfile(b, cp, { nowMs, expectedOwnerTag: tag });
      if (!equalBytes(cp.identityKey, p.profile.identityKey)) throw new OtrCryptoError('BAD_SIGNATURE', 'published client profile has another long-term key than the DAKE');
    }
    const pp = pub.prekeyProfile;
    if (pp) validatePrekeyProfile(b, pp, { nowMs, identityKey: (cp ?? p.profile).identityKey, expectedOwnerTag: tag });
    const ids = new Set<number>();
    for (const pm of pub.prekeyMessages) {
      if (pm.ownerTag !== tag) throw new OtrDecodeError('prekey message of another instance');
      if (ids.has(pm.id)) throw new OtrDecodeError('duplicate prekey message id in one publication');
      ids.add(pm.id);
      verifyPrekeyMessage(b, pm);
    }
    const m = proofContext(b, p.sk);
    try {
      if (pub.prekeyMessages.length > 0) {
        if (!pub.ecdhProof || !verifyEcdhProof(b, PrekeyServerUsage.proofMessageEcdh, pub.prekeyMessages.map((x) => x.y), m, pub.ecdhProof))
          throw new OtrCryptoError('BAD_SIGNATURE', 'prekey message ECDH proof does not verify');
        if (!pub.dhProof || !verifyDhProof(b, pub.prekeyMessages.map((x) => x.b), m, pub.dhProof))
          throw new OtrCryptoError('BAD_SIGNATURE', 'prekey message DH proof does not verify');
      }
      if (pp && (!pub.sharedPrekeyProof || !verifyEcdhProof(b, PrekeyServerUsage.proofSharedEcdh, [pp.sharedPrekey], m, pub.sharedPrekeyProof)))
        throw new OtrCryptoError('BAD_SIGNATURE', 'shared prekey proof does not verify');
    } finally {
      wipe(m);
    }
    return {
      instanceTag: tag,
      prekeys: pub.prekeyMessages.map((x) => ({ id: x.id, bytes: encodePrekeyMessage(x) })),
      ...(cp ? { clientProfile: { bytes: cp.encoded, expiry: cp.expiry } } : {}),
      ...(pp ? { prekeyProfile: { bytes: pp.encoded, expiry: pp.expiry } } : {}),
    };
  }

  /**
   * A store call. A failure that is not an OtrError (a database connection lost, a disk error) becomes
   * OtrStateError('prekey store unavailable') for the client — a Failure for a publication, a notice for a
   * retrieval — and a `store-error` event for the operator, instead of an exception that drops the connection.
   */
  private async stored<T>(events: ServerEvent[], call: () => Promise<T>): Promise<T> {
    try {
      return await call();
    } catch (e) {
      if (e instanceof OtrError) throw e;
      events.push({ type: 'store-error', message: e instanceof Error ? e.message : String(e) });
      throw new OtrStateError('prekey store unavailable; try again later');
    }
  }

  private async onQuery(from: string, requester: string, m: EnsembleQuery, events: ServerEvent[]): Promise<{ reply: Uint8Array; handedOut: number }> {
    // All or none (allowAll), the requester's bucket first: a refused requester spends nothing of the target's
    // tokens, and a requester the target's bucket refuses (a drained identity) keeps its own for other targets.
    const refused = allowAll([
      [this.fetchLimiter, requester, 1],
      [this.targetLimiter, m.identity, 1],
    ]);
    if (refused === 0) {
      events.push({ type: 'rate-limited', limiter: 'requester', identity: from });
      throw new OtrLimitError('too many ensemble requests from this requester');
    }
    if (refused === 1) {
      events.push({ type: 'rate-limited', limiter: 'target', identity: m.identity });
      throw new OtrLimitError('too many ensemble requests for this identity');
    }
    const none = () => ({ reply: encodeNoEnsembles({ receiverTag: m.senderTag, identity: m.identity, text: NO_ENSEMBLES_TEXT }), handedOut: 0 });
    // We store version-4 ensembles only; "unrecognized versions should be ignored".
    if (!m.versions.includes('4')) return none();
    const nowSeconds = BigInt(Math.floor(this.o.now() / 1000));
    const taken = await this.stored(events, () => this.o.store.take(m.identity, nowSeconds, this.limits.maxEnsemblesPerRetrieval));
    if (taken.length === 0) return none();
    for (const e of taken)
      if (e.remaining !== undefined && e.remaining <= this.limits.prekeysLowThreshold)
        events.push({ type: 'prekeys-low', identity: m.identity, instanceTag: e.instanceTag, remaining: e.remaining });
    const ensembles = taken.map((e) => ({
      clientProfile: decodeClientProfile(e.clientProfile),
      prekeyProfile: decodePrekeyProfile(e.prekeyProfile),
      prekeyMessage: decodePrekeyMessage(e.prekey.bytes),
    }));
    return { reply: encodeEnsembleRetrieval({ receiverTag: m.senderTag, identity: m.identity, ensembles }), handedOut: taken.length };
  }
}

/**
 * Charges a publisher `n` tokens, all or none (allowAll): its identity's bucket in `own`, its requester's when
 * that is another key, then the server-wide bucket. Which refused: 'own' (one of the publisher's), 'server', or
 * undefined when every charge was taken.
 */
function chargePublisher(own: RateLimiter, server: RateLimiter, from: string, requester: string, n: number): 'own' | 'server' | undefined {
  const charges: Charge[] = [[own, `id\n${from}`, n]];
  if (requester !== from) charges.push([own, `from\n${requester}`, n]);
  charges.push([server, 'server', n]);
  const refused = allowAll(charges);
  if (refused < 0) return undefined;
  return refused === charges.length - 1 ? 'server' : 'own';
}
