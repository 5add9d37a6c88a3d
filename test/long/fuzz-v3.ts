/**
 * The long OTRv3 fuzz (on demand; scripts/run-tests.mjs skips test/long): the v3 mutation classes of issue 10,
 * fed to V3Conversation.receive of Bob, encrypted with Alice.
 *
 *   node build/test/long/fuzz-v3.js [iterations=100000] [--from N] [--js] [--seed S]
 *
 * Classes: `tags` (sender/receiver instance tags of a genuine message replaced: fresh, Alice's, ours, 0, low),
 * `type` (another v3 message type), `bytes` (flips, truncation, runs, interesting 32-bit values, splices),
 * `fragments` (a genuine message split at random sizes and delivered shuffled, duplicated, dropped, with
 * other sender tags and totals interleaved), `forged-ake` (a whole AKE message sequence from a fresh
 * instance with Mallory's key), `junk` (random strings with OTR prefixes), `genuine` (exact replays), and
 * `state` (one leaf of Bob's saved state mutated, then restore → receive/send: only OtrErrors).
 *
 * Checked for every input: nothing but an OtrError is ever thrown; no encrypted message is shown that Alice
 * did not send; at the end of every epoch Bob still talks to Alice (a fresh message of hers is read and
 * Alice is still the instance `send()` uses, unless an AKE completed, which must have been reported).
 * Every input i is a pure function of (seed, i); Bob is restored from his snapshot at every multiple of
 * EPOCH, so `--from <epoch start>` replays a failure exactly.
 */
import { loadBackend } from '../../ts/backend/select.js';
import { fuzzArgs } from './fuzz-cli.js';
import { armour, dearmour } from '../../ts/codec/armour.js';
import { OtrError } from '../../ts/errors.js';
import { type StateValue, decodeState, encodeState } from '../../ts/session/state-codec.js';
import { P } from '../../ts/v3/group.js';
import { FRAGMENT_V3_OVERHEAD, fragmentV3 } from '../../ts/v3/fragment.js';
import { V3Conversation, type V3Output } from '../../ts/v3/index.js';
import { randomInt, seededUniform } from '../helpers/channel.js';
import { seededRandom } from '../helpers/rng.js';
import { ALICE_TAG, BOB_TAG, encryptedPair, testDsaKey } from '../interop/v3-pair.js';

const EPOCH = 128;
const MALLORY_TAG = 0x6666_0100;

const { iterations, from, seed, useJs, replay } = fuzzArgs('fuzz-v3.js', EPOCH, 100_000);
const be = await loadBackend(useJs ? 'js' : 'wasm');

// ------------------------------------------------------------------------------------------ corpus

const { a, b } = encryptedPair(be);
const genuine = new Set<string>();
const corpus: { kind: string; text: string }[] = [];
const add = (kind: string, o: V3Output) => {
  for (const text of o.toSend) corpus.push({ kind, text });
};
const say = (text: string, kind = 'data') => {
  genuine.add(text);
  add(kind, a.conv.send(text));
};
say('hello');
say('x'.repeat(700), 'long');
add('smp', a.conv.startSmp('secret', 'question?'));
add('extra-key', a.conv.useExtraKey(7, Uint8Array.of(1, 2)));
say('bye');
// A genuine AKE between two other conversations with the same tags: every AKE message type, from Alice's tag.
{
  const x = encryptedPair(be, {}, 2);
  const y = new V3Conversation({ ...x.a.opts, random: seededRandom(99) });
  const z = new V3Conversation({ ...x.b.opts, random: seededRandom(98) });
  let q = z.startAke().toSend;
  const names = ['dh-commit', 'dh-key', 'reveal-sig', 'signature'];
  for (let i = 0, to = y; q.length && i < 4; i++, to = to === y ? z : y) {
    for (const t of q) corpus.push({ kind: names[i]!, text: t });
    q = q.flatMap((t) => to.receive(t).toSend);
  }
}
const bobSnapshot = b.conv.serialize();
const aliceSnapshot = a.conv.serialize();
const KINDS = [...new Set(corpus.map((c) => c.kind))];
const binary = corpus.filter((c) => c.text.startsWith('?OTR:'));

