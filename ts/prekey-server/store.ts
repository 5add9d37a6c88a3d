/**
 * The prekey server's storage: an interface a real database can implement, and the in-memory index that the
 * embedded stores (MemoryStore here, the durable FileStore in file-store.ts) are built on.
 *
 * Contract (what the server relies on):
 * - `publish` and `take` are atomic and linearizable; when their promise resolves the change is durable
 *   (for a durable store) — the server acknowledges a publication or hands out ensembles only after that.
 * - `take` removes the prekey messages it returns: a prekey message is handed out at most once, across
 *   concurrent callers and across restarts.
 * - Limits are enforced inside `publish` (OtrLimitError), so memory and disk stay bounded.
 * Values are stored as their exact encodings (already validated by the server), with the expiries the server
 * filters on, so the store never needs to parse a profile.
 */
import { OtrLimitError } from '../errors.js';
import { DEFAULT_LIMITS, type Limits } from '../limits.js';

export interface StoredProfile {
  readonly bytes: Uint8Array;
  /** Unix seconds. */
  readonly expiry: bigint;
}

export interface StoredPrekey {
  readonly id: number;
  readonly bytes: Uint8Array;
}

/** One accepted publication of one instance (device) of an identity. */
export interface PublicationRecord {
  readonly instanceTag: number;
  readonly clientProfile?: StoredProfile;
  readonly prekeyProfile?: StoredProfile;
  readonly prekeys: readonly StoredPrekey[];
}

/** What one retrieval hands out for one instance. */
export interface StoredEnsemble {
  readonly instanceTag: number;
  readonly clientProfile: Uint8Array;
  readonly prekeyProfile: Uint8Array;
  readonly prekey: StoredPrekey;
  /** Prekey messages this instance has left after this one was taken (for the `prekeys-low` signal), if the store knows. */
  readonly remaining?: number;
}

export interface PrekeyStore {
  publish(identity: string, record: PublicationRecord): Promise<void>;
  /** Prekey messages stored for (identity, instance). */
  count(identity: string, instanceTag: number): Promise<number>;
  /**
   * One ensemble per instance of `identity` whose two profiles are unexpired at `nowSeconds` and which has
   * a prekey message left (the oldest), at most `max` of them; those prekey messages are removed.
   */
  take(identity: string, nowSeconds: bigint, max: number): Promise<StoredEnsemble[]>;
  close(): Promise<void>;
}

interface Instance {
  clientProfile?: StoredProfile;
  prekeyProfile?: StoredProfile;
  /** Insertion-ordered: the oldest prekey goes first. */
  readonly prekeys: Map<number, Uint8Array>;
}

/** A removal, as a durable store logs it: which prekeys of which instance went. */
export interface TakeRecord {
  readonly taken: readonly { readonly instanceTag: number; readonly id: number }[];
}

/** The limits a store enforces on publication (ts/limits.ts). */
export type StoreLimits = Pick<Limits, 'maxIdentities' | 'maxInstancesPerIdentity' | 'maxStoredPrekeysPerInstance' | 'maxStoredPrekeysTotal'> &
  /** Bound what a database store reads back (store-rows.ts) and the FileStore's log; the default when absent. */
  Partial<Pick<Limits, 'maxServerMessageChars' | 'maxPrekeyLogBytes'>>;

/**
 * The in-memory state, with the two operations as synchronous, deterministic functions (so a log replays to
 * the same state) and the limits checked before anything changes (a refused publication changes nothing).
 */
export class StoreIndex {
  private readonly identities = new Map<string, Map<number, Instance>>();
  private totalPrekeys = 0;

  constructor(readonly limits: StoreLimits = DEFAULT_LIMITS) {}

  get prekeyCount(): number {
    return this.totalPrekeys;
  }

  get identityCount(): number {
    return this.identities.size;
  }

