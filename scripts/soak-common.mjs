// What the kill -9 soaks (soak-store.mjs, soak-session.mjs) share: paths into build/, the command line
// (`--name value` options, `--kind sqlite|postgres|both`) and the store each run uses — a fresh SQLite file, or a
// private PostgreSQL server with fsync on (test/helpers/postgres.ts) — removed again when the run is done.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

export const root = join(dirname(fileURLToPath(import.meta.url)), '..');
/** A file: URL of build/<p>, for import(). */
export const build = (p) => pathToFileURL(join(root, 'build', p)).href;

const args = process.argv.slice(2);
/** The value after `--name` on the command line, else `def`. */
export const opt = (name, def) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : def;
};
/** The store kinds to soak, from `--kind` (default both). */
export const soakKinds = () => (opt('--kind', 'both') === 'both' ? ['sqlite', 'postgres'] : [opt('--kind')]);

/**
 * A fresh store for one run: `target` is the SQLite file (dir/sqliteName) or the private server's URL; `dir`
 * a temporary folder for the run; `done()` stops the server and removes the folder.
 */
export async function soakTarget(kind, prefix, sqliteName) {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  let server;
  let target = join(dir, sqliteName);
  if (kind === 'postgres') {
    const { startPostgres } = await import(build('test/helpers/postgres.js'));
    server = await startPostgres({ fsync: true });
    target = server.url;
  }
  return {
    dir,
    target,
    done: async () => {
      await server?.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
