/**
 * The prekey-server fuzz engine, shared by the short seeded suite (test/attacks/prekey-server-fuzz.test.ts, in
 * `npm test`) and the long run on demand (test/long/fuzz-prekey.ts, `npm run fuzz:prekey`).
 *
 * It drives the transport-agnostic core (PrekeyServer.handle / handleText) with honest clients running real
 * DAKEs (publications, storage-status requests, retrievals) interleaved with the attack classes of issue 10
 * (docs/security.md): mutated / truncated / oversized / bit-flipped / spliced copies of every valid client
 * message; byte-identical replays under the same or another identity and address; reordered DAKE steps (a
 * DAKE-3 of an earlier DAKE, a DAKE-3 before any DAKE-1); DAKE-3s with a genuine ring signature but a
 * tampered, swapped or foreign attachment; valid DAKE-1s replayed under many claimed identities (the pending
 * table); junk, unterminated and oversized text; and hostile client profiles (DSA p of a megabit, p and q out
 * of bounds, g = 0). `tcpRound` pushes junk, split, pipelined and overlong lines through the real TCP framing.
 *
 * Invariants checked after every input (a broken one is a Failure, never an exception):
 * - handle() never throws, and a returned `error` is an OtrError;
 * - a reply decodes as a client-bound message of the kind the request class allows (DAKE-1 → DAKE-2, a
 *   publication → Success/Failure, a storage request → Storage Status/Failure, a query → Retrieval/None),
 *   addressed to the instance tag that asked; refused input gets no reply;
 * - the store is written only by a Success answer to a byte-exact genuine DAKE-3 of an honest client, and holds
 *   only prekey messages that client generated for that identity and instance;
 * - a prekey message is handed out at most once, and only one that was stored (a reference model of the store
 *   is kept beside it and compared after every input);
 * - memory: pending DAKEs ≤ maxPendingDakes, each rate limiter's table ≤ maxRateLimitKeys, the store within
 *   its limits — with those limits set small so that they are reached;
 * - liveness: an honest client's pending DAKE survives every flood from other addresses — its DAKE-3 within
 *   pendingDakeTtlMs finds it, unless something else was sent from the client's own address meanwhile (that
 *   requester may restart, consume or evict its own DAKEs).
 * Every input is a pure function of (seed, epoch, position): an epoch starts from a fresh server and store.
 */
import type { CryptoBackend } from '../../ts/backend/types.js';
import { ed448KeyPair } from '../../ts/crypto/eddsa.js';
import { OtrError } from '../../ts/errors.js';
import { createClientProfile, expiryFromNow, signClientProfile, type ClientProfile } from '../../ts/profile/client-profile.js';
import { createPrekeyProfile, generatePrekeyMessages, type PrekeyProfileWithSecret } from '../../ts/prekey/index.js';
import { encodePrekeyMessage } from '../../ts/prekey/prekey-message.js';
import { resolveLimits, type Limits } from '../../ts/limits.js';
import {
  decodePsMessage,
  encodeDake1,
  encodeDake3,
  ensembleQuery,
  fromServerText,
  MemoryStore,
  PrekeyServer,
  PsType,
  receiveDake2,
  startServerDake,
  toServerText,
  type PrekeyStore,
  type PsClientInDake,
  type PublicationRecord,
  type ServerReply,
  type StoredEnsemble,
} from '../../ts/prekey-server/index.js';
import { listenTcp, TcpPrekeyClient } from '../../ts/prekey-server/tcp.js';
import { createConnection } from 'node:net';
import { seededRandom } from './rng.js';

export const FUZZ_NOW_MS = 1_700_000_000_000;
export const SERVER_ID = 'prekey.fuzz';

/** Small on purpose: the fuzzer must reach every bound, not stay below it. */
export const FUZZ_LIMITS: Partial<Limits> = {
  maxPendingDakes: 12,
  pendingDakeTtlMs: 20_000,
  maxRateLimitKeys: 24,
  maxIdentities: 6,
  maxInstancesPerIdentity: 3,
  maxStoredPrekeysPerInstance: 6,
  maxStoredPrekeysTotal: 24,
  maxEnsemblesPerRetrieval: 4,
  publishPrekeysBurst: 16,
  publishPrekeysPerSecond: 2,
  prekeysLowThreshold: 2,
};
/** The whole table with the small values above. */
export const FUZZ_LIMITS_RESOLVED: Limits = resolveLimits(FUZZ_LIMITS);
const RATES = {
  publishRate: { burst: 8, perSecond: 2 },
  fetchRate: { burst: 12, perSecond: 4 },
  targetRate: { burst: 6, perSecond: 2 },
};

