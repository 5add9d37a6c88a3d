/**
 * The forging toolkit's bounds live in the one limits table (ts/limits.ts), like every other limit: the
 * exported names (MAX_TRANSCRIPT_BYTES, MAX_MAC_KEY_TRIALS) are that table's values, and no ts/forge module
 * defines a limit of its own.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DEFAULT_LIMITS } from '../ts/limits.js';
import { MAX_TRANSCRIPT_BYTES } from '../ts/forge/cli.js';
import { MAX_MAC_KEY_TRIALS } from '../ts/forge/index.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

test('the forge limits are the limits table\'s', () => {
  const l = DEFAULT_LIMITS as unknown as Record<string, number>;
  assert.is(l.maxForgeTranscriptBytes, 64 * DEFAULT_LIMITS.maxMessageChars, '64 lines at the largest message');
  assert.is(MAX_TRANSCRIPT_BYTES, l.maxForgeTranscriptBytes);
  assert.is(l.maxForgeMacKeyTrials, 1 << 22);
  assert.is(MAX_MAC_KEY_TRIALS, l.maxForgeMacKeyTrials);
});

test('no ts/forge module defines a numeric limit of its own', () => {
  const dir = join(ROOT, 'ts', 'forge');
  for (const f of readdirSync(dir).filter((n) => n.endsWith('.ts'))) {
    const src = readFileSync(join(dir, f), 'utf8');
    const own = [...src.matchAll(/export const (MAX_\w+) = (?!DEFAULT_LIMITS\.)[^;]+;/g)].map((m) => m[1]);
    assert.equal(own, [], `${f} defines ${own.join(', ')} outside ts/limits.ts`);
  }
});

test.run();
