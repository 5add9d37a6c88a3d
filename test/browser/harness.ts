/**
 * The Node side of the browser tests: builds what the pages load (the bundles, the in-page suite, the
 * esbuild- and Vite-built consumers), serves it on 127.0.0.1, and drives Debian's Chromium through
 * playwright-core. Nothing is downloaded: Playwright's own browser builds are never used.
 *
 * Chromium is required. If it is missing the tests fail with the install command: a browser test that
 * silently skips would let "works in browsers" rot unnoticed.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, lstatSync, mkdirSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { BrowserContext, Page } from 'playwright-core';
import { build } from 'esbuild';

/** The repository root (this file runs from build/test/browser/). */
export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
export const CHROMIUM = process.env.OTR_CHROMIUM ?? '/usr/bin/chromium';
const CONSUMERS = join(ROOT, 'test', 'consumers');

export function assertChromium(): void {
  if (!existsSync(CHROMIUM))
    throw new Error(
      `Chromium not found at ${CHROMIUM}. The browser tests need it: apt-get install -y chromium ` +
        `(it is listed in .ci/apt-packages), or point OTR_CHROMIUM at a Chromium binary.`,
    );
}

/** Rebuilds dist/ from build/ts (cheap), so the pages always load the code that was just compiled. */
export function buildBundles(): void {
  execFileSync(process.execPath, [join(ROOT, 'scripts', 'bundle.mjs')], { cwd: ROOT, stdio: 'pipe' });
}

/** The in-page suite: test/browser/pages/suite.ts (compiled by tsc) bundled into build/browser/suite.js. */
export function buildSuitePage(): Promise<void> {
  return buildPage('suite');
}

/** A test page's entry, test/browser/pages/<name>.ts (compiled by tsc), bundled into build/browser/<name>.js. */
export async function buildPage(name: string): Promise<void> {
  await build({
    entryPoints: [join(ROOT, 'build', 'test', 'browser', 'pages', `${name}.js`)],
    outfile: join(ROOT, 'build', 'browser', `${name}.js`),
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    // test/helpers/rng.ts reads OTR_CASES from process.env at load; the page has no process.
    define: { 'process.env.OTR_CASES': 'undefined' },
    logLevel: 'warning',
  });
}

/**
 * Makes `otr4` resolvable from each consumer the way `npm install` of its "file:../../.." dependency would:
 * node_modules/otr4 is a symlink to this repository, so the bundlers go through package.json "exports".
 */
function linkPackage(consumerDir: string): void {
  const link = join(consumerDir, 'node_modules', 'otr4');
  mkdirSync(dirname(link), { recursive: true });
  try {
    if (lstatSync(link).isSymbolicLink()) return;
    rmSync(link, { recursive: true, force: true });
  } catch {
    // no link yet
  }
  symlinkSync(join('..', '..', '..', '..'), link, 'dir');
}

export async function buildConsumers(): Promise<void> {
  for (const name of ['esbuild', 'vite']) linkPackage(join(CONSUMERS, name));
  const esb = (await import(pathToFileURL(join(CONSUMERS, 'esbuild', 'build.mjs')).href)) as { buildConsumer(): Promise<string> };
  await esb.buildConsumer();
  const vite = await import('vite');
  await vite.build({ root: join(CONSUMERS, 'vite'), configFile: join(CONSUMERS, 'vite', 'vite.config.js'), logLevel: 'warn' });
}

export interface StaticServer {
  url: string;
  close(): Promise<void>;
}

export async function startServer(): Promise<StaticServer> {
  const mod = (await import(pathToFileURL(join(ROOT, 'scripts', 'serve.mjs')).href)) as {
    serve(o: { port?: number }): Promise<StaticServer>;
  };
  return mod.serve({ port: 0 });
}

export interface Browser {
  context: BrowserContext;
  /** The one tab every test navigates: reusing it avoids a renderer start per test (about a second each). */
  page: Page;
  /** Uncaught page errors and console errors, per page URL, for failure messages. */
  errors: string[];
  close(): Promise<void>;
}

/**
 * Launches headless Chromium with a fresh profile. `wasm: false` starts V8 without the WebAssembly global,
 * which is how a runtime without WebAssembly looks to the library.
 * Every request that is not to 127.0.0.1 is aborted, and the resolver maps every other host to nothing.
 */
export async function launch({ wasm }: { wasm: boolean }): Promise<Browser> {
  assertChromium();
  // Imported here, not at the top: a missing dev dependency then fails these tests with its message instead
  // of crashing the whole uvu run (every suite shares one process).
  const { chromium } = await import('playwright-core');
  const profile = mkdtempSync(join(tmpdir(), 'otr4-chromium-'));
  const args = [
    '--headless',
    '--no-sandbox',
    '--disable-gpu',
    '--disable-quic',
    '--no-first-run',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
    '--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1',
  ];
  // V8's old --noexpose_wasm flag is gone (Chromium 156's V8 rejects it and keeps WebAssembly); --jitless
  // removes the WebAssembly global, since without a compiler V8 cannot run Wasm. The tests assert that
  // `typeof WebAssembly` really is 'undefined', so a flag that stops working fails loudly rather than passing.
  if (!wasm) args.push('--js-flags=--jitless');
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args,
    viewport: { width: 1100, height: 760 },
    timeout: 30_000,
  });
  const errors: string[] = [];
  await context.route('**/*', (route) => {
    const host = new URL(route.request().url()).hostname;
    return host === '127.0.0.1' ? route.continue() : route.abort('blockedbyclient');
  });
  context.on('page', (p) => watch(p, errors));
  for (const p of context.pages()) watch(p, errors);
  const page = context.pages()[0] ?? (await context.newPage());
  return {
    context,
    page,
    errors,
    async close() {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

function watch(page: Page, errors: string[]): void {
  page.on('pageerror', (e) => errors.push(`${page.url()}: uncaught ${e.name}: ${e.message}`));
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(`${page.url()}: console.error: ${m.text()}`);
  });
}

/** Navigates the browser's tab to `url` and waits until `window[global]` is set; returns the page and that value. */
export async function openAndWait<T>(b: Browser, url: string, global: string, timeout = 20_000): Promise<{ page: Page; value: T }> {
  const page = b.page;
  b.errors.length = 0;
  await page.goto(url);
  try {
    const handle = await page.waitForFunction((g) => (globalThis as Record<string, unknown>)[g], global, { timeout });
    return { page, value: (await handle.jsonValue()) as T };
  } catch (e) {
    throw new Error(`${url}: window.${global} never appeared (${(e as Error).message.split('\n')[0]}); page errors: ${b.errors.join(' | ') || 'none'}`);
  }
}
