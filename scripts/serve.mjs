// A tiny static file server for the demo page and the browser tests, bound to 127.0.0.1 only.
//
//   node scripts/serve.mjs [port]      then open http://127.0.0.1:<port>/web/
//
// It serves a fixed allow-list of folders of this repository (the demo, the bundles, the browser test pages and
// their build output), never anything else: no directory listings, no dotfiles, no path outside those folders.
// Every response carries COOP/COEP so pages are cross-origin isolated; that gives them the fine-grained
// performance.now() the in-page benchmarks need, and costs nothing because nothing is loaded cross-origin.
import { createServer } from 'node:http';
import { readFile, stat } from 'node:fs/promises';
import { dirname, extname, join, normalize, sep } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');

/** URL prefixes that map onto the same path under the repository root. */
export const SERVED = ['web/', 'dist/', 'build/browser/', 'test/browser/pages/', 'test/consumers/'];

const TYPES = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.map': 'application/json',
  '.wasm': 'application/wasm',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
};

/** Maps a request path to a file under ROOT, or undefined if it is outside the allow-list. */
function resolvePath(urlPath) {
  let rel;
  try {
    rel = decodeURIComponent(urlPath).replace(/^\/+/, '');
  } catch {
    return undefined;
  }
  if (rel.includes('\0')) return undefined;
  if (rel === '') rel = 'web/';
  if (rel.endsWith('/')) rel += 'index.html';
  const norm = normalize(rel);
  if (norm.split(sep).some((part) => part === '..' || part.startsWith('.'))) return undefined;
  const posix = norm.split(sep).join('/');
  if (!SERVED.some((prefix) => posix.startsWith(prefix))) return undefined;
  return join(ROOT, norm);
}

/**
 * Starts the server. `port` 0 picks a free port. Resolves to { url, close() } once listening.
 */
export function serve({ port = 0, log = false } = {}) {
  const server = createServer(async (req, res) => {
    const headers = {
      'Cross-Origin-Opener-Policy': 'same-origin',
      'Cross-Origin-Embedder-Policy': 'require-corp',
      'Cache-Control': 'no-store',
    };
    const send = (status, body, type = 'text/plain; charset=utf-8') => {
      res.writeHead(status, { ...headers, 'Content-Type': type });
      res.end(req.method === 'HEAD' ? undefined : body);
      if (log) console.log(`${status} ${req.method} ${req.url}`);
    };
    if (req.method !== 'GET' && req.method !== 'HEAD') return send(405, 'method not allowed\n');
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    if (url.pathname === '/') {
      res.writeHead(302, { ...headers, Location: '/web/' });
      return res.end();
    }
    const file = resolvePath(url.pathname);
    if (!file) return send(404, 'not found\n');
    try {
      const st = await stat(file);
      if (st.isDirectory()) {
        res.writeHead(301, { ...headers, Location: `${url.pathname}/` });
        return res.end();
      }
      send(200, await readFile(file), TYPES[extname(file)] ?? 'application/octet-stream');
    } catch {
      send(404, 'not found\n');
    }
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => {
      const { port: actual } = server.address();
      resolve({
        url: `http://127.0.0.1:${actual}`,
        close: () => new Promise((done) => server.close(() => done())),
      });
    });
  });
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const port = Number(process.argv[2] ?? 8080);
  const { url } = await serve({ port, log: true });
  console.log(`serving ${SERVED.join(', ')} of ${ROOT} at ${url}/ (demo: ${url}/web/)`);
}
