/**
 * The five OTRv3 binary messages (otrv3-protocol.html §D-H Commit … §Data Message): each one's encoder and
 * decoder. Decoders reject truncation, trailing bytes and oversized fields with OtrDecodeError, and check the
 * protocol's structural rules (instance tags, keyids > 0, non-zero counter, group-element ranges).
 */
import { bytesToBigBE, bigToBytesBE } from '../bytes.js';
import { Writer, decodeAll } from '../codec/primitives.js';
import { OtrDecodeError } from '../errors.js';
import { DEFAULT_LIMITS } from '../limits.js';
import { AKE_MAC_BYTES, AKE_R_BYTES, CTR_BYTES, DATA_MAC_BYTES } from './constants.js';
import { GROUP_BYTES, isValidGroupElement } from './group.js';
import { isValidReceiverTag, isValidSenderTag } from '../instance-tag.js';
import { MessageTypeV3, PROTOCOL_VERSION_3 } from '../wire/header.js';

export interface Header {
  senderTag: number;
  receiverTag: number;
}

export interface DhCommit extends Header {
  type: typeof MessageTypeV3.dhCommit;
  encGx: Uint8Array;
  hashGx: Uint8Array;
}
export interface DhKey extends Header {
  type: typeof MessageTypeV3.dhKey;
  gy: bigint;
}
export interface RevealSig extends Header {
  type: typeof MessageTypeV3.revealSignature;
  r: Uint8Array;
  encSig: Uint8Array;
  mac: Uint8Array;
}
export interface Sig extends Header {
  type: typeof MessageTypeV3.signature;
  encSig: Uint8Array;
  mac: Uint8Array;
}
export interface DataMsg extends Header {
  type: typeof MessageTypeV3.data;
  flags: number;
  senderKeyid: number;
  recipientKeyid: number;
  nextDh: bigint;
  ctr: Uint8Array;
  encMsg: Uint8Array;
  mac: Uint8Array;
  oldMacKeys: Uint8Array;
  /** The bytes the MAC covers (version through the encrypted message), kept by the decoder for verification. */
  authenticated: Uint8Array;
}
export type V3Message = DhCommit | DhKey | RevealSig | Sig | DataMsg;

/** Largest encrypted signature we accept: PUBKEY (≤ 3 × 3072-bit MPIs + 160-bit q) + keyid + SIG, rounded up. */
const MAX_ENC_SIG = 2048;

function header(w: Writer, type: number, h: Header): Writer {
  return w.short(PROTOCOL_VERSION_3).byte(type).int(h.senderTag).int(h.receiverTag);
}

const mpiOf = (v: bigint): Uint8Array => (v === 0n ? new Uint8Array(0) : bigToBytesBE(v));

/** The data-message fields covered by the MAC (everything from the version to the encrypted message). */
export function encodeDataAuthenticated(m: Omit<DataMsg, 'mac' | 'oldMacKeys' | 'authenticated' | 'type'>): Uint8Array {
  const w = header(new Writer(64 + GROUP_BYTES + m.encMsg.length), MessageTypeV3.data, m);
  w.byte(m.flags).int(m.senderKeyid).int(m.recipientKeyid).mpi(mpiOf(m.nextDh)).raw(m.ctr).data(m.encMsg);
  return w.finish();
}

export function encodeMessage(m: V3Message): Uint8Array {
  switch (m.type) {
    case MessageTypeV3.dhCommit:
      return header(new Writer(), m.type, m).data(m.encGx).data(m.hashGx).finish();
    case MessageTypeV3.dhKey:
      return header(new Writer(), m.type, m).mpi(mpiOf(m.gy)).finish();
    case MessageTypeV3.revealSignature:
      return header(new Writer(), m.type, m).data(m.r).data(m.encSig).raw(m.mac).finish();
    case MessageTypeV3.signature:
      return header(new Writer(), m.type, m).data(m.encSig).raw(m.mac).finish();
    case MessageTypeV3.data: {
      const w = new Writer(m.authenticated.length + 64);
      return w.raw(m.authenticated).raw(m.mac).data(m.oldMacKeys).finish();
    }
  }
}

