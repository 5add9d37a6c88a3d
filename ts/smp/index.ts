/** The Socialist Millionaires' Protocol for OTRv4: messages, secret, state machine, persistence. */
export { SmpTlvType, isSmpTlvType, type SmpTlvTypeId } from './tlv-types.js';
export { type Smp1, type Smp2, type Smp3, type Smp4, encodeSmp1, decodeSmp1, encodeSmp2, decodeSmp2, encodeSmp3, decodeSmp3, encodeSmp4, decodeSmp4 } from './messages.js';
export { smpSecret, smpSecretFor, type SmpSecretInput } from './secret.js';
export {
  type SmpState,
  type SmpPhase,
  type SmpTlv,
  type SmpEvent,
  type SmpResult,
  type SmpOptions,
  initialSmpState,
  smpInProgress,
  smpStart,
  smpAnswer,
  smpAbort,
  smpReset,
  smpReceive,
  cloneSmpState,
  wipeSmpState,
} from './state.js';
export { encodeSmpState, decodeSmpState } from './persist.js';
