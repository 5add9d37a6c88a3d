/** The RecordStore contract (test/helpers/store-contract.ts) against the in-memory store. */
import { suite } from 'uvu';
import { MemoryStore } from '../ts/store/memory.js';
import { CONTRACT } from './helpers/store-contract.js';
import { rejectsAsync } from './helpers/rejects.js';
import * as assert from 'uvu/assert';

const t = suite('store-memory');

// One store per case would hide a bug where accounts leak into each other: cases share one store, except
// the ones that ask for their own limits.
const shared = new MemoryStore();
const sharedView = { ...shared, load: shared.load.bind(shared), keys: shared.keys.bind(shared), commit: shared.commit.bind(shared), close: async () => {} };

let n = 0;
for (const c of CONTRACT) {
  t(c.name, () => c.run(async (limits) => (limits ? new MemoryStore({ limits }) : sharedView), `mem-${n++}@example.org`));
}

t('a closed store refuses every call with a typed STATE error', async () => {
  const s = new MemoryStore();
  await s.commit('a', [{ key: 'k', generation: 1, bytes: new Uint8Array(1) }]);
  await s.close();
  await rejectsAsync(s.load('a', 'k'), 'STATE');
  await rejectsAsync(s.keys('a'), 'STATE');
  await rejectsAsync(s.commit('a', []), 'STATE');
});

t('a record replaced or deleted is zeroed: the store holds the only copy of that state', async () => {
  const s = new MemoryStore();
  const held = () => (s as unknown as { accounts: Map<string, Map<string, { bytes: Uint8Array }>> }).accounts.get('a')!.get('k')!.bytes;
  await s.commit('a', [{ key: 'k', generation: 1, bytes: new Uint8Array([1, 2, 3]) }]);
  const first = held();
  await s.commit('a', [{ key: 'k', generation: 2, bytes: new Uint8Array([4, 5]) }]);
  assert.equal([...first], [0, 0, 0], 'the replaced state is wiped');
  const second = held();
  assert.equal([...(await s.load('a', 'k'))!.bytes], [4, 5]);
  await s.commit('a', [{ key: 'k', generation: 3, bytes: null }]);
  assert.equal([...second], [0, 0], 'the deleted state is wiped');
});

t.run();
