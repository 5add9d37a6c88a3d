/**
 * Opens a prekey store from the one string an operator gives (`--store`). Node only.
 *
 *   postgres://user@host:port/db   PostgreSQL (pg-store.ts): several server processes on one database
 *   sqlite:PATH  or a plain PATH   SQLite (sqlite-store.ts): the embedded default, one machine
 *   file:DIR                       the append-only log (file-store.ts): one process, no native module
 *   memory:                        nothing survives a restart (tests)
 */
import { OtrArgumentError } from '../errors.js';
import type { PrekeyStore, StoreLimits } from './store.js';
import { MemoryStore } from './store.js';

export type StoreKind = 'postgres' | 'sqlite' | 'file' | 'memory';

export interface OpenedStore {
  readonly store: PrekeyStore;
  readonly kind: StoreKind;
  /** Where it is, for the operator, with any password in a URL masked. */
  readonly where: string;
}

export function storeKind(spec: string): StoreKind {
  if (/^postgres(ql)?:\/\//i.test(spec)) return 'postgres';
  if (spec.startsWith('file:')) return 'file';
  if (spec === 'memory:') return 'memory';
  return 'sqlite';
}

function maskUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return 'postgres://(unparsable URL)';
  }
}

export interface OpenStoreOptions {
  /** For the file log: what to do with a damaged log (file-store.ts; default 'refuse'). */
  readonly onCorruption?: 'refuse' | 'quarantine';
}

export async function openPrekeyStore(spec: string, limits?: StoreLimits, o: OpenStoreOptions = {}): Promise<OpenedStore> {
  if (spec.length === 0) throw new OtrArgumentError('empty store');
  const kind = storeKind(spec);
  const opts = limits ? { limits } : {};
  switch (kind) {
    case 'postgres': {
      const { PgStore } = await import('./pg-store.js');
      return { kind, store: await PgStore.open(spec, opts), where: maskUrl(spec) };
    }
    case 'file': {
      const { FileStore } = await import('./file-store.js');
      const dir = spec.slice('file:'.length);
      return { kind, store: await FileStore.open(dir, { ...opts, ...(o.onCorruption ? { onCorruption: o.onCorruption } : {}) }), where: dir };
    }
    case 'memory':
      return { kind, store: new MemoryStore(limits), where: 'memory' };
    case 'sqlite': {
      const { SqliteStore } = await import('./sqlite-store.js');
      const path = spec.startsWith('sqlite:') ? spec.slice('sqlite:'.length) : spec;
      return { kind, store: await SqliteStore.open(path, opts), where: path };
    }
  }
}
