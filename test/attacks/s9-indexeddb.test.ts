/**
 * Session 9 robustness of the IndexedDB store in Debian's Chromium, driven like s8-indexeddb.test.ts: the page
 * test/browser/pages/s9-indexeddb.ts does the work in the browser and answers. forget() of a sealed row that
 * does not open (test/attacks/s9-forget-unreadable.ts, shared with the other stores).
 */
import * as assert from 'uvu/assert';
import type { Page } from 'playwright-core';
import { assertChromium, buildPage, launch, openAndWait, startServer, type Browser, type StaticServer } from '../browser/harness.js';
import type { OtrS9Idb } from '../browser/pages/s9-indexeddb.js';
import { setupSuite } from '../helpers/setup-suite.js';

let server: StaticServer;
let browser: Browser;
const PAGE = '/test/browser/pages/s9-indexeddb.html';

const { test, run } = setupSuite(
  's9-indexeddb',
  async () => {
    assertChromium();
    await buildPage('s9-indexeddb');
    server = await startServer();
    browser = await launch({ wasm: true });
  },
  async () => {
    await browser?.close();
    await server?.close();
  },
);

type Api = { otrS9Idb: OtrS9Idb };
async function page(): Promise<Page> {
  return (await openAndWait<boolean>(browser, `${server.url}${PAGE}`, 'otrS9Idb')).page;
}

test('IndexedDB: forget() deletes a sealed row that does not open, and never a racing writer\'s newer row', async () => {
  const p = await page();
  const got = await p.evaluate(() => (globalThis as unknown as Api).otrS9Idb.forgetUnreadable());
  assert.is(Object.keys(got).length, 2);
  for (const [name, result] of Object.entries(got)) assert.is(result, 'held', name);
  assert.equal(browser.errors, []);
});

run();
