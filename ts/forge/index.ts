/**
 * `otr4/forge`: the forging toolkit every OTRv4 implementation is expected to expose (otrv4.md §Forging
 * Transcripts; docs/deniability.md). It shows, with working code, that an OTR transcript proves nothing:
 * anyone holding one can read its fields, change guessed text and re-MAC it with the revealed MAC keys, and
 * anyone at all can make a complete, valid DAKE between two client profiles. Built from the honest code paths
 * (ake, offline, ratchet, wire, codec), so what it makes is what an honest implementation accepts.
 *
 * Functions take the crypto backend first (`getBackend()` after `await init()`), like the library's internals.
 */
export { parseWire, parseEncoded, formatParsed, toJson, type ParsedMessage, type Json } from './parse.js';
export {
  decodeDataWire,
  revealedMacKeys,
  macKeyMatches,
  findMacKey,
  macKeyIndex,
  MAX_MAC_KEY_TRIALS,
  showMacKey,
  remacMessage,
  modifyDataMessage,
  readAndForge,
  assertMacKey,
  type ModifyOptions,
  type ReadAndForgeOptions,
  type ReadAndForgeResult,
  type RevealedMacKey,
} from './data.js';
export {
  forgeIdentity,
  forgeAuthR,
  forgeAuthI,
  forgeInteractiveDake,
  forgeNonInteractiveAuth,
  generateForgingKey,
  ephemeralSigner,
  authISigma,
  falsePrekeyEnsemble,
  type FalseEnsembleOptions,
  type FalseEnsemble,
  type ForgeParty,
  type RingSigner,
  type ForgedIdentity,
  type ForgeAuthROptions,
  type ForgedAuthR,
  type ForgeAuthIOptions,
  type ForgedAuthI,
  type ForgeDakeOptions,
  type ForgedDake,
  type ForgeNonInteractiveOptions,
  type ForgedNonInteractive,
} from './dake.js';
export { forgeTranscript, type ForgeTranscriptOptions, type ForgedTranscript, type ForgedLine } from './transcript.js';
export { init, getBackend } from '../backend/select.js';
