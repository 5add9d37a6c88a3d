/**
 * The OTRv3 bridge's pure part: how the OTRv3 layer's events (ts/v3) map onto the conversation's events, so the
 * host sees one kind of conversation whatever the version. (The stateful part — routing, the OTRv3 gate of
 * otrv4.md §Protocol Events — stays in conversation.ts, which owns the conversation's state.)
 */
import { bytesToHex } from '../bytes.js';
import type { OtrEvent } from './events.js';
import type { V3Event } from '../v3/index.js';

export function mapV3Event(e: V3Event, instance: number): OtrEvent | undefined {
  switch (e.type) {
    case 'encrypted':
      return { type: 'encrypted', instance, ssid: bytesToHex(e.ssid), version: 3, peerFingerprint: bytesToHex(e.fingerprint) };
    case 'finished':
      return { type: 'finished', instance, reason: 'peer-ended' };
    case 'plaintext':
      return { type: 'ended', instance };
    case 'unencrypted':
      return { type: 'unencrypted-warning', instance };
    case 'unreadable':
      return { type: 'unreadable', instance, code: 'MALFORMED', detail: e.reason };
    case 'ignored':
      return { type: 'ignored', instance, reason: e.reason };
    case 'errorReceived':
      return { type: 'peer-error', message: e.message };
    case 'cannotSend':
      return { type: 'not-sent', reason: 'finished', text: '' };
    case 'extraKey':
      return { type: 'extra-key', instance, key: e.key, context: u32be(e.use), data: e.useData, direction: 'received' };
    case 'smpRequest':
      return { type: 'smp', instance, status: 'asked', question: e.question ?? '' };
    case 'smpResult':
      return { type: 'smp', instance, status: e.success ? 'succeeded' : 'failed' };
    case 'smpAborted':
      return { type: 'smp', instance, status: 'aborted' };
    case 'smpError':
      return { type: 'smp', instance, status: 'invalid' };
    default:
      return undefined;
  }
}

function u32be(n: number): Uint8Array {
  return Uint8Array.of((n >>> 24) & 0xff, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff);
}

const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';

/**
 * The OTRv3 message type of a message whose first fragment is `piece` (undefined when it is not the start of
 * an OTRv3 encoded message): its first four base64 characters after "?OTR:" are the protocol version (2 bytes)
 * and the type. The OTRv3 layer reassembles fragments itself; this lets the session layer gate and budget a
 * fragmented AKE message as it does an unfragmented one, on its first piece.
 */
export function v3TypeOfFirstPiece(piece: string): number | undefined {
  if (!piece.startsWith('?OTR:') || piece.length < 9) return undefined;
  let n = 0;
  for (let i = 5; i < 9; i++) {
    const v = B64.indexOf(piece[i]!);
    if (v < 0) return undefined;
    n = (n << 6) | v;
  }
  // n holds 3 bytes: version (0x0003) then type.
  return n >>> 8 === 0x0003 ? n & 0xff : undefined;
}
