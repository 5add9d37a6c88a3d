/**
 * Sealing at rest: `sealedStore(store, hostKey)` wraps any RecordStore so that what reaches the database is
 * authenticated ciphertext, and a dump or backup of it reveals only sizes, generations and how many records
 * each (unnamed) account has.
 *
 * Keys. From the host's key (at least 32 bytes of secret; the host keeps it, e.g. in a KMS or the OS keychain)
 * and a `context` naming this store, SHAKE-256 derives three 32-byte keys:
 *   record key  — XChaCha20-Poly1305 over each record's bytes;
 *   name MAC key — the PRF for account ids and for the synthetic IV of record keys;
 *   name key    — XChaCha20 over record keys.
 * A different context gives unrelated keys, so one host key can serve several stores. `close()` wipes them.
 *
 * Records. stored = 0x01 ‖ nonce (24 random bytes, fresh per write) ‖ XChaCha20-Poly1305(plaintext) with the
 * associated data "OTR4 sealed record v1" ‖ len ‖ accountId ‖ len ‖ record key ‖ generation (u64). So a row
 * copied onto another record or another account, or whose generation column is edited (to pass a
 * compare-and-set, or to make an old row look current), fails to open: OtrCryptoError BAD_MAC, nothing returned.
 * A random 192-bit nonce never repeats in practice, however many processes write with the same key.
 * The AEAD runs in OpenSSL in Node and in @noble/ciphers elsewhere ('#seal-aead', ./aead.ts), or in a crypto
 * backend's module (CryptoBackend.sealXChaCha20Poly1305, ./aead-backend.ts) when the host hands it in
 * (options.aead; openStoredAccount does): same bytes.
 *
 * Names. Account ids are replaced by a keyed hash (they are never listed, only looked up). Record keys
 * ("conv:" + a peer id) say who talks to whom, and `keys()` must give them back, so they are sealed
 * deterministically (SIV: IV = PRF(account, padded key), ciphertext = XChaCha20(IV, padded key); opening
 * recomputes the IV and compares): the same key always maps to the same row, a dump shows neither the peer
 * ids nor, thanks to padding to 32 bytes, their exact lengths. Equal row ids across accounts do not occur
 * (the account is inside the PRF). What stays visible: the number of records per account, their sizes and
 * generations (how many messages, roughly), and write times.
 *
 * Not detected here: a whole record replaced by an OLDER copy of itself (same account, key and an older
 * generation, all consistent): that is a rollback, which `openAccountRecords` detects against the
 * generations this process saw (docs/stores.md says what remains across restarts).
 * Key rotation is not supported yet: re-sealing means reading every record with the old key and committing
 * it (generation + 1) through a store sealed with the new one.
 */
import { xchacha20 } from '@noble/ciphers/chacha.js';
import { shake256 } from '@noble/hashes/sha3.js';
import { sealAead } from '#seal-aead';
import { concatBytes, equalBytes, wipe } from '../bytes.js';
import { interned } from '../interned.js';
import { base64Decode, base64Encode } from '../codec/base64.js';
import { OtrArgumentError, OtrCryptoError, OtrDecodeError, OtrLimitError, OtrStateError, OtrStoreConflictError } from '../errors.js';
import { resolveLimits, type Limits } from '../limits.js';
import { systemRandom, type RandomSource } from '../crypto/random.js';
import { AEAD_NONCE_BYTES, AEAD_TAG_BYTES, agreeingAead, type SealAead } from './aead.js';
import type { RecordChange, RecordStore, StoredRecord } from './types.js';
import { checkCommit, checkLoad, isGeneration, type StoreLimits } from './validate.js';
import { APPLIED, deleteRefusedRow, handOver, rowLender, type Prepared, type StoreView, type StoredGeneration, type ViewMemo } from './owned.js';

export interface SealOptions {
  /** Names this store in the key derivation (e.g. the database's name); default "default". */
  context?: string;
  limits?: Partial<Limits>;
  /** The source of the per-write nonces; the platform CSPRNG by default (tests inject their own). */
  random?: RandomSource;
  /**
   * An AEAD to seal with instead of the build's own, e.g. a crypto backend's (./aead-backend.ts;
   * openStoredAccount passes its account's). Used only once it has given the build's AEAD's bytes on a
   * fixed input (`checkedSealAead`): the rows are the same either way.
   */
  aead?: SealAead;
}