// ------------------------------------------------------------------------------------------ mutators

const INTERESTING = [0, 1, 0xff, 0x100, ALICE_TAG, BOB_TAG, MALLORY_TAG, 0x7fffffff, 0xffffffff];
const JUNK = '?OTR:|,.v3 \t\x00AZaz09+/=é✓\uffff\ud800';
const u32 = (m: Uint8Array, at: number, v: number) => m.set([v >>> 24, (v >>> 16) & 0xff, (v >>> 8) & 0xff, v & 0xff], at);

function mutateBytes(u: () => number, b0: Uint8Array): Uint8Array {
  let m = b0.slice();
  for (let k = 1 + randomInt(u, 3); k > 0 && m.length > 0; k--) {
    switch (randomInt(u, 5)) {
      case 0:
        for (let n = 1 + randomInt(u, 4); n > 0; n--) m[randomInt(u, m.length)]! ^= 1 << randomInt(u, 8);
        break;
      case 1:
        m = m.slice(0, randomInt(u, m.length));
        break;
      case 2: {
        const at = randomInt(u, m.length + 1);
        const len = 1 + randomInt(u, 64);
        if (u() < 0.5) m = Uint8Array.from([...m.subarray(0, at), ...Array.from({ length: len }, () => randomInt(u, 256)), ...m.subarray(at)]);
        else m = Uint8Array.from([...m.subarray(0, at), ...m.subarray(Math.min(m.length, at + len))]);
        break;
      }
      case 3:
        if (m.length >= 4) u32(m, randomInt(u, m.length - 3), INTERESTING[randomInt(u, INTERESTING.length)]!);
        break;
      case 4: {
        const other = dearmour(binary[randomInt(u, binary.length)]!.text);
        const at = randomInt(u, Math.min(m.length, other.length) + 1);
        m = Uint8Array.from([...m.subarray(0, at), ...other.subarray(at)]);
        break;
      }
    }
  }
  return m;
}

function randomString(u: () => number): string {
  const prefixes = ['', '?OTR:', '?OTR|', '?OTR Error:', '?OTRv3?', '?OTR?v3?', '\x20\x09\x20\x20\x09\x09\x09\x09\x20\x20\x09\x09\x20\x20\x09\x09'];
  let s = prefixes[randomInt(u, prefixes.length)]!;
  for (let n = randomInt(u, 200); n > 0; n--) s += u() < 0.7 ? JUNK[randomInt(u, JUNK.length)] : String.fromCharCode(randomInt(u, 0x3000));
  return s;
}

function fragments(u: () => number, text: string): string[] {
  const size = FRAGMENT_V3_OVERHEAD + 1 + randomInt(u, 200);
  const sender = u() < 0.6 ? ALICE_TAG : INTERESTING[randomInt(u, INTERESTING.length)]! || 0x100;
  const receiver = u() < 0.7 ? BOB_TAG : INTERESTING[randomInt(u, INTERESTING.length)]!;
  let out: string[];
  try {
    out = fragmentV3(text, size, Math.max(sender, 0x100), receiver);
  } catch {
    return [text];
  }
  for (let k = randomInt(u, 4); k > 0 && out.length > 1; k--) {
    const i = randomInt(u, out.length);
    switch (randomInt(u, 5)) {
      case 0: // drop
        out.splice(i, 1);
        break;
      case 1: // duplicate
        out.splice(i, 0, out[i]!);
        break;
      case 2: {
        // swap
        const j = randomInt(u, out.length);
        [out[i], out[j]] = [out[j]!, out[i]!];
        break;
      }
      case 3: // another instance's first piece in between
        out.splice(i, 0, `?OTR|${(MALLORY_TAG + randomInt(u, 50)).toString(16)}|${BOB_TAG.toString(16)},00001,00002,QUFB,`);
        break;
      case 4: // a wrong total or index
        out[i] = out[i]!.replace(/,(\d{5}),(\d{5}),/, (_, k2, n2) => `,${k2},${String((Number(n2) + 1 + randomInt(u, 65534)) % 65536).padStart(5, '0')},`);
        break;
    }
  }
  return out;
}

