/**
 * Issue 14's ratio targets measured by tight interleaving, for a shared machine whose load swings within
 * seconds: `node build/bench/ratios.js [--rounds N] [--json FILE] [--only REGEX]`. For each pair (A, B) the two operations
 * alternate in short batches (A, B, A, B, ...) and each round yields one ratio A/B; the median of the rounds
 * and their range are reported. The operations are the bench suites' own cases (bench/suites), looked up by
 * name and impl, so the figures mean what `npm run bench` means by those names.
 */
import { readdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { cpus, loadavg } from 'node:os';
import { loadBackend } from '../ts/backend/select.js';
import type { BenchCase, SuiteModule } from './harness.js';

const args = process.argv.slice(2);
const opt = (name: string): string | undefined => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
};
const ROUNDS = Math.max(3, Number(opt('--rounds') ?? 9) | 0);
const jsonFile = opt('--json');
/** `--only REGEX`: measure only the pairs whose label matches (a helper checking one target). */
const only = opt('--only') === undefined ? undefined : new RegExp(opt('--only')!);

const here = dirname(fileURLToPath(import.meta.url));
const ctx = { wasm: await loadBackend('wasm'), js: await loadBackend('js'), hybrid: await loadBackend('hybrid') };
const cases: BenchCase[] = [];
for (const f of readdirSync(join(here, 'suites')).filter((f) => f.endsWith('.js')).sort()) {
  if (f === 'hostile.js' || f === 'v3.js' || f === 'offline.js' || f === 'smp.js' || f === 'eddsa.js' || f === 'shake256.js') continue;
  const mod = (await import(pathToFileURL(join(here, 'suites', f)).href)) as SuiteModule;
  cases.push(...(await mod.cases(ctx)));
}
const find = (name: string, impl: string): BenchCase => {
  const c = cases.find((c) => c.name === name && c.impl === impl);
  if (!c) throw new Error(`no bench case ${name} [${impl}]`);
  return c;
};

/** µs per call of `fn` over a batch lasting about `ms` milliseconds (at least 2 calls). */
function batch(fn: () => unknown, ms: number): number {
  let n = 0;
  const t0 = performance.now();
  let t = t0;
  while (n < 2 || t - t0 < ms) {
    fn();
    n++;
    t = performance.now();
  }
  return ((t - t0) * 1000) / n;
}

interface Pair {
  label: string;
  a: [string, string];
  b: [string, string];
  goal: string;
  ok: (x: number) => boolean;
}

const pairs: Pair[] = [
  { label: 'dake.interactive: wasm / hybrid (speed-up)', a: ['dake.interactive', 'wasm'], b: ['dake.interactive', 'hybrid'], goal: '>= 1.5', ok: (x) => x >= 1.5 },
  { label: 'dake.interactive hybrid / dh3072.shared native', a: ['dake.interactive', 'hybrid'], b: ['dh3072.shared', 'native'], goal: '<= 14', ok: (x) => x <= 14 },
  { label: 'dake.interactive wasm / dh3072.shared native', a: ['dake.interactive', 'wasm'], b: ['dh3072.shared', 'native'], goal: '(was 29-40)', ok: () => true },
  { label: 'ratchet.pingpong: wasm / hybrid (speed-up)', a: ['ratchet.pingpong', 'wasm'], b: ['ratchet.pingpong', 'hybrid'], goal: '>= 1.5', ok: (x) => x >= 1.5 },
  { label: 'rsig.sign / ed448.varmult (wasm)', a: ['rsig.sign', 'wasm'], b: ['ed448.varmult', 'wasm'], goal: '<= 4.5', ok: (x) => x <= 4.5 },
  { label: 'rsig.verify / ed448.varmult (wasm)', a: ['rsig.verify', 'wasm'], b: ['ed448.varmult', 'wasm'], goal: '<= 3.5', ok: (x) => x <= 3.5 },
  { label: 'dh3072.shared: hybrid / native', a: ['dh3072.shared', 'hybrid'], b: ['dh3072.shared', 'native'], goal: '<= 1.1', ok: (x) => x <= 1.1 },
  { label: 'chacha20.1m: hybrid / native', a: ['chacha20.1m', 'hybrid'], b: ['chacha20.1m', 'native'], goal: '<= 1.1', ok: (x) => x <= 1.1 },
  { label: 'ed448.varmult: wasm / native (X448)', a: ['ed448.varmult', 'wasm'], b: ['ed448.varmult', 'native'], goal: '<= 2', ok: (x) => x <= 2 },
  { label: 'dh3072.shared: wasm / native', a: ['dh3072.shared', 'wasm'], b: ['dh3072.shared', 'native'], goal: '<= 2', ok: (x) => x <= 2 },
  { label: 'dh3072.keygen: wasm / native', a: ['dh3072.keygen', 'wasm'], b: ['dh3072.keygen', 'native'], goal: '(g = 2)', ok: () => true },
  { label: 'hmac-sha1.64k: js / wasm (speed-up)', a: ['hmac-sha1.64k', 'js'], b: ['hmac-sha1.64k', 'wasm'], goal: '(session 14)', ok: () => true },
  { label: 'hmac-sha1.64k: wasm / native', a: ['hmac-sha1.64k', 'wasm'], b: ['hmac-sha1.64k', 'native'], goal: '(session 14)', ok: () => true },
  { label: 'data.100: hybrid / wasm', a: ['data.100', 'hybrid'], b: ['data.100', 'wasm'], goal: '(same path below 6 KiB)', ok: () => true },
];

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[s.length >> 1]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

const out: Record<string, unknown>[] = [];
process.stderr.write(`node ${process.version}, ${cpus()[0]?.model}, load average ${loadavg().map((x) => x.toFixed(1)).join(' ')}\n`);
for (const p of pairs) {
  if (only && !only.test(p.label)) continue;
  const A = find(...p.a);
  const B = find(...p.b);
  A.fn();
  B.fn();
  const ms = Math.max(50, Math.min(400, batch(A.fn, 1) / 1000 * 3)); // about three calls of the slower side, within bounds
  const ra: number[] = [];
  const rb: number[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    const first = r % 2 === 0;
    const x = first ? batch(A.fn, ms) : 0;
    const y = batch(B.fn, ms);
    const z = first ? x : batch(A.fn, ms);
    ra.push(z);
    rb.push(y);
  }
  const ratios = ra.map((a, i) => a / rb[i]!);
  const m = median(ratios);
  const line = `${p.label.padEnd(50)} ${m.toFixed(2).padStart(7)}×  (range ${Math.min(...ratios).toFixed(2)}–${Math.max(...ratios).toFixed(2)}; A ${median(ra).toFixed(1)} µs, B ${median(rb).toFixed(1)} µs)  goal ${p.goal}: ${p.ok(m) ? 'MET' : 'MISSED'}`;
  console.log(line);
  out.push({ label: p.label, a: p.a, b: p.b, ratioMedian: m, ratios, aUsMedian: median(ra), bUsMedian: median(rb), goal: p.goal, met: p.ok(m) });
}
if (jsonFile) {
  writeFileSync(jsonFile, JSON.stringify({ node: process.version, cpu: cpus()[0]?.model ?? 'unknown', loadavg: loadavg(), rounds: ROUNDS, pairs: out }, null, 2));
  console.log(`\nwrote ${jsonFile}`);
}