/** Smallest host key accepted: 256 bits of secret. */
export const MIN_HOST_KEY_BYTES = 32;
const SEALED_VERSION = 0x01;
const NONCE_BYTES = AEAD_NONCE_BYTES;
/** Where the AEAD output (ciphertext ‖ tag) starts in a stored row: after the version byte and the nonce. */
const BODY_AT = 1 + NONCE_BYTES;
/** Bytes sealing adds to a record: version, nonce, tag. */
export const SEAL_OVERHEAD_BYTES = 1 + NONCE_BYTES + AEAD_TAG_BYTES;
/** Record keys are padded to a multiple of this before sealing, so row ids hide their exact length. */
const NAME_BLOCK = 32;
const ACCOUNT_PREFIX = 'a:';
const KEY_PREFIX = 'k:';
const GENERATION_BYTES = 8;

const enc = new TextEncoder();
const dec = new TextDecoder('utf-8', { fatal: true });
const LABEL_KEYS = enc.encode('OTR4 store sealing keys v1');
const LABEL_AAD = enc.encode('OTR4 sealed record v1');

function u32(n: number): Uint8Array {
  return new Uint8Array([n >>> 24, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff]);
}

function lengthPrefixed(b: Uint8Array): Uint8Array {
  return concatBytes(u32(b.length), b);
}

/**
 * The associated data that binds a sealed record to its place, less its last 8 bytes: "OTR4 sealed record
 * v1" ‖ len ‖ accountId ‖ len ‖ record key ‖ (room for the generation, written by `setGeneration` before
 * each use). Built once per (account, key) and kept, so a write allocates no associated data.
 */
function recordAadPrefix(accountId: string, key: string): Uint8Array {
  return concatBytes(LABEL_AAD, lengthPrefixed(enc.encode(accountId)), lengthPrefixed(enc.encode(key)), new Uint8Array(GENERATION_BYTES));
}

/** The generation as a big-endian u64 in the last 8 bytes of `aad` (a positive safe integer: < 2^53). */
function setGeneration(aad: Uint8Array, generation: number): void {
  const at = aad.length - GENERATION_BYTES;
  const hi = Math.floor(generation / 0x1_0000_0000);
  const lo = generation >>> 0;
  aad[at] = hi >>> 24;
  aad[at + 1] = (hi >>> 16) & 0xff;
  aad[at + 2] = (hi >>> 8) & 0xff;
  aad[at + 3] = hi & 0xff;
  aad[at + 4] = lo >>> 24;
  aad[at + 5] = (lo >>> 16) & 0xff;
  aad[at + 6] = (lo >>> 8) & 0xff;
  aad[at + 7] = lo & 0xff;
}

/**
 * Row names and associated data computed once per (account, key) and kept: saving after a message then
 * costs one AEAD, no hashing and no encoding. Bounded (accounts plus records); cleared when full.
 */
const NAME_CACHE_ENTRIES = 4096;

/** What is kept per record: its sealed row id, and its associated data with room for the generation. */
interface RecordSlot {
  readonly name: string;
  readonly aad: Uint8Array;
}

interface AccountSlot {
  readonly name: string;
  readonly records: Map<string, RecordSlot>;
}

/**
 * Nonces drawn from the CSPRNG in batches: one getRandomValues call per 64 writes instead of one per write
 * (nonces are public, so holding the next ones in memory reveals nothing). Each nonce is a view into the
 * batch, which is replaced, never refilled, so a view handed out keeps its bytes (the row copies them anyway).
 */
function pooledRandom(random: RandomSource): RandomSource {
  let pool: Uint8Array = new Uint8Array(0);
  let at = 0;
  return (n) => {
    if (n > 1024) return random(n);
    if (at + n > pool.length) {
      pool = random(64 * NONCE_BYTES);
      at = 0;
    }
    at += n;
    return pool.subarray(at - n, at);
  };
}

class Sealer {
  private readonly recordKey: Uint8Array;
  private readonly nameMacKey: Uint8Array;
  private readonly nameKey: Uint8Array;
  private readonly accounts = new Map<string, AccountSlot>();
  private cachedEntries = 0;
  private wiped = false;

  constructor(
    hostKey: Uint8Array,
    context: string,
    private readonly random: RandomSource,
    private readonly aead: SealAead,
  ) {
    const input = concatBytes(LABEL_KEYS, lengthPrefixed(enc.encode(context)), hostKey);
    const okm = shake256(input, { dkLen: 96 });
    this.recordKey = okm.slice(0, 32);
    this.nameMacKey = okm.slice(32, 64);
    this.nameKey = okm.slice(64, 96);
    wipe(input, okm); // copies of the host key and of the derived keys
  }

