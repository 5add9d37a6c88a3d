/**
 * The long fuzz (on demand; scripts/run-tests.mjs skips test/long): random mutations of valid OTRv4 messages
 * of every type, and random strings, fed to Conversation.receive in every protocol state.
 *
 *   node build/test/long/fuzz.js [iterations=1000000] [--from N] [--js] [--seed S]
 *
 * Every input i is a pure function of (seed, i); the receivers are restored from their snapshots at every
 * multiple of EPOCH, so `--from <epoch start>` replays a failure exactly. Checked for every input: receive
 * never throws, and never shows an encrypted message whose text was not genuinely sent. Progress, inputs/s
 * and every failure (with the command that replays it) go to stdout; the exit code is 1 if anything failed.
 *
 * Attack classes of issue 10 (docs/security.md), beside the mutations: OTRv3 queries, whitespace tags and
 * OTRv3 AKE/data messages in every state (an OTRv4 ENCRYPTED/FINISHED receiver must never answer in OTRv3
 * nor switch to it); bloated fields (large runs inserted, DSA MPIs and versions padded); byte-identical
 * replays (a repeated Identity is never answered twice); valid Identities from fresh attackers; early-data
 * floods of every size. At every epoch's end each receiver's saved state must restore.
 */
import { Account, type Outcome } from '../../ts/index.js';
import { loadBackend } from '../../ts/backend/select.js';
import { fuzzArgs } from './fuzz-cli.js';
import type { Conversation } from '../../ts/session/conversation.js';
import { armour, dearmour } from '../../ts/codec/armour.js';
import { buildErrorMessage, OtrErrorCode } from '../../ts/codec/error-message.js';
import { tagPlaintext } from '../../ts/codec/whitespace.js';
import { V3Conversation } from '../../ts/v3/index.js';
import { startDake } from '../../ts/ake/interactive.js';
import { testDsaKey } from '../interop/v3-pair.js';
import { attackerLocal, makeAttacker, makeBloatedAttacker, makeV34Pair } from '../attacks/attacker.js';
import { seededRandom } from '../helpers/rng.js';
import { randomInt, seededUniform } from '../helpers/channel.js';
import { ALICE_ID, BOB_ID, T0 } from '../helpers/session-pair.js';

const EPOCH = 256;

const { iterations, from, seed, useJs, replay } = fuzzArgs('fuzz.js', EPOCH, 1_000_000);

const be = await loadBackend(useJs ? 'js' : 'wasm');

// ------------------------------------------------------------------------------------------ corpus and states

interface Receiver {
  readonly label: string;
  readonly snapshot: Uint8Array;
  readonly who: 'alice' | 'bob';
}

// Both accounts allow OTRv3 and OTRv4 (DSA keys): the OTRv3 attack classes reach the dispatcher's rules.
const p = makeV34Pair(be, 777);
const receivers: Receiver[] = [];
const snap = (label: string, who: 'alice' | 'bob') => receivers.push({ label, who, snapshot: (who === 'alice' ? p.alice : p.bob).serialize() });
const corpus: { kind: string; text: string; bytes?: Uint8Array }[] = [];
const add = (kind: string, o: Outcome) => {
  for (const text of o.toSend) corpus.push({ kind, text, bytes: text.startsWith('?OTR:') ? dearmour(text) : undefined });
  return o;
};
/** Texts genuinely sent encrypted: the only encrypted texts a receiver may ever show. */
const genuine = new Set<string>();
const send = (c: Conversation, text: string, kind = 'data') => {
  genuine.add(text);
  return add(kind, c.send(text));
};

