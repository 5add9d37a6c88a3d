/**
 * The IndexedDB store (ts/store/indexeddb.ts) in a real Chromium, driven through playwright-core the way
 * test/chromium.test.ts drives its pages (test/browser/harness.ts: Debian's Chromium, loopback only). The page
 * (test/browser/pages/store-indexeddb.ts) runs the shared contract plain and sealed, writes records that must
 * survive a reload, and answers for values written behind the store's back. Chromium is required: without it
 * this suite fails with the install command (apt-get install -y chromium), it never skips.
 */
import * as assert from 'uvu/assert';
import { assertChromium, buildPage, launch, openAndWait, startServer, type Browser, type StaticServer } from './browser/harness.js';
import type { OtrStoreIdb } from './browser/pages/store-indexeddb.js';
import { setupSuite } from './helpers/setup-suite.js';

let server: StaticServer;
let browser: Browser;

const { test, run } = setupSuite(
  'store-indexeddb',
  async () => {
    assertChromium();
    await buildPage('store-indexeddb');
    server = await startServer();
    browser = await launch({ wasm: true });
  },
  async () => {
    await browser?.close();
    await server?.close();
  },
);

async function page() {
  const { page } = await openAndWait<boolean>(browser, `${server.url}/test/browser/pages/store-indexeddb.html`, 'otrStoreIdb');
  return page;
}

type Api = { otrStoreIdb: OtrStoreIdb };

test('values written behind the store (another script of the origin): typed errors, never a crash', async () => {
  const p = await page();
  const got = await p.evaluate(() => (globalThis as unknown as Api).otrStoreIdb.hostile());
  assert.equal(got, {
    'not-object': 'MALFORMED',
    'gen-string': 'MALFORMED',
    'gen-zero': 'MALFORMED',
    'gen-huge': 'MALFORMED',
    'bytes-array': 'MALFORMED',
    'bytes-buffer': 'MALFORMED',
    'bytes-oversized': 'LIMIT_EXCEEDED',
    'keys-too-many': 'LIMIT_EXCEEDED',
    'keys-too-long': 'MALFORMED',
    'commit-over-hostile': 'CONFLICT',
  });
  assert.equal(browser.errors, []);
});

test('sealed rows edited in IndexedDB (bit flip, moved to another record, generation edited): BAD_MAC; names hidden', async () => {
  const p = await page();
  const got = await p.evaluate(() => (globalThis as unknown as Api).otrStoreIdb.tamper());
  assert.equal(got, { flip: 'BAD_MAC', moved: 'BAD_MAC', generation: 'BAD_MAC', restored: 'accepted', dumpShowsNames: 'false' });
});

test('the RecordStore contract on IndexedDB, plain and sealed', async () => {
  const p = await page();
  for (const which of ['contract', 'sealedContract'] as const) {
    const results = await p.evaluate((w) => (globalThis as unknown as Api).otrStoreIdb[w](), which);
    assert.ok(results.length >= 9, `${which}: every case ran`);
    assert.equal(results.filter((r) => r.error), [], `${which}: failing cases`);
  }
});

test('committed records survive a page reload (durability strict), sealed through openAccountRecords', async () => {
  const p = await page();
  assert.is(await p.evaluate(() => (globalThis as unknown as Api).otrStoreIdb.write(25)), 25);
  const again = await page();
  const got = await again.evaluate(() => (globalThis as unknown as Api).otrStoreIdb.read());
  assert.equal(got, { generation: 25, ok: true, keys: ['conv:bob'] });
});

run();
