/**
 * Reading a V8 CPU profile (node:inspector's Profiler.stop) for the bench's diagnosis tools (pool-blocks,
 * pool-longest): each sample's absolute time, each node's printable name, and the functions a set of samples
 * was in — by the function sampled (self) and by every function on its stack (inclusive, once per sample).
 */
export interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
export interface Profile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

export interface ProfileIndex {
  /** Each sample's time (µs, CLOCK_MONOTONIC as process.hrtime). */
  times: number[];
  /** "function file:line" of a node. */
  name(id: number): string;
  /** Adds sample `k` to the self and inclusive counts. */
  tally(k: number, self: Map<string, number>, incl: Map<string, number>): void;
}

export function indexProfile(p: Profile): ProfileIndex {
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const times: number[] = [];
  let t = p.startTime;
  for (const d of p.timeDeltas) times.push((t += d));
  const name = (id: number) => {
    const f = byId.get(id)!.callFrame;
    return `${f.functionName || '(anon)'} ${f.url.split('/').slice(-2).join('/')}:${f.lineNumber + 1}`;
  };
  const tally = (k: number, self: Map<string, number>, incl: Map<string, number>) => {
    const id = p.samples[k]!;
    self.set(name(id), (self.get(name(id)) ?? 0) + 1);
    const seen = new Set<string>();
    for (let x: number | undefined = id; x !== undefined; x = parent.get(x)) {
      const nm = name(x);
      if (!seen.has(nm)) incl.set(nm, (incl.get(nm) ?? 0) + 1);
      seen.add(nm);
    }
  };
  return { times, name, tally };
}

/** The `k` largest counts, "count name" each. */
export function topCounts(m: Map<string, number>, k: number): string[] {
  return [...m].sort((x, y) => y[1] - x[1]).slice(0, k).map(([f, c]) => `${c} ${f}`);
}