  /** SHAKE-256 keyed by prefixing the name MAC key; the input holding a copy of the key is wiped after. */
  private prf(domain: number, data: Uint8Array, dkLen: number): Uint8Array {
    const input = concatBytes(this.nameMacKey, new Uint8Array([domain]), data);
    const out = shake256(input, { dkLen });
    wipe(input);
    return out;
  }

  private live(): void {
    if (this.wiped) throw new OtrStateError('the sealed store is closed');
  }

  /** Counts one more cached entry, forgetting every cached one first when the cache is full. */
  private room(): void {
    if (this.cachedEntries >= NAME_CACHE_ENTRIES) {
      this.accounts.clear();
      this.cachedEntries = 0;
    }
    this.cachedEntries++;
  }

  private account(accountId: string): AccountSlot {
    let slot = this.accounts.get(accountId);
    if (slot === undefined) {
      this.room();
      slot = { name: this.makeAccountName(accountId), records: new Map() };
      this.accounts.set(accountId, slot);
    }
    return slot;
  }

  accountName(accountId: string): string {
    this.live();
    return this.account(accountId).name;
  }

  /** The row id and associated data of (accountId, key); memoised (pure functions of the keys and inputs). */
  record(accountId: string, key: string): RecordSlot {
    this.live();
    const account = this.account(accountId);
    let slot = account.records.get(key);
    if (slot === undefined) {
      slot = { name: this.makeKeyName(account.name, key), aad: recordAadPrefix(accountId, key) };
      this.room(); // may forget `account` from the cache: it stays valid, and is rebuilt on next use
      account.records.set(key, slot);
    }
    return slot;
  }

  private makeAccountName(accountId: string): string {
    const mac = this.prf(1, enc.encode(accountId), 24);
    return interned(ACCOUNT_PREFIX + base64Encode(mac)); // one shared string per name: ts/interned.ts
  }

  private nameIv(accountName: string, padded: Uint8Array): Uint8Array {
    return this.prf(2, concatBytes(lengthPrefixed(enc.encode(accountName)), padded), NONCE_BYTES);
  }

  private makeKeyName(accountName: string, key: string): string {
    const raw = enc.encode(key);
    // ISO/IEC 7816-4 padding: 0x80 then zeros up to the block.
    const padded = new Uint8Array(Math.ceil((raw.length + 1) / NAME_BLOCK) * NAME_BLOCK);
    padded.set(raw);
    padded[raw.length] = 0x80;
    const iv = this.nameIv(accountName, padded);
    return interned(KEY_PREFIX + base64Encode(concatBytes(iv, xchacha20(this.nameKey, iv, padded))));
  }

  /** The record key a row id stands for; OtrDecodeError for anything this sealer did not produce. */
  openKeyName(accountName: string, name: string): string {
    this.live();
    const bad = () => new OtrDecodeError('a stored record name does not open with this key (not sealed by this store, or edited)');
    if (!name.startsWith(KEY_PREFIX)) throw bad();
    let raw: Uint8Array;
    try {
      raw = base64Decode(name, KEY_PREFIX.length);
    } catch {
      throw bad();
    }
    const body = raw.length - NONCE_BYTES;
    if (body < NAME_BLOCK || body % NAME_BLOCK !== 0) throw bad();
    const iv = raw.subarray(0, NONCE_BYTES);
    const padded = xchacha20(this.nameKey, iv, raw.subarray(NONCE_BYTES));
    if (!equalBytes(this.nameIv(accountName, padded), iv)) throw bad();
    const end = padded.lastIndexOf(0x80);
    if (end < 0 || padded.subarray(end + 1).some((b) => b !== 0)) throw bad();
    try {
      return dec.decode(padded.subarray(0, end));
    } catch {
      throw bad();
    }
  }

  /**
   * 0x01 ‖ nonce ‖ ciphertext ‖ tag, built in one array (the AEAD writes straight into the row): `into` when
   * given (a row buffer the store lent: exactly SEAL_OVERHEAD_BYTES + plain.length), else a new one.
   */
  seal(slot: RecordSlot, generation: number, plain: Uint8Array, into?: Uint8Array): Uint8Array {
    this.live();
    const nonce = this.random(NONCE_BYTES);
    if (!(nonce instanceof Uint8Array) || nonce.length !== NONCE_BYTES) throw new OtrArgumentError('the random source returned the wrong length');
    const row = into ?? new Uint8Array(SEAL_OVERHEAD_BYTES + plain.length);
    row[0] = SEALED_VERSION;
    row.set(nonce, 1);
    setGeneration(slot.aad, generation);
    this.aead.encryptInto(this.recordKey, nonce, slot.aad, plain, row.subarray(BODY_AT));
    return row;
  }

