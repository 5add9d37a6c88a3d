/**
 * A suite against a private PostgreSQL server (test/helpers/postgres.ts): started before the tests with an
 * admin connection for the hostile writer, stopped after them once what `closing` returns (the suite's stores,
 * pools and proxies) has closed. Written once for the attack suites that each need their own server.
 */
import pg from 'pg';
import { startPostgres, type PostgresServer } from './postgres.js';
import { setupSuite } from './setup-suite.js';

export function postgresSuite(
  name: string,
  started: (server: PostgresServer, admin: pg.Client) => void,
  closing: () => Promise<unknown>[],
): ReturnType<typeof setupSuite> {
  let server: PostgresServer | undefined;
  let admin: pg.Client | undefined;
  return setupSuite(
    name,
    async () => {
      server = await startPostgres();
      admin = new pg.Client({ connectionString: server.url });
      await admin.connect();
      started(server, admin);
    },
    async () => {
      await Promise.all(closing());
      await admin?.end();
      await server?.stop();
    },
  );
}
