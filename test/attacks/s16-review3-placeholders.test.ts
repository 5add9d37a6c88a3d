/**
 * Attack (session 16, [s16-review3] on [s16-record]): a hostile disk puts the record's placeholders (0x00 for
 * our DH public value, the value 4 for the peer's) — and the empty value — in EVERY position that holds a
 * DH-sized value, in records taken at many moments of a conversation (just past the DAKE, mid-ratchet on and off
 * DH steps, a DAKE or SMP exchange in progress, an OTRv4 session refreshed). Each record either is refused at
 * restore with a typed error, or restores into a conversation whose calls (poll, send, the peer's next message,
 * SMP) never throw anything but a typed error — never a TypeError, never a hang.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Account } from '../../ts/index.js';
import { OtrError } from '../../ts/errors.js';
import { decodeState, encodeState, type StateValue } from '../../ts/session/state-codec.js';
import { WASM } from '../helpers/backends.js';
import { seededRandom } from '../helpers/rng.js';
import { ALICE_ID, BOB_ID, establish, makePair } from '../helpers/session-pair.js';

const be = WASM;

/** Every path to a byte string of a DH value's size (3072-bit: 380–385 bytes), or a placeholder, in a decoded record. */
function dhPaths(v: StateValue, path: (string | number)[] = [], out: (string | number)[][] = []): (string | number)[][] {
  if (v instanceof Uint8Array) {
    // The placeholders themselves too (one byte where a DH value goes).
    if ((v.length >= 380 && v.length <= 385) || (v.length === 1 && ['public', 'theirDh'].includes(String(path.at(-1))))) out.push(path);
  } else if (Array.isArray(v)) v.forEach((x, i) => dhPaths(x, [...path, i], out));
  else if (v !== null && typeof v === 'object') for (const [k, x] of Object.entries(v)) dhPaths(x as StateValue, [...path, k], out);
  return out;
}

function withValueAt(v: StateValue, path: (string | number)[], value: Uint8Array): StateValue {
  if (path.length === 0) return value;
  const [head, ...rest] = path;
  if (Array.isArray(v)) return v.map((x, i) => (i === head ? withValueAt(x, rest, value) : x));
  const o = v as Record<string, StateValue>;
  return { ...o, [head!]: withValueAt(o[head!]!, rest, value) };
}

/** A typed error is the only failure allowed. */
function typedOnly(what: string, f: () => void): void {
  try {
    f();
  } catch (e) {
    if (!(e instanceof OtrError)) assert.unreachable(`${what}: untyped ${(e as Error)?.name}: ${(e as Error)?.message}`);
  }
}

test('placeholders and empty values in every DH-sized position, at many moments: typed refusal or a conversation whose calls fail typed only', () => {
  const p = makePair(be, 16_361);
  const moments: { name: string; account: Uint8Array; conv: Uint8Array; peerMsg: string }[] = [];
  const snap = (name: string) => {
    for (const c of p.bob.changes({ all: true }) ?? []) void c;
    const recs = p.bob.records();
    const conv = recs.find((r) => r.key === `conv:${ALICE_ID}`)?.bytes;
    const account = recs.find((r) => r.key === 'account')!.bytes!;
    if (conv) moments.push({ name, account, conv, peerMsg: p.a.state === 'ENCRYPTED_MESSAGES' ? p.a.send(`to ${name}`).toSend[0]! : '?OTRv4?' });
  };
  // A DAKE in progress (Bob's Identity awaiting Auth-R).
  const query = p.a.start().toSend[0]!;
  p.b.receive(query);
  snap('dake');
  p.b.start();
  establish(p);
  snap('established');
  for (let turn = 0; turn < 7; turn++) {
    for (const m of p.a.send(`a${turn}`).toSend) p.b.receive(m);
    snap(`turn ${turn} after reading`);
    for (const m of p.b.send(`b${turn}`).toSend) p.a.receive(m);
    snap(`turn ${turn} after answering`);
  }
  p.b.receive(p.a.startSmp('s', 'question?').toSend[0]!);
  snap('smp asked');
  let tried = 0;
  for (const m of moments) {
    const v = decodeState('conversation', m.conv);
    const paths = dhPaths(v);
    assert.ok(paths.length >= 2, `${m.name}: DH values found (${paths.length})`);
    for (const path of paths) {
      for (const bad of [Uint8Array.of(0), Uint8Array.of(4), new Uint8Array(0)]) {
        tried++;
        const what = `${m.name} ${path.join('.')} = [${[...bad]}]`;
        let bytes: Uint8Array;
        try {
          bytes = encodeState('conversation', withValueAt(v, path, bad));
        } catch {
          continue; // the codec will not even write it
        }
        typedOnly(what, () => {
          const bob = Account.fromRecord({ bytes: m.account, generation: 1 }, { backend: be, clock: p.clock, random: seededRandom(tried) });
          bob.attachRecord({ key: `conv:${ALICE_ID}`, bytes, generation: 1 });
          const b = bob.conversation(ALICE_ID);
          typedOnly(`${what} poll`, () => void b.poll());
          typedOnly(`${what} receive`, () => void b.receive(m.peerMsg));
          typedOnly(`${what} send`, () => void b.send('after'));
          typedOnly(`${what} send again`, () => void b.send('again'));
          typedOnly(`${what} smp`, () => void b.startSmp('s'));
          typedOnly(`${what} records`, () => void bob.changes({ all: true }));
        });
      }
    }
  }
  assert.ok(tried > 50, `tried ${tried}`);
  void BOB_ID;
});

test.run();