const CLIENT_BOUND = new Set<number>([PsType.dake2, PsType.success, PsType.failure, PsType.storageStatus, PsType.ensembleRetrieval, PsType.noEnsembles]);
const REPLY_FOR: Record<string, readonly number[]> = {
  dake1: [PsType.dake2],
  publish: [PsType.success, PsType.failure],
  'storage-status': [PsType.storageStatus, PsType.failure],
  fetch: [PsType.ensembleRetrieval, PsType.noEnsembles],
};
const ERROR_CODES = new Set(['INVALID_ARGUMENT', 'MALFORMED', 'INVALID_POINT', 'INVALID_SCALAR', 'INVALID_DH_VALUE', 'BAD_SIGNATURE', 'BAD_MAC', 'EXPIRED', 'LIMIT_EXCEEDED', 'STATE']);

export interface FuzzFailure {
  readonly epoch: number;
  readonly index: number;
  readonly cls: string;
  readonly problem: string;
  /** The input (hex, cut at 256 bytes) or text (cut at 200 characters). */
  readonly input: string;
}

export interface FuzzStats {
  inputs: number;
  readonly byClass: Record<string, number>;
  readonly outcomes: Record<string, number>;
  published: number;
  handedOut: number;
  maxPending: number;
  slowestMs: number;
  slowestClass: string;
}

interface Client {
  readonly identity: string;
  readonly address: string;
  readonly tag: number;
  readonly identitySecret: Uint8Array;
  readonly identityScalar: Uint8Array;
  readonly profile: ClientProfile;
  readonly prekeyProfile: PrekeyProfileWithSecret;
  /** Per epoch: the DAKE in progress and the DAKE-2 answering it. */
  dake?: { state: PsClientInDake; dake2: Uint8Array };
  /** When the server answered its DAKE-1 (until its DAKE-3 is sent), and whether its address sent anything else since. */
  pendingSince?: number;
  touched?: boolean;
}

interface CorpusEntry {
  readonly kind: 'dake1' | 'dake3' | 'query' | 'hostile';
  readonly bytes: Uint8Array;
  readonly owner: string;
}

const hex = (b: Uint8Array) => Buffer.from(b.subarray(0, 256)).toString('hex') + (b.length > 256 ? `…(${b.length} bytes)` : '');
const bump = (r: Record<string, number>, k: string) => (r[k] = (r[k] ?? 0) + 1);

/** A prekey store that lets the fuzzer see every write and every removal, beside a MemoryStore. */
class WatchedStore implements PrekeyStore {
  readonly inner = new MemoryStore(FUZZ_LIMITS_RESOLVED);
  published: { identity: string; record: PublicationRecord }[] = [];
  taken: { identity: string; out: StoredEnsemble[] }[] = [];
  async publish(identity: string, record: PublicationRecord): Promise<void> {
    await this.inner.publish(identity, record);
    this.published.push({ identity, record });
  }
  count(identity: string, tag: number): Promise<number> {
    return this.inner.count(identity, tag);
  }
  async take(identity: string, now: bigint, max: number): Promise<StoredEnsemble[]> {
    const out = await this.inner.take(identity, now, max);
    this.taken.push({ identity, out });
    return out;
  }
  close(): Promise<void> {
    return this.inner.close();
  }
}

/** Hostile client profiles validly Ed448-signed by the attacker: each DSA field out of bounds in turn. */
function hostileDake1s(b: CryptoBackend): Uint8Array[] {
  const rnd = seededRandom(0xbad);
  const q = (1n << 159n) | 1n;
  const keys = [
    { p: (1n << BigInt((1 << 20) - 1)) | 1n, q, g: 2n, y: 3n }, // a megabit p
    { p: (1n << 3072n) | 1n, q, g: 2n, y: 3n }, // 3073 bits
    { p: (1n << 1023n) | 1n, q: (1n << 160n) | 1n, g: 2n, y: 3n }, // q of 161 bits
    { p: (1n << 1023n) | 1n, q, g: 0n, y: 3n }, // g = 0
    { p: 0n, q, g: 2n, y: 3n },
  ];
  return keys.map((dsaKey, i) => {
    const secret = rnd(57);
    const tag = 0x7000_0000 + i;
    const profile = signClientProfile(
      b,
      { ownerTag: tag, identityKey: ed448KeyPair(b, secret).publicKey, forgingKey: ed448KeyPair(b, rnd(57)).publicKey, versions: '34', expiry: expiryFromNow(FUZZ_NOW_MS), dsaKey, transitionalSignature: rnd(40) },
      secret,
    );
    return encodeDake1({ senderTag: tag, profile, i: ed448KeyPair(b, rnd(57)).publicKey });
  });
}

