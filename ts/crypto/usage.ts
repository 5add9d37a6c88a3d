/**
 * All usage IDs of OTRv4 (otrv4.md §Key Derivation Function) and of the prekey-server protocol
 * (otrv4-prekey-server.md §Key Derivation Functions), in one table. No other file writes a usage byte as a
 * literal. The two tables share byte values but never a prefix ("OTRv4" vs "OTR-Prekey-Server").
 */
export const Usage = Object.freeze({
  fingerprint: 0x00,
  thirdBraceKey: 0x01,
  braceKey: 0x02,
  sharedSecret: 0x03,
  ssid: 0x04,
  authRBobClientProfile: 0x05,
  authRAliceClientProfile: 0x06,
  authRPhi: 0x07,
  authIBobClientProfile: 0x08,
  authIAliceClientProfile: 0x09,
  authIPhi: 0x0a,
  firstRootKey: 0x0b,
  tmpKey: 0x0c,
  authMacKey: 0x0d,
  nonIntAuthBobClientProfile: 0x0e,
  nonIntAuthAliceClientProfile: 0x0f,
  nonIntAuthPhi: 0x10,
  authMac: 0x11,
  rootKey: 0x12,
  chainKey: 0x13,
  nextChainKey: 0x14,
  messageKey: 0x15,
  macKey: 0x16,
  extraSymmKey: 0x17,
  authenticator: 0x18,
  smpSecret: 0x19,
  auth: 0x1a,
} as const);
export type UsageId = (typeof Usage)[keyof typeof Usage];

/** SMP's HashToScalar indices (otrv4.md §SMP Hash Function): the SMP step number is the usage byte. */
export const SmpUsage = Object.freeze({
  g2a: 0x01,
  g3a: 0x02,
  g2b: 0x03,
  g3b: 0x04,
  pbQb: 0x05,
  paQa: 0x06,
  ra: 0x07,
  rb: 0x08,
} as const);

export const PrekeyServerUsage = Object.freeze({
  fingerprint: 0x00,
  sk: 0x01,
  initiatorClientProfile: 0x02,
  initiatorPrekeyCompositeIdentity: 0x03,
  initiatorPrekeyCompositePhi: 0x04,
  receiverClientProfile: 0x05,
  receiverPrekeyCompositeIdentity: 0x06,
  receiverPrekeyCompositePhi: 0x07,
  preMacKey: 0x08,
  preMac: 0x09,
  storageInfoMac: 0x0a,
  statusMac: 0x0b,
  successMac: 0x0c,
  failureMac: 0x0d,
  prekeyMessage: 0x0e,
  clientProfile: 0x0f,
  prekeyProfile: 0x10,
  auth: 0x11,
  proofContext: 0x12,
  proofMessageEcdh: 0x13,
  proofMessageDh: 0x14,
  proofSharedEcdh: 0x15,
  macProofs: 0x16,
  proofCLambda: 0x17,
} as const);

/** Domain-separation prefixes of the two KDF families. */
export const OTRV4_PREFIX = new Uint8Array([0x4f, 0x54, 0x52, 0x76, 0x34]); // "OTRv4"
export const PREKEY_SERVER_PREFIX = new TextEncoder().encode('OTR-Prekey-Server');