snap('alice START', 'alice');
snap('bob START', 'bob');
const query = add('query', p.a.start());
const identity = add('identity', p.b.receive(query.toSend[0]!));
snap('bob WAITING_AUTH_R', 'bob');
const authR = add('auth-r', p.a.receive(identity.toSend[0]!));
snap('alice WAITING_AUTH_I', 'alice');
const authI = add('auth-i', p.b.receive(authR.toSend[0]!));
p.a.receive(authI.toSend[0]!);
snap('alice ENCRYPTED', 'alice');
snap('bob ENCRYPTED', 'bob');
for (let i = 0; i < 4; i++) send(p.a, `alice ${i}`);
for (let i = 0; i < 3; i++) send(p.b, `bob ${i} ✓`);
send(p.a, 'esk', 'data esk');
add('data esk', p.a.send('file', { extraKey: { context: Uint8Array.of(0, 0, 0, 1) } }));
genuine.add('file');
add('data smp', p.a.startSmp('secret', 'question?'));
p.a.setPolicy({ maxMessageSize: 160 });
send(p.a, 'fragmented '.repeat(10), 'fragment');
p.a.setPolicy({ maxMessageSize: 0 });
add('data disconnect', p.a.end());
corpus.push({ kind: 'whitespace', text: tagPlaintext('tagged', [3, 4]) });
corpus.push({ kind: 'error', text: buildErrorMessage(OtrErrorCode.unreadable) });
corpus.push({ kind: 'plaintext', text: 'just text' });
// OTRv3: queries, tags and AKE messages from a third party with her own DSA key (downgrade/hijack class).
{
  const v3 = new V3Conversation({ backend: be, dsaKey: testDsaKey(0x3a11), instanceTag: 0x3333_0300, random: seededRandom(9), now: () => T0 });
  corpus.push({ kind: 'v3', text: '?OTRv3?' }, { kind: 'v3', text: tagPlaintext('v3 only', [3]) });
  for (const text of v3.startAke().toSend) corpus.push({ kind: 'v3', text, bytes: dearmour(text) });
}
// Valid Identities from fresh attackers (takeover class), one with the largest profile the decoders allow.
for (let k = 0; k < 3; k++) {
  const x = k < 2 ? makeAttacker(be, { tag: 0x5100_0000 + k, seed: 900 + k, nowMs: T0 }) : makeBloatedAttacker(be, { tag: 0x5100_0002, seed: 902, nowMs: T0, dsa: testDsaKey(0xbad) });
  const m = startDake(be, x.random, attackerLocal(x, BOB_ID, ALICE_ID), 0).message!;
  corpus.push({ kind: 'attacker identity', text: armour(m), bytes: m });
}

const KINDS = [...new Set(corpus.map((c) => c.kind))];

// ------------------------------------------------------------------------------------------ mutators

const INTERESTING = [0, 1, 0xff, 0x100, 0x7fffffff, 0x80000000, 0xffffffff];
const JUNK = '?OTR:|,.v4 \t\x00AZaz09+/=é✓\uffff\ud800';

function mutateBytes(u: () => number, b: Uint8Array): Uint8Array {
  let m = b.slice();
  const ops = 1 + randomInt(u, 3);
  for (let k = 0; k < ops && m.length > 0; k++) {
    switch (randomInt(u, 8)) {
      case 0: // bit flips
        for (let n = 1 + randomInt(u, 4); n > 0; n--) m[randomInt(u, m.length)]! ^= 1 << randomInt(u, 8);
        break;
      case 1: // truncate
        m = m.slice(0, randomInt(u, m.length));
        break;
      case 2: // random bytes
        for (let n = 1 + randomInt(u, 8); n > 0; n--) m[randomInt(u, m.length)] = randomInt(u, 256);
        break;
      case 3: {
        // insert or delete a run
        const at = randomInt(u, m.length + 1);
        const len = 1 + randomInt(u, 64);
        if (u() < 0.5) m = Uint8Array.from([...m.subarray(0, at), ...Array.from({ length: len }, () => randomInt(u, 256)), ...m.subarray(at)]);
        else m = Uint8Array.from([...m.subarray(0, at), ...m.subarray(Math.min(m.length, at + len))]);
        break;
      }
      case 4: {
        // an interesting 32-bit value anywhere (length prefixes, counters, tags)
        if (m.length < 4) break;
        const at = randomInt(u, m.length - 3);
        const v = INTERESTING[randomInt(u, INTERESTING.length)]!;
        m.set([v >>> 24, (v >>> 16) & 0xff, (v >>> 8) & 0xff, v & 0xff], at);
        break;
      }
      case 5: // another message type in the header
        if (m.length > 2) m[2] = [0x03, 0x35, 0x36, 0x37, 0x0d, 0x0f, 0x02, 0x0a][randomInt(u, 8)]!;
        break;
      case 7: {
        // bloat: a large run (up to 64 KiB) of zeros (padded MPIs, lengths) or random bytes
        const at = randomInt(u, m.length + 1);
        const run = new Uint8Array(1 + randomInt(u, 1 << 16));
        if (u() < 0.5) for (let q = 0; q < run.length; q += 97) run[q] = randomInt(u, 256);
        const out = new Uint8Array(m.length + run.length);
        out.set(m.subarray(0, at), 0);
        out.set(run, at);
        out.set(m.subarray(at), at + run.length);
        m = out;
        break;
      }
      case 6: {
        // splice with another binary message
        const other = corpus.filter((c) => c.bytes)[randomInt(u, corpus.filter((c) => c.bytes).length)]!.bytes!;
        const at = randomInt(u, Math.min(m.length, other.length) + 1);
        m = Uint8Array.from([...m.subarray(0, at), ...other.subarray(at)]);
        break;
      }
    }
  }
  return m;
}

