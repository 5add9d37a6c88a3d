/**
 * `interned(s)`: the engine's one shared copy of the string `s`, for the names that key a record at every layer
 * of a save (the record key `conv:<peer>`, the sealed row and account names).
 *
 * Why (docs/stores.md, "session 12: the save's cold path"): each layer keeps its own table of records (the record
 * book, openAccountRecords, the memory store), and each was filled with a key string made by its own
 * concatenation — equal text, different objects. A Map lookup with an equal but different string compares the
 * two texts (and a concatenated string first goes through its cons cell), so every save read one more cold
 * string per table, last touched a thousand saves before. V8 keeps one internalized copy of every property name,
 * and two internalized strings compare by identity; a name taken back from an object's keys is that copy. Other
 * engines return an equal string: only the saving is lost, never correctness (the value is always `s`).
 */

/**
 * An object kept in dictionary mode (a property deleted out of order), so that the many names passing through it
 * do not each leave a hidden class behind; it holds no property between calls.
 */
const names: Record<string, number> = Object.create(null) as Record<string, number>;
names.a = 0;
names.b = 0;
delete names.a;
delete names.b;

export function interned(s: string): string {
  names[s] = 0;
  let shared = s;
  for (const k in names) shared = k; // the only key
  delete names[s];
  return shared;
}
