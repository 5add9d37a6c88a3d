/**
 * The pool's workers run below the main thread (workerNice, Linux): each worker thread renices itself and
 * nothing else — the main thread and the process's other threads keep their priority (on Linux,
 * setpriority(PRIO_PROCESS, 0) applies to the calling thread; a call that reniced the process would lower
 * the host's event loop with its workers). workerNice: 0 leaves the workers alone; bad values are refused.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readdirSync, readFileSync } from 'node:fs';
import { getPriority } from 'node:os';
import { OtrArgumentError } from '../ts/index.js';
import { OtrPool } from '../ts/pool/index.js';

const linux = process.platform === 'linux';

/** Nice value of every thread of this process (Linux /proc; field 19 of stat). */
function threadNices(): number[] {
  return readdirSync('/proc/self/task').map((t) => Number(readFileSync(`/proc/self/task/${t}/stat`, 'utf8').split(') ')[1]!.split(' ')[16]));
}

test('each worker runs workerNice below the main thread; the main thread and the other threads keep theirs', async () => {
  const main = getPriority(0);
  const before = linux ? threadNices() : [];
  const pool = await OtrPool.start({ workers: 2, backend: 'wasm', workerNice: 7 });
  try {
    const want = linux ? Math.min(19, main + 7) : undefined;
    for (const w of pool.stats().workers) assert.is(w.nice, want);
    assert.is(getPriority(0), main, 'the main thread was not reniced');
    if (linux) {
      const after = threadNices();
      assert.is(after.filter((n) => n === want && want !== main).length, 2, `exactly the two workers: ${after.join(' ')}`);
      assert.ok(before.every((n) => n === main) && after.filter((n) => n !== want).every((n) => n === main));
    }
    // A call still runs (the worker is alive and serving at its priority).
    const info = await pool.createAccount({ accountId: 'alice@example.org', dsaKey: null });
    assert.is(info.accountId, 'alice@example.org');
  } finally {
    await pool.close();
  }
});

test('the default lowers the workers by 10; workerNice: 0 leaves them at the main thread\'s priority', async () => {
  const main = getPriority(0);
  const byDefault = await OtrPool.start({ workers: 1, backend: 'wasm' });
  const zero = await OtrPool.start({ workers: 1, backend: 'wasm', workerNice: 0 });
  try {
    assert.is(byDefault.stats().workers[0]!.nice, linux ? Math.min(19, main + 10) : undefined);
    assert.is(zero.stats().workers[0]!.nice, undefined);
    if (linux) assert.ok(threadNices().filter((n) => n !== main).length === (main + 10 > main ? 1 : 0));
  } finally {
    await byDefault.close();
    await zero.close();
  }
});

test('workerNice must be an integer from 0 to 19', async () => {
  for (const bad of [-1, 20, 1.5, Number.NaN, '5' as unknown as number]) {
    try {
      await OtrPool.start({ workers: 1, backend: 'wasm', workerNice: bad });
      assert.unreachable(`accepted ${String(bad)}`);
    } catch (e) {
      assert.instance(e, OtrArgumentError, String(bad));
    }
  }
});

test.run();