export class PrekeyServerFuzz {
  readonly stats: FuzzStats = { inputs: 0, byClass: {}, outcomes: {}, published: 0, handedOut: 0, maxPending: 0, slowestMs: 0, slowestClass: '' };
  private readonly clients: Client[] = [];
  private readonly hostile: Uint8Array[];
  // Per epoch:
  private rnd: (n: number) => Uint8Array = seededRandom(1);
  private clock = FUZZ_NOW_MS;
  private server!: PrekeyServer;
  private store!: WatchedStore;
  private corpus: CorpusEntry[] = [];
  /** hex of every prekey message an honest client generated → "identity\ntag". */
  private genuine = new Map<string, string>();
  /** The reference model: "identity\ntag" → id → hex. */
  private model = new Map<string, Map<number, string>>();
  private handed = new Set<string>();
  private failures: FuzzFailure[] = [];
  private epochNo = 0;
  private index = 0;
  /** The client whose genuine DAKE-3 is being sent (that input does not count as touching its DAKE). */
  private finishing: Client | undefined;

  constructor(
    readonly b: CryptoBackend,
    readonly seed: number,
  ) {
    const rnd = seededRandom(seed ^ 0x5eed);
    // Four identities, one with two instances (devices), each at its own address.
    const who = [
      ['alice@fuzz', 0x1001],
      ['bob@fuzz', 0x2002],
      ['bob@fuzz', 0x2003],
      ['carol@fuzz', 0x3003],
      ['dave@fuzz', 0x4004],
    ] as const;
    who.forEach(([identity, tag], n) => {
      const identitySecret = rnd(57);
      const profile = createClientProfile(b, { ownerTag: tag, identitySecret, forgingKey: ed448KeyPair(b, rnd(57)).publicKey, versions: '4', expiry: expiryFromNow(FUZZ_NOW_MS) });
      const prekeyProfile = createPrekeyProfile(b, rnd, { ownerTag: tag, identitySecret, expiry: expiryFromNow(FUZZ_NOW_MS) });
      this.clients.push({ identity, tag, address: `198.51.100.${n + 1}`, identitySecret, identityScalar: ed448KeyPair(b, identitySecret).scalar, profile, prekeyProfile });
    });
    this.hostile = hostileDake1s(b);
  }

  private int(n: number): number {
    const x = this.rnd(4);
    return (((x[0]! << 24) | (x[1]! << 16) | (x[2]! << 8) | x[3]!) >>> 0) % n;
  }
  private pick<T>(xs: readonly T[]): T {
    return xs[this.int(xs.length)]!;
  }

  private fail(cls: string, problem: string, input: string): void {
    this.failures.push({ epoch: this.epochNo, index: this.index, cls, problem, input });
  }

  /** A fresh server, store, clock and client states for epoch `e`. */
  private reset(e: number): void {
    this.epochNo = e;
    this.rnd = seededRandom((Math.imul(this.seed, 0x9e3779b1) ^ Math.imul(e + 1, 0x85ebca6b)) >>> 0);
    this.clock = FUZZ_NOW_MS;
    this.store = new WatchedStore();
    // The fuzzer's clock only moves forward, so it serves as the monotonic clock (ages, buckets) too.
    this.server = new PrekeyServer({ backend: this.b, random: this.rnd, now: () => this.clock, monotonicNow: () => this.clock, identity: SERVER_ID, identitySecret: seededRandom(this.seed + 7)(57), store: this.store, limits: FUZZ_LIMITS, ...RATES });
    this.model = new Map();
    this.handed = new Set();
    this.genuine = new Map();
    this.corpus = this.hostile.map((bytes) => ({ kind: 'hostile' as const, bytes, owner: 'mallory@fuzz' }));
    for (const c of this.clients) {
      c.dake = undefined;
      c.pendingSince = undefined;
      this.corpus.push({ kind: 'query', bytes: ensembleQuery(c.tag, this.pick(this.clients).identity), owner: c.identity });
    }
  }

