/**
 * Attack (session 13, Buffer views audit): a Node Buffer's `slice()` is a VIEW of the same memory, not a copy
 * (Buffer overrides Uint8Array.prototype.slice with subarray). Two more places "copied" host bytes that way:
 *   - forge `readAndForge({ messageKey })` took its own copy of the key with `.slice()` and wiped that copy when
 *     done: a Buffer key was the host's memory, so the host's key was zeroed by the call (a second read with
 *     the same key then decrypted garbage);
 *   - SpanReader.since() ("a copy of the bytes" consumed: a profile's verbatim encoding, a publication's prekey
 *     messages and proofs) used `.slice()`: decoding a Buffer (PrekeyServer.handle(from, bytes), the public
 *     binary entry) gave profiles whose `encoded` was a view of the host's buffer. No server path keeps such a
 *     value past handle() today (a publication arrives inside the DAKE-3's encryption, decoded from the
 *     server's own bytes), so the harm is latent: the decoder breaks its own contract, which the test shows.
 * Each now copies with copyBytes. docs/security.md "Session 13: Buffer views audit [s13-slices]" lists every
 * `.slice()` on a host path that was checked.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { WASM as be } from '../helpers/backends.js';
import { seededRandom } from '../helpers/rng.js';
import { makePair } from '../helpers/session-pair.js';
import { utf8 } from '../../ts/bytes.js';
import { armour } from '../../ts/codec/armour.js';
import { forgeInteractiveDake, readAndForge, type ForgeParty } from '../../ts/forge/index.js';
import { encryptDataMessage, messageEncKey, type RatchetState } from '../../ts/ratchet/index.js';
import type { Account } from '../../ts/index.js';
import { ALICE_ID, BOB_ID } from '../helpers/session-pair.js';
import { decodePsMessage, PsType, startServerDake } from '../../ts/prekey-server/index.js';
import { makePublisher } from '../prekey-fixtures.test.js';

const party = (acc: Account, id: string): ForgeParty => ({ profile: acc.clientProfile, accountId: id });

test("forge readAndForge with a Buffer message key: the caller's key is left as it was (before: zeroed)", () => {
  const rnd = seededRandom(1313);
  const p = makePair(be, 13);
  const d = forgeInteractiveDake(be, rnd, { initiator: party(p.bob, BOB_ID), responder: party(p.alice, ALICE_ID) });
  let bob: RatchetState = d.initiator.ratchet;
  const opts = { senderTag: p.bob.instanceTag, receiverTag: p.alice.instanceTag };
  bob = encryptDataMessage(be, rnd, bob, utf8('first'), opts).state; // makes Bob's first sending step
  const ck = bob.sendChain!.slice();
  const w = armour(encryptDataMessage(be, rnd, bob, utf8('read me twice'), opts).message);
  const mk = messageEncKey(be, ck);
  const key = Buffer.from(mk); // a host's key, as a Buffer (from the Node pool)
  assert.is(readAndForge(be, w, { messageKey: key }).text, 'read me twice');
  assert.equal(Uint8Array.from(key), mk, "the caller's message key is left as it was");
  assert.is(readAndForge(be, w, { messageKey: key }).text, 'read me twice', 'the same key reads the message again');
});

test("decodePsMessage of a Buffer (PrekeyServer.handle's input): the profile's verbatim bytes are the decoder's own copy", () => {
  const bob = makePublisher(be, seededRandom(1314), 0x0b0b0b0b, 1);
  const local = { identity: 'bob@example.org', instanceTag: bob.profile.ownerTag, profile: bob.profile, identityScalar: bob.identityScalar };
  const dake1 = startServerDake(be, seededRandom(1315), local).message;
  const bytes = Buffer.from(dake1); // a host's receive buffer
  const m = decodePsMessage(bytes);
  assert.is(m.type, PsType.dake1);
  if (m.type !== PsType.dake1) return;
  bytes.fill(0x5a); // the host reuses its buffer once handle() has returned
  assert.equal(m.profile.encoded, bob.profile.encoded, "the decoded profile's bytes are not the host's memory");
});

test.run();
