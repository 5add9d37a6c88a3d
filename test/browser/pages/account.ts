/**
 * A conversation through the PUBLIC API only (what ts/index.ts exports: Account, Conversation, Outcome), as
 * an app would drive it: Alice asks for OTR, the two Outcomes are relayed until quiet, both sides chat, both
 * accounts are serialized and restored mid-conversation and go on chatting, then Alice ends it. Randomness
 * and the clock are injected (seeded), so the browser and Node must produce the same wire strings.
 */
import { Account, type Conversation, type Outcome } from '../../../ts/index.js';
import { seededRandom } from '../../helpers/rng.js';

export interface AccountTranscript {
  /** The SSID each side reported in its 'encrypted' event. */
  ssid: { alice: string; bob: string };
  /** Every string put on the wire, in order, prefixed with its direction. */
  wire: string[];
  /** Messages each side displayed, with whether they arrived encrypted. */
  received: { alice: string[]; bob: string[] };
  /** States after the DAKE, after the restore, and at the end. */
  states: { afterDake: string[]; afterRestore: string[]; atEnd: string[] };
  /** Event types each side saw, in order. */
  events: { alice: string[]; bob: string[] };
}

type Side = 'alice' | 'bob';
const NOW_MS = 1_700_000_000_000;

export function runAccountConversation(seed: number): AccountTranscript {
  const random = seededRandom(seed);
  const clock = () => NOW_MS;
  const opts = { random, clock, dsaKey: null };
  const accounts: Record<Side, Account> = {
    alice: Account.create({ accountId: 'alice@example.org', ...opts }),
    bob: Account.create({ accountId: 'bob@example.org', ...opts }),
  };
  const peerOf: Record<Side, string> = { alice: 'bob@example.org', bob: 'alice@example.org' };
  const conv = (s: Side): Conversation => accounts[s].conversation(peerOf[s]);
  const t: AccountTranscript = {
    ssid: { alice: '', bob: '' },
    wire: [],
    received: { alice: [], bob: [] },
    states: { afterDake: [], afterRestore: [], atEnd: [] },
    events: { alice: [], bob: [] },
  };
  const other = (s: Side): Side => (s === 'alice' ? 'bob' : 'alice');

  /** Records `outcome` for side `s`, then relays everything it sends (and every reply) until the wire is quiet. */
  const relay = (s: Side, outcome: Outcome): void => {
    const queue: [Side, string][] = [];
    const take = (side: Side, o: Outcome) => {
      for (const m of o.messages) t.received[side].push(`${m.encrypted ? 'encrypted' : 'plaintext'}: ${m.text}`);
      for (const e of o.events) {
        t.events[side].push(e.type);
        if (e.type === 'encrypted') t.ssid[side] = e.ssid;
      }
      for (const text of o.toSend) queue.push([side, text]);
    };
    take(s, outcome);
    for (let steps = 0; queue.length > 0; steps++) {
      if (steps > 100) throw new Error('the conversation did not settle within 100 messages');
      const [from, text] = queue.shift()!;
      t.wire.push(`${from}->${other(from)} ${text}`);
      take(other(from), conv(other(from)).receive(text));
    }
  };

  relay('alice', conv('alice').start());
  t.states.afterDake = [conv('alice').state, conv('bob').state];
  relay('bob', conv('bob').send('hello Alice'));
  relay('alice', conv('alice').send('hello Bob'));
  relay('alice', conv('alice').send('ünïcödé survives: 😀'));

  // Persist both sides and carry on with the restored accounts.
  for (const s of ['alice', 'bob'] as const) accounts[s] = Account.restore(accounts[s].serialize(), { random, clock });
  t.states.afterRestore = [conv('alice').state, conv('bob').state];
  relay('bob', conv('bob').send('still private after a restore'));
  relay('alice', conv('alice').send('yes'));

  relay('alice', conv('alice').end());
  t.states.atEnd = [conv('alice').state, conv('bob').state];
  return t;
}
