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
import { fuzzArgs } from './fuzz-cli.js';
import { PrekeyServerFuzz, type FuzzFailure } from '../helpers/prekey-server-fuzz.js';

const EPOCH = 256;
const { iterations, from, seed, useJs, extra, replay } = fuzzArgs('fuzz-prekey.js', EPOCH, 100_000, { 'tcp-every': 16 });
const tcpEvery = extra['tcp-every']!;

const fz = new PrekeyServerFuzz(await loadBackend(useJs ? 'js' : 'wasm'), seed);
const failures: FuzzFailure[] = [];
const t0 = performance.now();
let last = t0;
for (let e = from / EPOCH; fz.stats.inputs < iterations; e++) {
  const f = await fz.epoch(e, EPOCH, Math.min(EPOCH, iterations - fz.stats.inputs));
  if (e % tcpEvery === 0) f.push(...(await fz.tcpRound(32)));
  for (const x of f) {
    failures.push(x);
    console.log(`FAIL epoch ${x.epoch} input ${x.index} [${x.cls}] ${x.problem}\n  input: ${x.input}\n  replay: ${replay(x.epoch * EPOCH, EPOCH)}`);
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
