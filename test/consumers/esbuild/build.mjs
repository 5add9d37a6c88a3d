// Bundles this consumer the way an app would: esbuild, browser platform, the package resolved from
// node_modules/otr4 through its package.json "exports" (not by path), minified.
import { build } from 'esbuild';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));

export async function buildConsumer() {
  await build({
    entryPoints: [join(here, 'main.js')],
    outfile: join(here, 'dist', 'app.js'),
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    minify: true,
    logLevel: 'warning',
  });
  return join(here, 'dist', 'app.js');
}

if (process.argv[1] === fileURLToPath(import.meta.url)) console.log(await buildConsumer());
