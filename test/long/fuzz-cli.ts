/**
 * The command line the long fuzzers share: `[iterations] [--from N] [--js] [--seed S]` plus any numeric
 * flags of their own. `--from` must start an epoch (every input is a pure function of seed and position and
 * the state is restored at each epoch start), so `replay()` names the command that reruns one failure exactly.
 * A bad command line prints the usage and exits with 2.
 */
export interface FuzzArgs {
  readonly iterations: number;
  readonly from: number;
  readonly seed: number;
  readonly useJs: boolean;
  /** The script's own numeric flags, by name without the dashes. */
  readonly extra: Readonly<Record<string, number>>;
  /** The command that reruns `count` inputs from the epoch start `from`. */
  replay(from: number, count: number): string;
}

export function fuzzArgs(script: string, epoch: number, defaultIterations: number, extraDefaults: Record<string, number> = {}): FuzzArgs {
  const args = process.argv.slice(2);
  const flag = (name: string): string | undefined => {
    const i = args.indexOf(name);
    return i >= 0 ? args.splice(i, 2)[1] : undefined;
  };
  const useJs = args.includes('--js') ? (args.splice(args.indexOf('--js'), 1), true) : false;
  const from = Number(flag('--from') ?? 0);
  const seed = Number(flag('--seed') ?? 1);
  const extra: Record<string, number> = {};
  for (const [name, d] of Object.entries(extraDefaults)) extra[name] = Number(flag(`--${name}`) ?? d);
  const iterations = Number(args[0] ?? defaultIterations);
  if (!Number.isInteger(iterations) || iterations <= 0 || !Number.isInteger(from) || from < 0 || from % epoch !== 0 || Object.values(extra).some((v) => !(v > 0))) {
    const own = Object.keys(extraDefaults).map((n) => ` [--${n} K]`).join('');
    console.error(`usage: ${script} [iterations] [--from N (a multiple of ${epoch})] [--js] [--seed S]${own}`);
    process.exit(2);
  }
  return {
    iterations,
    from,
    seed,
    useJs,
    extra,
    replay: (start, count) => `node build/test/long/${script} ${count} --from ${start} --seed ${seed}${useJs ? ' --js' : ''}`,
  };
}
