/**
 * Restoring OTRv3 state an attacker (or a corrupt disk) wrote (issue 10, "Restore and stores must refuse
 * what they cannot trust"): the state used to be checked on shape alone, so wrong-length AES/MAC keys made
 * send/receive throw a plain Error, key id 0 made us send key id 0xffffffff, invalid peer tags and duplicated
 * instances were taken silently, and any DSA parameters were accepted. Every field's meaning is now checked:
 * each corruption below is an OtrDecodeError from restore; and whatever restore accepts never makes send or
 * receive throw anything but an OtrError.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { OtrDecodeError, OtrError } from '../../ts/errors.js';
import { type StateValue, decodeState, encodeState } from '../../ts/session/state-codec.js';
import { V3Conversation, restoreV3State } from '../../ts/v3/index.js';
import { P } from '../../ts/v3/group.js';
import { resolveLimits } from '../../ts/limits.js';
import { STORED_MESSAGE_MAX_CHARS } from '../../ts/v3/constants.js';
import { JS } from '../helpers/backends.js';
import { seededRandom } from '../helpers/rng.js';
import { type Side, encryptedPair } from '../interop/v3-pair.js';

type Obj = Record<string, unknown>;

const decode = (bytes: Uint8Array): Obj => decodeState('otrv3', bytes) as Obj;
const encode = (o: Obj): Uint8Array => encodeState('otrv3', o as StateValue);

/** Follows a path of keys and indices; returns the parent object and the last key. */
function at(o: Obj, path: (string | number)[]): [Obj, string | number] {
  let cur: unknown = o;
  for (const k of path.slice(0, -1)) cur = (cur as Obj)[k as string];
  return [cur as Obj, path[path.length - 1]!];
}

function mutated(bytes: Uint8Array, change: (o: Obj) => void): Uint8Array {
  const o = structuredClone(decode(bytes));
  change(o);
  return encode(o);
}

/** Bob, encrypted with Alice, after messages both ways (session keys exist) and an SMP request from Alice. */
function fixture(): { a: Side; b: Side; bytes: Uint8Array } {
  const { a, b } = encryptedPair(JS);
  for (const m of a.conv.send('one').toSend) b.conv.receive(m);
  for (const m of b.conv.send('two').toSend) a.conv.receive(m);
  for (const m of a.conv.startSmp('secret', 'q?').toSend) b.conv.receive(m);
  return { a, b, bytes: b.conv.serialize() };
}

const set = (path: (string | number)[], v: unknown) => (o: Obj) => {
  const [parent, k] = at(o, path);
  (parent as Record<string | number, unknown>)[k] = v;
};
const I = ['instances', 0];

