/**
 * Session 9 robustness on PostgreSQL (a private server: test/helpers/postgres.ts): forget() of a sealed row that
 * does not open (the cases of test/attacks/s9-forget-unreadable.ts, plus a bit flipped by SQL at the same
 * generation), and a connection lost while COMMIT was in flight (test/attacks/s9-pg-lost-commit.test.ts).
 */
import * as assert from 'uvu/assert';
import pg from 'pg';
import { openPostgresStore, type PostgresStore } from '../../ts/store/postgres.js';
import { openStoredAccount } from '../../ts/session/account-store.js';
import { settledAs } from '../helpers/settled.js';
import { startPostgres, type PostgresServer } from '../helpers/postgres.js';
import { setupSuite } from '../helpers/setup-suite.js';
import { WASM } from '../helpers/backends.js';
import { forgetUnreadableCases } from './s9-forget-unreadable.js';

let server: PostgresServer;
let admin: pg.Client;
const opened: PostgresStore[] = [];

const { test, run } = setupSuite(
  's9-postgres',
  async () => {
    server = await startPostgres();
    admin = new pg.Client({ connectionString: server.url });
    await admin.connect();
  },
  async () => {
    await Promise.all(opened.map((s) => s.close()));
    await admin?.end();
    await server?.stop();
  },
);

async function store(table: string): Promise<PostgresStore> {
  const s = await openPostgresStore({ connectionString: server.url, max: 2, table });
  opened.push(s);
  return s;
}

let tables = 0;
for (const [name, run] of forgetUnreadableCases({ backend: WASM, dsaKey: null })) test(`PostgreSQL: ${name}`, () => run(() => store(`s9_forget_${tables++}`)));

test('PostgreSQL: a sealed row with a bit flipped by SQL at its own generation is BAD_MAC, and forget() deletes it', async () => {
  const s = await store('s9_flip');
  const options = { account: { backend: WASM, dsaKey: null }, create: true, sealKey: Uint8Array.from({ length: 32 }, (_, i) => 0x77 ^ i) };
  const setup = await openStoredAccount(s, 'alice@x', options);
  await setup.conversation('bob@x');
  await setup.commit(setup.account.changes({ all: true }));
  // The conversation's row is the one written second (generation 1 both; the account's is bigger).
  const rows = (await admin.query('SELECT account, key, generation::text AS generation, bytes FROM s9_flip ORDER BY octet_length(bytes)')).rows;
  await setup.close();
  const conv = rows[0]!;
  const flipped = Buffer.from(conv.bytes);
  flipped[flipped.length - 1]! ^= 1;
  await admin.query('UPDATE s9_flip SET bytes = $1 WHERE account = $2 AND key = $3', [flipped, conv.account, conv.key]);
  const stored = await openStoredAccount(s, 'alice@x', options);
  assert.is(await settledAs(stored.conversation('bob@x')), 'BAD_MAC');
  assert.is(await settledAs(stored.forget('bob@x')), 'ok');
  assert.is((await admin.query('SELECT count(*)::int AS n FROM s9_flip WHERE key = $1', [conv.key])).rows[0].n, 0, 'deleted');
  assert.is((await stored.conversation('bob@x')).state, 'START');
  await stored.close();
});

run();
