/**
 * The library in a real browser (headless Debian Chromium through playwright-core), not assumed from Node:
 *   - the known-answer suites (RFC 8032 Ed448, FIPS 202 SHAKE-256, RFC 8439 ChaCha20, 3072-bit DH against
 *     node:crypto) and a full DAKE + ratchet conversation run in the page on the WASM backend, and again in a
 *     Chromium without WebAssembly (--noexpose_wasm), where init() must report and use the JS backend;
 *   - the package imported by an esbuild-bundled app, a Vite-built app and a plain <script type="module">
 *     loading dist/otr.browser.js, each on both backends;
 *   - the demo page (web/): a screenshot showing the SSID and backend, and a visible error when init() fails.
 * Named chromium.test.ts (not browser.test.ts) because scripts/run-tests.mjs ignores paths matching "browser".
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { JS, WASM } from './helpers/backends.js';
import {
  ROOT,
  assertChromium,
  buildBundles,
  buildConsumers,
  buildSuitePage,
  launch,
  openAndWait,
  startServer,
  type Browser,
  type StaticServer,
} from './browser/harness.js';
import { makeCases, type ExpectedCase } from './browser/cases.js';
import { runConversation, CONVERSATION_SCRIPT, type ConversationTranscript } from './browser/pages/conversation.js';
import { runAccountConversation, type AccountTranscript } from './browser/pages/account.js';
import type { OtrSuite } from './browser/pages/suite.js';
import { init as nodeInit } from '../ts/index.js';
import type { PageResult } from './browser/pages/ops.js';

const SEED = 0x0b10_5e25;
const CONVERSATION_SEED = 0x00c0_ffee;

let server: StaticServer;
let withWasm: Browser;
let noWasm: Browser;
let cases: ExpectedCase[];
let nodeTranscript: ConversationTranscript;
let nodeAccountTranscript: AccountTranscript;

const t = suite('chromium');
/** uvu swallows errors thrown by hooks, so setup keeps its error and every test rethrows it, loudly. */
let setupError: unknown;

t.before(async () => {
  try {
    assertChromium();
    buildBundles();
    await Promise.all([buildSuitePage(), buildConsumers()]);
    server = await startServer();
    [withWasm, noWasm] = await Promise.all([launch({ wasm: true }), launch({ wasm: false })]);
    cases = makeCases(SEED);
    nodeTranscript = runConversation(WASM, CONVERSATION_SEED);
    await nodeInit({ backend: 'wasm' });
    nodeAccountTranscript = runAccountConversation(CONVERSATION_SEED);
  } catch (e) {
    setupError = e;
  }
});

function test(name: string, fn: () => unknown): void {
  t(name, async () => {
    if (setupError) throw setupError;
    await fn();
  });
}


t.after(async () => {
  await Promise.all([withWasm?.close(), noWasm?.close()]);
  await server?.close();
});

/** Loads the in-page suite and calls init(options) in it; returns the page and what init reported. */
async function suitePage(b: Browser, options?: { backend: 'wasm' | 'js' }) {
  const { page } = await openAndWait<boolean>(b, `${server.url}/test/browser/pages/suite.html`, 'otrSuite');
  const init = await page.evaluate((o) => (globalThis as unknown as { otrSuite: OtrSuite }).otrSuite.init(o), options);
  return { page, init };
}

function assertCases(results: PageResult[], label: string): void {
  assert.is(results.length, cases.length, `${label}: one result per case`);
  const failed = results.filter((r, i) => r.id !== cases[i]!.id || r.got !== cases[i]!.expected);
  assert.equal(
    failed.map((r) => r.id),
    [],
    `${label}: failing cases: ${failed.map((r) => `${r.id} got ${r.got.slice(0, 80)}`).join('; ')}`,
  );
}