  private identities(): string[] {
    return [...new Set(this.clients.map((c) => c.identity)), 'mallory@fuzz', `x${this.int(1000)}@flood`, '', 'é\u0000\t\n', 'z'.repeat(256)];
  }
  private address(): string {
    // Many addresses, more than the limiter tables hold.
    return this.int(4) === 0 ? this.pick(this.clients).address : `203.0.113.${this.int(64)}`;
  }

  /** One input to the core; every invariant checked. `genuine`: a byte-exact DAKE-3 an honest client just built. */
  private async send(cls: string, from: string, input: Uint8Array | string, requester: string, genuine = false): Promise<ServerReply | undefined> {
    this.stats.inputs++;
    bump(this.stats.byClass, cls);
    this.store.published = [];
    this.store.taken = [];
    const shown = typeof input === 'string' ? JSON.stringify(input.slice(0, 200)) : hex(input);
    for (const c of this.clients) if (c.pendingSince !== undefined && c.address === requester && c !== this.finishing) c.touched = true;
    let r: ServerReply;
    const t0 = performance.now();
    try {
      if (typeof input === 'string') {
        const { reply, ...rest } = await this.server.handleText(from, input, { requester });
        r = { ...rest, ...(reply !== undefined ? { reply: fromServerText(reply) } : {}) };
      } else r = await this.server.handle(from, input, { requester });
    } catch (e) {
      this.fail(cls, `handle threw ${(e as Error)?.name}: ${(e as Error)?.message}`, shown);
      return undefined;
    }
    const ms = performance.now() - t0;
    if (ms > this.stats.slowestMs) {
      this.stats.slowestMs = ms;
      this.stats.slowestClass = cls;
    }
    if (r.error !== undefined && !(r.error instanceof OtrError)) this.fail(cls, `error is not an OtrError: ${String(r.error)}`, shown);
    let replyType: number | undefined;
    if (r.reply) {
      try {
        const m = decodePsMessage(r.reply, FUZZ_LIMITS_RESOLVED);
        replyType = m.type;
        if (!CLIENT_BOUND.has(m.type)) this.fail(cls, `reply of server-bound type 0x${m.type.toString(16)}`, shown);
        else if (!(REPLY_FOR[r.request ?? '']?.includes(m.type) ?? false)) this.fail(cls, `reply 0x${m.type.toString(16)} to a '${r.request}' request`, shown);
        if (typeof input !== 'string' && 'receiverTag' in m) {
          const asked = decodePsMessage(input, FUZZ_LIMITS_RESOLVED);
          if ('senderTag' in asked && asked.senderTag !== m.receiverTag) this.fail(cls, 'reply addressed to another instance', shown);
        }
        if (m.type === PsType.ensembleRetrieval && m.ensembles.length !== r.handedOut) this.fail(cls, 'retrieval size differs from handedOut', shown);
      } catch (e) {
        this.fail(cls, `reply does not decode: ${(e as Error).message}`, hex(r.reply));
      }
    } else if (r.error === undefined) this.fail(cls, 'neither a reply nor an error', shown);
    bump(this.stats.outcomes, replyType !== undefined ? `reply 0x${replyType.toString(16)}` : `refused ${r.error?.code}`);
    this.checkStore(cls, from, shown, genuine, replyType);
    this.checkBounds(cls, shown);
    return r;
  }

