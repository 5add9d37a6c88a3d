/**
 * Attack (session 14): forged OTRv3 data messages against the WASM backend's own HMAC-SHA1.
 *
 * OTRv3 MACs a data message whole before anything can refuse a forged one, and on the WASM backend (browsers)
 * that MAC is now the main module's SHA-1 (assembly/sha1.ts): one call for a message that fits the I/O region
 * with its key, streamed through the region beyond it. A forger controls the message's size, so both paths,
 * and the step from one to the other, must refuse a forged message (one bit flipped in the ciphertext) as
 * unreadable — nothing delivered, one MAC computed and no more — and leave the session as it was: the honest
 * message still decrypts after its forged copy, and the conversation goes on both ways.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { armour, dearmour } from '../../ts/codec/armour.js';
import type { CryptoBackend } from '../../ts/backend/types.js';
import type { WasmBackend } from '../../ts/backend/wasm/index.js';
import { WASM } from '../helpers/backends.js';
import { eventsOf, makeSide, pump, type Side } from '../interop/v3-pair.js';

/** The WASM backend with its HMAC-SHA1 calls and their data lengths recorded. */
function recordingHmac(): { backend: CryptoBackend; lengths: number[] } {
  const own = WASM.hmacSha1;
  assert.type(own, 'function', 'the WASM backend computes HMAC-SHA1 itself');
  const lengths: number[] = [];
  const backend: CryptoBackend = { ...WASM, hmacSha1: (k, d) => (lengths.push(d.length), own!(k, d)) };
  return { backend, lengths };
}

/**
 * `msg` with one bit of its middle byte flipped: inside what the MAC covers (the ciphertext of a long message,
 * the next D-H key of a short one), after the key ids and counter that are checked before it.
 */
function forge(msg: string): string {
  const bytes = dearmour(msg).slice();
  bytes[bytes.length >> 1]! ^= 0x10;
  return armour(bytes);
}

function pair(backend: CryptoBackend): { alice: Side; bob: Side } {
  const alice = makeSide(WASM, 'alice');
  const bob = makeSide(backend, 'bob');
  pump(alice, bob, alice.conv.start().toSend);
  assert.is(bob.conv.msgstate, 'encrypted');
  return { alice, bob };
}

/** What Bob makes of `msg`, his replies dropped (an OTR error back would make Alice start a new AKE). */
function deliver(bob: Side, msg: string): void {
  const r = bob.conv.receive(msg);
  bob.user.push(...r.toUser);
  bob.events.push(...r.events);
}

/** Sends `text` from Alice; Bob gets its forged copy first (refused, one MAC), then the honest one. */
function forgedThenHonest(alice: Side, bob: Side, lengths: number[], text: string, what: string): void {
  const [msg] = alice.conv.send(text).toSend;
  assert.ok(msg, `${what}: one message`);
  const [users, unreadable, macs] = [bob.user.length, eventsOf(bob, 'unreadable').length, lengths.length];
  deliver(bob, forge(msg!));
  assert.is(bob.user.length, users, `${what}: nothing delivered from the forged copy`);
  assert.is(eventsOf(bob, 'unreadable').length, unreadable + 1, `${what}: the forged copy is unreadable`);
  assert.is(lengths.length, macs + 1, `${what}: one MAC for the forged copy`);
  assert.ok(lengths[macs]! >= text.length, `${what}: the MAC covered the whole message`);
  deliver(bob, msg!);
  assert.is(bob.user.length, users + 1, `${what}: the honest message delivered after its forged copy`);
  assert.ok(bob.user[users] === text, `${what}: its text intact`);
}

test('forged messages on both sides of the I/O region\'s one-call limit are refused, the session intact', () => {
  const { backend, lengths } = recordingHmac();
  const { alice, bob } = pair(backend);
  const oneCallMax = (WASM as WasmBackend).context.ioSize - 20; // a 20-byte MAC key and the data in the region
  // A one-character message first: what the MAC covers beyond the text (header, next D-H key, counter).
  forgedThenHonest(alice, bob, lengths, 'f', '1 char');
  const overhead = lengths[0]! - 1;
  const edge = oneCallMax - overhead; // the longest text whose MAC is one call
  for (let n = edge - 9; n <= edge + 9; n += 3) forgedThenHonest(alice, bob, lengths, 'f'.repeat(n), `${n} chars`);
  assert.ok(lengths.includes(oneCallMax) && lengths.includes(oneCallMax + 3), `the step was crossed: ${lengths.join(', ')}`);
  // The session goes on both ways.
  pump(bob, alice, bob.conv.send('still here').toSend);
  assert.equal(alice.user.slice(-1), ['still here']);
});

test('forged messages of every size, to a few hundred kB, are refused; small ones too', () => {
  const { backend, lengths } = recordingHmac();
  const { alice, bob } = pair(backend);
  for (const n of [1, 55, 56, 63, 64, 65, 1000, 140_000, 600_000]) forgedThenHonest(alice, bob, lengths, 'g'.repeat(n), `${n} chars`);
  pump(bob, alice, bob.conv.send('after').toSend);
  assert.equal(alice.user.slice(-1), ['after']);
});

test.run();