const CORRUPTIONS: [string, (o: Obj) => void][] = [
  ['a 15-byte sending AES key', set([...I, 'keys', 'sessions', 0, 'keys', 'sendAes'], new Uint8Array(15))],
  ['a 17-byte receiving AES key', set([...I, 'keys', 'sessions', 0, 'keys', 'recvAes'], new Uint8Array(17))],
  ['a 19-byte sending MAC key', set([...I, 'keys', 'sessions', 0, 'keys', 'sendMac'], new Uint8Array(19))],
  ['a 21-byte receiving MAC key', set([...I, 'keys', 'sessions', 0, 'keys', 'recvMac'], new Uint8Array(21))],
  ['a short extra key', set([...I, 'keys', 'sessions', 0, 'keys', 'extraKey'], new Uint8Array(31))],
  ['a 7-byte counter', set([...I, 'keys', 'sessions', 0, 'sendCtr'], new Uint8Array(7))],
  ['our key id 0 (would send key id 0xffffffff)', set([...I, 'keys', 'ourKeyid'], 0)],
  ['our key id 1 (would send key id 0)', set([...I, 'keys', 'ourKeyid'], 1)],
  ['their key id 0', set([...I, 'keys', 'theirKeyid'], 0)],
  ['session keys for a key id we do not hold', set([...I, 'keys', 'sessions', 0, 'ourKeyid'], 77)],
  ['their D-H key 1', set([...I, 'keys', 'theirCur'], 1n)],
  ['their D-H key p', set([...I, 'keys', 'theirCur'], P)],
  ['our D-H secret of the wrong length', set([...I, 'keys', 'ourCur', 'priv'], new Uint8Array(10))],
  ['MAC keys to reveal not a multiple of 20 bytes', set([...I, 'keys', 'pendingReveal'], new Uint8Array(7))],
  ['an invalid peer instance tag', set([...I, 'theirTag'], 0x42)],
  ['a peer instance tag that is not the current one', set([...I, 'theirTag'], 0x4242_4242)],
  ['the same instance twice', (o) => void (o.instances as unknown[]).push(structuredClone((o.instances as unknown[])[0]))],
  ['a current instance without a context', set(['current'], 0x1234_5678)],
  ['our tag below 0x100', set(['ourTag'], 0xff)],
  ['a context of another tag of ours', set([...I, 'ourTag'], 0x5555_5555)],
  ['an encrypted master context', set(['master', 'msgstate'], 'encrypted')],
  ['encrypted without keys', set([...I, 'keys'], null)],
  ['DSA g = 0 (dsaSign would loop forever)', set([...I, 'peer', 'longTerm', 'g'], 0n)],
  ['DSA p = 0', set([...I, 'peer', 'longTerm', 'p'], 0n)],
  ['DSA y = 1', set([...I, 'peer', 'longTerm', 'y'], 1n)],
  ['DSA q of 159 bits', set([...I, 'peer', 'longTerm', 'q'], (1n << 158n) + 1n)],
  ['DSA p of 4096 bits', set([...I, 'peer', 'longTerm', 'p'], (1n << 4095n) + 1n)],
  ['a fingerprint that does not match the key', (o) => ((at(o, [...I, 'peer', 'fingerprint'])[0] as Obj).fingerprint = new Uint8Array(20))],
  ['a 7-byte ssid', set([...I, 'peer', 'ssid'], new Uint8Array(7))],
  ['an SMP value outside the group', set([...I, 'smp', 'g2a'], 1n)],
  ['a negative send time', set([...I, 'lastSentAt'], -1)],
  ['a 15-byte AKE r at the master', set(['master', 'auth', 'r'], new Uint8Array(15))],
];

test('each corrupted field of a restored OTRv3 state is an OtrDecodeError', () => {
  const { bytes } = fixture();
  const o = decode(bytes);
  // The fixture has what the corruptions need: session keys, an SMP request, our commit at the master.
  assert.ok(((o.instances as Obj[])[0]!.keys as Obj).sessions);
  assert.is(((o.instances as Obj[])[0]!.smp as Obj).kind, 'awaitingAnswer');
  assert.is((((o.master as Obj).auth) as Obj).kind, 'awaitingDhKey');
  restoreV3State(bytes); // the genuine state restores
  for (const [what, change] of CORRUPTIONS) {
    const bad = mutated(bytes, change);
    try {
      restoreV3State(bad);
    } catch (e) {
      assert.instance(e, OtrDecodeError, `${what}: ${String(e)}`);
      continue;
    }
    assert.unreachable(`restored a state with ${what}`);
  }
});

/** Every leaf of a decoded state with its path. */
function leaves(v: unknown, path: (string | number)[] = [], out: [(string | number)[], unknown][] = []): [(string | number)[], unknown][] {
  if (v !== null && typeof v === 'object' && !(v instanceof Uint8Array)) {
    for (const [k, x] of Array.isArray(v) ? v.entries() : Object.entries(v as Obj)) leaves(x, [...path, k], out);
  } else out.push([path, v]);
  return out;
}