  private checkStore(cls: string, from: string, shown: string, genuine: boolean, replyType: number | undefined): void {
    const pubs = this.store.published;
    if (pubs.length > 0 && !(genuine && replyType === PsType.success)) this.fail(cls, 'stored a publication without a Success to a genuine DAKE-3', shown);
    if (replyType === PsType.success && pubs.length !== 1) this.fail(cls, 'Success without exactly one store write', shown);
    for (const { identity, record } of pubs) {
      if (identity !== from) this.fail(cls, 'stored under another identity than the sender', shown);
      const key = `${identity}\n${record.instanceTag}`;
      let inst = this.model.get(key);
      if (!inst) this.model.set(key, (inst = new Map()));
      for (const p of record.prekeys) {
        const h = Buffer.from(p.bytes).toString('hex');
        if (this.genuine.get(h) !== key) this.fail(cls, 'stored a prekey message its owner did not make', shown);
        if (!inst.has(p.id)) inst.set(p.id, h);
        this.stats.published++;
      }
    }
    for (const { identity, out } of this.store.taken) {
      for (const e of out) {
        const h = Buffer.from(e.prekey.bytes).toString('hex');
        const inst = this.model.get(`${identity}\n${e.instanceTag}`);
        if (inst?.get(e.prekey.id) !== h) this.fail(cls, 'handed out a prekey message that is not stored', shown);
        inst?.delete(e.prekey.id);
        if (this.handed.has(h)) this.fail(cls, 'handed out a prekey message twice', shown);
        this.handed.add(h);
        this.stats.handedOut++;
      }
    }
    let total = 0;
    for (const m of this.model.values()) total += m.size;
    if (this.store.inner.index.prekeyCount !== total) this.fail(cls, `store holds ${this.store.inner.index.prekeyCount} prekeys, the model ${total}`, shown);
  }

  private checkBounds(cls: string, shown: string): void {
    const s = this.server as unknown as Record<string, { size: number }>;
    if (this.server.pendingDakes > FUZZ_LIMITS.maxPendingDakes!) this.fail(cls, `${this.server.pendingDakes} pending DAKEs`, shown);
    this.stats.maxPending = Math.max(this.stats.maxPending, this.server.pendingDakes);
    for (const l of ['publishLimiter', 'fetchLimiter', 'targetLimiter', 'verifyLimiter'])
      if (!(s[l]!.size <= FUZZ_LIMITS.maxRateLimitKeys!)) this.fail(cls, `${l} holds ${s[l]!.size} keys`, shown);
    const idx = this.store.inner.index;
    if (idx.prekeyCount > FUZZ_LIMITS.maxStoredPrekeysTotal! || idx.identityCount > FUZZ_LIMITS.maxIdentities!) this.fail(cls, 'store beyond its limits', shown);
  }

  // ------------------------------------------------------------------------------------------ mutations

  private mutate(src: Uint8Array): Uint8Array {
    const m = src.slice();
    const at = () => this.int(Math.max(1, m.length));
    switch (this.int(11)) {
      case 0:
        return m.subarray(0, at());
      case 1: {
        for (let k = 1 + this.int(4); k > 0; k--) m[at()]! ^= 1 << this.int(8);
        return m;
      }
      case 2:
        m[at()] = this.pick([0, 0xff, 0x80, this.int(256)]);
        return m;
      case 3: {
        const i = at();
        const run = this.int(8) === 0 ? 1 + this.int(300_000) : 1 + this.int(64);
        return Uint8Array.from([...m.subarray(0, i), ...this.rnd(run), ...m.subarray(i)]);
      }
      case 4: {
        const i = at();
        return Uint8Array.from([...m.subarray(0, i), ...m.subarray(i + 1 + this.int(64))]);
      }
      case 5:
        return Uint8Array.from([...m, ...this.rnd(1 + this.int(32))]);
      case 6: {
        // A run repeated: lengths and counts that no longer match, and oversized messages.
        const i = at();
        const part = m.subarray(i, i + 1 + this.int(512));
        const times = 1 + this.int(this.int(4) === 0 ? 600 : 4);
        const out = new Uint8Array(m.length + part.length * times);
        out.set(m.subarray(0, i));
        for (let k = 0; k < times; k++) out.set(part, i + k * part.length);
        out.set(m.subarray(i), i + times * part.length);
        return out;
      }
      case 7:
        if (m.length > 2) m[2] = this.pick(Object.values(PsType));
        return m;
      case 8: {
        // A length or count field made huge (any aligned 4 bytes).
        const i = at() & ~3;
        m.set(this.pick([[0xff, 0xff, 0xff, 0xff], [0x7f, 0xff, 0xff, 0xff], [0, 0, 0, 0], [0, 1, 0, 0]]).slice(0, m.length - i), i);
        return m;
      }
      case 9: {
        const other = this.pick(this.corpus).bytes;
        return Uint8Array.from([...m.subarray(0, at()), ...other.subarray(this.int(Math.max(1, other.length)))]);
      }
      default:
        // The sender tag of another client (bytes 3..6 of every server-bound message).
        if (m.length >= 7) new DataView(m.buffer, m.byteOffset).setUint32(3, this.pick(this.clients).tag);
        return m;
    }
  }