  open(key: string, slot: RecordSlot, generation: number, sealed: Uint8Array): Uint8Array {
    this.live();
    if (sealed.length < SEAL_OVERHEAD_BYTES || sealed[0] !== SEALED_VERSION)
      throw new OtrDecodeError(`stored record ${JSON.stringify(key)} is not a sealed record (truncated, unsealed or an unknown format)`);
    // The stores below check this already (checkRow); a store brought by the app might not, and a generation
    // that is not an integer would otherwise be written into the associated data as some other one.
    if (!isGeneration(generation)) throw new OtrDecodeError(`stored record ${JSON.stringify(key)} has no valid generation`);
    setGeneration(slot.aad, generation);
    try {
      return this.aead.decrypt(this.recordKey, sealed.subarray(1, BODY_AT), slot.aad, sealed.subarray(BODY_AT));
    } catch {
      throw new OtrCryptoError(
        'BAD_MAC',
        `stored record ${JSON.stringify(key)} does not authenticate: edited, moved from another record or account, its generation changed, or sealed with another key`,
      );
    }
  }

  wipe(): void {
    wipe(this.recordKey, this.nameMacKey, this.nameKey);
    this.accounts.clear();
    this.cachedEntries = 0;
    this.wiped = true;
  }
}

/**
 * A RecordStore that seals every record with keys derived from `hostKey` before it reaches `inner`, and
 * opens (and authenticates) every record it loads. Closing it wipes the derived keys and closes `inner`.
 * In Node the AEAD runs in OpenSSL, elsewhere in pure JS (./aead.ts); the rows are the same either way.
 */
export function sealedStore(inner: RecordStore, hostKey: Uint8Array, options: SealOptions = {}): RecordStore {
  return sealedStoreWith(checkedSealAead(options.aead), inner, hostKey, options);
}

const checked = new WeakMap<SealAead, SealAead>();

/**
 * `candidate` once it agrees with the build's own AEAD (checked once per candidate: agreeingAead), else the
 * build's own; the build's own without a candidate.
 */
export function checkedSealAead(candidate?: SealAead): SealAead {
  const own = sealAead();
  if (candidate === undefined || candidate === own) return own;
  let a = checked.get(candidate);
  if (a === undefined) {
    a = agreeingAead(candidate, own);
    checked.set(candidate, a);
  }
  return a;
}

/** `sealedStore` with a given AEAD implementation (tests compare the two; not exported by otr4/store). */
export function sealedStoreWith(aead: SealAead, inner: RecordStore, hostKey: Uint8Array, options: SealOptions = {}): RecordStore {
  const limits: StoreLimits = resolveLimits(options.limits);
  const view = sealedViewWith(aead, inner, hostKey, options);
  const store: RecordStore = {
    load: (accountId, key) => view.load(accountId, key),
    keys: (accountId) => view.keys(accountId),
    async commit(accountId: string, changes: readonly RecordChange[]): Promise<void> {
      checkCommit(accountId, changes, limits);
      await view.commitPrepared(view.prepare(accountId, changes), changes);
    },
    close: () => view.close(),
  };
  if (typeof inner.deleteRefused === 'function') store.deleteRefused = (accountId, key) => view.deleteRefused(accountId, key);
  return store;
}

/**
 * The sealed store as openAccountRecords writes through it (./owned.ts): `prepare` seals the changes at the
 * call into fresh rows, which `commitPrepared` hands to `inner` (the memory store keeps them as they are;
 * nothing copies the record again). The caller has checked the changes (checkCommit) before `prepare`.
 */
export function sealedView(inner: RecordStore, hostKey: Uint8Array, options: SealOptions = {}): StoreView {
  return sealedViewWith(checkedSealAead(options.aead), inner, hostKey, options);
}

