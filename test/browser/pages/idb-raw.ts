/**
 * Raw IndexedDB access for the store pages (store-indexeddb.ts, s8-indexeddb.ts): what another script of the
 * origin can do behind the store's back.
 */

/** Opens the database `name` (at `version`, running `upgrade` if it is newer). */
export function openRaw(name: string, version?: number, upgrade?: (db: IDBDatabase) => void): Promise<IDBDatabase> {
  return new Promise<IDBDatabase>((res, rej) => {
    const r = indexedDB.open(name, version);
    if (upgrade) r.onupgradeneeded = () => upgrade(r.result);
    r.onsuccess = () => res(r.result);
    r.onerror = () => rej(r.error);
    r.onblocked = () => rej(new Error('blocked'));
  });
}

/** Writes a raw value under a raw key into the records store. */
export async function rawPut(name: string, key: IDBValidKey, value: unknown): Promise<void> {
  const db = await openRaw(name);
  await new Promise<void>((res, rej) => {
    const tx = db.transaction('records', 'readwrite');
    tx.objectStore('records').put(value, key);
    tx.oncomplete = () => res();
    tx.onerror = () => rej(tx.error);
  });
  db.close();
}
