/**
 * otr4: Off-the-Record messaging version 4 (with the OTRv3 fallback), for browsers and Node.
 *
 *   import { init, Account } from 'otr4';
 *   await init();                                   // picks WASM (self-tested) or the pure-JS backend
 *   const alice = Account.create({ accountId: 'alice@example.org' });
 *   const conv = alice.conversation('bob@example.org');
 *   send(conv.start().toSend);                      // ask the peer to start OTR
 *   const { toSend, messages, events } = conv.receive(text);
 */
export { init, getBackend, activeBackend, loadBackend } from './backend/select.js';
export type { InitOptions, InitResult } from './backend/select.js';
export type { CryptoBackend, BackendName, DhGroupName } from './backend/types.js';
export * from './errors.js';
export { DEFAULT_LIMITS, type Limits } from './limits.js';
export { Account, type AccountOptions } from './session/account.js';
export { Conversation, type SendOptions } from './session/conversation.js';
export { DEFAULT_POLICY, type Policy } from './session/policy.js';
// The last long-term fingerprint seen per peer (account.fingerprints): what `fingerprint-changed` compares with.
export type { LastSeenFingerprints, SeenFingerprints, KnownFingerprint } from './session/fingerprints.js';
export type { Device } from './session/devices.js';
export type { Outcome, OtrEvent, ReceivedMessage, ConversationState, ProtocolVersion, Trust } from './session/events.js';
// Records: an account kept per conversation in a record store (docs/persistence.md); stores are in otr4/store.
export { openStoredAccount, type StoredAccount, type StoredAccountOptions, type StoredAccountEvent } from './session/account-store.js';
export { ACCOUNT_RECORD, CONVERSATION_RECORD_PREFIX, conversationKey } from './session/records.js';
export type { RecordChange, RecordStore, StoredRecord } from './store/types.js';
export type { RandomSource } from './crypto/random.js';
// Offline conversations: prekey ensembles and the prekey-server protocol (client, and the transport-agnostic
// server core). The Node-only TCP server and file store live in ts/prekey-server/{tcp,file-store}.ts.
export { chooseEnsembles, type PrekeyEnsemble } from './prekey/ensemble.js';
export {
  fetchEnsembles,
  runServerRequest,
  PrekeyServer,
  MemoryStore,
  type PsTransport,
  type PsServerInfo,
  type PsRequest,
  type PsResult,
  type PrekeyStore,
} from './prekey-server/index.js';