test('Node reference: the same conversations are byte-identical on both Node backends', async () => {
  assert.equal(runConversation(JS, CONVERSATION_SEED), nodeTranscript);
  assert.equal(nodeTranscript.received, CONVERSATION_SCRIPT.map(([, text]) => text));
  await nodeInit({ backend: 'js' });
  try {
    assert.equal(runAccountConversation(CONVERSATION_SEED), nodeAccountTranscript);
  } finally {
    await nodeInit({ backend: 'wasm' });
  }
  const t = nodeAccountTranscript;
  assert.match(t.ssid.alice, /^[0-9a-f]{16}$/);
  assert.is(t.ssid.bob, t.ssid.alice);
  assert.equal(t.states, {
    afterDake: ['ENCRYPTED_MESSAGES', 'ENCRYPTED_MESSAGES'],
    afterRestore: ['ENCRYPTED_MESSAGES', 'ENCRYPTED_MESSAGES'],
    atEnd: ['START', 'FINISHED'],
  });
  assert.equal(t.received, {
    alice: ['encrypted: hello Alice', 'encrypted: still private after a restore'],
    bob: ['encrypted: hello Bob', 'encrypted: ünïcödé survives: 😀', 'encrypted: yes'],
  });
  assert.ok(t.events.bob.includes('finished'), 'Bob is told Alice ended the conversation');
});

for (const mode of ['wasm', 'no-wasm'] as const) {
  const expectBackend = mode === 'wasm' ? 'wasm' : 'js';

  test(`[${mode}] init() reports the ${expectBackend} backend`, async () => {
    const { init } = await suitePage(mode === 'wasm' ? withWasm : noWasm);
    assert.is(init.backend, expectBackend);
    assert.is(init.webAssembly, mode === 'wasm');
    if (mode === 'no-wasm') assert.match(init.fallbackReason ?? '', /WebAssembly/);
    else assert.is(init.fallbackReason, undefined);
  });

  test(`[${mode}] known-answer suites in the page: RFC 8032, FIPS 202, RFC 8439, DH-3072 vs OpenSSL`, async () => {
    const { page, init } = await suitePage(mode === 'wasm' ? withWasm : noWasm);
    assert.is(init.backend, expectBackend);
    const results = await page.evaluate((c) => (globalThis as unknown as { otrSuite: OtrSuite }).otrSuite.cases(c), cases);
    assertCases(results, mode);
  });

  test(`[${mode}] DAKE + double-ratchet conversation in the page matches Node byte for byte`, async () => {
    const { page, init } = await suitePage(mode === 'wasm' ? withWasm : noWasm);
    assert.is(init.backend, expectBackend);
    const got = await page.evaluate((s) => (globalThis as unknown as { otrSuite: OtrSuite }).otrSuite.conversation(s), CONVERSATION_SEED);
    assert.is(got.ssid.length, 16, 'an 8-byte SSID');
    assert.equal(got, nodeTranscript);
  });

  test(`[${mode}] public API in the page: Accounts run the DAKE, chat, serialize/restore and end, same wire as Node`, async () => {
    const { page, init } = await suitePage(mode === 'wasm' ? withWasm : noWasm);
    assert.is(init.backend, expectBackend);
    const got = await page.evaluate((s) => (globalThis as unknown as { otrSuite: OtrSuite }).otrSuite.account(s), CONVERSATION_SEED);
    assert.is(got.ssid.alice, nodeAccountTranscript.ssid.alice);
    assert.equal(got.states, nodeAccountTranscript.states);
    assert.equal(got.received, nodeAccountTranscript.received);
    assert.equal(got.wire, nodeAccountTranscript.wire);
    assert.equal(got, nodeAccountTranscript);
  });
}

test('[wasm] the JS backend forced with init({ backend: "js" }) also passes in a WebAssembly browser', async () => {
  const { page, init } = await suitePage(withWasm, { backend: 'js' });
  assert.is(init.backend, 'js');
  assertCases(await page.evaluate((c) => (globalThis as unknown as { otrSuite: OtrSuite }).otrSuite.cases(c), cases), 'forced js');
});

