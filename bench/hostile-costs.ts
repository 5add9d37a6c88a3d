/**
 * What one hostile input costs the receiver, against one honest DAKE step (session 13, docs/security.md
 * "Session 13: cost of hostile input"): for each case, the primitives it spends (counted on the backend:
 * exponentiations, Ed448 multiplications, Keccak bytes; test/helpers/counting-backend.ts) and its CPU time,
 * for one or two builds in one process — phases alternate the builds (the order flips every phase), each
 * sample timed by this thread's CPU. Cases that change the victim's state for good (an Auth-I with early data)
 * are set up afresh for every sample, the set-up untimed.
 *
 *   node build/bench/hostile-costs.js [<build dir> ...] [--phases N] [--samples N] [--filter REGEX] [--backend wasm|hybrid|js]
 *
 * Prints, per case and build: the counts of one input, CPU µs min / median over the phases (each phase's
 * figure the median of its samples), and the median over the honest Identity's median (one honest DAKE step,
 * the responder's: the costliest one). Only ratios within one run mean anything on a shared machine.
 */
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { CryptoBackend } from '../ts/backend/types.js';
import { countingBackend, type Costs, type CountingBackend } from '../test/helpers/counting-backend.js';
import { seededRandom as seeded } from '../test/helpers/rng.js';

const args = process.argv.slice(2);
const opt = (name: string, dflt: string): string => {
  const i = args.indexOf(name);
  return i >= 0 ? args.splice(i, 2)[1]! : dflt;
};
const PHASES = Number(opt('--phases', '5'));
const SAMPLES = Number(opt('--samples', '5'));
const FILTER = new RegExp(opt('--filter', '.'));
/** WASM by default (the session-13 table); `hybrid` is what init() picks in Node (OpenSSL for OTRv3's HMAC). */
const BACKEND = opt('--backend', 'wasm');
const DIRS = (args.length ? args : ['.']).map((d) => resolve(d));

type Mod = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
interface Build {
  readonly dir: string;
  readonly counted: CountingBackend;
  readonly be: CryptoBackend;
  m(path: string): Mod;
}

const ALICE = 'alice@example.org';
const BOB = 'bob@example.org';
const OPEN = { dakeBudgetPeerBurst: 1e9, dakeBudgetAccountBurst: 1e9, maxRememberedIdentities: 1, pendingDakeProtectMs: 0 };

async function loadBuild(dir: string): Promise<Build> {
  const mods = new Map<string, Mod>();
  const paths = [
    'backend/select', 'session/account', 'codec/armour', 'wire/data', 'wire/tlv', 'smp/steps', 'smp/messages', 'ake/interactive',
    'offline/dake', 'crypto/eddsa', 'crypto/ecdh', 'profile/client-profile', 'bytes', 'v3/constants', 'v3/instances', 'v3/data',
    'v3/messages', 'v3/tlv', 'v3/smp', 'v3/index', 'crypto/dsa', 'codec/fragment',
  ];
  for (const p of paths) mods.set(p, await import(pathToFileURL(join(dir, 'build/ts', `${p}.js`)).href));
  const counted = countingBackend(await mods.get('backend/select')!.loadBackend(BACKEND));
  return { dir, counted, be: counted.backend, m: (p) => mods.get(p)! };
}

interface Case {
  readonly name: string;
  /** Returns the call to measure (set up untimed; called once per sample). */
  prepare(): () => unknown;
}

function v4Pair(b: Build, seed: number, limits: object = OPEN) {
  const { Account } = b.m('session/account');
  const mk = (id: string, s: number) => Account.create({ accountId: id, backend: b.be, random: seeded(s), dsaKey: null, limits });
  const alice = mk(ALICE, seed);
  const bob = mk(BOB, seed + 1);
  return { alice, bob, a: alice.conversation(BOB), b: bob.conversation(ALICE) };
}

function pump(from: any, to: any, msgs: string[]) {
  let q = msgs.map((t) => ({ dst: to, t }));
  for (let g = 0; q.length && g < 50; g++) {
    const next: typeof q = [];
    for (const { dst, t } of q) for (const r of dst.receive(t).toSend) next.push({ dst: dst === to ? from : to, t: r });
    q = next;
  }
}

function established(b: Build, seed: number) {
  const p = v4Pair(b, seed);
  pump(p.a, p.b, p.a.start().toSend);
  return p;
}

/** The hostile side's data message with `tlvs` (its own session: authenticated). */
function sendTlvs(conv: any, tlvs: unknown[]): string {
  const out = { toSend: [] as string[], messages: [], events: [], changed: [] };
  conv.sendData(out, conv.instances.get(conv.current), '', tlvs, 0);
  return out.toSend[0]!;
}

