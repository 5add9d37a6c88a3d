/**
 * The long prekey-server fuzz (on demand; scripts/run-tests.mjs skips test/long): the engine of
 * test/helpers/prekey-server-fuzz.ts for as many inputs as asked, one fresh server per epoch, plus one round
 * through the real TCP framing every `--tcp-every` epochs.
 *
 *   node build/test/long/fuzz-prekey.js [iterations=100000] [--from N] [--js] [--seed S] [--tcp-every K]
 *
 * Every input is a pure function of (seed, epoch, position): `--from <epoch start>` replays a failure exactly.
 * Progress (inputs, inputs/s, the slowest single input), the coverage counters and every failure (with the
 * command that replays it) go to stdout; the exit code is 1 if anything failed.
 */
import { loadBackend } from '../../ts/backend/select.js';
import { PrekeyServerFuzz, type FuzzFailure } from '../helpers/prekey-server-fuzz.js';

const EPOCH = 256;
const args = process.argv.slice(2);
const flag = (name: string): string | undefined => {
  const i = args.indexOf(name);
  return i >= 0 ? args.splice(i, 2)[1] : undefined;
};
const useJs = args.includes('--js') ? (args.splice(args.indexOf('--js'), 1), true) : false;
const from = Number(flag('--from') ?? 0);
const seed = Number(flag('--seed') ?? 1);
const tcpEvery = Number(flag('--tcp-every') ?? 16);
const iterations = Number(args[0] ?? 100_000);
if (!Number.isInteger(iterations) || iterations <= 0 || from % EPOCH !== 0 || !(tcpEvery > 0)) {
  console.error(`usage: fuzz-prekey.js [iterations] [--from N (a multiple of ${EPOCH})] [--js] [--seed S] [--tcp-every K]`);
  process.exit(2);
}

const fz = new PrekeyServerFuzz(await loadBackend(useJs ? 'js' : 'wasm'), seed);
const failures: FuzzFailure[] = [];
const t0 = performance.now();
let last = t0;
for (let e = from / EPOCH; fz.stats.inputs < iterations; e++) {
  const f = await fz.epoch(e, EPOCH, Math.min(EPOCH, iterations - fz.stats.inputs));
  if (e % tcpEvery === 0) f.push(...(await fz.tcpRound(32)));
  for (const x of f) {
    failures.push(x);
    console.log(`FAIL epoch ${x.epoch} input ${x.index} [${x.cls}] ${x.problem}\n  input: ${x.input}\n  replay: node build/test/long/fuzz-prekey.js ${EPOCH} --from ${x.epoch * EPOCH} --seed ${seed}${useJs ? ' --js' : ''}`);
  }
  const now = performance.now();
  if (now - last > 10_000) {
    last = now;
    console.log(`${fz.stats.inputs} inputs, ${((fz.stats.inputs * 1000) / (now - t0)).toFixed(0)} inputs/s, slowest ${fz.stats.slowestMs.toFixed(1)} ms (${fz.stats.slowestClass}), ${failures.length} failures`);
  }
}
const s = (performance.now() - t0) / 1000;
console.log(`\ndone: ${fz.stats.inputs} inputs in ${s.toFixed(1)} s = ${(fz.stats.inputs / s).toFixed(0)} inputs/s (seed ${seed}, ${useJs ? 'js' : 'wasm'})`);
console.log(`slowest single input: ${fz.stats.slowestMs.toFixed(1)} ms (${fz.stats.slowestClass}); pending DAKEs peaked at ${fz.stats.maxPending}`);
console.log(`prekeys published ${fz.stats.published}, handed out ${fz.stats.handedOut}`);
console.log('inputs by class:', JSON.stringify(fz.stats.byClass));
console.log('outcomes:', JSON.stringify(fz.stats.outcomes));
console.log(failures.length ? `${failures.length} FAILURES` : 'no failures');
process.exit(failures.length ? 1 : 0);