function sealedViewWith(aead: SealAead, inner: RecordStore, hostKey: Uint8Array, options: SealOptions = {}): StoreView {
  if (!(hostKey instanceof Uint8Array) || hostKey.length < MIN_HOST_KEY_BYTES)
    throw new OtrArgumentError(`the sealing key must be a Uint8Array of at least ${MIN_HOST_KEY_BYTES} bytes`);
  if (hostKey.every((b) => b === 0)) throw new OtrArgumentError('the sealing key is all zeros');
  const limits: StoreLimits = resolveLimits(options.limits);
  const sealer = new Sealer(hostKey, options.context ?? 'default', options.random ?? pooledRandom(systemRandom), aead);
  // Rows are sealed into buffers the store lends (the memory store: the record's previous row, wiped) when it does.
  const lend = rowLender(inner);

  return {
    async load(accountId: string, key: string): Promise<StoredRecord | undefined> {
      checkLoad(accountId, key, limits);
      const slot = sealer.record(accountId, key);
      const row = await inner.load(sealer.accountName(accountId), slot.name);
      if (!row) return undefined;
      return { key, generation: row.generation, bytes: sealer.open(key, slot, row.generation, row.bytes) };
    },

    /**
     * The row's generation column and whether the row opens. The generation of a row that does not open is not
     * authenticated — it is only ever used as the expected generation of a delete (compare-and-set: if the row
     * changes meanwhile, the delete is refused), which writes no state.
     */
    async stored(accountId: string, key: string): Promise<StoredGeneration | undefined> {
      checkLoad(accountId, key, limits);
      const slot = sealer.record(accountId, key);
      const row = await inner.load(sealer.accountName(accountId), slot.name);
      if (!row) return undefined;
      let opens = true;
      try {
        sealer.open(key, slot, row.generation, row.bytes).fill(0); // read to see that it opens, not kept
      } catch (e) {
        if (!(e instanceof OtrCryptoError || e instanceof OtrDecodeError)) throw e; // a closed store, not the row
        opens = false;
      }
      return { generation: row.generation, opens };
    },

    deleteRefused(accountId: string, key: string): Promise<boolean> {
      try {
        checkLoad(accountId, key, limits);
      } catch (e) {
        return Promise.reject(e);
      }
      return deleteRefusedRow(inner, sealer.accountName(accountId), sealer.record(accountId, key).name);
    },

    async keys(accountId: string): Promise<string[]> {
      checkLoad(accountId, undefined, limits);
      const account = sealer.accountName(accountId);
      return (await inner.keys(account)).map((name) => sealer.openKeyName(account, name));
    },

    prepare(accountId: string, changes: readonly RecordChange[], memos?: readonly ViewMemo[]): Prepared {
      const account = sealer.accountName(accountId); // (throws once closed, memo or not)
      const rows = changes.map((c, i): RecordChange => {
        // The record's row id and associated data: from the caller's memo after the first commit of it.
        const memo = memos?.[i];
        let slot = memo?.view as RecordSlot | undefined;
        if (slot === undefined) {
          slot = sealer.record(accountId, c.key);
          if (memo !== undefined) memo.view = slot;
        }
        if (c.bytes === null) return { key: slot.name, generation: c.generation, bytes: null };
        const into = lend?.(account, slot.name, SEAL_OVERHEAD_BYTES + c.bytes.length);
        return { key: slot.name, generation: c.generation, bytes: sealer.seal(slot, c.generation, c.bytes, into) };
      });
      return { accountId: account, rows };
    },

    commitPrepared(prepared: Prepared, changes: readonly RecordChange[]): Promise<void> {
      // The rows are ciphertext made for this commit alone: handed over, never copied again or wiped. Not an
      // async frame around the store's promise (every message's commit passes here): one rejection handler.
      let stored: Promise<void>;
      try {
        stored = handOver(inner, prepared.accountId, prepared.rows, false);
      } catch (e) {
        stored = Promise.reject(e);
      }
      if (stored === APPLIED) return APPLIED; // applied already: nothing can fail any more (./owned.ts)
      return stored.then(undefined, (e: unknown) => {
        // Errors from below name rows; callers know records.
        if (e instanceof OtrStoreConflictError) {
          const i = prepared.rows.findIndex((c) => c.key === e.key);
          const key = i >= 0 ? changes[i]!.key : e.key;
          throw new OtrStoreConflictError(key, e.message.split(JSON.stringify(e.key)).join(JSON.stringify(key)));
        }
        if (e instanceof OtrLimitError)
          throw new OtrLimitError(`${e.message} (sealed: a record grows by ${SEAL_OVERHEAD_BYTES} bytes, a key by about 4/3 plus 56)`);
        throw e;
      });
    },

    async close(): Promise<void> {
      sealer.wipe();
      await inner.close();
    },
  };
}
