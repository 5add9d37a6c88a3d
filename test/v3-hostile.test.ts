/**
 * Hostile input to the OTRv3 conversation: every AKE message type and a data message carrying SMP and TLVs,
 * truncated at ~24 lengths and bit-flipped at ~60 positions spread over all their fields; plus junk text. Each mutant must give a typed
 * error surfaced as an event (or the spec's silent ignore) — never an exception — and the session must then
 * carry on with the genuine message. Nothing may be delivered that was not sent.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { armour, dearmour } from '../ts/codec/armour.js';
import { V3Conversation } from '../ts/v3/index.js';
import { JS, WASM } from './helpers/backends.js';
import { seededRandom } from './helpers/rng.js';
import { type Side, encryptedPair, makeSide } from './interop/v3-pair.js';

/**
 * Truncations (~24 lengths) and single-bit flips (~60 positions spread over every field), re-armoured. The
 * stride keeps the run short: each mutant that passes decoding costs the receiver modular exponentiations.
 */
function mutants(text: string, rnd: (n: number) => Uint8Array): string[] {
  const bytes = dearmour(text);
  const out: string[] = [];
  for (let n = 1; n < bytes.length; n += Math.max(1, Math.floor(bytes.length / 24))) out.push(armour(bytes.slice(0, n)));
  const stride = Math.max(1, Math.floor(bytes.length / 60));
  for (let i = rnd(1)[0]! % stride; i < bytes.length; i += stride) {
    const b = bytes.slice();
    b[i]! ^= 1 << (rnd(1)[0]! & 7);
    out.push(armour(b));
  }
  return out;
}

/** Feeds each mutant to a copy of `target` restored from `snapshot`: only OTR events, never a throw. */
function attack(target: Side, text: string, seed: number, allowedUser: string[]): number {
  const snapshot = target.conv.serialize();
  let count = 0;
  for (const m of mutants(text, seededRandom(seed))) {
    const victim = V3Conversation.restore(target.opts, snapshot);
    const r = victim.receive(m); // must not throw
    for (const u of r.toUser) assert.ok(allowedUser.includes(u), `delivered something never sent: ${JSON.stringify(u)}`);
    count++;
  }
  return count;
}

test('every AKE message type, truncated and bit-flipped, never crashes the receiver', () => {
  const a = makeSide(WASM, 'alice');
  const b = makeSide(WASM, 'bob');
  let total = 0;
  const commit = b.conv.startAke().toSend[0]!;
  total += attack(a, commit, 1, []);
  const dhKey = a.conv.receive(commit).toSend[0]!;
  total += attack(b, dhKey, 2, []);
  const reveal = b.conv.receive(dhKey).toSend[0]!;
  total += attack(a, reveal, 3, []);
  const sig = a.conv.receive(reveal).toSend[0]!;
  total += attack(b, sig, 4, []);
  b.conv.receive(sig);
  assert.is(a.conv.msgstate, 'encrypted');
  assert.is(b.conv.msgstate, 'encrypted');
  assert.ok(total > 300, `${total} mutants`);
});

test('a mutated Reveal Signature or Signature leaves the AKE able to finish with the genuine one', () => {
  const a = makeSide(JS, 'alice');
  const b = makeSide(JS, 'bob');
  const commit = b.conv.startAke().toSend[0]!;
  const dhKey = a.conv.receive(commit).toSend[0]!;
  const reveal = b.conv.receive(dhKey).toSend[0]!;
  const rnd = seededRandom(9);
  for (const m of mutants(reveal, rnd).filter((_, i) => i % 7 === 0)) {
    const r = a.conv.receive(m);
    assert.is(a.conv.msgstate, 'plaintext');
    void r;
  }
  const sig = a.conv.receive(reveal).toSend[0]!;
  assert.is(a.conv.msgstate, 'encrypted');
  for (const m of mutants(sig, rnd).filter((_, i) => i % 7 === 0)) b.conv.receive(m);
  assert.is(b.conv.msgstate, 'plaintext');
  b.conv.receive(sig);
  assert.is(b.conv.msgstate, 'encrypted');
});

test('data messages with SMP and TLVs: mutants are never delivered and the session survives', () => {
  const { a, b } = encryptedPair(WASM);
  const smp = a.conv.startSmp('secret', 'question?').toSend[0]!;
  attack(b, smp, 5, []);
  const text = a.conv.send('genuine text').toSend[0]!;
  // Only the genuine text may ever come out (a flip in the unauthenticated revealed-keys field is harmless).
  attack(b, text, 6, ['genuine text']);
  for (const m of mutants(text, seededRandom(7))) b.conv.receive(m);
  const r = b.conv.receive(text);
  assert.equal(r.toUser, ['genuine text']);
  assert.is(b.conv.msgstate, 'encrypted');
});

test('junk text: bad armour, bad fragments, huge input, random bytes; all typed and harmless', () => {
  const { a, b } = encryptedPair(JS);
  const rnd = seededRandom(11);
  const junk: string[] = [
    '?OTR:',
    '?OTR:AAMD.',
    '?OTR:!!!!.',
    '?OTR:AAMC' + 'A'.repeat(10) + '.',
    '?OTR|1|2,0,0,x,',
    '?OTR|100|200,1,2,',
    '?OTR|100|' + b.conv.state.ourTag.toString(16) + ',2,1,x,',
    '?OTR|100|' + b.conv.state.ourTag.toString(16) + ',1,65535,x,',
    '?OTR,1,2,x,',
    '?OTR Error:',
    '?OTRv?',
    'x'.repeat((1 << 20) + 1),
    '?OTR:' + 'QUFB'.repeat(300_000) + '.',
  ];
  for (let i = 0; i < 200; i++) junk.push(armour(rnd(1 + (i % 97))));
  for (let i = 0; i < 200; i++) junk.push(armour(Uint8Array.from([0, 3, [2, 3, 0x0a, 0x11, 0x12][i % 5]!, ...rnd(8 + i)])));
  for (const j of junk) {
    const r = b.conv.receive(j);
    for (const e of r.events) assert.is(e.version, 3);
  }
  pump2(a, b);
});

function pump2(a: Side, b: Side): void {
  const r = b.conv.receive(a.conv.send('still alive').toSend[0]!);
  assert.equal(r.toUser, ['still alive']);
}

test.run();