/** A DAKE Bob started, answered by Alice, up to Bob's Auth-I (held back: Alice awaits it). */
function upToAuthI(b: Build, seed: number): { p: any; authI: string } {
  const p = v4Pair(b, seed);
  const authR = p.b.startDake().toSend.flatMap((m: string) => p.a.receive(m).toSend);
  return { p, authI: authR.flatMap((m: string) => p.b.receive(m).toSend)[0] };
}

function flip(b: Build, text: string, edit: (m: any) => any = (m) => m): string {
  const { armour, dearmour } = b.m('codec/armour');
  const { decodeDataMessage, encodeDataMessage } = b.m('wire/data');
  const m = decodeDataMessage(dearmour(text).slice());
  const authenticator = m.authenticator.slice();
  authenticator[0] ^= 1;
  return armour(encodeDataMessage({ ...edit(m), authenticator }));
}

function cases(b: Build): Case[] {
  const out: Case[] = [];
  const { armour } = b.m('codec/armour');
  // Reference: an honest Identity answered (the responder's step: profile, keys, ring signature, K).
  {
    const p = v4Pair(b, 10);
    out.push({ name: 'honest Identity (one DAKE step)', prepare: () => { const id = p.b.startDake().toSend[0]; return () => p.a.receive(id); } });
  }
  // The other honest DAKE steps, for scale: an Auth-R received (Auth-I made, session up) and an Auth-I received.
  {
    let seed = 60;
    out.push({
      name: 'honest Auth-R',
      prepare: () => {
        const p = v4Pair(b, (seed += 2));
        const authR: string = p.a.receive(p.b.startDake().toSend[0]).toSend[0];
        return () => p.b.receive(authR);
      },
    });
    out.push({
      name: 'honest Auth-I',
      prepare: () => {
        const { p, authI } = upToAuthI(b, (seed += 2));
        return () => p.a.receive(authI);
      },
    });
  }
  // Forged Auth-R (valid profile and keys, ring signature broken), to our pending Identity.
  {
    const p = v4Pair(b, 14);
    const ours = p.a.startDake().toSend[0];
    const authR: string = p.b.receive(ours).toSend[0];
    const bytes = b.m('codec/armour').dearmour(authR).slice();
    bytes[bytes.length - 57 - 388 - 10] ^= 1;
    const forged = armour(bytes);
    out.push({ name: 'forged Auth-R', prepare: () => () => p.a.receive(forged) });
  }
  // Forged Auth-I to a DAKE we answered.
  {
    const { p, authI } = upToAuthI(b, 16);
    const bytes = b.m('codec/armour').dearmour(authI).slice();
    bytes[bytes.length - 10] ^= 1;
    const forged = armour(bytes);
    out.push({ name: 'forged Auth-I', prepare: () => () => p.a.receive(forged) });
  }
  // Forged data messages on an established session: a new DH ratchet, and the current chain, maxSkip − 1 keys skipped.
  {
    const p = established(b, 18);
    // Bob's first message of each new ratchet, until one is a DH ratchet (every third): kept back, forged.
    let dhMsg = '';
    for (let i = 0; i < 9 && !dhMsg; i++) {
      p.b.receive(p.a.send(`z${i}`).toSend[0]);
      const first: string = p.b.send(`y${i}`).toSend[0];
      if (b.m('codec/armour').dearmour(first).length > 400) dhMsg = first;
      else p.a.receive(first);
    }
    if (!dhMsg) throw new Error('no DH ratchet message');
    const dh = flip(b, dhMsg, (m) => ({ ...m, messageId: 999 }));
    out.push({ name: 'forged data: new DH ratchet, 999 keys skipped', prepare: () => () => p.a.receive(dh) });
    const p2 = established(b, 20);
    p2.a.receive(p2.b.send('first').toSend[0]);
    const chain = flip(b, p2.b.send('second').toSend[0], (m) => ({ ...m, messageId: 999 }));
    out.push({ name: 'forged data: current chain, 999 keys skipped', prepare: () => () => p2.a.receive(chain) });
  }
  // The largest data message receive() takes (maxMessageChars of text), MAC forged: decoded and MAC'd whole.
  {
    const p = established(b, 26);
    p.a.receive(p.b.send('first').toSend[0]);
    const big = flip(b, p.b.send('x'.repeat(770_000)).toSend[0]);
    out.push({ name: `forged data: ${(big.length / 1024).toFixed(0)} KiB of text`, prepare: () => () => p.a.receive(big) });
  }
  // SMP over an established session (the peer authenticated, not trusted).
  {
    const { TlvType } = b.m('wire/tlv');
    const { createSmp1 } = b.m('smp/steps');
    const { encodeSmp1 } = b.m('smp/messages');
    const body = (s: number) => {
      const r = seeded(s);
      return encodeSmp1(createSmp1(b.be, r, r(57), new Uint8Array(0)).message);
    };
    const p = established(b, 22);
    let s = 0;
    out.push({ name: 'OTRv4 data: one SMP1', prepare: () => { const m = sendTlvs(p.b, [{ type: TlvType.smp1, value: body(s++) }]); return () => p.a.receive(m); } });
    const q = established(b, 24);
    const tlvs = Array.from({ length: 64 }, (_, i) => ({ type: TlvType.smp1, value: body(1000 + i) }));
    out.push({ name: 'OTRv4 data: 64 SMP1 TLVs', prepare: () => { const m = sendTlvs(q.b, tlvs); return () => q.a.receive(m); } });
  }
  // An Auth-I after 100 forged early data messages (each the costliest a forger can make: 999 keys skipped),
  // under the new session's ratchet key, and each under a key of its own (session 15: the first failing key may
  // be the peer's previous session's and is passed over once, so a second failed ratchet step is the most they
  // cost).
  {
    const { generateEcdh } = b.m('crypto/ecdh');
    const r = seeded(71);
    const keys: Uint8Array[] = Array.from({ length: 100 }, () => generateEcdh(b.be, r).public);
    for (const [name, first, ownKeys] of [
      ['Auth-I after 100 forged early messages', 30, false],
      ['Auth-I after 100 forged early messages, 100 keys', 70, true],
    ] as const) {
      let seed = first;
      out.push({
        name,
        prepare: () => {
          const { p, authI } = upToAuthI(b, (seed += 2));
          for (let i = 0; i < 100; i++)
            p.a.receive(flip(b, p.b.send(`e${i}`).toSend[0], (m) => ({ ...m, messageId: 999, ...(ownKeys ? { ecdh: keys[i] } : {}) })));
          return () => p.a.receive(authI);
        },
      });
    }
  }
  // OTRv3: SMP over a session with Mallory (her own DSA key).
  {
    const v3 = v3Session(b, 40);
    const { Tlv } = b.m('v3/constants');
    const smp1 = (s: number) => b.m('v3/smp').smpStart({ backend: b.be, random: seeded(s) }, 12345n, null).send[0].value;
    let s = 0;
    out.push({ name: 'OTRv3 data: one SMP1', prepare: () => { const m = v3.tlvs([{ type: Tlv.smp1, value: smp1(s++) }]); return () => v3.victim.receive(m); } });
    const w = v3Session(b, 42);
    const tlvs: unknown[] = [];
    for (let i = 0; i < 32; i++) tlvs.push({ type: Tlv.smp1, value: smp1(500 + i) }, { type: Tlv.smpAbort, value: new Uint8Array(0) });
    out.push({ name: 'OTRv3 data: 32 × (SMP1, abort)', prepare: () => { const m = w.tlvs(tlvs); return () => w.victim.receive(m); } });
  }
  // The same for OTRv3 (AES-CTR and HMAC-SHA1 in JavaScript).
  {
    const v3 = v3Session(b, 44);
    const { Tlv } = b.m('v3/constants');
    const big: string = v3.tlvs([{ type: Tlv.padding, value: new Uint8Array(0xffff) }, ...Array.from({ length: 8 }, () => ({ type: Tlv.padding, value: new Uint8Array(0xffff) }))]);
    const bytes = b.m('codec/armour').dearmour(big).slice();
    bytes[bytes.length - 10] ^= 1; // inside the MAC (the old MAC keys field, 4 bytes, follows it)
    const forged = armour(bytes);
    out.push({ name: `forged OTRv3 data: ${(forged.length / 1024).toFixed(0)} KiB of text`, prepare: () => () => v3.victim.receive(forged) });
  }
  // A first fragment of maxFragmentChars announcing 4,096 pieces.
  {
    const p = v4Pair(b, 50);
    const { formatFragmentV4 } = b.m('codec/fragment');
    let id = 1;
    const piece = 'A'.repeat(256 * 1024 - 60);
    out.push({ name: 'first fragment (256 KiB piece)', prepare: () => { const f = formatFragmentV4({ identifier: id++, senderTag: 0x6000_0001, receiverTag: 0, index: 1, total: 4096, piece }); return () => p.a.receive(f); } });
  }
  return out.filter((c) => FILTER.test(c.name));
}

