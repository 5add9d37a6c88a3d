/**
 * Attack (session 12 review, hostile disk): records that decode but say something else. Byte flips mostly die
 * in the state codec (session-persistence, state-codec); here the account record and the conversation records
 * of a real account — a session with messages both ways and a skipped key, an SMP under way, a pending DAKE
 * awaiting Auth-I, a stranger's plaintext, a verified key and a contact mark — are decoded to values, changed
 * in place (edge numbers, strings, bytes cut or grown, array items dropped, repeated or swapped, fields dropped
 * or added, values moved between places) and encoded again, so every change reaches restore's own checks.
 *
 * Then the account is rebuilt from them as a store or the pool does, and used: each peer's next message
 * delivered, a send, a poll, an SMP answer, changes() and serialize(). Each step must give an outcome or a typed
 * OtrError; and whatever the account writes after that must load again: every conversation record handed out
 * decodes, and serialize()'s bytes restore — a record the library writes and then refuses loses the account's
 * conversation for good.
 *
 * OTR4_FUZZ_ITERATIONS runs more (the review ran 20,000; the suite runs ITERATIONS).
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Account, type Conversation } from '../../ts/index.js';
import { OtrError } from '../../ts/errors.js';
import { decodeState, encodeState, type StateValue } from '../../ts/session/state-codec.js';
import type { StoredRecord } from '../../ts/store/types.js';
import { WASM as be } from '../helpers/backends.js';
import { seededRandom } from '../helpers/rng.js';
import { ALICE_ID, testClock } from '../helpers/session-pair.js';

const ITERATIONS = Number(process.env.OTR4_FUZZ_ITERATIONS ?? 400);
const BOB = 'bob@example.org';
const CAROL = 'carol@example.org';
const DAVE = 'dave@example.org';

interface World {
  records: StoredRecord[];
  /** What each peer sends next, delivered to the rebuilt account. */
  next: Map<string, string[]>;
  clock: ReturnType<typeof testClock>;
}

function pumpTo(a: Conversation, b: Conversation, first: readonly string[]): void {
  let toA = [...first];
  for (let guard = 0; toA.length > 0; guard++) {
    if (guard > 20) throw new Error('did not settle');
    toA = toA.flatMap((m) => a.receive(m).toSend).flatMap((m) => b.receive(m).toSend);
  }
}

function world(): World {
  const clock = testClock();
  const peer = (id: string, seed: number) => Account.create({ accountId: id, backend: be, clock, dsaKey: null, random: seededRandom(seed) }).conversation(ALICE_ID);
  const alice = Account.create({ accountId: ALICE_ID, backend: be, clock, dsaKey: null, random: seededRandom(1240) });
  const next = new Map<string, string[]>();
  // Bob: a session, messages both ways, one of his lost in transit (a skipped key), an SMP Alice started.
  const bob = peer(BOB, 1241);
  const ab = alice.conversation(BOB);
  pumpTo(ab, bob, bob.start().toSend);
  for (const m of ab.send('hello Bob').toSend) bob.receive(m);
  const lost = bob.send('lost for now').toSend;
  for (const m of bob.send('hi Alice').toSend) ab.receive(m);
  for (const m of ab.startSmp('secret', 'our word?').toSend) bob.receive(m);
  alice.fingerprints.verify(BOB, alice.fingerprints.list(BOB)[0]!.fingerprint);
  next.set(BOB, [...lost, ...bob.send('later').toSend]);
  // Carol: her Identity answered, her Auth-I not delivered yet.
  const carol = peer(CAROL, 1242);
  const authR = alice.conversation(CAROL).receive(carol.start().toSend.at(-1)!).toSend;
  next.set(CAROL, authR.flatMap((m) => carol.receive(m).toSend));
  // Dave: plaintext only.
  alice.conversation(DAVE).receive('hi, plaintext here');
  next.set(DAVE, ['?OTRv4?', 'more plaintext']);
  alice.changes({ all: true });
  return { records: alice.records(), next, clock };
}

/** Every node of a value, with a way to replace it. */
type Slot = { value: StateValue; set(v: StateValue): void };

