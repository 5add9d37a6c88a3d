/**
 * OTRv3 wire constants (otrv3-protocol.html §Data Message, TLV record types). The protocol version and the
 * message types live with the shared header (ts/wire/header.ts: PROTOCOL_VERSION_3, MessageTypeV3), the
 * ignore-unreadable flag (same bit as v4) in ts/wire/data.ts.
 */
import { TlvType } from '../wire/tlv.js';

/**
 * v3 TLV types. 0–6 mean what they mean in v4 (padding, disconnected, SMP 1–4, SMP abort); from 7 on v3
 * differs: 7 is SMP1 with a question and 8 the extra symmetric key (which v4 numbers 7).
 */
const { extraSymmetricKey: _v4ExtraKey, ...sharedTlvTypes } = TlvType;
export const Tlv = Object.freeze({
  ...sharedTlvTypes,
  smp1q: 7,
  extraSymKey: 8,
} as const);

/** Sizes fixed by the protocol. */
export const AKE_R_BYTES = 16; // the AES-128 key r that hides g^x in the D-H Commit
export const SMP_EXPONENT_BYTES = 192; // "the random exponents are 1536-bit numbers"
export const AKE_MAC_BYTES = 20; // SHA256-HMAC-160
export const DATA_MAC_BYTES = 20; // SHA1-HMAC
export const CTR_BYTES = 8;
export const SSID_BYTES = 8;

/** libotr sends a heartbeat when it receives a data message and has sent nothing for this long. */
export const HEARTBEAT_INTERVAL_MS = 60_000;
/** A message stored while the AKE runs is sent on success only if it is this recent (libotr: 60 s). */
export const RESEND_INTERVAL_MS = 60_000;
/**
 * Longest message held for resending once the AKE succeeds. The held message is persisted; with one per
 * context (at most maxInstancesPerConversation + 1) this keeps every state serialize() can produce well
 * under maxStateBytes, so restore never refuses it. Longer messages are not held (a cannotSend event).
 */
export const STORED_MESSAGE_MAX_CHARS = 16_384;
