/**
 * Bob logged in from two XMPP resources (a phone and a laptop, each its own bridge and state file) is two OTR
 * instances for Alice: one query reaches both devices, both get sessions, Alice can send to all of them or to
 * one, both can write to her, and neither device is ever shown (or reports) a message meant for the other.
 *
 * What makes the last point hold today is the bridge's routing (examples/xmpp-bridge/otr-bridge.ts): a message
 * for one instance goes to that device's full JID only. The library itself, handed another instance's data
 * message, reports it `unreadable` (ts/session/conversation.ts onData): see docs/xmpp-bridge.md.
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startProsody, type Prosody } from './helpers/prosody.js';
import { BridgeProc, type Line } from './xmpp-harness.js';

const t = suite('xmpp bridge: one account on two devices');
let server: Prosody;
let tmp: string;
let alice: BridgeProc;
let phone: BridgeProc;
let laptop: BridgeProc;
let setupError: unknown;

const isType = (type: string, extra: (l: Line) => boolean = () => true) => (l: Line) => l.type === type && extra(l);
const texts = (p: BridgeProc): string[] => p.of('message').map((l) => String(l.text));

t.before(async () => {
  try {
    server = await startProsody();
    await Promise.all([server.addUser('alice', 'alice-pw'), server.addUser('bob', 'bob-pw')]);
    tmp = mkdtempSync(join(tmpdir(), 'otr4-xmpp-devices-'));
    alice = new BridgeProc('alice', server, 'alice', 'alice-pw', 'laptop', join(tmp, 'alice.json'));
    phone = new BridgeProc('bob/phone', server, 'bob', 'bob-pw', 'phone', join(tmp, 'bob-phone.json'));
    laptop = new BridgeProc('bob/laptop', server, 'bob', 'bob-pw', 'laptop', join(tmp, 'bob-laptop.json'));
    await Promise.all([alice, phone, laptop].map((p) => p.waitFor(isType('ready'), 'login')));
  } catch (e) {
    setupError = e;
  }
});

t.after(async () => {
  await Promise.all([alice?.quit(), phone?.quit(), laptop?.quit()]);
  await server?.stop();
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

t.before.each(() => {
  if (setupError) throw setupError;
});

t('one /otr: both of Bob’s devices get their own session, as two instances', async () => {
  alice.type('/to bob@localhost');
  for (const b of [phone, laptop]) b.type('/to alice@localhost');
  alice.type('/otr');
  const [p, l] = await Promise.all([phone.waitFor(isType('encrypted'), 'session'), laptop.waitFor(isType('encrypted'), 'session')]);
  const tagPhone = String(phone.of('ready')[0]!.instance);
  const tagLaptop = String(laptop.of('ready')[0]!.instance);
  assert.is.not(tagPhone, tagLaptop);
  await alice.waitFor(() => alice.of('encrypted').length === 2, 'two sessions');
  const byTag = new Map(alice.of('encrypted').map((e) => [String(e.instance), e]));
  assert.equal([...byTag.keys()].sort(), [tagPhone, tagLaptop].sort());
  assert.is(byTag.get(tagPhone)!.ssid, p.ssid);
  assert.is(byTag.get(tagLaptop)!.ssid, l.ssid);
  assert.is.not(p.ssid, l.ssid, 'two distinct sessions');
});

t('send to all devices, to one device, and from each device', async () => {
  const tagPhone = String(phone.of('ready')[0]!.instance);
  alice.type('/all hello both of you');
  await Promise.all([phone, laptop].map((b) => b.waitFor(isType('message', (m) => m.text === 'hello both of you'), 'message to all')));
  alice.type(`/inst ${tagPhone} only for the phone`);
  await phone.waitFor(isType('message', (m) => m.text === 'only for the phone' && m.encrypted === true), 'message to one');
  // Sent after it, so once the laptop has this one it would have had the other too.
  alice.type('/all second round');
  await laptop.waitFor(isType('message', (m) => m.text === 'second round'), 'second message');
  assert.not.ok(texts(laptop).includes('only for the phone'), 'the laptop never sees the phone’s message');
  assert.is(texts(phone).filter((x) => x === 'hello both of you').length, 1, 'delivered once per device');

  phone.type('from the phone');
  laptop.type('from the laptop');
  const [fp, fl] = await Promise.all([
    alice.waitFor(isType('message', (m) => m.text === 'from the phone'), 'message from the phone'),
    alice.waitFor(isType('message', (m) => m.text === 'from the laptop'), 'message from the laptop'),
  ]);
  assert.is(fp.instance, tagPhone);
  assert.is(fl.instance, String(laptop.of('ready')[0]!.instance));
  for (const p of [alice, phone, laptop]) {
    assert.is(p.of('unreadable').length, 0, `${p.name} reported unreadable messages:\n${p.dump()}`);
    assert.is(p.of('peer-error').length, 0, `${p.name} got OTR errors:\n${p.dump()}`);
  }
  assert.ok(
    alice.lines.filter((l) => l.type === 'wire' && l.dir === 'out' && String(l.body).startsWith('?OTR:')).every((l) => String(l.jid).includes('/')),
    'every encoded message to Bob went to one device (a full JID)',
  );
});

t('kill -9 of one device (state in a file) and a restart: it rejoins its own session; the other device discards what was not for it', async () => {
  const tagLaptop = String(laptop.of('ready')[0]!.instance);
  const before = laptop;
  await before.kill9();
  const fromPhone = phone.lines.length;
  alice.type('/all while the laptop was down');
  await phone.waitFor(isType('message', (m) => m.text === 'while the laptop was down'), 'message to the phone');
  // The server hands the phone what was sent to the offline laptop's resource (RFC 6121 §8.5.3.2.1): the phone
  // discards it by its receiver instance tag, as otrv4.md §Instance Tags says, instead of reporting it.
  await phone.waitFor(isType('ignored', (l) => String(l.reason).includes(tagLaptop)), 'the laptop’s message discarded', { from: fromPhone });
  laptop = new BridgeProc('bob/laptop (restarted)', server, 'bob', 'bob-pw', 'laptop', join(tmp, 'bob-laptop.json'));
  const ready = await laptop.waitFor(isType('ready'), 'login after restart');
  assert.is(ready.restored, true);
  assert.is(ready.instance, tagLaptop);
  alice.type('/all the laptop is back?');
  await laptop.waitFor(isType('message', (m) => m.text === 'the laptop is back?' && m.encrypted === true), 'message after restart');
  laptop.type('/to alice@localhost');
  laptop.type('the laptop is back');
  const back = await alice.waitFor(isType('message', (m) => m.text === 'the laptop is back'), 'reply after restart');
  assert.is(back.instance, tagLaptop);
  assert.is(laptop.of('encrypted').length, 0, 'no new DAKE');
  assert.is(alice.of('encrypted').length, 2, 'Alice still has exactly the two sessions');
  for (const p of [alice, phone, laptop]) {
    assert.is(p.of('unreadable').length, 0, `${p.name}:\n${p.dump()}`);
    assert.is(p.of('peer-error').length, 0, `${p.name}:\n${p.dump()}`);
  }
});

t.run();
