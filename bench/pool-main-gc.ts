/**
 * The main isolate's collections during bridge.pool's op, one build per process (session 15): a heap is per
 * process, so two builds loaded side by side (pool-ab.js) share the main isolate's collections and cannot be
 * told apart there — compare builds or host flags by alternating runs of this tool instead.
 *
 * Per op, after OTR_POOL_WARMUP warm-up ops per pool (default 4), for the one- and two-worker pools in turn:
 * the main thread's major (mark-compact) collections, the sum and longest of its GC pauses (PerformanceObserver
 * 'gc'), the event loop's longest delay, and V8's external memory (ArrayBuffer backing stores: the records and
 * packed results that arrive from the workers) at the op's start and its peak during the op (sampled every
 * 2 ms). Why external memory: V8 counts the external bytes allocated since the last mark-compact against the
 * old generation's room, and starts marking when that room falls below the young generation's capacity
 * (docs/pool.md, "Session 15: the main isolate's collections").
 *
 *   node [host flags] build/bench/pool-main-gc.js [build dir=.] [ops=6]
 */
import { monitorEventLoopDelay, PerformanceObserver } from 'node:perf_hooks';
import { getHeapStatistics } from 'node:v8';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

type PoolModule = typeof import('./suites/pool.js');
const dir = resolve(process.argv[2] ?? '.');
const OPS = Number(process.argv[3] ?? 6);
const WARMUP = Number(process.env.OTR_POOL_WARMUP ?? 4);
const MAJOR = 4; // perf_hooks constants.NODE_PERFORMANCE_GC_MAJOR

const gcs: [number, number, number][] = [];
new PerformanceObserver((l) =>
  l.getEntries().forEach((e) => gcs.push([e.startTime, e.duration, (e as { detail?: { kind?: number } }).detail?.kind ?? 0])),
).observe({ entryTypes: ['gc'] });

interface Row {
  majors: number;
  gcSum: number;
  gcMax: number;
  eldMax: number;
  extStartMb: number;
  extPeakMb: number;
}

async function main(): Promise<void> {
  const m = (await import(pathToFileURL(join(dir, 'build/bench/suites/pool.js')).href)) as PoolModule;
  const { p1, p2 } = await m.loadedPair();
  const rows: Record<'1' | '2', Row[]> = { '1': [], '2': [] };
  let peak = 0;
  const sampler = setInterval(() => {
    peak = Math.max(peak, getHeapStatistics().external_memory);
  }, 2);
  for (let k = 0; k < WARMUP + OPS; k++) {
    for (const [name, p] of [['1', p1], ['2', p2]] as const) {
      const h = monitorEventLoopDelay({ resolution: 1 });
      h.enable();
      const ext0 = getHeapStatistics().external_memory;
      peak = ext0;
      const t0 = performance.now();
      await m.op(p.pool, p.sessions, k);
      const t1 = performance.now();
      h.disable();
      await new Promise((res) => setTimeout(res, 5)); // the 'gc' observer reports asynchronously
      if (k < WARMUP) continue;
      const inside = gcs.filter(([t]) => t >= t0 && t <= t1);
      rows[name].push({
        majors: inside.filter(([, , kind]) => kind === MAJOR).length,
        gcSum: inside.reduce((x, [, d]) => x + d, 0),
        gcMax: Math.max(0, ...inside.map(([, d]) => d)),
        eldMax: h.max / 1e6 - 1,
        extStartMb: ext0 / 2 ** 20,
        extPeakMb: peak / 2 ** 20,
      });
    }
  }
  clearInterval(sampler);
  await p1.pool.close();
  await p2.pool.close();
  const fmt = (xs: number[]) => {
    const s = [...xs].sort((x, y) => x - y);
    return `${s[0]!.toFixed(1)} / ${s[s.length >> 1]!.toFixed(1)} / ${s[s.length - 1]!.toFixed(1)}`;
  };
  console.log(`${dir}, flags [${process.execArgv.join(' ')}], ${OPS} ops per pool after ${WARMUP} warm-up; min / median / max per op (ms, MiB)`);
  const keys = Object.keys(rows['1'][0]!) as (keyof Row)[];
  console.log(['workers', 'majors per op', ...keys.slice(1)].join('\t'));
  for (const n of ['1', '2'] as const) {
    const r = rows[n];
    console.log([n, (r.reduce((x, y) => x + y.majors, 0) / r.length).toFixed(2), ...keys.slice(1).map((key) => fmt(r.map((x) => x[key])))].join('\t'));
  }
}

void main();