/** Mallory (her own key, a fresh tag) runs her side of an AKE with a throwaway Bob; Bob gets her messages. */
function forgedAke(u: () => number): string[] {
  const tag = MALLORY_TAG + randomInt(u, 1000);
  const m = new V3Conversation({ backend: be, dsaKey: testDsaKey(0x3a110), instanceTag: tag, random: seededRandom(randomInt(u, 1 << 30)), now: () => 0 });
  const shadow = V3Conversation.restore({ ...b.opts, random: seededRandom(7) }, bobSnapshot);
  const out: string[] = [];
  let q = m.startAke().toSend;
  for (let i = 0; q.length && i < 3; i++) {
    out.push(...q);
    q = q.flatMap((t) => shadow.receive(t).toSend).flatMap((t) => m.receive(t).toSend);
  }
  return out;
}

/** One leaf of a decoded state replaced by a hostile value of its type. */
function mutateState(u: () => number, bytes: Uint8Array): Uint8Array {
  const o = structuredClone(decodeState('otrv3', bytes)) as Record<string, unknown>;
  const leaves: [Record<string, unknown>, string][] = [];
  const walk = (v: unknown) => {
    if (v === null || typeof v !== 'object' || v instanceof Uint8Array) return;
    for (const [k, x] of Object.entries(v as Record<string, unknown>)) {
      leaves.push([v as Record<string, unknown>, k]);
      walk(x);
    }
  };
  walk(o);
  const [parent, key] = leaves[randomInt(u, leaves.length)]!;
  const v = parent[key];
  const choices: unknown[] =
    v instanceof Uint8Array
      ? [new Uint8Array(0), v.subarray(1), Uint8Array.from([...v, 0])]
      : typeof v === 'bigint'
        ? [0n, 1n, -1n, P, v + 1n]
        : typeof v === 'number'
          ? [0, 1, 0xff, 0xffffffff, -1, v + 1]
          : [null, 0, 'x', true];
  parent[key] = choices[randomInt(u, choices.length)];
  return encodeState('otrv3', o as StateValue);
}

type Input = { desc: string; texts: string[] } | { desc: 'state'; state: Uint8Array };

function input(i: number): Input {
  const u = seededUniform((seed * 0x9e3779b1 + i * 2654435761) >>> 0 || 1);
  const r = u();
  if (r < 0.04) return { desc: 'junk', texts: [randomString(u)] };
  if (r < 0.06) return { desc: 'state', state: mutateState(u, bobSnapshot) };
  if (r < 0.08) return { desc: 'forged-ake', texts: forgedAke(u) };
  const kind = KINDS[randomInt(u, KINDS.length)]!;
  const ofKind = corpus.filter((x) => x.kind === kind);
  const c = ofKind[randomInt(u, ofKind.length)]!;
  if (r < 0.12) return { desc: `genuine ${kind}`, texts: [c.text] };
  if (r < 0.22) return { desc: `fragments ${kind}`, texts: fragments(u, c.text) };
  if (!c.text.startsWith('?OTR:')) return { desc: `fragments ${kind}`, texts: fragments(u, c.text) };
  const m = dearmour(c.text);
  if (r < 0.42 && m.length > 11) {
    if (u() < 0.6) u32(m, 3, INTERESTING[randomInt(u, INTERESTING.length)]!);
    if (u() < 0.6) u32(m, 7, INTERESTING[randomInt(u, INTERESTING.length)]!);
    return { desc: `tags ${kind}`, texts: [armour(m)] };
  }
  if (r < 0.5 && m.length > 2) {
    m[2] = [0x02, 0x0a, 0x11, 0x12, 0x03][randomInt(u, 5)]!;
    return { desc: `type ${kind}`, texts: [armour(m)] };
  }
  const mm = mutateBytes(u, m);
  return { desc: `bytes ${kind}`, texts: [mm.length ? armour(mm) : '?OTR:.'] };
}