test('[no-wasm] init({ backend: "wasm" }) rejects with OtrError BACKEND instead of falling back', async () => {
  const { page } = await openAndWait<boolean>(noWasm, `${server.url}/test/browser/pages/suite.html`, 'otrSuite');
  const err = await page.evaluate(async () => {
    try {
      await (globalThis as unknown as { otrSuite: OtrSuite }).otrSuite.init({ backend: 'wasm' });
      return undefined;
    } catch (e) {
      return { name: (e as Error).name, code: (e as { code?: string }).code, message: (e as Error).message };
    }
  });
  assert.ok(err, 'forcing WASM without WebAssembly must throw');
  assert.is(err!.code, 'BACKEND');
  assert.match(err!.message, /WebAssembly/);
});

// ---- the package as apps consume it ----

interface KatResult {
  consumer: string;
  backend?: string;
  activeBackend?: string;
  fallbackReason?: string;
  checks?: Record<string, boolean>;
  error?: string;
}

const CONSUMER_PAGES: [string, string][] = [
  ['esbuild bundle', '/test/consumers/esbuild/index.html'],
  ['Vite build', '/test/consumers/vite/dist/index.html'],
  ['plain <script type="module"> of dist/otr.browser.js', '/test/browser/pages/plain.html'],
];

for (const [label, path] of CONSUMER_PAGES) {
  for (const [mode, query, expectBackend] of [
    ['wasm', '', 'wasm'],
    ['wasm', '?backend=js', 'js'],
    ['no-wasm', '', 'js'],
  ] as const) {
    test(`${label} [${mode}${query}]: imports the package, backend ${expectBackend}, known answers pass`, async () => {
      const { value } = await openAndWait<KatResult>(mode === 'wasm' ? withWasm : noWasm, `${server.url}${path}${query}`, '__otrResult');
      assert.is(value.error, undefined, `init/KAT threw: ${value.error}`);
      assert.is(value.backend, expectBackend);
      assert.is(value.activeBackend, expectBackend);
      const checks = Object.entries(value.checks ?? {});
      assert.is(checks.length, 5, 'four known answers and one conversation ran');
      assert.equal(checks.filter(([, ok]) => !ok).map(([name]) => name), [], 'every known answer matches');
      });
  }
}

// ---- Content Security Policy: compiling WebAssembly needs 'wasm-unsafe-eval' ----

test('strict CSP without wasm-unsafe-eval: init() falls back to JS and says why; everything still passes', async () => {
  const { value } = await openAndWait<KatResult>(withWasm, `${server.url}/test/browser/pages/csp-strict.html`, '__otrResult');
  assert.is(value.error, undefined, `init/KAT threw: ${value.error}`);
  assert.is(value.backend, 'js');
  assert.match(value.fallbackReason ?? '', /WebAssembly|wasm/i);
  assert.equal(Object.values(value.checks ?? {}), [true, true, true, true, true]);
});

test("CSP with 'wasm-unsafe-eval': the WASM backend loads", async () => {
  const { value } = await openAndWait<KatResult>(withWasm, `${server.url}/test/browser/pages/csp-wasm.html`, '__otrResult');
  assert.is(value.error, undefined, `init/KAT threw: ${value.error}`);
  assert.is(value.backend, 'wasm');
  assert.equal(Object.values(value.checks ?? {}), [true, true, true, true, true]);
});

// ---- the demo page ----

const SHOTS = join(ROOT, 'build', 'screenshots');

/** Drives the demo like a person: Alice starts OTR, then each side types a message and sends it. */
async function chatInDemo(b: Browser, query = '') {
  const page = b.page;
  b.errors.length = 0;
  await page.goto(`${server.url}/web/${query}`);
  await page.waitForFunction(() => document.body.dataset.ready, undefined, { timeout: 20_000 });
  assert.is(await page.evaluate(() => document.body.dataset.ready), 'true', `demo did not start: ${await page.textContent('#error')}`);
  await page.click('#alice [data-action=start]');
  await page.fill('#bob .compose input', 'Hi Alice, is this private?');
  await page.click('#bob .compose button');
  await page.fill('#alice .compose input', 'Yes: OTRv4, deniable and forward-secret.');
  await page.press('#alice .compose input', 'Enter');
  const text = (sel: string) => page.textContent(sel).then((t) => t ?? '');
  return {
    page,
    backend: await text('#backend'),
    ssid: [await text('#alice [data-field=ssid]'), await text('#bob [data-field=ssid]')],
    state: [await text('#alice [data-field=state]'), await text('#bob [data-field=state]')],
    logs: [await text('#alice .log'), await text('#bob .log')],
    wire: await page.locator('#wire li').count(),
    errorHidden: await page.locator('#error').isHidden(),
  };
}