  private junkText(): string {
    const valid = toServerText(this.pick(this.corpus).bytes);
    switch (this.int(8)) {
      case 0:
        return '';
      case 1:
        return valid.slice(0, -1); // no "."
      case 2:
        return `${valid.slice(0, 10)} \n\t${valid.slice(10)}`;
      case 3:
        return 'A'.repeat(256 * 1024 - 1 + this.int(3)) + '.'; // around the text limit
      case 4:
        return Buffer.from(this.rnd(this.int(200))).toString('latin1');
      case 5:
        return `${Buffer.from(this.rnd(this.int(300))).toString('base64')}.`;
      case 6:
        return '\u{1F600}'.repeat(this.int(50)) + '.';
      default:
        return `${valid.slice(0, -1)}=.`;
    }
  }

  // ------------------------------------------------------------------------------------------ honest clients

  private async honest(): Promise<void> {
    // Mostly finish a DAKE in progress (floods of DAKE-1s push the oldest pending DAKEs out of the bounded table).
    const busy = this.clients.filter((x) => x.dake);
    const c = busy.length > 0 && this.int(3) > 0 ? this.pick(busy) : this.pick(this.clients);
    if (!c.dake) {
      if (this.int(3) === 0) {
        const q = ensembleQuery(c.tag, this.pick(this.clients).identity, this.pick(['4', '4', '34', '3']));
        this.corpus.push({ kind: 'query', bytes: q, owner: c.identity });
        await this.send('honest.query', c.identity, q, c.address);
        return;
      }
      const local = { identity: c.identity, instanceTag: c.tag, profile: c.profile, identityScalar: c.identityScalar };
      const start = startServerDake(this.b, this.rnd, local);
      this.corpus.push({ kind: 'dake1', bytes: start.message, owner: c.identity });
      const r = await this.send('honest.dake1', c.identity, start.message, c.address);
      if (r?.reply) {
        c.dake = { state: start.state, dake2: r.reply };
        c.pendingSince = this.clock;
        c.touched = false;
      }
      return;
    }
    const { state, dake2 } = c.dake;
    c.dake = undefined;
    const since = c.pendingSince;
    const local = { identity: c.identity, instanceTag: c.tag, profile: c.profile, identityScalar: c.identityScalar };
    const n = this.int(4);
    const prekeys = n ? generatePrekeyMessages(this.b, this.rnd, c.tag, n) : [];
    for (const p of prekeys) this.genuine.set(Buffer.from(encodePrekeyMessage(p.message)).toString('hex'), `${c.identity}\n${c.tag}`);
    const request = this.int(4) === 0 ? ({ kind: 'storage-status' } as const) : ({ kind: 'publish', prekeys, clientProfile: c.profile, prekeyProfile: c.prekeyProfile } as const);
    let dake3: Uint8Array;
    try {
      dake3 = receiveDake2(this.b, this.rnd, local, { identity: SERVER_ID, publicKey: this.server.publicKey }, state, dake2, request).message;
    } catch (e) {
      this.fail('honest.dake3', `the honest client could not answer the server's DAKE-2: ${(e as Error).message}`, hex(dake2));
      c.pendingSince = undefined;
      return;
    }
    this.corpus.push({ kind: 'dake3', bytes: dake3, owner: c.identity });
    const d = decodePsMessage(dake3) as { sigma: Uint8Array; message: Uint8Array; senderTag: number };
    switch (this.int(5)) {
      case 0: {
        // A genuine ring signature, the attachment tampered with (or another DAKE's attachment).
        const other = this.corpus.filter((x) => x.kind === 'dake3');
        let attached: Uint8Array;
        const how = this.int(3);
        if (how === 0) attached = this.mutate(d.message);
        else if (how === 1) attached = (decodePsMessage(this.pick(other).bytes) as { message: Uint8Array }).message;
        else {
          attached = d.message.slice(); // the MAC is the last 64 bytes of either attachment
          attached[attached.length - 1 - this.int(64)]! ^= 1 << this.int(8);
        }
        // (A mutation can give the same bytes back, and the other DAKE-3 picked can be this one.)
        const same = Buffer.from(attached).equals(Buffer.from(d.message));
        c.pendingSince = undefined;
        await this.send('dake3.attachment', c.identity, encodeDake3({ senderTag: d.senderTag, sigma: d.sigma, message: attached }), c.address, same);
        return;
      }
      case 1: {
        const sigma = d.sigma.slice();
        sigma[this.int(sigma.length)]! ^= 1 << this.int(8);
        c.pendingSince = undefined;
        await this.send('dake3.sigma', c.identity, encodeDake3({ senderTag: d.senderTag, sigma, message: d.message }), c.address);
        return;
      }
      case 2:
        // The genuine DAKE-3 claimed by another identity (or from another address) first, then the real one.
        {
          // (When the pick is the owner itself, this is the genuine DAKE-3 from another address: it may succeed.)
          const thief = this.pick(this.identities());
          await this.send('dake3.stolen', thief, dake3, this.address(), thief === c.identity);
        }
        break;
    }
    this.finishing = c;
    const r = await this.send('honest.dake3', c.identity, dake3, c.address, true);
    this.finishing = undefined;
    if (r?.error?.code === 'STATE' && since !== undefined && !c.touched && this.clock - since < FUZZ_LIMITS.pendingDakeTtlMs!)
      this.fail('honest.dake3', `an honest pending DAKE (${c.identity}, ${c.address}) was evicted by others: ${r.error.message}`, hex(dake3));
    c.pendingSince = undefined;
  }