function v3Session(b: Build, seed: number): { victim: any; tlvs(t: unknown[]): string } {
  const { Account } = b.m('session/account');
  const { V3Conversation } = b.m('v3/index');
  const { dsaGenerateKey } = b.m('crypto/dsa');
  const clock = () => 1_700_000_000_000;
  const alice = Account.create({ accountId: ALICE, backend: b.be, random: seeded(seed), dsaKey: dsaKey(b, dsaGenerateKey, seed), clock, limits: OPEN });
  const victim = alice.conversation('mallory@example.org');
  const m = new V3Conversation({ backend: b.be, dsaKey: dsaKey(b, dsaGenerateKey, seed + 1), instanceTag: 0x3333_0300, random: seeded(seed + 1), now: clock });
  pump(m, victim, m.start().toSend);
  if (victim.version !== 3) throw new Error('no OTRv3 session');
  const tlvs = (t: unknown[]): string => {
    const ctx = b.m('v3/instances').currentContext(m.peerState);
    const env = { backend: b.be, random: seeded(7), ourTag: m.peerState.ourTag, theirTag: ctx.theirTag };
    const { msg } = b.m('v3/data').encryptData(env, ctx.keys, b.m('v3/tlv').encodePlaintext(new Uint8Array(0), t), 1);
    return b.m('codec/armour').armour(b.m('v3/messages').encodeMessage(msg));
  };
  const { Tlv } = b.m('v3/constants');
  victim.receive(tlvs([{ type: Tlv.smp2, value: new Uint8Array(0) }])); // both directions' key pairs derived
  return { victim, tlvs };
}