function slots(root: { v: StateValue }): Slot[] {
  const out: Slot[] = [];
  const walk = (value: StateValue, set: (v: StateValue) => void) => {
    out.push({ value, set });
    if (Array.isArray(value)) value.forEach((item, i) => walk(item, (v) => ((value as StateValue[])[i] = v)));
    else if (value !== null && typeof value === 'object' && !(value instanceof Uint8Array))
      for (const k of Object.keys(value)) walk((value as Record<string, StateValue>)[k]!, (v) => ((value as Record<string, StateValue>)[k] = v));
  };
  walk(root.v, (v) => (root.v = v));
  return out;
}

const EDGE_NUMBERS = [-1, 0, 1, 2, 0xff, 0xffff, 2 ** 31, 2 ** 32 - 1, 2 ** 32, 2 ** 53 - 1, 2 ** 53, 1.5, -0, Number.NaN, Infinity, -Infinity, 1e308];

function mutate(value: StateValue, int: (n: number) => number, otherPeers: readonly string[]): StateValue {
  const root = { v: value };
  const all = slots(root);
  const slot = all[int(all.length)]!;
  const v = slot.value;
  const pick = <T>(xs: readonly T[]) => xs[int(xs.length)]!;
  switch (int(4) === 0 ? 'any' : typeof v) {
    case 'number':
      slot.set(int(3) === 0 ? (v as number) + pick([-1, 1, 2 ** 32]) : pick(EDGE_NUMBERS));
      break;
    case 'string':
      slot.set(pick(['', 'x', (v as string) + 'x', (v as string).slice(1), 'z'.repeat(5000), ...otherPeers, 'verified-hand', 'revoked', 'A'.repeat(112)]));
      break;
    case 'boolean':
      slot.set(pick([!v, null, 1, 'true']));
      break;
    case 'bigint':
      slot.set(pick([0n, 1n, -1n, (v as bigint) + 1n, 2n ** 3072n, (v as bigint) * 2n]));
      break;
    case 'object':
      if (v === null) slot.set(pick([0, '', false, [], {}, new Uint8Array(0)]));
      else if (v instanceof Uint8Array) {
        const b = Uint8Array.from(v);
        const how = int(5);
        if (how === 0) slot.set(b.subarray(0, int(b.length + 1)));
        else if (how === 1) slot.set(Uint8Array.from([...b, ...new Uint8Array(1 + int(64))]));
        else if (how === 2 && b.length > 0) {
          b[int(b.length)]! ^= 1 << int(8);
          slot.set(b);
        } else if (how === 3) slot.set(new Uint8Array(b.length).fill(pick([0, 0xff])));
        else slot.set(new Uint8Array(0));
      } else if (Array.isArray(v)) {
        const a = [...v];
        const how = int(4);
        if (how === 0 && a.length > 0) a.splice(int(a.length), 1);
        else if (how === 1 && a.length > 0) a.push(a[int(a.length)]!);
        else if (how === 2 && a.length > 1) {
          const i = int(a.length), j = int(a.length);
          [a[i], a[j]] = [a[j]!, a[i]!];
        } else a.length = 0;
        slot.set(a);
      } else {
        const r = { ...(v as Record<string, StateValue>) };
        const keys = Object.keys(r);
        const how = int(3);
        if (how === 0 && keys.length > 0) delete r[keys[int(keys.length)]!];
        else if (how === 1 && keys.length > 0) r[keys[int(keys.length)]!] = null;
        else r[pick(['extra', 'contact', 'known', 'attached', 'generations'])] = pick([true, 1, 'x', [], null]);
        slot.set(r);
      }
      break;
    default: {
      // A value moved from elsewhere in the record (type confusion, a neighbour's key or counter).
      // A copy: moving a value into itself would make a cycle, which no record can hold.
      slot.set(structuredClone(all[int(all.length)]!.value));
    }
  }
  return root.v;
}

const typed = (e: unknown, what: string) => {
  if (!(e instanceof OtrError)) throw new Error(`${what}: untyped ${(e as Error)?.name}: ${(e as Error)?.message}\n${(e as Error)?.stack}`);
};

function attempt<T>(what: string, f: () => T): T | undefined {
  try {
    return f();
  } catch (e) {
    typed(e, what);
    return undefined;
  }
}

/** The account rebuilt from records as the pool's worker does. */
function rebuild(records: readonly StoredRecord[], w: World, seed: number): Account | undefined {
  const accountRecord = records.find((r) => r.key === 'account')!;
  const account = attempt('fromRecord', () => Account.fromRecord(accountRecord, { backend: be, clock: w.clock, random: seededRandom(seed) }));
  if (!account) return undefined;
  for (const r of records) if (r.key !== 'account') attempt(`attach ${r.key}`, () => account.attachRecord(r));
  return account;
}

