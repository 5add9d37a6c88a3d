/**
 * Persistence of a V3State: the shared versioned state encoding (session/state-codec.ts, kind "otrv3") plus
 * the state's schema (persist.ts), so a restored state is exactly the one serialised and hostile bytes give
 * an OtrDecodeError.
 */
import { OtrStateError } from '../errors.js';
import { MIN_INSTANCE_TAG } from '../instance-tag.js';
import { type Limits, resolveLimits } from '../limits.js';
import type { V3State } from './conversation.js';
import { type StateValue, decodeState, encodeState } from '../session/state-codec.js';
import { type Schema, checkSchema } from './persist.js';
import { MessageTypeV3 } from '../wire/header.js';

const STATE_KIND = 'otrv3';
const DH: Schema = { obj: { priv: 'bytes', pub: 'big' } };
const DSA_PUB: Schema = { obj: { p: 'big', q: 'big', g: 'big', y: 'big' } };
const AKE_KEYS: Schema = { obj: { ssid: 'bytes', c: 'bytes', cPrime: 'bytes', m1: 'bytes', m2: 'bytes', m1Prime: 'bytes', m2Prime: 'bytes' } };
const HDR = { senderTag: 'int', receiverTag: 'int' } as const;
const STATE_SCHEMA: Schema = {
  obj: {
    ourTag: 'int',
    theirTag: 'int',
    msgstate: { union: [{ lit: 'plaintext' }, { lit: 'encrypted' }, { lit: 'finished' }] },
    auth: {
      union: [
        { obj: { kind: { lit: 'none' } } },
        {
          obj: {
            kind: { lit: 'awaitingDhKey' },
            r: 'bytes',
            ours: DH,
            hashGx: 'bytes',
            commit: { obj: { type: { lit: MessageTypeV3.dhCommit }, ...HDR, encGx: 'bytes', hashGx: 'bytes' } },
          },
        },
        {
          obj: {
            kind: { lit: 'awaitingRevealSig' },
            ours: DH,
            encGx: 'bytes',
            hashGx: 'bytes',
            dhKey: { obj: { type: { lit: MessageTypeV3.dhKey }, ...HDR, gy: 'big' } },
          },
        },
        {
          obj: {
            kind: { lit: 'awaitingSig' },
            ours: DH,
            theirGy: 'big',
            keys: AKE_KEYS,
            revealSig: { obj: { type: { lit: MessageTypeV3.revealSignature }, ...HDR, r: 'bytes', encSig: 'bytes', mac: 'bytes' } },
          },
        },
      ],
    },
    keys: {
      opt: {
        obj: {
          ourKeyid: 'int',
          ourCur: DH,
          ourPrev: DH,
          theirKeyid: 'int',
          theirCur: 'big',
          theirPrev: { opt: 'big' },
          sessions: {
            arr: {
              obj: {
                ourKeyid: 'int',
                theirKeyid: 'int',
                keys: { obj: { sendAes: 'bytes', sendMac: 'bytes', recvAes: 'bytes', recvMac: 'bytes', extraKey: 'bytes' } },
                sendCtr: 'bytes',
                recvCtr: 'bytes',
                recvMacUsed: 'bool',
              },
            },
            max: 4,
          },
          pendingReveal: 'bytes',
        },
      },
    },
    peer: { opt: { obj: { longTerm: DSA_PUB, fingerprint: 'bytes', ssid: 'bytes', ssidBoldFirst: 'bool' } } },
    smp: {
      union: [
        { obj: { kind: { lit: 'expect1' } } },
        { obj: { kind: { lit: 'awaitingAnswer' }, question: { opt: 'str' }, g2a: 'big', g3a: 'big' } },
        { obj: { kind: { lit: 'expect2' }, x: 'big', a2: 'big', a3: 'big' } },
        { obj: { kind: { lit: 'expect3' }, g3a: 'big', g2: 'big', g3: 'big', b3: 'big', pb: 'big', qb: 'big' } },
        { obj: { kind: { lit: 'expect4' }, g3b: 'big', paPb: 'big', qaQb: 'big', a3: 'big' } },
      ],
    },
    frag: { obj: { k: 'int', n: 'int', buf: 'str' } },
    lastSentAt: 'num',
    stored: { opt: { obj: { text: 'str', at: 'num' } } },
    receivedPlaintext: 'bool',
  },
};

/** The state as versioned bytes (contains session secrets: store it as such). */
export function serializeV3State(state: V3State): Uint8Array {
  return encodeState(STATE_KIND, state as unknown as StateValue);
}

/** Restores a state written by serializeV3State; hostile bytes give an OtrDecodeError. */
export function restoreV3State(bytes: Uint8Array, limits?: Partial<Limits>): V3State {
  const s = checkSchema<V3State>(decodeState(STATE_KIND, bytes, resolveLimits(limits).maxStateBytes), STATE_SCHEMA, 'OTRv3 state');
  if (s.ourTag < MIN_INSTANCE_TAG) throw new OtrStateError('restored state has an invalid instance tag');
  return s;
}
