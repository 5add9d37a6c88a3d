/**
 * Attack classes of issue 10 against the prekey server, fuzzed (a short seeded run of the engine in
 * test/helpers/prekey-server-fuzz.ts; `npm run fuzz:prekey` is the long one). Mutated, truncated, oversized,
 * bit-flipped and spliced client messages of every kind, replays, reordered DAKE steps, DAKE-3s with a genuine
 * ring signature and a tampered attachment, DAKE-1 floods under many identities and addresses, junk and
 * oversized text, hostile DSA profiles, and junk/split/pipelined/overlong lines over the TCP framing.
 * Invariants (see the engine): no exception, typed errors, well-formed answers of the right kind, nothing
 * stored without a genuine authenticated publication, no prekey handed out twice, tables within their limits.
 * The coverage assertions make sure the run reached the deep paths (a run that only hit the decoder would pass
 * the invariants vacuously).
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { WASM } from '../helpers/backends.js';
import { PrekeyServerFuzz, type FuzzFailure } from '../helpers/prekey-server-fuzz.js';
import { MemoryStore, PrekeyServer, PsType } from '../../ts/prekey-server/index.js';
import { listenTcp } from '../../ts/prekey-server/tcp.js';
import { createConnection } from 'node:net';

const show = (f: readonly FuzzFailure[]) => f.slice(0, 5).map((x) => `#${x.index} ${x.cls}: ${x.problem} [${x.input.slice(0, 120)}]`).join('\n');

test('seeded prekey-server fuzz: every invariant holds over two epochs, and the deep paths are reached', async () => {
  const fz = new PrekeyServerFuzz(WASM, 20261206);
  const failures: FuzzFailure[] = [];
  for (let e = 0; e < 2; e++) failures.push(...(await fz.epoch(e, 160)));
  assert.equal(failures.length, 0, show(failures));
  const o = fz.stats.outcomes;
  const replies = (t: number) => o[`reply 0x${t.toString(16)}`] ?? 0;
  assert.ok(replies(PsType.dake2) > 0, 'DAKE-2 answered');
  assert.ok(replies(PsType.success) > 0, 'a genuine publication succeeded');
  assert.ok(replies(PsType.failure) > 0, 'a tampered attachment got a Failure');
  assert.ok(fz.stats.handedOut > 0, 'ensembles were handed out');
  assert.ok((o['refused MALFORMED'] ?? 0) > 0 && (o['refused BAD_SIGNATURE'] ?? 0) + (o['refused STATE'] ?? 0) > 0, JSON.stringify(o));
  assert.ok(fz.stats.maxPending >= 8, `the pending table was pressed (${fz.stats.maxPending})`);
});

test('seeded prekey-server fuzz over the TCP framing: one well-formed answer per line, overlong lines refused', async () => {
  const fz = new PrekeyServerFuzz(WASM, 77);
  assert.equal(await fz.epoch(0, 40), []);
  const f = await fz.tcpRound(32);
  assert.equal(f.length, 0, show(f));
});

test('regression (found by this fuzzer): an overlong line that arrives whole is refused with LIMIT_EXCEEDED, not handed to the core', async () => {
  // The 'data' handler counted only the unfinished tail of a chunk, so a line whose newline came in the same
  // chunk skipped maxLineChars and reached the core (which answered MALFORMED or worse, did the work).
  const core = new PrekeyServer({ backend: WASM, random: (n) => new Uint8Array(n).fill(7), now: () => 1_700_000_000_000, identity: 'p.test', identitySecret: new Uint8Array(57).fill(1), store: new MemoryStore() });
  const tcp = await listenTcp(core, { maxLineChars: 1000 });
  try {
    const answer = await new Promise<string>((resolve) => {
      const s = createConnection({ port: tcp.port, host: '127.0.0.1' }, () => s.write(`x@t\t${'A'.repeat(2000)}.\n`));
      let got = '';
      s.setEncoding('utf8');
      s.on('data', (d: string) => (got += d));
      s.on('close', () => resolve(got));
      s.on('error', () => undefined);
    });
    assert.is(answer, '!LIMIT_EXCEEDED line too long\n');
  } finally {
    await tcp.close();
  }
});

test.run();
