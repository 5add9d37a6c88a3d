/**
 * How many group checks the double ratchet makes (ts/ratchet/state.ts: the peer's keys are kept marked
 * valid). The backend is wrapped to record every pointIsValid, pointMulValid (the fused check and product) and
 * legendre call with its argument, so both
 * regressions fail here: a peer key used without ever being validated, or a key validated again on every
 * sending step (the ~150 µs of pointIsValid + Legendre symbol the sender step used to repeat).
 *
 *   - a receiver step validates the new ECDH key once, and the new DH value once on a DH step;
 *   - a message on the current chain and every sending step (ECDH or DH) validate nothing;
 *   - a restored ratchet is validated as ratchetFromValue decodes it, and a restored state with an invalid peer key is
 *     refused there, so the sending step after a restore validates nothing either;
 *   - an invalid key in a new ratchet is still refused (typed), the state untouched.
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import type { CryptoBackend, DhGroupName } from '../ts/backend/types.js';
import { BACKENDS, HYBRID } from './helpers/backends.js';
import { seededRatchetPair } from './helpers/ratchet-pair.js';
import { bytesToHex, utf8 } from '../ts/bytes.js';
import { OtrCryptoError, OtrDecodeError } from '../ts/errors.js';
import { IDENTITY_POINT } from '../ts/crypto/point.js';
import { decodeDataMessage, draftDataMessage } from '../ts/wire/data.js';
import { ratchetFromValue, ratchetToValue } from '../ts/session/persist.js';
import {
  cloneRatchetState,
  decryptDataMessage,
  encryptDataMessage,
  isDhStep,
  type RatchetState,
} from '../ts/ratchet/index.js';

const NOW = 1_700_000_000_000;
const TAGS = { alice: 0x101, bob: 0x202 } as const;
type Who = keyof typeof TAGS;

interface Recorder {
  readonly backend: CryptoBackend;
  points: string[];
  dh: string[];
  reset(): void;
}

const hex = (x: Uint8Array): string => bytesToHex(x).replace(/^(00)+/, '');

function recording(b: CryptoBackend): Recorder {
  const wrapped: CryptoBackend = Object.create(b);
  const r: Recorder = {
    backend: wrapped,
    points: [],
    dh: [],
    reset() {
      r.points = [];
      r.dh = [];
    },
  };
  Object.assign(wrapped, {
    pointIsValid: (p: Uint8Array) => {
      r.points.push(hex(p));
      return b.pointIsValid(p);
    },
    // The fused check-and-multiply (a new ratchet's ECDH key) validates its point: counted as one check.
    ...(b.pointMulValid !== undefined && {
      pointMulValid: (p: Uint8Array, k: Uint8Array) => {
        r.points.push(hex(p));
        return b.pointMulValid!(p, k);
      },
    }),
    legendre: (g: DhGroupName, x: Uint8Array) => {
      r.dh.push(hex(x));
      return b.legendre(g, x);
    },
  });
  return r;
}

function pair(b: CryptoBackend, seed: number): { st: Record<Who, RatchetState>; rnd: (n: number) => Uint8Array } {
  const { alice, bob, rnd } = seededRatchetPair(b, seed);
  return { st: { alice, bob }, rnd };
}

const other = (w: Who): Who => (w === 'alice' ? 'bob' : 'alice');

for (const b0 of [...BACKENDS, HYBRID]) {
  const t = suite(`ratchet validation count [${b0.name}]`);

  t('receiver steps validate each new peer key once; sending steps and same-chain messages validate nothing', () => {
    const rec = recording(b0);
    const b = rec.backend;
    const { st, rnd } = pair(b0, 1);
    // Nine changes of direction (three DH steps each way among them), two messages per turn.
    let dhReceived = 0;
    for (let turn = 0; turn < 10; turn++) {
      const from: Who = turn % 2 === 0 ? 'alice' : 'bob';
      for (let m = 0; m < 2; m++) {
        const stepping = st[from].sendingStepDue;
        rec.reset();
        const sent = encryptDataMessage(b, rnd, st[from], utf8(`turn ${turn} message ${m}`), { senderTag: TAGS[from], receiverTag: TAGS[other(from)] });
        assert.equal([rec.points, rec.dh], [[], []], `sending (turn ${turn}, message ${m}, step ${stepping}): no group check`);
        st[from] = sent.state;

        const msg = decodeDataMessage(sent.message);
        rec.reset();
        const got = decryptDataMessage(b, st[other(from)], msg, { now: NOW });
        st[other(from)] = got.state;
        if (got.source === 'new-ratchet') {
          assert.equal(rec.points, [hex(msg.ecdh)], `new ratchet (turn ${turn}): the new ECDH key, once`);
          assert.equal(rec.dh, isDhStep(msg.ratchetId) ? [hex(msg.dh)] : [], `new ratchet (turn ${turn}): the DH value on a DH step only`);
          if (isDhStep(msg.ratchetId)) dhReceived++;
        } else {
          assert.is(got.source, 'chain');
          assert.equal([rec.points, rec.dh], [[], []], `same chain (turn ${turn}, message ${m}): no group check`);
        }
      }
    }
    assert.ok(dhReceived >= 2, `the run covered DH steps (${dhReceived})`);
  });

  t('a restored ratchet is validated once as it is decoded; its next sending step validates nothing', () => {
    const rec = recording(b0);
    const b = rec.backend;
    const { st, rnd } = pair(b0, 2);
    // Bob speaks first: a new ratchet for Alice, whose next message is then a sending step.
    const sent = encryptDataMessage(b0, rnd, st.bob, utf8('hi'), { senderTag: TAGS.bob, receiverTag: TAGS.alice });
    st.bob = sent.state;
    st.alice = decryptDataMessage(b0, st.alice, decodeDataMessage(sent.message), { now: NOW }).state;
    const value = ratchetToValue(cloneRatchetState(st.alice));
    rec.reset();
    const restored = ratchetFromValue(b, value);
    assert.equal(rec.points.sort(), [hex(restored.theirEcdh), hex(restored.ourEcdh.public)].sort(), 'restore: the peer key and our public key');
    assert.equal(rec.dh, [hex(restored.theirDh)], 'restore: the peer DH value');
    assert.ok(restored.sendingStepDue);
    rec.reset();
    const reply = encryptDataMessage(b, rnd, restored, utf8('back'), { senderTag: TAGS.alice, receiverTag: TAGS.bob });
    assert.equal([rec.points, rec.dh], [[], []], 'the sending step after the restore');
    const opened = decryptDataMessage(b0, st.bob, decodeDataMessage(reply.message), { now: NOW });
    assert.is(new TextDecoder().decode(opened.plaintext), 'back');
  });

  t('a restored ratchet with an invalid peer key is refused as it is decoded (typed)', () => {
    const { st } = pair(b0, 3);
    const bad = (edit: (v: Record<string, unknown>) => void) => {
      const v = ratchetToValue(cloneRatchetState(st.bob)) as Record<string, unknown>;
      edit(v);
      assert.throws(() => ratchetFromValue(b0, v as never), (e: unknown) => e instanceof OtrDecodeError);
    };
    bad((v) => (v.theirEcdh = IDENTITY_POINT.slice()));
    bad((v) => {
      const p = (v.theirEcdh as Uint8Array).slice();
      p[3]! ^= 0x40;
      v.theirEcdh = p;
    });
    bad((v) => (v.theirDh = Uint8Array.of(1)));
    bad((v) => (v.theirDh = new Uint8Array(384).fill(0xff)));
  });

  t('an invalid key in a new ratchet is refused with the typed error, state untouched', () => {
    const { st, rnd } = pair(b0, 4);
    // Bob's first message is a new ratchet (id 0, a DH step: it carries his DH value) for Alice.
    const sent = encryptDataMessage(b0, rnd, st.bob, utf8('x'), { senderTag: TAGS.bob, receiverTag: TAGS.alice });
    const msg = decodeDataMessage(sent.message);
    assert.ok(isDhStep(msg.ratchetId) && msg.dh.length > 0);
    const before = JSON.stringify(ratchetToValue(st.alice), (_k, v) => (v instanceof Uint8Array ? bytesToHex(v) : v));
    const resealed = (ecdh: Uint8Array, dh: Uint8Array) => {
      const d = draftDataMessage({ ...msg, ecdh, dh });
      return decodeDataMessage(d.seal(msg.authenticator));
    };
    const flipped = msg.ecdh.slice();
    flipped[5]! ^= 0x01;
    for (const [m, code] of [
      [resealed(IDENTITY_POINT.slice(), msg.dh), 'INVALID_POINT'],
      [resealed(flipped, msg.dh), 'INVALID_POINT'],
      [resealed(msg.ecdh, Uint8Array.of(1)), 'INVALID_DH_VALUE'],
    ] as const) {
      try {
        decryptDataMessage(b0, st.alice, m, { now: NOW });
        assert.unreachable('accepted an invalid ratchet key');
      } catch (e) {
        // A flipped bit may also leave a point that does not decode at all: INVALID_POINT either way.
        assert.instance(e, OtrCryptoError);
        assert.is((e as OtrCryptoError).code, code);
      }
      assert.is(JSON.stringify(ratchetToValue(st.alice), (_k, v) => (v instanceof Uint8Array ? bytesToHex(v) : v)), before);
    }
    // The genuine message still opens.
    assert.is(new TextDecoder().decode(decryptDataMessage(b0, st.alice, msg, { now: NOW }).plaintext), 'x');
  });

  t.run();
}
