/**
 * OTR over a real chat network: two bridge processes (examples/xmpp-bridge), Alice's and Bob's, logged in to
 * a private Prosody (test/helpers/prosody.ts, stanza limit 10000 bytes) reach an OTRv4 session through the
 * server and talk both ways, a large message fragmented under the limit; SMP across the server; a kill -9 of
 * Bob's bridge and a restart from its state, with no new DAKE and no message key used twice; and Alice ending
 * the session. Alice keeps her state in a file, Bob in the SQLite record store (ts/store), sealed at rest.
 * The tests run in order on the same two accounts.
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startProsody, type Prosody } from './helpers/prosody.js';
import { BridgeProc, dataMessages, wireOut, type Line } from './xmpp-harness.js';

const t = suite('xmpp bridge through Prosody');
let server: Prosody;
let tmp: string;
let alice: BridgeProc;
let bob: BridgeProc;
let bobBefore: BridgeProc | undefined;
/** uvu swallows errors thrown by hooks, so setup keeps its error and every test rethrows it. */
let setupError: unknown;

const ALICE = 'alice@localhost';
const BOB_STORE = () => `sqlite:${join(tmp, 'bob.sqlite')}`;
/** Bob's records are sealed at rest with this host key. */
const BOB_ENV = { XMPP_BRIDGE_SEAL_KEY: '5e'.repeat(32) };
const BOB = 'bob@localhost';
const isType = (type: string, extra: (l: Line) => boolean = () => true) => (l: Line) => l.type === type && extra(l);

t.before(async () => {
  try {
    server = await startProsody({ stanzaSizeLimit: 10_000 });
    await Promise.all([server.addUser('alice', 'alice-pw'), server.addUser('bob', 'bob-pw')]);
    tmp = mkdtempSync(join(tmpdir(), 'otr4-xmpp-'));
    alice = new BridgeProc('alice', server, 'alice', 'alice-pw', 'laptop', join(tmp, 'alice.json'));
    bob = new BridgeProc('bob', server, 'bob', 'bob-pw', 'phone', BOB_STORE(), BOB_ENV);
    await Promise.all([alice.waitFor(isType('ready'), 'login'), bob.waitFor(isType('ready'), 'login')]);
  } catch (e) {
    setupError = e;
  }
});