  /** Throws OtrLimitError (and changes nothing) if the publication would exceed a limit. */
  checkPublish(identity: string, r: PublicationRecord): void {
    const instances = this.identities.get(identity);
    if (!instances && this.identities.size >= this.limits.maxIdentities) throw new OtrLimitError('the server stores no more identities');
    const inst = instances?.get(r.instanceTag);
    if (!inst && (instances?.size ?? 0) >= this.limits.maxInstancesPerIdentity) throw new OtrLimitError('too many instances for this identity');
    const fresh = r.prekeys.filter((p) => !inst?.prekeys.has(p.id)).length;
    if ((inst?.prekeys.size ?? 0) + fresh > this.limits.maxStoredPrekeysPerInstance) throw new OtrLimitError('too many stored prekey messages for this instance');
    if (this.totalPrekeys + fresh > this.limits.maxStoredPrekeysTotal) throw new OtrLimitError('the server stores no more prekey messages');
  }

  /** Applies a publication (call checkPublish first; replay applies logged records without re-checking). */
  applyPublish(identity: string, r: PublicationRecord): void {
    let instances = this.identities.get(identity);
    if (!instances) this.identities.set(identity, (instances = new Map()));
    let inst = instances.get(r.instanceTag);
    if (!inst) instances.set(r.instanceTag, (inst = { prekeys: new Map() }));
    // New profiles replace old ones (the spec: "These new values replace the old ones").
    if (r.clientProfile) inst.clientProfile = r.clientProfile;
    if (r.prekeyProfile) inst.prekeyProfile = r.prekeyProfile;
    for (const p of r.prekeys) {
      if (inst.prekeys.has(p.id)) continue; // a duplicate id is discarded, the stored one kept
      inst.prekeys.set(p.id, p.bytes);
      this.totalPrekeys++;
    }
  }

  count(identity: string, instanceTag: number): number {
    return this.identities.get(identity)?.get(instanceTag)?.prekeys.size ?? 0;
  }

  /** Chooses what `take` hands out, without changing anything. */
  selectTake(identity: string, nowSeconds: bigint, max: number): StoredEnsemble[] {
    const out: StoredEnsemble[] = [];
    const instances = this.identities.get(identity);
    if (!instances) return out;
    for (const [instanceTag, inst] of instances) {
      if (out.length >= max) break;
      const cp = inst.clientProfile;
      const pp = inst.prekeyProfile;
      if (!cp || !pp || cp.expiry <= nowSeconds || pp.expiry <= nowSeconds) continue;
      const first = inst.prekeys.entries().next();
      if (first.done) continue;
      const [id, bytes] = first.value;
      out.push({ instanceTag, clientProfile: cp.bytes, prekeyProfile: pp.bytes, prekey: { id, bytes }, remaining: inst.prekeys.size - 1 });
    }
    return out;
  }

  applyTake(identity: string, t: TakeRecord): void {
    const instances = this.identities.get(identity);
    if (!instances) return;
    for (const { instanceTag, id } of t.taken) {
      const inst = instances.get(instanceTag);
      if (inst?.prekeys.delete(id)) this.totalPrekeys--;
    }
  }

  /** Every instance as one publication record (what a compacted log holds). */
  *snapshot(): Generator<{ identity: string; record: PublicationRecord }> {
    for (const [identity, instances] of this.identities) {
      for (const [instanceTag, inst] of instances) {
        yield {
          identity,
          record: {
            instanceTag,
            ...(inst.clientProfile ? { clientProfile: inst.clientProfile } : {}),
            ...(inst.prekeyProfile ? { prekeyProfile: inst.prekeyProfile } : {}),
            prekeys: [...inst.prekeys].map(([id, bytes]) => ({ id, bytes })),
          },
        };
      }
    }
  }
}

/** A store that forgets everything on restart: for tests and for hosts that persist elsewhere. */
export class MemoryStore implements PrekeyStore {
  readonly index: StoreIndex;

  constructor(limits?: StoreLimits) {
    this.index = new StoreIndex(limits);
  }

  async publish(identity: string, record: PublicationRecord): Promise<void> {
    this.index.checkPublish(identity, record);
    this.index.applyPublish(identity, record);
  }

  async count(identity: string, instanceTag: number): Promise<number> {
    return this.index.count(identity, instanceTag);
  }

  async take(identity: string, nowSeconds: bigint, max: number): Promise<StoredEnsemble[]> {
    const chosen = this.index.selectTake(identity, nowSeconds, max);
    this.index.applyTake(identity, { taken: chosen.map((e) => ({ instanceTag: e.instanceTag, id: e.prekey.id })) });
    return chosen;
  }

  async close(): Promise<void> {}
}
