/**
 * Where the bridge keeps its state (the account and what it knows of each peer's instances), behind one small
 * interface so the bridge's order (library call → durable save → transmit) is the same for each:
 *
 *   --state FILE          a JSON file written atomically (state-file.ts);
 *   --store sqlite:PATH   a record in the SQLite record store (ts/store: WAL, fsync per commit, compare-and-set,
 *                         rollback detection through openAccountRecords; sealed at rest when XMPP_BRIDGE_SEAL_KEY
 *                         holds a hex key of at least 32 bytes). One bridge process per account: a second writer
 *                         is refused (conflict) instead of forking the ratchet.
 *
 * The whole bridge state is one record ('account'): the session layer does not yet split conversations into
 * records of their own; when it does, each conversation becomes its own record here.
 */
import { wipe } from '../../ts/bytes.js';
import { ACCOUNT_RECORD, openAccountRecords, type AccountRecords, type RecordStore } from '../../ts/store/index.js';
import { loadState, saveState, type BridgeState } from './state-file.js';

export interface StateBackend {
  /** Human-readable: where the state lives. */
  readonly where: string;
  load(): Promise<BridgeState | undefined>;
  /** Resolves once `s` is durable. */
  save(s: BridgeState): Promise<void>;
  close(): Promise<void>;
}

export function fileBackend(path: string): StateBackend {
  return {
    where: path,
    load: async () => loadState(path),
    save: async (s) => saveState(path, s),
    close: async () => {},
  };
}

const enc = new TextEncoder();
const dec = new TextDecoder('utf-8', { fatal: true });

export async function sqliteBackend(path: string, accountId: string, sealKeyHex?: string): Promise<StateBackend> {
  const { openSqliteStore } = await import('../../ts/store/sqlite.js');
  const store: RecordStore = await openSqliteStore({ path, worker: true });
  let sealKey: Uint8Array | undefined;
  let records: AccountRecords;
  try {
    if (sealKeyHex !== undefined) {
      if (!/^([0-9a-fA-F]{2}){32,}$/.test(sealKeyHex)) throw new Error('XMPP_BRIDGE_SEAL_KEY must be at least 32 bytes in hex');
      // Decoded straight into the key buffer (no intermediate copy left behind unwiped).
      sealKey = Buffer.from(sealKeyHex, 'hex');
    }
    records = await openAccountRecords(store, accountId, { sealKey });
  } catch (e) {
    await store.close();
    throw e;
  } finally {
    // The sealed store derived its own keys (and wipes them on close); the host key need not stay in memory.
    wipe(sealKey);
  }
  return {
    where: `sqlite:${path}${sealKeyHex !== undefined ? ' (sealed)' : ''}`,
    async load() {
      const r = await records.load(ACCOUNT_RECORD);
      if (!r) return undefined;
      const v = JSON.parse(dec.decode(r.bytes)) as BridgeState;
      if (typeof v.account !== 'string' || typeof v.peers !== 'object' || v.peers === null) throw new Error(`${path}: not a bridge state record`);
      return v;
    },
    save: (s) => records.commit([records.change(ACCOUNT_RECORD, enc.encode(JSON.stringify(s)))]),
    async close() {
      await records.close();
      await store.close();
    },
  };
}
