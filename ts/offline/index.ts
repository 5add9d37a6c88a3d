/**
 * Offline conversations: the non-interactive DAKE (dake.ts) over its transcript (transcript.ts) and the
 * Non-Interactive-Auth message (wire.ts). Prekey material comes from ts/prekey/. Decisions: docs/offline.md.
 */
export * from './wire.js';
export * from './transcript.js';
export * from './dake.js';