function mutateText(u: () => number, s: string): string {
  let t = s;
  for (let k = 1 + randomInt(u, 3); k > 0; k--) {
    const at = randomInt(u, t.length + 1);
    switch (randomInt(u, 4)) {
      case 0:
        t = t.slice(0, at) + JUNK[randomInt(u, JUNK.length)] + t.slice(at + 1);
        break;
      case 1:
        t = t.slice(0, at);
        break;
      case 2:
        t = t.slice(0, at) + JUNK.slice(randomInt(u, JUNK.length)) + t.slice(at);
        break;
      case 3:
        t = t.slice(0, at) + t.slice(randomInt(u, t.length + 1));
        break;
    }
  }
  return t;
}

function randomString(u: () => number): string {
  const prefixes = ['', '?OTR:', '?OTR|', '?OTR Error:', '?OTRv', '?OTR?v', '?OTRv34?', '\x20\x09\x20\x20\x09\x09\x09\x09'];
  let s = prefixes[randomInt(u, prefixes.length)]!;
  for (let n = randomInt(u, 200); n > 0; n--) s += u() < 0.7 ? JUNK[randomInt(u, JUNK.length)] : String.fromCharCode(randomInt(u, 0x3000));
  return s;
}

/** Input i: a pure function of (seed, i). */
function input(i: number): { desc: string; text: string } {
  const u = seededUniform((seed * 0x9e3779b1 + i * 2654435761) >>> 0 || 1);
  const r = u();
  if (r < 0.05) return { desc: 'random string', text: randomString(u) };
  if (r < 0.07) {
    // early-data flood: a data-typed blob of any size from the peer's tag (kept raw while awaiting Auth-I)
    const size = 12 + randomInt(u, u() < 0.1 ? 700_000 : 4096);
    const m = new Uint8Array(size);
    for (let q = 11; q < size; q += 31) m[q] = randomInt(u, 256);
    const tagOf = (a: Account) => a.instanceTag;
    const [from, to] = u() < 0.5 ? [tagOf(p.alice), tagOf(p.bob)] : [tagOf(p.bob), tagOf(p.alice)];
    m.set([0, 4, 3, from >>> 24, from >>> 16, from >>> 8, from, to >>> 24, to >>> 16, to >>> 8, to], 0);
    return { desc: 'early-data flood', text: armour(m) };
  }
  // A kind first, then one of its messages: the eight fragments of one message do not crowd out the rest.
  const kind = KINDS[randomInt(u, KINDS.length)]!;
  const ofKind = corpus.filter((x) => x.kind === kind);
  const c = ofKind[randomInt(u, ofKind.length)]!;
  if (r < 0.08) return { desc: `genuine ${c.kind}`, text: c.text };
  if (c.bytes && r < 0.8) {
    const m = mutateBytes(u, c.bytes);
    return { desc: `${c.kind} bytes`, text: m.length ? armour(m) : '?OTR:.' };
  }
  return { desc: `${c.kind} text`, text: mutateText(u, c.text) };
}

// ------------------------------------------------------------------------------------------ the run

