/**
 * Attack (session 15, review of session 14's deniability changes — can a hostile peer grow a record past what
 * restore accepts?). With the default limits, no: the queue of MAC keys to reveal is trimmed at
 * maxMacKeysToReveal (1,000), `inheritMacKeys` included, and the stored skipped keys at maxStoredMessageKeys
 * (1,000), while a restore accepts four times as many of each. But those bounds of the restore were constants
 * (4 × the DEFAULT maxStoredMessageKeys), not the account's limits: a host that raises maxMacKeysToReveal or
 * maxStoredMessageKeys above 4,000 (a documented limit, with no ceiling stated) lets any peer it has a session
 * with — sending only ordinary messages one-way (or, with the record's byte bound raised too, holding some
 * back) — build a ratchet the library itself
 * saved and then refuses to restore. Account.restore() threw on it: the whole account, every conversation and
 * its keys, lost at the next restart. Now the restore accepts up to the larger of the configured limit and the
 * old constant (a limit lowered later still restores what the default let it save), as OTRv3's codec does.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Account } from '../../ts/index.js';
import { WASM } from '../helpers/backends.js';
import { ALICE_ID, establish, makePair } from '../helpers/session-pair.js';
import type { Limits } from '../../ts/limits.js';

const be = WASM;

function restoreBob(p: ReturnType<typeof makePair>, limits: Partial<Limits>) {
  const bob = Account.restore(p.bob.serialize(), { backend: be, clock: p.clock, limits });
  return bob.conversation(ALICE_ID);
}

test('a one-way stream under maxMacKeysToReveal 5,000 (or Infinity): the record the library saved restores, the keys all there', () => {
  for (const max of [5000, Infinity]) oneWay({ maxMacKeysToReveal: max });
});

function oneWay(limits: Partial<Limits>): void {
  const p = makePair(be, 1511, { limits });
  establish(p);
  p.a.receive(p.b.send('hi').toSend[0]!);
  // Alice writes 4,100 messages and Bob never answers: one MAC key queued per message read.
  for (let i = 0; i < 4100; i++) assert.is(p.b.receive(p.a.send(`m${i}`).toSend[0]!).messages.length, 1);
  let b;
  try {
    b = restoreBob(p, limits);
  } catch (e) {
    assert.unreachable(`restore refused the library's own record: ${(e as Error).message}`);
  }
  assert.is(b!.state, 'ENCRYPTED_MESSAGES');
  // Bob's next message reveals all 4,100 (the reveal field of one message: 4,100 × 64 bytes).
  const r = p.a.receive(b!.send('answer').toSend[0]!);
  assert.equal(r.messages.map((m) => m.text), ['answer']);
}

test('messages held back under maxStoredMessageKeys 5,000: the stored keys restore and still read the late messages', () => {
  // The record's byte bound raised too (4,100 stored keys are ~1 MB: at the default a state-trimmed event halves
  // them, so the default bound alone keeps them under the restore's).
  const limits = { maxStoredMessageKeys: 5000, maxSkip: 5000, maxConversationStateBytes: 4 << 20 };
  const p = makePair(be, 1512, { limits });
  establish(p);
  p.a.receive(p.b.send('hi').toSend[0]!);
  const held = Array.from({ length: 4100 }, (_, i) => p.a.send(`m${i}`).toSend[0]!);
  assert.is(p.b.receive(p.a.send('last').toSend[0]!).messages.length, 1, 'read past 4,100 held-back messages');
  let b;
  try {
    b = restoreBob(p, limits);
  } catch (e) {
    assert.unreachable(`restore refused the library's own record: ${(e as Error).message}`);
  }
  assert.equal(b!.receive(held[0]!).messages.map((m) => m.text), ['m0']);
  assert.equal(b!.receive(held[4099]!).messages.map((m) => m.text), ['m4099']);
});

test('with the default limits a record of more than four times the default is trimmed, no longer refused (session 15, s15-restore-lowered-limits)', () => {
  const p = makePair(be, 1513);
  establish(p);
  const state = p.b.toState() as Record<string, unknown>;
  const inst = (state.instances as Record<string, unknown>[])[0]!;
  const ratchet = inst.ratchet as Record<string, unknown>;
  ratchet.macKeysToReveal = new Uint8Array(4001 * 64);
  const bad = { ...state, instances: [{ ...inst, ratchet }] };
  const c = (p.b.constructor as unknown as { fromState: (a: unknown, id: string, v: unknown) => { toState(): unknown } }).fromState(p.bob, ALICE_ID, bad as never);
  const kept = (c.toState() as { instances: { ratchet: { macKeysToReveal: Uint8Array } }[] }).instances[0]!.ratchet.macKeysToReveal;
  assert.is(kept.length / 64, 750);
});

test.run();