const dsaKeys = new Map<number, unknown>();
function dsaKey(b: Build, gen: (r: (n: number) => Uint8Array) => unknown, seed: number): unknown {
  void b;
  if (!dsaKeys.has(seed)) dsaKeys.set(seed, gen(seeded(seed + 99)));
  return dsaKeys.get(seed);
}

const cpuUs = (): number => {
  const c = process.cpuUsage();
  return c.user + c.system;
};
const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

const builds = await Promise.all(DIRS.map(loadBuild));
const perBuild = builds.map((b) => ({ b, cases: cases(b) }));
const names = perBuild[0]!.cases.map((c) => c.name);
const counts = new Map<string, Costs>();
const phaseMedians = new Map<string, number[]>(); // key: build index + name
for (const [i, { b, cases: cs }] of perBuild.entries())
  for (const c of cs) {
    const call = c.prepare();
    counts.set(`${i}\n${c.name}`, b.counted.measure(call).costs);
  }
for (let phase = 0; phase < PHASES; phase++) {
  const order = phase % 2 === 0 ? perBuild : [...perBuild].reverse();
  for (const name of names)
    for (const { b, cases: cs } of order) {
      const c = cs.find((x) => x.name === name)!;
      const samples: number[] = [];
      for (let s = 0; s < SAMPLES; s++) {
        const call = c.prepare();
        const t = cpuUs();
        call();
        samples.push(cpuUs() - t);
      }
      const key = `${builds.indexOf(b)}\n${name}`;
      phaseMedians.set(key, [...(phaseMedians.get(key) ?? []), median(samples)]);
    }
}
const fmt = (c: Costs) =>
  `${c.modPow3072 ? `${c.modPow3072}×3072 ` : ''}${c.modPow1536 ? `${c.modPow1536}×1536 (${c.modPowExpBits} exp. bits) ` : ''}${c.ed448Mul} Ed448, ${(c.keccakBytes / 1000).toFixed(1)} kB Keccak`;
console.log(`${BACKEND} backend, phases ${PHASES}, ${SAMPLES} samples each; builds: ${DIRS.join(' | ')}`);
for (const [i] of builds.entries()) {
  const ref = median(phaseMedians.get(`${i}\nhonest Identity (one DAKE step)`) ?? [NaN]);
  console.log(`\n${DIRS[i]}`);
  console.log('| input | primitives (one input) | CPU µs min / median | × DAKE step |');
  console.log('|---|---|---:|---:|');
  for (const name of names) {
    const ms = phaseMedians.get(`${i}\n${name}`)!;
    console.log(`| ${name} | ${fmt(counts.get(`${i}\n${name}`)!)} | ${Math.min(...ms).toFixed(0)} / ${median(ms).toFixed(0)} | ${(median(ms) / ref).toFixed(2)} |`);
  }
}
