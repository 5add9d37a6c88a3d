/**
 * What the main thread's longest block during bridge.pool is (session 13), measured as the bench measures it: the
 * same sessions in a one- and a two-worker pool held in one process, warmed up and run interleaved as
 * bench/suites/pool.ts's compare() does, and per op the event loop's longest delay (monitorEventLoopDelay, 1 ms
 * resolution, as the bench) beside a CPU profile of the main thread alone (node:inspector, sampling every
 * SAMPLING_US µs; the workers are not profiled, so they run as in the bench). From the profile: the longest
 * stretches in which the thread never returned to the event loop (consecutive samples that are not "(idle)"), how
 * long each was, what was sampled in it, and the longest gap between two samples in it (a sample gap is time the
 * thread did not run: the OS or the VM, not our code). The block is then what the stretch's samples say it is.
 *
 *   node build/bench/pool-longest.js [rounds=3] [samplingUs=100] [stretches=3]
 *
 * Environment as for the bench (OTR_POOL_SESSIONS, OTR_POOL_WARMUP …); OTR_POOL_PROFILES=<prefix> also writes each op's
 * profile to <prefix>-<round>-<workers>.cpuprofile (Chrome DevTools' format).
 */
import { writeFileSync } from 'node:fs';
import { Session as Inspector } from 'node:inspector';
import { monitorEventLoopDelay, PerformanceObserver } from 'node:perf_hooks';
import { indexProfile, topCounts, type Profile } from './cpu-profile.js';
import { loadedPair, op } from './suites/pool.js';

const ROUNDS = Number(process.argv[2] ?? 3);
const SAMPLING_US = Number(process.argv[3] ?? 100);
const STRETCHES = Number(process.argv[4] ?? 3);

function post<T>(s: Inspector, method: string, params?: object): Promise<T> {
  return new Promise((resolve, reject) => s.post(method, params ?? {}, (e, r) => (e ? reject(e) : resolve(r as T))));
}

/** The main thread's GC pauses (performance.now() ms): [start, duration, kind]. */
const gcs: [number, number, number][] = [];
new PerformanceObserver((l) =>
  l.getEntries().forEach((e) => gcs.push([e.startTime, e.duration, (e as { detail?: { kind?: number } }).detail?.kind ?? 0])),
).observe({ entryTypes: ['gc'] });

/** The `n` longest stretches of a profile without an idle sample, each described. */
function stretches(p: Profile, n: number, clockOffsetUs: number): string[] {
  const { times, name, tally } = indexProfile(p);
  const idle = (k: number) => {
    const f = name(p.samples[k]!);
    return f.startsWith('(idle) ') || f.startsWith('(program) ');
  };
  const runs: [number, number, number][] = [];
  for (let i = 0; i < p.samples.length; i++) {
    if (idle(i)) continue;
    let j = i;
    while (j + 1 < p.samples.length && !idle(j + 1)) j++;
    // From the last idle sample before the stretch (the loop was still waiting then) to its last busy sample.
    runs.push([times[j]! - times[Math.max(0, i - 1)]!, i, j]);
    i = j;
  }
  runs.sort((x, y) => y[0] - x[0]);
  return runs.slice(0, n).map(([span, i, j]) => {
    const self = new Map<string, number>();
    const incl = new Map<string, number>();
    let maxGap = 0;
    for (let k = i; k <= j; k++) {
      tally(k, self, incl);
      if (k > 0) maxGap = Math.max(maxGap, times[k]! - times[k - 1]!);
    }
    const from = (times[Math.max(0, i - 1)]! - clockOffsetUs) / 1000;
    const gc = gcs.filter(([s, d]) => s + d >= from && s <= from + span / 1000).map(([, d, k]) => `${d.toFixed(2)}ms(kind ${k})`);
    return `  stretch ${(span / 1000).toFixed(2)} ms, ${j - i + 1} samples, longest sample gap ${(maxGap / 1000).toFixed(2)} ms; GC pauses reported: ${gc.join(' ') || 'none'}\n    self: ${topCounts(self, 8).join('; ')}\n    inclusive: ${topCounts(incl, 16).join('; ')}`;
  });
}

async function main(): Promise<void> {
  const { p1, p2 } = await loadedPair();
  const warmup = Number(process.env.OTR_POOL_WARMUP ?? 4);
  let k = 0;
  for (let i = 0; i < warmup; i++, k++) {
    await op(p1.pool, p1.sessions, k);
    await op(p2.pool, p2.sessions, k);
  }
  const ins = new Inspector();
  ins.connect();
  await post(ins, 'Profiler.enable');
  await post(ins, 'Profiler.setSamplingInterval', { interval: SAMPLING_US });
  // The profile's clock is CLOCK_MONOTONIC µs (as process.hrtime); performance.now() is ms since the time origin.
  const clockOffsetUs = Number(process.hrtime.bigint() / 1000n) - performance.now() * 1000;
  for (let r = 0; r < ROUNDS; r++, k++) {
    for (const w of r % 2 === 0 ? ([1, 2] as const) : ([2, 1] as const)) {
      const p = w === 1 ? p1 : p2;
      await post(ins, 'Profiler.start');
      const h = monitorEventLoopDelay({ resolution: 1 });
      h.enable();
      const t = performance.now();
      await op(p.pool, p.sessions, k);
      const dt = performance.now() - t;
      h.disable();
      const { profile } = await post<{ profile: Profile }>(ins, 'Profiler.stop');
      await new Promise((res) => setTimeout(res, 5)); // the GC observer reports
      console.log(
        `round ${r + 1}, ${w} worker${w > 1 ? 's' : ''}: op ${dt.toFixed(0)} ms; event loop's longest delay ${(h.max / 1e6 - 1).toFixed(2)} ms, p99 ${(h.percentile(99) / 1e6 - 1).toFixed(2)}`,
      );
      for (const s of stretches(profile, STRETCHES, clockOffsetUs)) console.log(s);
      if (process.env.OTR_POOL_PROFILES) writeFileSync(`${process.env.OTR_POOL_PROFILES}-${r + 1}-${w}.cpuprofile`, JSON.stringify(profile));
    }
  }
  ins.disconnect();
  await p1.pool.close();
  await p2.pool.close();
}

void main();
