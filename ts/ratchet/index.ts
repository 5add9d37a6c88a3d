/**
 * The OTRv4 double ratchet (otrv4.md §Key Management, §Data Exchange; interpretations.md §5, §6, §8) as plain
 * data and pure transitions. Randomness and the clock are injected; nothing here does I/O.
 *
 * Lifecycle for the session layer:
 *   1. After the DAKE: `initRatchetAsAuthIReceiver` (Alice) or `initRatchetAsAuthISender` (Bob) — the DAKE
 *      module (ake/) calls these and hands back the state. Persist it.
 *   2. Sending: `encryptDataMessage(b, random, state, plaintext, opts)` → persist `.state` BEFORE the
 *      message is sent.
 *   3. Receiving: `decryptDataMessage(b, state, decodedMessage, { now, limits })` → persist `.state`. On a
 *      thrown OtrError nothing changed: keep using the old state.
 *   4. Timers: `expireSkippedKeys(b, state, now, limits)` → persist if a new object is returned.
 *   5. End: `wipeRatchetState(state)`; a session replaced by a new DAKE: `inheritMacKeys(b, old, next)`, so the
 *      old session's MAC keys are revealed by the new one; a session that ends without revealing them (the
 *      peer's disconnect, a rollback): `retireMacKeys(b, state)`, kept and handed to the next session with
 *      `withMacKeysAhead(next, kept)`.
 * A successful transition consumes its input state (replaced secrets are wiped): always continue with the
 * returned state. Everything in `RatchetState` must be persisted (see state.ts for what each field is).
 */
export * from './state.js';
export * from './keys.js';
export * from './skipped.js';
export * from './esk.js';
export { initRatchetAsAuthIReceiver, initRatchetAsAuthISender, type RatchetSeed, type ValidatedRatchetSeed } from './init.js';
export { encryptDataMessage, senderStep, type SendOptions, type SendResult } from './send.js';
export { decryptDataMessage, expireSkippedKeys, inheritMacKeys, restoreWithinLimits, retireMacKeys, withMacKeysAhead, type ReceiveOptions, type ReceiveResult, type ReceivedDataMessage, type RatchetLimits } from './receive.js';