// ------------------------------------------------------------------------------------------ the run

let bob: V3Conversation;
let instanceReported = false;
const reset = () => {
  bob = V3Conversation.restore({ ...b.opts, random: seededRandom(5) }, bobSnapshot);
  instanceReported = false;
};

function check(out: V3Output): void {
  for (const m of out.messages) if (m.encrypted && !genuine.has(m.text)) throw new Error(`showed a forged encrypted message ${JSON.stringify(m.text.slice(0, 80))}`);
  if (out.events.some((e) => e.type === 'instanceChanged')) instanceReported = true;
}

/** Bob still reads Alice, and `send()` still goes to her unless an instance change was reported. */
function probe(i: number): void {
  const alice = V3Conversation.restore({ ...a.opts, random: seededRandom(6) }, aliceSnapshot);
  const text = `probe ${i}`;
  genuine.add(text);
  const shown = alice.send(text).toSend.flatMap((t) => bob.receive(t).toUser);
  if (!(shown.length === 1 && shown[0] === text)) throw new Error(`Bob no longer reads Alice: ${JSON.stringify(shown)}`);
  if (bob.current !== ALICE_TAG && !instanceReported) throw new Error(`send() switched to ${bob.current.toString(16)} without an instanceChanged event`);
}

let failures = 0;
const started = performance.now();
let lastReport = started;
const kinds = new Map<string, number>();
console.log(`fuzz-v3: ${iterations} inputs from #${from}, seed ${seed}, backend ${be.name}, ${corpus.length} corpus messages`);
for (let i = from; i < from + iterations; i++) {
  if (i % EPOCH === 0) reset();
  const inp = input(i);
  kinds.set(inp.desc, (kinds.get(inp.desc) ?? 0) + 1);
  try {
    try {
      if ('state' in inp) {
        let c: V3Conversation | null = null;
        try {
          c = V3Conversation.restore(b.opts, inp.state);
        } catch (e) {
          if (!(e instanceof OtrError)) throw e;
        }
        if (c) {
          check(c.receive(corpus[0]!.text));
          c.send('hello');
          c.end();
        }
      } else for (const t of inp.texts) check(bob!.receive(t));
    } catch (e) {
      if (e instanceof OtrError && 'state' in inp) {
        /* a typed refusal of a corrupt state after restore is fine */
      } else throw e;
    }
    if ((i + 1) % EPOCH === 0) probe(i);
  } catch (e) {
    failures++;
    const epoch = i - (i % EPOCH);
    console.log(`FAIL #${i} (${inp.desc}): ${(e as Error)?.stack ?? e}`);
    if ('texts' in inp) console.log(`  input: ${JSON.stringify(inp.texts.join(' | ').slice(0, 300))}`);
    console.log(`  replay: ${replay(epoch, i - epoch + 1)}`);
    if (failures >= 20) break;
    reset();
  }
  const now = performance.now();
  if (now - lastReport > 10_000) {
    lastReport = now;
    const done = i - from + 1;
    console.log(`  ${done} inputs, ${Math.round(done / ((now - started) / 1000))}/s, ${failures} failures`);
  }
}
const secs = (performance.now() - started) / 1000;
console.log(`done: ${iterations} inputs in ${secs.toFixed(1)} s (${Math.round(iterations / secs)}/s), ${failures} failures`);
console.log(`  by class: ${[...kinds].sort((x, y) => y[1] - x[1]).map(([k, n]) => `${k} ${n}`).join(', ')}`);
process.exit(failures ? 1 : 0);