  // ------------------------------------------------------------------------------------------ the loop

  private async step(): Promise<void> {
    this.clock += this.int(8) === 0 ? this.int(30_000) : this.int(400);
    const roll = this.int(100);
    if (roll < 25) return this.honest();
    if (roll < 55) {
      const e = this.pick(this.corpus);
      const from = this.int(10) < 7 ? e.owner : this.pick(this.identities());
      return void (await this.send(`mutate.${e.kind}`, from, this.mutate(e.bytes), this.address()));
    }
    if (roll < 67) {
      // Replays and reordered steps: any earlier message again, byte-identical.
      const e = this.pick(this.corpus);
      return void (await this.send(`replay.${e.kind}`, this.int(2) ? e.owner : this.pick(this.identities()), e.bytes, this.address()));
    }
    if (roll < 77) {
      // Interleaved sessions: valid DAKE-1s under many claimed identities (the pending table and the limiters).
      const d1 = this.corpus.filter((x) => x.kind === 'dake1');
      if (d1.length === 0) return this.honest();
      // A third of them claim the DAKE-1's owner (the honest identity and tag) from any address: that must not
      // restart or replace the owner's own pending DAKE (keyed by requester too).
      for (let k = 1 + this.int(6); k > 0; k--) {
        const e = this.pick(d1);
        await this.send('flood.dake1', this.int(3) === 0 ? e.owner : `u${this.int(5000)}@flood`, e.bytes, this.address());
      }
      return;
    }
    if (roll < 90) return void (await this.send('text', this.pick(this.identities()), this.junkText(), this.address()));
    return void (await this.send('hostile.profile', this.pick(this.identities()), this.pick(this.hostile), this.address()));
  }

  /** Runs inputs [e·size, e·size + count) of epoch `e` from a fresh server; returns what broke. */
  async epoch(e: number, size: number, count = size): Promise<FuzzFailure[]> {
    this.reset(e);
    this.failures = [];
    for (let k = 0; k < count; k++) {
      this.index = e * size + k;
      await this.step();
    }
    return this.failures;
  }

