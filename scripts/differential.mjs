// On-demand long differential run: every primitive suite (WASM vs JS vs hybrid vs noble vs node:crypto) with
// 100,000 random cases per primitive instead of the normal suite's 1,000. Usage: npm run differential [-- N [REGEX]]
// (REGEX narrows the suites by file name; test/commands.test.ts runs a tiny N on one suite.)
import { spawnSync } from 'node:child_process';
const cases = process.argv[2] ?? '100000';
const suites = `(?=${process.argv[3] ?? '.'})(ed448-group|eddsa|ecdh|shake256|chacha20|modexp|dh|ring-sig|hybrid)`;
const r = spawnSync(process.execPath, ['scripts/run-tests.mjs', suites], { stdio: 'inherit', env: { ...process.env, OTR_CASES: cases } });
process.exit(r.status ?? 1);
