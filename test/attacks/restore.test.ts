/**
 * Attack: a saved account that the library cannot trust (issue 10, "Restore and stores must refuse what they
 * cannot trust"). Account.restore accepted DSA parameters that then hung dsaSign forever (g = 0) or threw a
 * RangeError from receive() (p = 0), an identity secret that did not match the stored profile, and duplicated
 * entries. Now every key is validated on restore with a typed OtrDecodeError, and the restored public keys
 * must match the secrets (identity key vs profile, forging key, instance tag, DSA key y = g^x in bounds).
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Account, OtrDecodeError } from '../../ts/index.js';
import { decodeState, encodeState, type StateValue } from '../../ts/session/state-codec.js';
import { WASM } from '../helpers/backends.js';
import { seededRandom } from '../helpers/rng.js';
import { ALICE_ID, BOB_ID, establish, testClock } from '../helpers/session-pair.js';
import { establishedV34 } from './attacker.js';

const be = WASM;
type Rec = Record<string, StateValue>;

/** A saved account with OTRv3 and OTRv4 keys and one OTRv4 session. */
function saved(): Uint8Array {
  return establishedV34(be, 120).alice.serialize();
}

function edit(bytes: Uint8Array, fn: (v: Rec) => void): Uint8Array {
  const v = decodeState('account', bytes, 1 << 24) as Rec;
  fn(v);
  return encodeState('account', v);
}

function refused(bytes: Uint8Array, label: string): void {
  try {
    Account.restore(bytes, { backend: be, random: seededRandom(1), clock: testClock() });
  } catch (e) {
    assert.instance(e, OtrDecodeError, `${label}: ${(e as Error)?.constructor?.name} ${(e as Error)?.message}`);
    return;
  }
  assert.unreachable(`${label}: restored`);
}

test('the untouched state restores (the edits below are the only difference)', () => {
  const s = saved();
  assert.equal(Account.restore(s, { backend: be, random: seededRandom(1), clock: testClock() }).serialize(), s);
  assert.equal(edit(s, () => {}), s);
});

test('DSA parameters that used to hang dsaSign (g = 0, g = 1) or throw from receive (p = 0) are refused, typed', () => {
  const s = saved();
  const dsa = (f: (d: Rec) => void) => edit(s, (v) => f(v.dsa as Rec));
  refused(dsa((d) => (d.g = 0n)), 'g = 0');
  refused(dsa((d) => (d.g = 1n)), 'g = 1');
  refused(dsa((d) => (d.p = 0n)), 'p = 0');
  refused(dsa((d) => (d.q = 0n)), 'q = 0');
  refused(dsa((d) => (d.p = (1n << 8192n) + 1n)), 'p of 8193 bits');
  refused(dsa((d) => (d.x = (d.x as bigint) + 1n)), 'x does not give y');
  refused(dsa((d) => (d.x = 0n)), 'x = 0');
  refused(dsa((d) => (d.y = (d.y as bigint) - 1n)), 'y changed');
  refused(edit(s, (v) => (v.dsa = null)), 'the profile has a DSA key the state lacks');
});

test('identity secret, forging key and instance tag must match the stored client profile; its signature must verify', () => {
  const s = saved();
  refused(edit(s, (v) => (v.identitySecret = seededRandom(9)(57))), 'another identity secret');
  refused(edit(s, (v) => ((v.forgingKey as Uint8Array)[0]! ^= 1)), 'forging key changed');
  refused(edit(s, (v) => (v.instanceTag = (v.instanceTag as number) + 1)), 'instance tag changed');
  refused(edit(s, (v) => (v.instanceTag = 0x42)), 'invalid instance tag');
  refused(edit(s, (v) => ((v.profile as Uint8Array)[(v.profile as Uint8Array).length - 1]! ^= 1)), 'profile signature');
  refused(edit(s, (v) => (v.accountId = new Uint8Array(0))), 'empty account id');
  refused(edit(s, (v) => (v.lifetime = 0)), 'zero lifetime');
});

test('duplicated conversations and duplicated instances are refused', () => {
  const s = saved();
  refused(edit(s, (v) => (v.conversations = [...(v.conversations as StateValue[]), ...(v.conversations as StateValue[])])), 'conversation twice');
  refused(
    edit(s, (v) => {
      const st = ((v.conversations as Rec[])[0]!.state as Rec);
      st.instances = [...(st.instances as StateValue[]), ...(st.instances as StateValue[])];
    }),
    'instance twice',
  );
  refused(edit(s, (v) => (v.fingerprints = [{ peer: BOB_ID, v4: 'zz', v3: null }])), 'malformed fingerprint');
  refused(edit(s, (v) => (v.fingerprints = [{ peer: BOB_ID, v4: null, v3: null }, { peer: BOB_ID, v4: null, v3: null }])), 'peer twice');
});

test("a session's ratchet keys must mean what they say: the peer's ECDH key on the curve, their DH value in the group", () => {
  const s = saved();
  const ratchetOf = (v: Rec): Rec => {
    const st = (v.conversations as Rec[])[0]!.state as Rec;
    const inst = (st.instances as Rec[]).find((i) => i.ratchet !== null && i.ratchet !== undefined)!;
    return inst.ratchet as Rec;
  };
  // Each edit keeps every length: only the arithmetic meaning is wrong. Before, restore took them and the next
  // send()/receive() failed in the arithmetic.
  const notAPoint = new Uint8Array(57).fill(0xff);
  const openAs = (bytes: Uint8Array, label: string) => {
    try {
      const a = Account.restore(bytes, { backend: be, random: seededRandom(1), clock: testClock() });
      a.conversation(BOB_ID); // conversations may be decoded lazily: the refusal comes by first use at the latest
    } catch (e) {
      assert.instance(e, OtrDecodeError, `${label}: ${(e as Error)?.constructor?.name} ${(e as Error)?.message}`);
      return;
    }
    assert.unreachable(`${label}: restored`);
  };
  openAs(edit(s, (v) => (ratchetOf(v).theirEcdh = notAPoint)), 'theirEcdh off the curve');
  openAs(edit(s, (v) => ((ratchetOf(v).ourEcdh as Rec).public = notAPoint)), 'ourEcdh off the curve');
  openAs(edit(s, (v) => (ratchetOf(v).theirDh = Uint8Array.of(1))), 'theirDh = 1');
  openAs(edit(s, (v) => (ratchetOf(v).theirDh = new Uint8Array(384).fill(0xff))), 'theirDh > p');
});

test('an OTRv4-only account (no DSA key) restores, and a DSA key cannot be slipped in', () => {
  const clock = testClock();
  const a = Account.create({ accountId: ALICE_ID, backend: be, random: seededRandom(3), clock, dsaKey: null });
  const b = Account.create({ accountId: BOB_ID, backend: be, random: seededRandom(4), clock, dsaKey: null });
  establish({ clock, randA: seededRandom(5), randB: seededRandom(6), alice: a, bob: b, a: a.conversation(BOB_ID), b: b.conversation(ALICE_ID) });
  const s = a.serialize();
  Account.restore(s, { backend: be, random: seededRandom(1), clock });
  const withDsa = decodeState('account', saved(), 1 << 24) as Rec;
  refused(edit(s, (v) => (v.dsa = withDsa.dsa!)), 'a DSA key the profile does not carry');
});

test.run();
