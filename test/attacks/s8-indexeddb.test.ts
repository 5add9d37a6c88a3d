/**
 * Session 8 review of the IndexedDB store (ts/store/indexeddb.ts) in Debian's Chromium, driven like
 * test/store-indexeddb.test.ts (test/browser/harness.ts): the page test/browser/pages/s8-indexeddb.ts does the
 * work in the browser and answers with error codes. Values and keys another script of the origin wrote, the
 * connection closed under the store, another tab upgrading the database during a commit, two tabs committing
 * one account, and
 * lazy restore through openStoredAccount (test/attacks/s8-stored-account.ts, shared with PostgreSQL).
 */
import * as assert from 'uvu/assert';
import type { Page } from 'playwright-core';
import { assertChromium, buildPage, launch, openAndWait, startServer, type Browser, type StaticServer } from '../browser/harness.js';
import type { OtrS8Idb } from '../browser/pages/s8-indexeddb.js';
import { setupSuite } from '../helpers/setup-suite.js';

let server: StaticServer;
let browser: Browser;
const PAGE = '/test/browser/pages/s8-indexeddb.html';

const { test, run } = setupSuite(
  's8-indexeddb',
  async () => {
    assertChromium();
    await buildPage('s8-indexeddb');
    server = await startServer();
    browser = await launch({ wasm: true });
  },
  async () => {
    await browser?.close();
    await server?.close();
  },
);

type Api = { otrS8Idb: OtrS8Idb };
async function page(): Promise<Page> {
  return (await openAndWait<boolean>(browser, `${server.url}${PAGE}`, 'otrS8Idb')).page;
}

const REPLACED = new Set(['no-bytes', 'bytes-string', 'bytes-int16', 'bytes-blob', 'bytes-huge']);

test('hostile values (missing fields, odd numbers, non-bytes, a Blob, null, a huge row): load MALFORMED or LIMIT, commits over them CONFLICT', async () => {
  const p = await page();
  const got = await p.evaluate(() => (globalThis as unknown as Api).otrS8Idb.values());
  for (const [k, code] of Object.entries(got)) {
    // A row at the expected generation (1) is replaced whatever its bytes were (they are never read), as on
    // SQLite and PostgreSQL; every other commit is refused.
    if (k.startsWith('commit:')) assert.is(code, REPLACED.has(k.slice(7)) ? 'accepted' : 'CONFLICT', k);
    else assert.is(code, k === 'bytes-huge' ? 'LIMIT_EXCEEDED' : 'MALFORMED', k);
  }
  assert.is(Object.keys(got).length, 30);
  assert.equal(browser.errors, []);
});

test("keys in an account's range that are not [account, text]: keys() refuses (MALFORMED), never lists a record twice", async () => {
  const p = await page();
  const got = await p.evaluate(() => (globalThis as unknown as Api).otrS8Idb.keys());
  assert.equal(got, {
    'three-part': 'MALFORMED',
    number: 'MALFORMED',
    date: 'MALFORMED',
    binary: 'MALFORMED',
    // [account, [...]] sorts after the range's upper bound [account, []]: outside it, not listed.
    'nested-array': 'accepted',
    // [account] alone is the range's lower bound: listed, and refused.
    'account-only': 'MALFORMED',
  });
});

test('the connection closed under the store: load, keys and commit reject STATE (no DOMException, no throw)', async () => {
  const p = await page();
  const got = await p.evaluate(() => (globalThis as unknown as Api).otrS8Idb.closedUnder());
  assert.equal(got, { load: 'STATE', keys: 'STATE', commit: 'STATE' });
});

test('another tab upgrading the database during a commit: the commit lands whole or not at all; then STATE, and a newer version is refused', async () => {
  const p = await page();
  const got = await p.evaluate(() => (globalThis as unknown as Api).otrS8Idb.versionChange());
  assert.is(got.atomic, 'true', JSON.stringify(got));
  assert.ok(['accepted', 'STATE'].includes(got.inFlight!), got.inFlight);
  assert.is(got.loadAfter, 'STATE');
  assert.is(got.commitAfter, 'STATE');
  assert.is(got.reopen, 'STATE');
});

test('two tabs committing one account from the same base, 12 rounds: one wins each round, the other gets CONFLICT and an event', async () => {
  const a = await page();
  const b = await browser.context.newPage();
  try {
    await b.goto(`${server.url}${PAGE}`);
    await b.waitForFunction(() => (globalThis as unknown as Partial<Api>).otrS8Idb);
    const tabs = [a, b];
    const name = `s8-tabs-${Date.now()}`;
    for (const p of tabs) await p.evaluate((n) => (globalThis as unknown as Api).otrS8Idb.tabOpen(n), name);
    assert.is((await a.evaluate((v) => (globalThis as unknown as Api).otrS8Idb.tabCommit(v), 0)).code, 'accepted');
    for (let round = 1; round <= 12; round++) {
      const gens = await Promise.all(tabs.map((p) => p.evaluate(() => (globalThis as unknown as Api).otrS8Idb.tabLoad())));
      assert.equal(gens, [round, round]);
      const results = await Promise.all(tabs.map((p, i) => p.evaluate((v) => (globalThis as unknown as Api).otrS8Idb.tabCommit(v), round * 2 + i)));
      const won = results.flatMap((r, i) => (r.code === 'accepted' ? [i] : []));
      assert.is(won.length, 1, `round ${round}: ${JSON.stringify(results)}`);
      const loser = results[1 - won[0]!]!;
      assert.is(loser.code, 'CONFLICT');
      assert.ok(loser.conflictEvents >= 1, 'the losing tab was told');
      const read = await a.evaluate(() => (globalThis as unknown as Api).otrS8Idb.tabRead());
      assert.equal(read, { conv: [round * 2 + won[0]!], account: [round * 2 + won[0]!], generation: round + 1 }, `round ${round}: both records from the winner`);
    }
  } finally {
    await b.close();
  }
});

test('openStoredAccount over IndexedDB: a conversation record that does not decode fails typed on every use and is never overwritten', async () => {
  const p = await page();
  const got = await p.evaluate(() => (globalThis as unknown as Api).otrS8Idb.storedAccount());
  assert.is(Object.keys(got).length, 2);
  for (const [name, result] of Object.entries(got)) assert.is(result, 'held', name);
  assert.equal(browser.errors, []);
});

run();