function checkTags(h: Header, type: number): void {
  if (!isValidSenderTag(h.senderTag)) throw new OtrDecodeError('sender instance tag below 0x100');
  if (!isValidReceiverTag(h.receiverTag)) throw new OtrDecodeError('receiver instance tag below 0x100');
  if (h.receiverTag === 0 && type !== MessageTypeV3.dhCommit)
    throw new OtrDecodeError('receiver instance tag 0 is allowed only on a D-H Commit');
}

/** Decodes one v3 binary message; `maxField` bounds DATA/MPI fields (limits.maxFieldBytes). */
export function decodeMessage(bytes: Uint8Array, maxField: number = DEFAULT_LIMITS.maxFieldBytes): V3Message {
  return decodeAll(
    bytes,
    (r): V3Message => {
      const version = r.short();
      if (version !== PROTOCOL_VERSION_3) throw new OtrDecodeError(`not an OTRv3 message (version ${version})`);
      const type = r.byte();
      const h = { senderTag: r.int(), receiverTag: r.int() };
      checkTags(h, type);
      switch (type) {
        case MessageTypeV3.dhCommit: {
          const encGx = r.data('encrypted g^x', GROUP_BYTES + 4);
          const hashGx = r.data('hashed g^x', 32);
          if (hashGx.length !== 32) throw new OtrDecodeError('hashed g^x must be 32 bytes');
          return { type, ...h, encGx, hashGx };
        }
        case MessageTypeV3.dhKey: {
          const gy = bytesToBigBE(r.mpi('g^y', GROUP_BYTES));
          if (!isValidGroupElement(gy)) throw new OtrDecodeError('g^y outside [2, p-2]', 'INVALID_DH_VALUE');
          return { type, ...h, gy };
        }
        case MessageTypeV3.revealSignature: {
          const rKey = r.data('revealed key', AKE_R_BYTES);
          if (rKey.length !== AKE_R_BYTES) throw new OtrDecodeError('revealed key must be 16 bytes');
          const encSig = r.data('encrypted signature', MAX_ENC_SIG);
          return { type, ...h, r: rKey, encSig, mac: r.raw(AKE_MAC_BYTES, 'MAC') };
        }
        case MessageTypeV3.signature: {
          const encSig = r.data('encrypted signature', MAX_ENC_SIG);
          return { type, ...h, encSig, mac: r.raw(AKE_MAC_BYTES, 'MAC') };
        }
        case MessageTypeV3.data: {
          const flags = r.byte();
          const senderKeyid = r.int();
          const recipientKeyid = r.int();
          if (senderKeyid === 0 || recipientKeyid === 0) throw new OtrDecodeError('data message keyid 0');
          const nextDh = bytesToBigBE(r.mpi('next DH key', GROUP_BYTES));
          if (!isValidGroupElement(nextDh))
            throw new OtrDecodeError('next DH key outside [2, p-2]', 'INVALID_DH_VALUE');
          const ctr = r.raw(CTR_BYTES, 'CTR');
          if (ctr.every((b) => b === 0)) throw new OtrDecodeError('counter must not be zero');
          const encMsg = r.data('encrypted message', maxField);
          const authenticated = bytes.slice(0, r.offset);
          const mac = r.raw(DATA_MAC_BYTES, 'MAC');
          const oldMacKeys = r.data('old MAC keys', maxField);
          if (oldMacKeys.length % DATA_MAC_BYTES !== 0)
            throw new OtrDecodeError('old MAC keys are not a whole number of 20-byte keys');
          return {
            type,
            ...h,
            flags,
            senderKeyid,
            recipientKeyid,
            nextDh,
            ctr,
            encMsg,
            mac,
            oldMacKeys,
            authenticated,
          };
        }
        default:
          throw new OtrDecodeError(`unknown OTRv3 message type 0x${type.toString(16)}`);
      }
    },
    'OTRv3 message',
    maxField,
  );
}