for (const [mode, expectBackend] of [['wasm', 'wasm'], ['no-wasm', 'js']] as const) {
  test(`demo page [${mode}]: two parties run the DAKE and chat; SSID and backend ${expectBackend} are shown (screenshot)`, async () => {
    const b = mode === 'wasm' ? withWasm : noWasm;
    const d = await chatInDemo(b);
    mkdirSync(SHOTS, { recursive: true });
    await d.page.screenshot({ path: join(SHOTS, `demo-${mode}.png`) });
    assert.is(d.backend, expectBackend);
    assert.ok(d.errorHidden, 'no error box');
    assert.match(d.ssid[0]!, /^[0-9a-f]{16}$/, 'Alice shows an SSID');
    assert.is(d.ssid[1], d.ssid[0], 'both sides show the same SSID');
    assert.equal(d.state, ['ENCRYPTED_MESSAGES', 'ENCRYPTED_MESSAGES']);
    assert.match(d.logs[0]!, /Bob: Hi Alice, is this private\?/);
    assert.match(d.logs[1]!, /Alice: Yes: OTRv4, deniable and forward-secret\./);
    assert.not.match(d.logs.join(' '), /unencrypted/, 'every chat message arrived encrypted');
    assert.ok(d.wire >= 6, 'query, three DAKE messages and two data messages crossed the wire');
    assert.equal(b.errors, [], 'no page errors');
  });
}

test('demo page [wasm]: fingerprints shown, SMP with the same secret turns both trusts to verified (screenshot)', async () => {
  const d = await chatInDemo(withWasm);
  const page = d.page;
  const text = (sel: string) => page.textContent(sel).then((t) => (t ?? '').replace(/\s+/g, ''));
  // Each side shows the other's fingerprint: Alice's "theirs" is Bob's "mine".
  assert.is(await text('#alice [data-field=peer-fp]'), await text('#bob [data-field=own-fp]'));
  assert.match(await text('#alice [data-field=peer-fp]'), /^[0-9a-f]{112}$/);
  assert.is(await text('#alice [data-field=trust]'), 'unverified');
  await page.fill('#alice .smp [name=secret]', 'the blue cafe');
  await page.fill('#alice .smp [name=question]', 'Where did we meet?');
  await page.click('#alice .smp button');
  await page.fill('#bob .smp [name=secret]', 'the blue cafe');
  await page.click('#bob .smp button');
  await page.screenshot({ path: join(SHOTS, 'demo-smp.png') });
  assert.match(await text('#alice [data-field=trust]'), /verifiedbySMP/);
  assert.match(await text('#bob [data-field=trust]'), /verifiedbySMP/);
  assert.match(await text('#bob [data-field=smp]'), /SMPsucceeded/);
  assert.equal(withWasm.errors, [], 'no page errors');
});

test('demo page [no-wasm, ?backend=wasm]: init() fails and the page says so, visibly (screenshot)', async () => {
  const page = noWasm.page;
  await page.goto(`${server.url}/web/?backend=wasm`);
  await page.waitForFunction(() => document.body.dataset.ready, undefined, { timeout: 20_000 });
  mkdirSync(SHOTS, { recursive: true });
  await page.screenshot({ path: join(SHOTS, 'demo-init-error.png') });
  assert.is(await page.evaluate(() => document.body.dataset.ready), 'error');
  assert.ok(await page.locator('#error').isVisible(), 'the error box is visible');
  // The class name must survive minification (the bundle keeps names): people read this message.
  assert.match((await page.textContent('#error-message')) ?? '', /^OtrError \[BACKEND\]: .*WebAssembly/);
  assert.is(await page.textContent('#backend'), 'unavailable');
  assert.ok(await page.locator('#alice [data-action=start]').isDisabled(), 'nothing pretends to work');
});

t.run();
