/**
 * Issue 14's targets, read from a bench JSON written with `--rounds N` (`node build/bench/targets.js FILE...`).
 * Each ratio is taken within one round (the cases of a round run minutes apart at most, so they share the
 * machine's load), then the median over all rounds of all files is reported with its range: on a shared,
 * noisy machine single figures are not trustworthy, ratios measured side by side are. Absolute targets
 * (data.100, data.4k) are reported as the minimum over rounds, the closest this machine gets to quiet.
 */
import { readFileSync } from 'node:fs';

interface Row {
  name: string;
  impl: string;
  usPerOp: number;
  roundsUsPerOp?: number[];
}

type Round = Map<string, number>; // `${name}|${impl}` -> µs/op

function rounds(file: string): Round[] {
  const rows = (JSON.parse(readFileSync(file, 'utf8')) as { results: Row[] }).results;
  const n = Math.max(...rows.map((r) => r.roundsUsPerOp?.length ?? 1));
  return Array.from({ length: n }, (_, i) => new Map(rows.map((r) => [`${r.name}|${r.impl}`, r.roundsUsPerOp?.[i] ?? r.usPerOp])));
}

const all = process.argv.slice(2).flatMap(rounds);

function ratio(num: string, den: string): number[] {
  return all.flatMap((r) => (r.has(num) && r.has(den) ? [r.get(num)! / r.get(den)!] : []));
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[s.length >> 1]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

interface Target {
  what: string;
  values: number[];
  ok: (x: number) => boolean;
  goal: string;
  unit?: string;
  stat?: 'median' | 'min';
}

const targets: Target[] = [
  { what: 'dake.interactive: wasm / hybrid (speed-up)', values: ratio('dake.interactive|wasm', 'dake.interactive|hybrid'), ok: (x) => x >= 1.5, goal: '>= 1.5' },
  { what: 'dake.interactive hybrid / dh3072.shared native', values: ratio('dake.interactive|hybrid', 'dh3072.shared|native'), ok: (x) => x <= 14, goal: '<= 14' },
  { what: 'ratchet.pingpong: wasm / hybrid (speed-up)', values: ratio('ratchet.pingpong|wasm', 'ratchet.pingpong|hybrid'), ok: (x) => x >= 1.5, goal: '>= 1.5' },
  { what: 'rsig.sign / ed448.varmult (wasm)', values: ratio('rsig.sign|wasm', 'ed448.varmult|wasm'), ok: (x) => x <= 4.5, goal: '<= 4.5' },
  { what: 'rsig.verify / ed448.varmult (wasm)', values: ratio('rsig.verify|wasm', 'ed448.varmult|wasm'), ok: (x) => x <= 3.5, goal: '<= 3.5' },
  { what: 'dh3072.shared: hybrid / native', values: ratio('dh3072.shared|hybrid', 'dh3072.shared|native'), ok: (x) => x <= 1.1, goal: '<= 1.1' },
  { what: 'chacha20.1m: hybrid / native', values: ratio('chacha20.1m|hybrid', 'chacha20.1m|native'), ok: (x) => x <= 1.1, goal: '<= 1.1' },
  { what: 'ed448.varmult: wasm / native (X448)', values: ratio('ed448.varmult|wasm', 'ed448.varmult|native'), ok: (x) => x <= 2, goal: '<= 2' },
  { what: 'dh3072.shared: wasm / native', values: ratio('dh3072.shared|wasm', 'dh3072.shared|native'), ok: (x) => x <= 2, goal: '<= 2' },
  { what: 'dh3072.keygen: wasm / native', values: ratio('dh3072.keygen|wasm', 'dh3072.keygen|native'), ok: (x) => x <= 2, goal: '<= 2 (not a target; g = 2 path)' },
  { what: 'data.100 wasm', values: all.flatMap((r) => (r.has('data.100|wasm') ? [r.get('data.100|wasm')!] : [])), ok: (x) => x <= 10, goal: '<= 10 (quiet machine)', unit: 'µs', stat: 'min' },
  { what: 'data.4k wasm', values: all.flatMap((r) => (r.has('data.4k|wasm') ? [r.get('data.4k|wasm')!] : [])), ok: (x) => x <= 30, goal: '<= 30 (quiet machine)', unit: 'µs', stat: 'min' },
];

console.log(`${all.length} rounds from ${process.argv.length - 2} file(s)\n`);
for (const t of targets) {
  if (t.values.length === 0) {
    console.log(`${t.what.padEnd(50)} not measured`);
    continue;
  }
  const v = t.stat === 'min' ? Math.min(...t.values) : median(t.values);
  const range = `${Math.min(...t.values).toFixed(2)}–${Math.max(...t.values).toFixed(2)}`;
  const fig = `${v.toFixed(2)}${t.unit ? ' ' + t.unit : '×'}`;
  console.log(`${t.what.padEnd(50)} ${fig.padStart(10)}  (${t.stat ?? 'median'}; range ${range}, n=${t.values.length})  goal ${t.goal}: ${t.ok(v) ? 'MET' : 'MISSED'}`);
}
