/**
 * Session 12 review: a seeded random run of what a hostile server and a busy host do to an account kept in a
 * store — plaintext from new and known JIDs, Identities (some DAKEs completed, some left pending), queries,
 * unloads, forgets, restarts (sometimes under a smaller or larger limits.maxAccountConversations), the clock
 * moved past expiries — with a contact the user writes to throughout. After every step: no untyped error and no
 * commit refused (a CONFLICT would mean account and store disagree on a record); the store's conversation
 * records never pass the bound, or, when a restart lowered it, never grow and come back under it; the contact
 * is never evicted and still talks both ways at the end.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Account, type Conversation } from '../../ts/index.js';
import { OtrError } from '../../ts/errors.js';
import { MemoryStore } from '../../ts/store/memory.js';
import { openStoredAccount, type StoredAccount } from '../../ts/session/account-store.js';
import { WASM as be } from '../helpers/backends.js';
import { seededRandom } from '../helpers/rng.js';
import { exchangeStored, startStored } from '../helpers/stored-exchange.js';
import { ALICE_ID, testClock } from '../helpers/session-pair.js';

const STEPS = Number(process.env.OTR4_FUZZ_ITERATIONS ?? 300);
const CAROL = 'carol@example.org';

test(`${STEPS} seeded steps of floods, unloads, forgets and restarts: the records stay bounded, the store agrees, the contact stays`, async () => {
  const rand = seededRandom(Number(process.env.OTR4_FUZZ_SEED ?? 1270));
  const int = (n: number) => (n <= 1 ? 0 : rand(4).reduce((a, b) => a * 256 + b, 0) % n);
  const clock = testClock();
  const store = new MemoryStore();
  let bound = 12;
  const open = (create = false) =>
    openStoredAccount(store, ALICE_ID, { account: { backend: be, clock, dsaKey: null, limits: { maxAccountConversations: bound }, random: seededRandom(1271 + int(1000)) }, create });
  let alice: StoredAccount = await open(true);
  const remote = (id: string) => Account.create({ accountId: id, backend: be, clock, dsaKey: null, random: seededRandom(2000 + int(100000)) }).conversation(ALICE_ID);
  const carol = remote(CAROL);
  await startStored(alice, CAROL, carol);
  const said = (await alice.conversation(CAROL)).send('hello Carol');
  await alice.commit(said);
  said.toSend.forEach((m) => carol.receive(m));

  const strangers: string[] = [];
  /** Sybils with a DAKE under way or done, and their side. */
  const sybils = new Map<string, Conversation>();
  const evicted: string[] = [];
  let next = 0;
  const rows = async () => (await store.keys(ALICE_ID)).filter((k) => k.startsWith('conv:')).length;
  let rowsBefore = await rows();
  const counts = { plaintext: 0, identity: 0, completed: 0, query: 0, unload: 0, forget: 0, restart: 0, lowered: 0, evictions: 0 };

  const call = async (peer: string, f: (c: Conversation) => ReturnType<Conversation['receive']>) => {
    const out = f(await alice.conversation(peer));
    for (const e of out.events) if (e.type === 'conversation-evicted') evicted.push(e.peer);
    await alice.commit(out); // a refused commit fails the test: account and store must agree
    return out;
  };

  for (let step = 0; step < STEPS; step++) {
    const what = int(100);
    const where = `step ${step}`;
    try {
      if (what < 30) {
        const peer = int(3) === 0 && strangers.length > 0 ? strangers[int(strangers.length)]! : `spam-${next++}@evil.example`;
        if (!strangers.includes(peer)) strangers.push(peer);
        await call(peer, (c) => c.receive(`buy now ${step}`));
        counts.plaintext++;
      } else if (what < 50) {
        clock.advance(300);
        const peer = `sybil-${next++}@evil.example`;
        const sybil = remote(peer);
        sybils.set(peer, sybil);
        const identity = sybil.start().toSend.at(-1)!;
        const out = await call(peer, (c) => c.receive(identity));
        counts.identity++;
        if (int(2) === 0) {
          // The sybil completes its DAKE.
          await exchangeStored(alice, peer, sybil, out.toSend.flatMap((m) => sybil.receive(m).toSend));
          counts.completed++;
        }
      } else if (what < 55) {
        clock.advance(300);
        await call(`querier-${next++}@evil.example`, (c) => c.receive('?OTRv4?'));
        counts.query++;
      } else if (what < 70) {
        const peers = alice.account.peers.filter((p) => p !== CAROL);
        if (peers.length > 0) {
          const peer = peers[int(peers.length)]!;
          try {
            alice.unload(peer);
            counts.unload++;
          } catch (e) {
            if (!(e instanceof OtrError)) throw e;
          }
        }
      } else if (what < 75) {
        const peers = [...strangers, ...sybils.keys()];
        if (peers.length > 0) {
          await alice.forget(peers[int(peers.length)]!);
          counts.forget++;
        }
      } else if (what < 80) {
        await alice.close();
        const before = bound;
        if (int(3) === 0) bound = int(2) === 0 ? 6 : 12;
        if (bound < before) counts.lowered++;
        alice = await open();
        counts.restart++;
      } else if (what < 85) {
        clock.advance(int(2) === 0 ? 60_000 : 25 * 3600_000);
      } else {
        // The contact and Alice write to each other.
        const shown = (await exchangeStored(alice, CAROL, carol, carol.send(`carol ${step}`).toSend)).flatMap((o) => o.messages.map((m) => m.text));
        assert.equal(shown, [`carol ${step}`], `${where}: Alice reads Carol`);
        const out = await call(CAROL, (c) => c.send(`alice ${step}`));
        assert.equal(out.toSend.flatMap((m) => carol.receive(m).messages.map((x) => x.text)), [`alice ${step}`], `${where}: Carol reads Alice`);
      }
    } catch (e) {
      if (e instanceof Error && e.name === 'Assertion') throw e;
      throw new Error(`${where} (${what}): ${(e as Error)?.name}: ${(e as Error)?.message}\n${(e as Error)?.stack}`);
    }
    const now = await rows();
    assert.ok(now <= Math.max(bound, rowsBefore), `${where} (${what}): ${now} conversation records, bound ${bound}, ${rowsBefore} before`);
    rowsBefore = now;
    assert.not.ok(evicted.includes(CAROL), `${where}: the contact was evicted`);
  }
  counts.evictions = evicted.length;
  assert.ok(counts.evictions > 0 && counts.restart > 0 && counts.completed > 0, JSON.stringify(counts));
  const shown = (await exchangeStored(alice, CAROL, carol, carol.send('the end').toSend)).flatMap((o) => o.messages.map((m) => m.text));
  assert.equal(shown, ['the end']);
  await alice.close();
  console.log(`  bound loop: ${JSON.stringify(counts)}`);
});

test.run();
