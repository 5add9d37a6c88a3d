/**
 * Review of session 6's lent row buffers (ts/store/memory.ts ROW_BUFFER): a row the plain view copied a
 * record's plaintext into must be zeroed when its commit is refused (the caller drops it), and a buffer lent
 * again after a refusal or a replacement must come back zeroed, never holding the earlier plaintext.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { MemoryStore } from '../../ts/store/memory.js';
import { COMMIT_OWNED, ROW_BUFFER } from '../../ts/store/owned.js';

test('safe: a refused lent row is zeroed, and every buffer lent again is zero', async () => {
  const s = new MemoryStore();
  const secret = (n: number, v: number) => new Uint8Array(n).fill(v);
  const first = s[ROW_BUFFER]('acct', 'conv:bob', 300);
  first.set(secret(300, 0x51));
  await s[COMMIT_OWNED]('acct', [{ key: 'conv:bob', generation: 1, bytes: first }]);
  const refused = s[ROW_BUFFER]('acct', 'conv:bob', 300);
  refused.set(secret(300, 0x52));
  let threw = false;
  await s[COMMIT_OWNED]('acct', [{ key: 'conv:bob', generation: 9, bytes: refused }]).catch(() => (threw = true));
  assert.ok(threw, 'a stale generation is refused');
  assert.ok(refused.every((x) => x === 0), 'the refused plaintext row was left as it was');
  for (let g = 2; g < 12; g++) {
    const row = s[ROW_BUFFER]('acct', 'conv:bob', 300 - g);
    // The whole buffer behind the lent view, room included: no earlier row's byte anywhere.
    assert.ok(new Uint8Array(row.buffer).every((x) => x === 0), `generation ${g}: a lent buffer holds old bytes`);
    row.fill(0x60 + g);
    await s[COMMIT_OWNED]('acct', [{ key: 'conv:bob', generation: g, bytes: row }]);
    const back = (await s.load('acct', 'conv:bob'))!;
    assert.ok(back.bytes.length === 300 - g && back.bytes.every((x) => x === 0x60 + g));
  }
  // Another account never gets this record's buffers.
  const other = s[ROW_BUFFER]('other', 'conv:bob', 280);
  assert.ok(new Uint8Array(other.buffer).every((x) => x === 0));
});

test.run();
