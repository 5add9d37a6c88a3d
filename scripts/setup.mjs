// The setup step of `npm test`: installs the Debian packages the suites need (listed in .ci/apt-packages) when
// some are missing, so that the README's `npm ci && npm test` passes on a fresh Debian machine as root.
//
//   node scripts/setup.mjs            (run by `npm test`; OTR_SKIP_SETUP=1 skips it)
//
// It never fails the test run: without Debian, without root, without apt-get or without a network it says what
// is missing and how to install it, then returns 0; each suite that needs a missing package then fails on its
// own, naming the package. When everything is installed it prints nothing and runs no apt command.
// OTR_APT_PACKAGES and OTR_APT_GET override the list and the apt-get binary (test/commands.test.ts uses them to
// prove the above).
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const listFile = process.env.OTR_APT_PACKAGES ?? join(root, '.ci', 'apt-packages');

/** Package names from .ci/apt-packages: one per line, `#` starts a comment. */
function readPackageList(text) {
  return text
    .split('\n')
    .map((l) => l.replace(/#.*/, '').trim())
    .filter(Boolean)
    .flatMap((l) => l.split(/\s+/));
}

/** The packages not installed, or undefined when dpkg-query is unusable (not Debian). */
function missingPackages(pkgs) {
  const r = spawnSync('dpkg-query', ['-W', '-f=${Package} ${Status}\\n', ...pkgs], { encoding: 'utf8' });
  if (r.error) return undefined;
  const installed = new Set(
    r.stdout
      .split('\n')
      .filter((l) => l.endsWith(' install ok installed'))
      .map((l) => l.split(' ')[0].replace(/:.*/, '')),
  );
  return pkgs.filter((p) => !installed.has(p));
}

const say = (msg) => process.stderr.write(`setup: ${msg}\n`);

function installCommand(pkgs) {
  return `apt-get update && apt-get install -y --no-install-recommends ${pkgs.join(' ')}`;
}

/** Runs one apt-get command; on failure returns the tail of its output (apt prints the reason last). */
function apt(args, timeoutMs) {
  const bin = process.env.OTR_APT_GET ?? 'apt-get';
  const r = spawnSync(bin, args, {
    encoding: 'utf8',
    timeout: timeoutMs,
    env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
    maxBuffer: 64 << 20,
  });
  if (r.error) return `${bin}: ${r.error.code === 'ETIMEDOUT' ? `timed out after ${timeoutMs / 1000} s` : r.error.message}`;
  if (r.status !== 0) return `${bin} ${args[0]} exited with ${r.status ?? r.signal}:\n${`${r.stdout}${r.stderr}`.trim().split('\n').slice(-8).join('\n')}`;
  return undefined;
}

function main() {
  if (process.env.OTR_SKIP_SETUP === '1') return;
  let pkgs;
  try {
    pkgs = readPackageList(readFileSync(listFile, 'utf8'));
  } catch (e) {
    say(`cannot read ${listFile} (${e.message}); not installing anything`);
    return;
  }
  const missing = missingPackages(pkgs);
  if (missing === undefined) {
    say(`dpkg-query not found (not Debian?): not installing ${pkgs.join(' ')}; suites needing them will say so`);
    return;
  }
  if (missing.length === 0) return;
  const cmd = installCommand(missing);
  if (typeof process.getuid === 'function' && process.getuid() !== 0) {
    say(`missing Debian packages: ${missing.join(' ')}. Not root, so not installing them; the suites that need them will`);
    say(`fail and name them. To install: sudo sh -c '${cmd}'`);
    return;
  }
  say(`installing the Debian packages the suites need: ${missing.join(' ')}`);
  // Wait for a dpkg lock held by e.g. unattended-upgrades on a freshly booted machine instead of failing at once.
  const lock = ['-o', 'DPkg::Lock::Timeout=120'];
  const err =
    apt(['update', '-qq', ...lock], 5 * 60_000) ??
    apt(['install', '-y', '-qq', '--no-install-recommends', ...lock, ...missing], 20 * 60_000);
  const still = missingPackages(missing) ?? missing;
  if (err || still.length) {
    say(`could not install ${still.join(' ')}${err ? `: ${err}` : ''}`);
    say(`continuing: the suites that need them will fail and name them. To install by hand: ${cmd}`);
    return;
  }
  say(`installed ${missing.join(' ')}`);
}

main();
