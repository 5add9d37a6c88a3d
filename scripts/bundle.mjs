// Bundles the compiled library (build/ts) with esbuild:
//   dist/index.js          ESM for Node and for apps' own bundlers; @noble/* stay dependencies
//   dist/otr.browser.js    one self-contained ESM file for a plain <script type="module"> (everything inlined)
// The WASM is already inlined as base64 by scripts/build-wasm.mjs, so no loader or asset plumbing is needed.
import { build } from 'esbuild';
import { gzipSync } from 'node:zlib';
import { readFileSync } from 'node:fs';

const common = { entryPoints: ['build/ts/index.js'], bundle: true, format: 'esm', target: 'es2022', legalComments: 'none', logLevel: 'warning' };
await build({ ...common, outfile: 'dist/index.js', platform: 'neutral', external: ['@noble/*'], sourcemap: true });
await build({ ...common, outfile: 'dist/otr.browser.js', platform: 'browser', minify: true });
for (const f of ['dist/index.js', 'dist/otr.browser.js']) {
  const b = readFileSync(f);
  console.log(`${f}: ${(b.length / 1024).toFixed(1)} KiB raw, ${(gzipSync(b).length / 1024).toFixed(1)} KiB gzip`);
}
