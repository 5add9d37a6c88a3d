/**
 * The session layer over the per-instance OTRv3 API (docs/security-v3.md §For the session layer): shown
 * messages and events carry the remote instance they came from (not the current one), a new AKE on an
 * instance with a session is `session-replaced`, a changed key is `fingerprint-changed`, and the OTRv3 gate
 * sees an AKE on any instance.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Account, type Outcome } from '../ts/index.js';
import { V3Conversation } from '../ts/v3/index.js';
import { WASM } from './helpers/backends.js';
import { seededRandom } from './helpers/rng.js';
import { testDsaKey } from './interop/v3-pair.js';

const now = () => 1_700_000_000_000;
const B1 = 0x3333_0100;
const B2 = 0x4444_0200;

function alice() {
  const a = Account.create({ accountId: 'alice', backend: WASM, random: seededRandom(1), clock: now, dsaKey: testDsaKey(0xa11ce) });
  return a.conversation('bob');
}
function bob(tag: number, keySeed = 0xb0b, seed = 2) {
  return new V3Conversation({ backend: WASM, dsaKey: testDsaKey(keySeed), instanceTag: tag, random: seededRandom(seed), now });
}

/** Runs bob's messages through Alice and back until quiet; returns Alice's outcomes. */
function pump(conv: ReturnType<typeof alice>, b: V3Conversation, first: string[]): Outcome[] {
  const seen: Outcome[] = [];
  let toAlice = first;
  for (let guard = 0; toAlice.length && guard < 20; guard++) {
    const toBob: string[] = [];
    for (const m of toAlice) {
      const r = conv.receive(m);
      seen.push(r);
      toBob.push(...r.toSend.filter((t) => t.startsWith('?OTR:AAM') || t.startsWith('?OTR|')));
    }
    toAlice = toBob.flatMap((m) => b.receive(m).toSend);
  }
  return seen;
}
const events = (o: Outcome[]) => o.flatMap((x) => x.events);

test('messages and events name the instance they came from, not the current one', () => {
  const conv = alice();
  const b1 = bob(B1);
  const b2 = bob(B2, 0xb0b, 3);
  pump(conv, b1, b1.startAke().toSend);
  pump(conv, b2, b2.startAke().toSend);
  assert.is(conv.version, 3);
  // b2 is now the current instance; b1 still writes.
  const r = conv.receive(b1.send('from the first client').toSend[0]!);
  assert.equal(r.messages, [{ text: 'from the first client', encrypted: true, instance: B1, version: 3 }]);
  const r2 = conv.receive(b2.send('from the second').toSend[0]!);
  assert.equal(r2.messages, [{ text: 'from the second', encrypted: true, instance: B2, version: 3 }]);
  // b1 ends its session: the event names b1.
  const end = b1.end();
  const e = events(end.toSend.map((m) => conv.receive(m)));
  const fin = e.find((x) => x.type === 'finished');
  assert.ok(fin && fin.type === 'finished' && fin.instance === B1, JSON.stringify(e));
});

test('a new AKE on an instance with a session is session-replaced (v3); a new key is fingerprint-changed', () => {
  const conv = alice();
  const b1 = bob(B1);
  pump(conv, b1, b1.startAke().toSend);
  const again = events(pump(conv, b1, b1.startAke().toSend));
  assert.ok(again.some((e) => e.type === 'session-replaced' && e.version === 3 && e.instance === B1), JSON.stringify(again));
  assert.not.ok(again.some((e) => e.type === 'fingerprint-changed'));
  // Another client of the peer with another DSA key.
  const b2 = bob(B2, 0xbad, 4);
  const other = events(pump(conv, b2, b2.startAke().toSend));
  const ch = other.find((e) => e.type === 'fingerprint-changed');
  assert.ok(ch && ch.type === 'fingerprint-changed' && ch.instance === B2 && ch.version === 3, JSON.stringify(other));
  assert.not.ok(other.some((e) => e.type === 'session-replaced'));
});

test('the OTRv3 gate sees an AKE on any instance: it completes while an OTRv4 DAKE is pending', () => {
  const conv = alice();
  const b1 = bob(B1);
  pump(conv, b1, b1.startAke().toSend);
  // b1 ends; Alice ends too: the current instance is back in plaintext.
  for (const m of b1.end().toSend) conv.receive(m);
  conv.end();
  // b2 starts an AKE (Alice answers with her D-H Key) ...
  const b2 = bob(B2, 0xb0b, 5);
  const dhKey = conv.receive(b2.startAke().toSend[0]!).toSend;
  assert.ok(dhKey.length === 1);
  // ... then an OTRv4 query makes Alice send an Identity message (an OTRv4 DAKE is under way) ...
  assert.ok(conv.receive('?OTRv4?').toSend.length >= 1);
  // ... and b2's Reveal Signature is still taken: the AKE on b2 is under way, though not on the current context.
  const reveal = b2.receive(dhKey[0]!).toSend;
  const r = conv.receive(reveal[0]!);
  assert.ok(r.events.some((e) => e.type === 'encrypted' && e.version === 3 && e.instance === B2), JSON.stringify(r.events));
});

test.run();
