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

test('IndexedDB: forget() deletes a row the store refuses (oversized, generations that are none, bytes not bytes, not a record), never a valid row', async () => {
  const p = await page();
  const got = await p.evaluate(() => (globalThis as unknown as Api).otrS9Idb.forgetRefused());
  assert.is(Object.keys(got).length, 5);
  for (const [name, result] of Object.entries(got)) assert.is(result, 'held', name);
  assert.equal(browser.errors, []);
});

/** Bytes of ArrayBuffer backing stores alive in the page after a full garbage collection (DevTools protocol). */
async function backingBytes(p: Page): Promise<number> {
  const cdp = await browser.context.newCDPSession(p);
  try {
    await cdp.send('HeapProfiler.collectGarbage');
    const usage = (await cdp.send('Runtime.getHeapUsage')) as { backingStorageSize?: number };
    if (typeof usage.backingStorageSize !== 'number') throw new Error('this Chromium does not report backingStorageSize');
    return usage.backingStorageSize;
  } finally {
    await cdp.detach();
  }
}

test('IndexedDB: a 32 MiB value written behind the store is refused (LIMIT_EXCEEDED) on every load, a stale commit over it CONFLICT, nothing of it kept; a commit at its next generation replaces it', async () => {
  const p = await page();
  const name = `s9-huge-${Date.now()}`;
  await p.evaluate((n) => (globalThis as unknown as Api).otrS9Idb.huge.put(n, 32), name);
  const before = await backingBytes(p);
  const got = await p.evaluate((n) => (globalThis as unknown as Api).otrS9Idb.huge.refuse(n, 8), name);
  assert.equal(got, [...Array(8).fill('LIMIT_EXCEEDED'), 'CONFLICT']);
  // Each load read the 32 MiB value once (IndexedDB has no way to read a value's size before the value) and
  // kept nothing of it: after a collection the page holds what it held before, not 9 x 32 MiB.
  const after = await backingBytes(p);
  assert.ok(after - before < 1 << 20, `ArrayBuffer memory grew by ${after - before} bytes`);
  assert.equal(await p.evaluate((n) => (globalThis as unknown as Api).otrS9Idb.huge.replace(n), name), ['ok', '2:3']);
  assert.equal(browser.errors, []);
});

run();
