/**
 * One bench case in a worker thread of its own (the CLI's `--isolate REGEX`): its own V8 heap, so what it
 * measures is not slowed by the garbage and live objects of the other cases in the run. A bridge process
 * holds one store's conversations; in one thread, `bridge.message` on the memory store also marked the
 * SQLite and PostgreSQL cases' thousands of live sessions at every mark-compact (docs/stores.md, "What the
 * CLI measures"). The CLI drives the case round by round, one thread measuring at a time, so cases still run
 * one after the other in the same stretch of machine load.
 *
 * Protocol (workerData: { filter, index, name, impl, quick }): the CLI posts 'setup', 'round' (answered with
 * a BenchResult), 'teardown'; each is answered with { ok: true, result? } or { ok: false, error }.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { benchContext, collectCases, measureRound } from './measure.js';

const { filter, index, name, impl, quick } = workerData as { filter: string; index: number; name: string; impl: string; quick: boolean };
const port = parentPort!;
const cases = await collectCases(await benchContext(), new RegExp(filter));
const c = cases[index];

port.on('message', async (op: 'setup' | 'round' | 'teardown') => {
  try {
    if (!c || c.name !== name || c.impl !== impl) throw new Error(`case ${index} is not ${name} [${impl}] in this thread`);
    if (op === 'setup') await c.setup?.();
    else if (op === 'teardown') await c.teardown?.();
    port.postMessage({ ok: true, ...(op === 'round' ? { result: await measureRound(c, quick) } : {}) });
  } catch (e) {
    port.postMessage({ ok: false, error: e instanceof Error ? (e.stack ?? e.message) : String(e) });
  }
});
port.postMessage({ ok: true });
