/**
 * The publisher's side of offline conversations: prekey profiles, prekey messages, ensembles, and the owner's
 * store of prekey secrets with use-once deletion. The non-interactive DAKE that consumes them is ts/offline/;
 * the protocol with the untrusted prekey server is ts/prekey-server/. Decisions where the spec is silent are
 * in docs/offline.md.
 */
export * from './prekey-profile.js';
export * from './prekey-message.js';
export * from './ensemble.js';
export * from './owner-store.js';
