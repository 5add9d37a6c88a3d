/**
 * An app whose node_modules/otr4 links to this repository (as `npm install` of a file: dependency would),
 * bundled by esbuild for the browser: 'otr4' and its subpaths resolve by name through package.json "exports"
 * and their conditions. Returns the bundle's text (the temporary app is removed).
 */
import { mkdirSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { build } from 'esbuild';
import { ROOT } from '../browser/harness.js';

export async function bundleBrowserApp(source: string): Promise<string> {
  const app = mkdtempSync(join(tmpdir(), 'otr4-app-'));
  try {
    mkdirSync(join(app, 'node_modules'));
    symlinkSync(ROOT, join(app, 'node_modules', 'otr4'), 'dir');
    const r = await build({
      stdin: { contents: source, resolveDir: app, loader: 'js' },
      bundle: true,
      format: 'esm',
      platform: 'browser',
      write: false,
      logLevel: 'silent',
    });
    return r.outputFiles[0]!.text;
  } finally {
    rmSync(app, { recursive: true, force: true });
  }
}
