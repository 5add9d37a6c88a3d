/**
 * The trust store's evictions in two builds, in one process (session 11, docs/security.md "the trust store's
 * trim"): restoring a record of 9,000 peers with one OTRv4 key each under the default 2 MiB bound (all
 * strangers, all contacts, all verified), and a flood of 1,000 new identities admitted at the bound behind
 * 4,000 contacts. Batches alternate between the builds (the order flips every phase), timed by this thread's
 * CPU; prints ms per restore (µs per admission), min and median over the phases, per build.
 *
 *   node build/bench/trust-trim-ab.js <build dir A> <build dir B> [phases=8]
 */
import { randomBytes } from 'node:crypto';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

const [dirA, dirB] = [process.argv[2], process.argv[3]].map((d) => resolve(d ?? '.'));
const PHASES = Number(process.argv[4] ?? 8);
const PEERS = 9_000;
const BOUND = 2 << 20;

interface Store {
  observe(peer: string, version: 4, fp: string, now: number): unknown;
  markContact(peer: string): void;
}
interface StoreClass {
  new (maxPeers: number, maxPerPeer: number, maxBytes: number): Store;
  fromValue(v: unknown, maxPeers: number, maxPerPeer: number, maxBytes: number): Store & { peers: string[] };
}

const hex = () => randomBytes(56).toString('hex');

function record(kind: 'stranger' | 'contact' | 'verified'): unknown[] {
  return Array.from({ length: PEERS }, (_, i) => {
    const fp = hex();
    return {
      peer: `m${i}@evil.example.net`,
      v4: fp,
      v3: null,
      known: [{ fp, first: 1 + i, last: 1 + i, trust: kind === 'verified' ? 'verified-hand' : 'unverified' }],
      contact: kind === 'contact' ? true : undefined,
    };
  });
}

/** A store at its bound: 4,000 contacts used long ago, then strangers up to the bound. */
function fullStore(S: StoreClass): Store {
  const s = new S(100_000, 16, BOUND);
  for (let i = 0; i < 4_000; i++) {
    s.observe(`c${i}@example.org`, 4, hex(), i);
    s.markContact(`c${i}@example.org`);
  }
  for (let i = 0; i < 2_000; i++) s.observe(`w${i}@evil.example.net`, 4, hex(), 10_000 + i);
  return s;
}

const cpuMs = (f: () => void): number => {
  const t = process.cpuUsage();
  f();
  const u = process.cpuUsage(t);
  return (u.user + u.system) / 1000;
};

async function main(): Promise<void> {
  const load = async (dir: string) => (await import(pathToFileURL(join(dir, 'build/ts/session/fingerprints.js')).href)).LastSeenFingerprints as StoreClass;
  const builds = { A: await load(dirA!), B: await load(dirB!) };
  const records = { stranger: record('stranger'), contact: record('contact'), verified: record('verified') };
  const times: Record<string, number[]> = {};
  const add = (k: string, v: number) => (times[k] ??= []).push(v);
  for (let phase = 0; phase < PHASES; phase++) {
    const order = phase % 2 === 0 ? (['A', 'B'] as const) : (['B', 'A'] as const);
    for (const b of order) {
      const S = builds[b];
      for (const [kind, rec] of Object.entries(records)) {
        let kept = 0;
        add(`${b} restore 9,000 ${kind} (ms)`, cpuMs(() => (kept = S.fromValue(rec, 100_000, 16, BOUND).peers.length)));
        if (kept >= PEERS) throw new Error('nothing was trimmed');
      }
      const s = fullStore(S);
      const FLOOD = 1_000;
      add(`${b} admission behind 4,000 contacts (µs)`, (cpuMs(() => {
        for (let i = 0; i < FLOOD; i++) s.observe(`n${phase}-${i}@evil.example.net`, 4, hex(), 20_000 + i);
      }) * 1000) / FLOOD);
    }
  }
  const med = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  for (const [k, xs] of Object.entries(times).sort()) console.log(`${k.padEnd(44)} min ${Math.min(...xs).toFixed(2).padStart(8)}  median ${med(xs).toFixed(2).padStart(8)}`);
}

void main();
