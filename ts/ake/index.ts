/**
 * Authenticated key exchanges. The interactive DAKE (interactive.ts) over the transcript and secret
 * derivations of transcript.ts. See interactive.ts for the session-facing API and what to persist.
 */
export * from './interactive.js';
export * from './transcript.js';