/** What the rebuilt account writes must load again. */
function checkWritten(account: Account, w: World, seed: number, where: string): void {
  const changed = attempt(`${where}: changes`, () => account.changes()) ?? [];
  const written = changed.filter((c) => c.key !== 'account' && c.bytes !== null);
  if (written.length > 0) {
    const accountRecord = changed.find((c) => c.key === 'account') ?? { key: 'account', generation: 1, bytes: account.records()[0]!.bytes };
    let again: Account;
    try {
      again = Account.fromRecord({ bytes: accountRecord.bytes!, generation: accountRecord.generation }, { backend: be, clock: w.clock, random: seededRandom(seed) });
    } catch (e) {
      throw new Error(`${where}: the account record written does not load: ${(e as Error).message}`);
    }
    for (const c of written) {
      again.attachRecord({ key: c.key, generation: c.generation, bytes: c.bytes! });
      try {
        again.conversation(c.key.slice('conv:'.length));
      } catch (e) {
        throw new Error(`${where}: ${c.key} written does not load: ${(e as Error).message}`);
      }
    }
  }
  const bytes = attempt(`${where}: serialize`, () => account.serialize());
  if (bytes !== undefined) {
    try {
      Account.restore(bytes, { backend: be, clock: w.clock, random: seededRandom(seed) });
    } catch (e) {
      throw new Error(`${where}: serialize() wrote what restore() refuses: ${(e as Error).message}`);
    }
  }
}

function exercise(account: Account, w: World, where: string): void {
  for (const [peer, messages] of w.next) {
    const conv = attempt(`${where}: conversation(${peer})`, () => account.conversation(peer));
    if (!conv) continue;
    for (const m of messages) attempt(`${where}: ${peer} receive`, () => conv.receive(m));
    attempt(`${where}: ${peer} send`, () => conv.send('from Alice'));
    attempt(`${where}: ${peer} answerSmp`, () => conv.answerSmp('secret'));
    w.clock.advance(1000);
    attempt(`${where}: ${peer} poll`, () => conv.poll());
  }
}

test('the untouched records rebuild and take every next message (the harness can tell a change from none)', () => {
  const w = world();
  const account = rebuild(w.records, w, 1)!;
  assert.ok(account);
  const shown: string[] = [];
  for (const [peer, messages] of w.next) for (const m of messages) shown.push(...account.conversation(peer).receive(m).messages.map((x) => x.text));
  assert.ok(shown.includes('later') && shown.includes('lost for now'), `Bob's messages read: ${shown}`);
  assert.is(account.conversation(CAROL).state, 'ENCRYPTED_MESSAGES', "Carol's Auth-I completed her DAKE");
  checkWritten(account, w, 2, 'untouched');
});

test(`${ITERATIONS} records changed in place: typed errors or outcomes, and what is written loads again`, () => {
  const rand = seededRandom(Number(process.env.OTR4_FUZZ_SEED ?? 1250));
  const int = (n: number) => (n <= 1 ? 0 : rand(4).reduce((a, b) => a * 256 + b, 0) % n);
  const base = world();
  let loaded = 0;
  for (let it = 0; it < ITERATIONS; it++) {
    const w: World = { ...base, clock: testClock(), records: base.records.map((r) => ({ ...r, bytes: r.bytes.slice() })) };
    const target = w.records[int(w.records.length)]!;
    const kind = target.key === 'account' ? 'account' : 'conversation';
    let value = decodeState(kind, target.bytes);
    for (let k = 1 + int(3); k > 0; k--) value = mutate(value, int, [BOB, CAROL, DAVE]);
    let bytes: Uint8Array;
    try {
      bytes = encodeState(kind, value);
    } catch (e) {
      typed(e, 'encode');
      continue;
    }
    (target as { bytes: Uint8Array }).bytes = bytes;
    const where = `iteration ${it} (${target.key})`;
    const account = rebuild(w.records, w, it);
    if (!account) continue;
    loaded++;
    exercise(account, w, where);
    checkWritten(account, w, it, where);
  }
  assert.ok(loaded > ITERATIONS / 4, `${loaded} of ${ITERATIONS} changed records loaded`);
  console.log(`  restore fuzz: ${ITERATIONS} changed records, ${loaded} accounts rebuilt and used`);
});

test.run();