/** A few hostile replacements for a leaf of each type. */
function replacements(v: unknown, rnd: (n: number) => Uint8Array): unknown[] {
  if (v instanceof Uint8Array) return [new Uint8Array(0), v.slice(0, Math.max(0, v.length - 1)), Uint8Array.from([...v, 0]), rnd(v.length)];
  if (typeof v === 'bigint') return [0n, 1n, -1n, P - 1n, P, v + 1n];
  if (typeof v === 'number') return [0, 1, 0xff, 0xffffffff, v + 1, -1];
  if (typeof v === 'boolean') return [!v];
  if (typeof v === 'string') return ['', 'encrypted', 'x'.repeat(5000)];
  if (v === null) return [0, new Uint8Array(20)];
  return [];
}

test('serialize() never produces bytes restore() refuses: the worst case every limit allows', () => {
  const { bytes } = fixture();
  const L = resolveLimits();
  const o = structuredClone(decode(bytes));
  const one = (o.instances as Obj[])[0]!;
  // Every context holds the longest message we keep for resending, in 3-byte UTF-8 characters, and the
  // longest SMP question; as many contexts as the limit allows, plus the master.
  const held = { text: '€'.repeat(STORED_MESSAGE_MAX_CHARS), at: 1 };
  const question = '€'.repeat(Math.floor(L.maxSmpQuestionBytes / 3));
  const instances: Obj[] = [];
  for (let i = 0; i < L.maxInstancesPerConversation; i++) {
    const c = structuredClone(one);
    c.theirTag = i === 0 ? one.theirTag : 0x7000_0000 + i;
    c.stored = held;
    (c.smp as Obj).question = question;
    instances.push(c);
  }
  o.instances = instances;
  (o.master as Obj).stored = held;
  const worst = encode(o);
  assert.ok(worst.length <= L.maxStateBytes, `${worst.length} bytes`);
  const restored = restoreV3State(worst);
  assert.is(restored.instances.length, L.maxInstancesPerConversation);
  // A longer message is not held (so it can never be persisted): the host is told instead.
  const { a } = encryptedPair(JS, { policy: { requireEncryption: true } });
  const fresh = new V3Conversation({ ...a.opts, instanceTag: 0x5151_0100 });
  const r = fresh.send('x'.repeat(STORED_MESSAGE_MAX_CHARS + 1));
  assert.ok(r.events.some((e) => e.type === 'cannotSend'));
  assert.is(fresh.peerState.master.stored, null);
  assert.is(fresh.send('short').events.length, 0);
  assert.is(fresh.peerState.master.stored?.text, 'short');
});

test('a state saved for another instance tag of ours is an OtrDecodeError', () => {
  const { b, bytes } = fixture();
  assert.throws(() => V3Conversation.restore({ ...b.opts, instanceTag: 0x3333_0100 }, bytes), (e: Error) => e instanceof OtrDecodeError);
});

test('a host that lowers a limit still restores what it saved before', () => {
  const { bytes } = fixture();
  restoreV3State(bytes, { maxInstancesPerConversation: 1, maxSmpQuestionBytes: 1, maxMacKeysToReveal: 0 });
});

test('whatever restore accepts, send and receive only ever throw OtrErrors (every field mutated)', () => {
  const { a, b, bytes } = fixture();
  const fromAlice = a.conv.send('three').toSend;
  const rnd = seededRandom(17);
  let accepted = 0;
  let refused = 0;
  for (const [path, v] of leaves(decode(bytes))) {
    for (const r of replacements(v, rnd)) {
      const bad = mutated(bytes, set(path, r));
      let conv: V3Conversation;
      try {
        conv = V3Conversation.restore(b.opts, bad);
      } catch (e) {
        assert.instance(e, OtrError, `${path.join('.')}: ${String(e)}`);
        refused++;
        continue;
      }
      accepted++;
      const ops = [
        () => conv.send('hello'),
        () => fromAlice.map((m) => conv.receive(m)),
        () => conv.respondSmp('secret'),
        () => conv.end(),
      ];
      for (const op of ops) {
        try {
          op();
        } catch (e) {
          assert.instance(e, OtrError, `${path.join('.')} = ${String(r).slice(0, 40)}: ${String(e)}`);
        }
      }
    }
  }
  assert.ok(refused > 100, `${refused} refused, ${accepted} accepted`);
});

test.run();