t.after(async () => {
  await Promise.all([alice?.quit(), bob?.quit(), bobBefore?.quit()]);
  await server?.stop();
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

t.before.each(() => {
  if (setupError) throw setupError;
});

t('an OTRv4 session through the server; messages both ways; a large one fragmented under the stanza limit', async () => {
  alice.type(`/to ${BOB}`);
  bob.type(`/to ${ALICE}`);
  alice.type('/otr');
  const [ea, eb] = await Promise.all([alice.waitFor(isType('encrypted'), 'session'), bob.waitFor(isType('encrypted'), 'session')]);
  assert.is(ea.ssid, eb.ssid, 'both sides show the same session id');
  assert.is(ea.version, 4);
  assert.is(ea.peerFingerprint, (bob.of('ready')[0] as Line).fingerprint);
  assert.is(eb.peerFingerprint, (alice.of('ready')[0] as Line).fingerprint);

  alice.type('hello Bob, through Prosody');
  const m1 = await bob.waitFor(isType('message', (l) => l.text === 'hello Bob, through Prosody'), 'message');
  assert.is(m1.encrypted, true);
  bob.type('hi Alice ✓');
  const m2 = await alice.waitFor(isType('message', (l) => l.text === 'hi Alice ✓'), 'reply');
  assert.is(m2.encrypted, true);

  // 30,000 characters: far over the server's 10,000-byte stanza limit once encrypted and armoured.
  const big = Array.from({ length: 3000 }, (_, i) => `w${(i * 7919) % 10007}`.padEnd(10, '.')).join('');
  const sentBefore = wireOut(alice).length;
  alice.type(big);
  const got = await bob.waitFor(isType('message', (l) => typeof l.text === 'string' && l.text.length === big.length), 'the large message');
  assert.is(got.text, big);
  assert.is(got.encrypted, true);
  const pieces = wireOut(alice).slice(sentBefore);
  assert.ok(pieces.length >= 10, `fragmented into ${pieces.length} messages`);
  assert.ok(pieces.every((p) => p.startsWith('?OTR|') && p.length <= 4096), 'every fragment within --max-message-size 4096');
  assert.ok(pieces.reduce((n, p) => n + p.length, 0) > server.stanzaSizeLimit, 'unfragmented it would not fit one stanza');
  assert.not.ok(pieces.some((p) => p.includes('w1.')), 'no plaintext on the wire');
  // The other way too.
  bob.type(big.split('').reverse().join(''));
  await alice.waitFor(isType('message', (l) => l.text === big.split('').reverse().join('')), 'the large reply');
  for (const p of [alice, bob]) assert.is(p.of('unreadable').length, 0, p.dump());
});

t('SMP across the server: the right secret verifies, a wrong one fails on both sides', async () => {
  const fromA = alice.lines.length;
  const fromB = bob.lines.length;
  alice.type('/smp open-sesame What opens the cave?');
  const asked = await bob.waitFor(isType('smp', (l) => l.status === 'asked'), 'the SMP question', { from: fromB });
  assert.is(asked.question, 'What opens the cave?');
  bob.type('/answer open-sesame');
  await Promise.all([
    alice.waitFor(isType('smp', (l) => l.status === 'succeeded'), 'SMP success', { from: fromA }),
    bob.waitFor(isType('smp', (l) => l.status === 'succeeded'), 'SMP success', { from: fromB }),
  ]);
  const a2 = alice.lines.length;
  const b2 = bob.lines.length;
  bob.type('/smp right-answer');
  await alice.waitFor(isType('smp', (l) => l.status === 'asked'), 'the second SMP', { from: a2 });
  alice.type('/answer wrong-answer');
  await Promise.all([
    alice.waitFor(isType('smp', (l) => l.status === 'failed'), 'SMP failure', { from: a2 }),
    bob.waitFor(isType('smp', (l) => l.status === 'failed'), 'SMP failure', { from: b2 }),
  ]);
  // The session survives a failed SMP.
  alice.type('still private after SMP');
  await bob.waitFor(isType('message', (l) => l.text === 'still private after SMP' && l.encrypted === true), 'message after SMP');
});

t("kill -9 of Bob's bridge mid-conversation, restart from its SQLite store: no new DAKE, no message key reused", async () => {
  for (let i = 0; i < 3; i++) {
    bob.type(`bob before the crash ${i}`);
    await alice.waitFor(isType('message', (l) => l.text === `bob before the crash ${i}`), 'message');
  }
  alice.type('alice before the crash');
  await bob.waitFor(isType('message', (l) => l.text === 'alice before the crash'), 'message');
  await bob.kill9();
  bobBefore = bob;
  // Sent while Bob is down: the server stores it and delivers it when he is back.
  alice.type('while you were away');
  bob = new BridgeProc('bob (restarted)', server, 'bob', 'bob-pw', 'phone', BOB_STORE(), BOB_ENV);
  const ready = await bob.waitFor(isType('ready'), 'login after restart');
  assert.is(ready.restored, true);
  assert.match(String(ready.where), /^sqlite:.*\(sealed\)$/);
  assert.is(ready.instance, (bobBefore.of('ready')[0] as Line).instance, 'same OTR instance');
  const away = await bob.waitFor(isType('message', (l) => l.text === 'while you were away'), 'the message sent while down');
  assert.is(away.encrypted, true);
  bob.type(`/to ${ALICE}`);
  for (let i = 0; i < 3; i++) {
    bob.type(`bob after the restart ${i}`);
    await alice.waitFor(isType('message', (l) => l.text === `bob after the restart ${i}` && l.encrypted === true), 'message after restart');
  }
  alice.type('alice after the restart');
  await bob.waitFor(isType('message', (l) => l.text === 'alice after the restart'), 'message after restart');
  // The conversation went on: no DAKE on either side since the first one.
  assert.is(bob.of('encrypted').length, 0, 'the restarted bridge did not run a new DAKE');
  assert.is(alice.of('encrypted').length, 1, 'Alice saw one session only');
  for (const p of [alice, bob]) assert.is(p.of('unreadable').length, 0, p.dump());
  // Every data message Bob ever sent, before and after the crash: each (ECDH key, message id) once, each
  // ciphertext once. A restart from a state older than what went out would repeat one.
  const sent = await dataMessages([...wireOut(bobBefore), ...wireOut(bob)]);
  assert.ok(sent.length >= 8, `${sent.length} data messages from Bob`);
  const keys = new Set(sent.map((m) => `${m.ecdh}:${m.messageId}`));
  assert.is(keys.size, sent.length, 'a message key was used twice');
  assert.is(new Set(sent.map((m) => m.ciphertext)).size, sent.length);
});

t('Alice ends the session: Bob is told, and nothing more goes out in plaintext', async () => {
  const fromB = bob.lines.length;
  alice.type('/end');
  await alice.waitFor(isType('ended'), 'ended');
  const fin = await bob.waitFor(isType('finished'), 'the end of the session', { from: fromB });
  assert.is(fin.reason, 'peer-ended');
  const outBefore = wireOut(bob).length;
  bob.type('are you still there?');
  const ns = await bob.waitFor(isType('not-sent'), 'not-sent', { from: fromB });
  assert.is(ns.reason, 'finished');
  assert.not.ok(wireOut(bob).slice(outBefore).some((b) => b.includes('still there')), 'never sent in plaintext');
  // Bob closes his side too; a new /otr starts a new session.
  bob.type('/end');
  await bob.waitFor(isType('ended'), 'ended', { from: fromB });
  alice.type('/otr');
  await Promise.all([
    alice.waitFor(isType('encrypted'), 'the new session', { from: alice.lines.findIndex((l) => l.type === 'ended') }),
    bob.waitFor(isType('encrypted'), 'the new session', { from: fromB }),
  ]);
});

t.run();