type Live = { conv: Conversation; label: string; acct: Account; answered: Set<string> };
let live: Live[] = [];
const reset = () => {
  live = receivers.map((r) => {
    const acct = Account.restore(r.snapshot, { backend: be, random: seededRandom(5), clock: () => T0 });
    return { conv: acct.conversation(r.who === 'alice' ? BOB_ID : ALICE_ID), label: r.label, acct, answered: new Set<string>() };
  });
};
/** An armoured OTRv4 Identity message (type 0x35), whatever its body. */
const isIdentity = (text: string): boolean => {
  try {
    const b = dearmour(text);
    return b.length > 2 && b[0] === 0 && b[1] === 4 && b[2] === 0x35;
  } catch {
    return false;
  }
};
/** At an epoch's end: whatever the inputs did, every receiver's saved state restores. */
const checkRestorable = () => {
  for (const l of live) Account.restore(l.acct.serialize(), { backend: be, random: seededRandom(5), clock: () => T0 });
};

let failures = 0;
const started = performance.now();
let lastReport = started;
const kinds = new Map<string, number>();
console.log(`fuzz: ${iterations} inputs from #${from}, seed ${seed}, backend ${be.name}, ${corpus.length} corpus messages, ${receivers.length} receiver states`);
for (let i = from; i < from + iterations; i++) {
  if (i % EPOCH === 0) {
    if (i !== from) checkRestorable();
    reset();
  }
  const { desc, text } = input(i);
  const rcv = live[i % live.length]!;
  kinds.set(desc, (kinds.get(desc) ?? 0) + 1);
  try {
    const wasV4 = rcv.conv.version === 4 || rcv.conv.state === 'FINISHED';
    // Replay class: now and then the same input twice in a row (an Identity must never be answered twice).
    const copies = desc.startsWith('genuine') || desc.startsWith('attacker') ? 2 : 1;
    for (let k = 0; k < copies; k++) {
      const out = rcv.conv.receive(text);
      for (const m of out.messages) {
        if (m.encrypted && !genuine.has(m.text)) throw new Error(`showed a forged encrypted message ${JSON.stringify(m.text.slice(0, 80))}`);
      }
      if (wasV4 && rcv.conv.version !== 4 && rcv.conv.version !== undefined) throw new Error(`an OTRv4 session switched to version ${rcv.conv.version}`);
      if (wasV4 && out.toSend.some((t) => t.startsWith('?OTR:AAM') || t.startsWith('?OTR:AAI'))) throw new Error('answered in OTRv3 from an OTRv4 encrypted/finished state');
      if (/identity/.test(desc) && isIdentity(text) && out.toSend.some((t) => t.startsWith('?OTR:'))) {
        if (rcv.answered.has(text)) throw new Error('answered a byte-identical Identity twice');
        rcv.answered.add(text);
      }
    }
  } catch (e) {
    failures++;
    const epoch = i - (i % EPOCH);
    console.log(`FAIL #${i} (${desc}, receiver ${rcv.label}): ${(e as Error)?.stack ?? e}`);
    console.log(`  input: ${JSON.stringify(text.slice(0, 300))}${text.length > 300 ? '...' : ''}`);
    console.log(`  replay: ${replay(epoch, i - epoch + 1)}`);
    if (failures >= 20) break;
  }
  const now = performance.now();
  if (now - lastReport > 10_000) {
    lastReport = now;
    const done = i - from + 1;
    console.log(`  ${done} inputs, ${Math.round(done / ((now - started) / 1000))}/s, ${failures} failures`);
  }
}
try {
  checkRestorable();
} catch (e) {
  failures++;
  console.log(`FAIL: a saved state does not restore: ${(e as Error)?.stack ?? e}`);
}
const secs = (performance.now() - started) / 1000;
console.log(`done: ${iterations} inputs in ${secs.toFixed(1)} s (${Math.round(iterations / secs)}/s), ${failures} failures`);
console.log(`  by kind: ${[...kinds].sort((a, b) => b[1] - a[1]).map(([k, n]) => `${k} ${n}`).join(', ')}`);
process.exit(failures ? 1 : 0);
