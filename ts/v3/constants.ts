/** OTRv3 wire constants (otrv3-protocol.html §Encoded messages, §Data Message, TLV record types). */
export const V3_VERSION = 0x0003;

export const MsgType = Object.freeze({
  dhCommit: 0x02,
  data: 0x03,
  dhKey: 0x0a,
  revealSig: 0x11,
  sig: 0x12,
} as const);
export type MsgTypeValue = (typeof MsgType)[keyof typeof MsgType];

export const Tlv = Object.freeze({
  padding: 0,
  disconnected: 1,
  smp1: 2,
  smp2: 3,
  smp3: 4,
  smp4: 5,
  smpAbort: 6,
  smp1q: 7,
  extraSymKey: 8,
} as const);

/** Data message flag: a receiver that cannot read the message ignores it silently. */
export const FLAG_IGNORE_UNREADABLE = 0x01;


/** Sizes fixed by the protocol. */
export const AKE_R_BYTES = 16; // the AES-128 key r that hides g^x in the D-H Commit
export const SMP_EXPONENT_BYTES = 192; // "the random exponents are 1536-bit numbers"
export const AKE_MAC_BYTES = 20; // SHA256-HMAC-160
export const DATA_MAC_BYTES = 20; // SHA1-HMAC
export const CTR_BYTES = 8;
export const SSID_BYTES = 8;
export const EXTRA_KEY_BYTES = 32;
export const FINGERPRINT_BYTES = 20;

/** libotr sends a heartbeat when it receives a data message and has sent nothing for this long. */
export const HEARTBEAT_INTERVAL_MS = 60_000;
/** A message stored while the AKE runs is sent on success only if it is this recent (libotr: 60 s). */
export const RESEND_INTERVAL_MS = 60_000;
