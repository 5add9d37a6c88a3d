/**
 * Session 15: the pool's `resourceLimits` option (V8 limits per worker) was handed to node:worker_threads as
 * given, and Node 20 does not check it: a value that is not a number or a misspelt key is ignored without a
 * word (the host believes its workers are bounded; they are not), a stack below ~0.3 MB ends the host's whole
 * process while the worker bootstraps (an uncatchable RangeError, 'error' listener or not), a code range V8
 * cannot reserve ends it too (fatal OOM), and a stack of 1e6 MB makes start() reject with an untyped EAGAIN.
 * Now start() checks every limit (known keys, finite numbers, RESOURCE_LIMIT_BOUNDS) and refuses the rest with
 * OtrArgumentError before any thread exists; the smallest stack allowed (1 MB) runs the library.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { OtrArgumentError } from '../../ts/index.js';
import { OtrPool, type PoolOptions } from '../../ts/pool/index.js';
import { RESOURCE_LIMIT_BOUNDS } from '../../ts/pool/pool.js';
import { poolPair, pumpPool } from '../helpers/pool-pair.js';

const ENV = new URL('../helpers/pool-env.js', import.meta.url);
const POOL_MODULE = new URL('../../ts/pool/index.js', import.meta.url).href;

/** start() with `limits`: the error it rejects with, or 'started' (the pool is closed again at once). */
async function startWith(limits: unknown): Promise<unknown> {
  try {
    const pool = await OtrPool.start({ workers: 1, backend: 'js', resourceLimits: limits } as PoolOptions);
    await pool.close();
    return 'started';
  } catch (e) {
    return e;
  }
}

test('limits that would end the host process are refused at start, in a process that lives to say so', () => {
  // In a child process: before the check, each of these ended the process that called start().
  const cases = [{ stackSizeMb: 0.1 }, { stackSizeMb: 0.25 }, { codeRangeSizeMb: 1e9 }, { stackSizeMb: 1e6 }];
  const script = `
    const { OtrPool } = await import(${JSON.stringify(POOL_MODULE)});
    const out = [];
    for (const resourceLimits of ${JSON.stringify(cases)}) {
      try { const p = await OtrPool.start({ workers: 1, backend: 'js', resourceLimits }); await p.close(); out.push('started'); }
      catch (e) { out.push(e?.constructor?.name + ' ' + e?.code); }
    }
    console.log(JSON.stringify(out));`;
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', timeout: 60_000 });
  assert.is(r.status, 0, `the host process ended: ${r.stderr.split('\n').slice(0, 4).join(' | ')}`);
  const lines = r.stdout.trim().split('\n');
  assert.equal(JSON.parse(lines[lines.length - 1]!), cases.map(() => 'OtrArgumentError INVALID_ARGUMENT'));
});

test('limits Node would ignore or misread are refused with OtrArgumentError, nothing started', async () => {
  const getter = Object.defineProperty({}, 'stackSizeMb', { enumerable: true, get: () => 4 });
  const throwing = new Proxy({}, { ownKeys: () => { throw new Error('proxy keys'); }, getPrototypeOf: () => { throw new Error('proxy proto'); } });
  const hostile: unknown[] = [
    { maxYoungGenerationSizeMb: 'x' }, // ignored by Node: the worker ran with the default
    { maxOldGenerationSizeMb: NaN },
    { maxOldGenerationSizeMb: Infinity },
    { maxYoungGenerationSizeMb: -5 },
    { maxYoungGenerationSizeMb: 0 },
    { maxOldGenerationSizeMb: 0.5 },
    { codeRangeSizeMb: -1 },
    { stackSizeMb: 65 },
    { stackSizeMb: 4n },
    { stackSizeMb: new Number(4) },
    { maxOldSpaceSizeMb: 64 }, // a misspelt key: ignored by Node
    { [Symbol('stackSizeMb')]: 4 },
    { __proto__: { stackSizeMb: 4 }, maxOldGenerationSizeMb: 64 }, // not a plain object
    getter, // a getter is not called
    throwing,
    [4],
    42,
    'stackSizeMb=4',
    null,
    new Map([['stackSizeMb', 4]]),
  ];
  for (const limits of hostile) {
    const e = await startWith(limits);
    assert.ok(e instanceof OtrArgumentError, `case ${hostile.indexOf(limits)}: ${e === 'started' ? 'started' : String(e)}`);
  }
});

test('the smallest stack allowed runs the library: a DAKE and messages both ways', async () => {
  assert.equal(RESOURCE_LIMIT_BOUNDS.stackSizeMb[0], 1);
  const limits = { stackSizeMb: 1, maxYoungGenerationSizeMb: 1, maxOldGenerationSizeMb: 256, codeRangeSizeMb: 0 };
  const { pool, a, b } = await poolPair(ENV, { resourceLimits: limits }, 1);
  try {
    for (let i = 0; i < 5; i++) {
      const sent = await a.send(`over a small stack ${i}`);
      const got = await b.receive(sent.toSend[0]!);
      assert.equal(got.messages.map((m) => m.text), [`over a small stack ${i}`]);
      const back = await b.send(`and back ${i}`);
      assert.equal((await a.receive(back.toSend[0]!)).messages.map((m) => m.text), [`and back ${i}`]);
    }
    await pumpPool(a, b, await a.startDake()); // a second DAKE over the same stack
    assert.is((await a.info()).state, 'ENCRYPTED_MESSAGES');
    assert.is(pool.stats().workers[0]!.restarts, 0);
  } finally {
    await pool.close();
  }
});

test('every bound itself starts a worker; the host changing its object later changes nothing checked', async () => {
  for (const [key, [lo, hi]] of Object.entries(RESOURCE_LIMIT_BOUNDS)) {
    // The upper heap bounds are reservations V8 caps; the stack's upper bound is a real 64 MB thread stack.
    for (const v of [lo, hi]) assert.is(await startWith({ [key]: v }), 'started', `${key} = ${v}`);
  }
  const limits: Record<string, unknown> = { stackSizeMb: 2 };
  const pool = await OtrPool.start({ workers: 1, backend: 'js', environment: ENV, resourceLimits: limits as PoolOptions['resourceLimits'] });
  try {
    limits.stackSizeMb = 0.1; // would end this process at the next restart if the pool kept the host's object
    limits.bogus = 1;
    // A 'doomed…' account ends its worker when it first draws randomness (test/helpers/pool-env.ts): a restart.
    const dying = await pool.createAccount({ accountId: 'doomed@example.org', dsaKey: null }).then(() => 'created', (e: unknown) => e);
    assert.is((dying as { reason?: string }).reason, 'worker-exit');
    await pool.createAccount({ accountId: 'x@example.org', dsaKey: null });
    assert.is(pool.stats().workers[0]!.restarts, 1);
    assert.is(pool.stats().workers[0]!.running, true);
  } finally {
    await pool.close();
  }
});

test.run();