  /**
   * The TCP framing of the same epoch's server: junk lines, lines without a tab, split and pipelined lines, a
   * line over the limit. Every line gets exactly one answer, each a well-formed message or a "!CODE reason"
   * notice; the overlong line closes its socket; the server then still answers a good client.
   */
  async tcpRound(lines = 24): Promise<FuzzFailure[]> {
    const failures: FuzzFailure[] = [];
    const bad = (problem: string, input = '') => failures.push({ epoch: this.epochNo, index: -1, cls: 'tcp', problem, input });
    const maxLine = 4096;
    const tcp = await listenTcp(this.server, { maxLineChars: maxLine, idleMs: 5000, lineDeadlineMs: 5000 });
    try {
      const sent: string[] = [];
      for (let k = 0; k < lines; k++) {
        const e = this.pick(this.corpus);
        const text = e.bytes.length < 2500 ? toServerText(this.int(2) ? this.mutate(e.bytes) : e.bytes) : 'AAAA.';
        sent.push(
          this.pick([
            `${e.owner}\t${text}`,
            `\t${text}`,
            text,
            `${e.owner}\t${text}\r`,
            `${e.owner}\t\t${text}`,
            `${e.owner}\t${Buffer.from(this.rnd(this.int(100))).toString('latin1').replace(/\n/g, '')}`,
            '',
          ]),
        );
      }
      // Lines up to the first overlong one are answered; that one gets LIMIT_EXCEEDED and the socket closes.
      const cut = sent.findIndex((l) => l.length > maxLine);
      const expected = cut < 0 ? sent.length : cut + 1;
      // (The overlong line may be refused before the lines ahead of it are answered: the client broke the framing.)
      const { answers, closed } = await exchange(tcp.port, sent, (k) => this.int(k));
      if (cut < 0 ? answers.length !== expected : answers.length > expected || !closed) bad(`${sent.length} lines (overlong at ${cut}) got ${answers.length} answers, closed: ${closed}`);
      answers.forEach((a, k) => {
        if (a.startsWith('!LIMIT_EXCEEDED') && (cut < 0 || k !== answers.length - 1)) bad('a line within the limit refused as overlong');
      });
      for (const a of answers) {
        if (a.startsWith('!')) {
          const code = /^!([A-Z_]+) /.exec(a)?.[1];
          if (!code || !ERROR_CODES.has(code)) bad('malformed notice', a.slice(0, 200));
          continue;
        }
        try {
          if (!CLIENT_BOUND.has(decodePsMessage(fromServerText(a)).type)) bad('server-bound type in an answer', a.slice(0, 200));
        } catch (e) {
          bad(`answer does not decode: ${(e as Error).message}`, a.slice(0, 200));
        }
      }
      for (const chunk of [maxLine + 20, 1]) {
        // One overlong line written whole (its newline in the same chunk), then byte by byte.
        const over = await exchange(tcp.port, [`x@fuzz\t${'A'.repeat(maxLine + 10)}.`], () => chunk - 1);
        if (!over.closed || over.answers.length > 1 || (over.answers.length === 1 && !over.answers[0]!.startsWith('!LIMIT_EXCEEDED')))
          bad(`an overlong line (chunks of ${chunk}) was not refused`, over.answers.join('|').slice(0, 200));
      }
      const good = await TcpPrekeyClient.connect(tcp.port);
      try {
        this.clock += 3_600_000; // the rate limits refill: the check is that the server still serves
        const reply = await good.request('eve@fuzz', toServerText(ensembleQuery(0x5005, 'nobody@fuzz')));
        if (decodePsMessage(fromServerText(reply)).type !== PsType.noEnsembles) bad('no answer to a good query after the junk');
      } catch (e) {
        bad(`good query failed: ${(e as Error).message}`);
      } finally {
        good.close();
      }
    } finally {
      await tcp.close();
    }
    return failures;
  }
}

/** Writes `lines` over one raw socket in random chunks (split and pipelined); collects answer lines until close or all answered. */
function exchange(port: number, lines: readonly string[], int: (n: number) => number): Promise<{ answers: string[]; closed: boolean }> {
  return new Promise((resolve, reject) => {
    const sock = createConnection({ port, host: '127.0.0.1' });
    let buf = '';
    const out: string[] = [];
    const done = () => {
      sock.destroy();
      resolve({ answers: out, closed: false });
    };
    const timer = setTimeout(done, 10_000);
    sock.setEncoding('utf8');
    sock.on('data', (d: string) => {
      buf += d;
      for (let nl = buf.indexOf('\n'); nl >= 0; nl = buf.indexOf('\n')) {
        out.push(buf.slice(0, nl));
        buf = buf.slice(nl + 1);
      }
      if (out.length >= lines.length && !out.some((a) => a.startsWith('!LIMIT_EXCEEDED'))) {
        clearTimeout(timer);
        done();
      }
    });
    sock.on('end', () => {
      clearTimeout(timer);
      resolve({ answers: out, closed: true });
    });
    sock.on('close', () => {
      clearTimeout(timer);
      resolve({ answers: out, closed: true });
    });
    sock.on('error', () => undefined);
    sock.on('connect', () => {
      const all = lines.map((l) => `${l}\n`).join('');
      for (let i = 0; i < all.length; ) {
        const n = 1 + int(Math.min(4096, all.length - i));
        sock.write(all.slice(i, i + n));
        i += n;
      }
    });
    sock.on('error', reject);
  });
}
