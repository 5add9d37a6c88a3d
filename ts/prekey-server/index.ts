/**
 * The untrusted prekey server protocol (otrv4-prekey-server.md): messages, the client side (DAKE-1/2/3,
 * publication with its proofs, storage status, ensemble retrieval), and the server core with its storage
 * interface and in-memory store, the rate limiter and the operator's counters. Node-only pieces are imported
 * from their own modules so the library bundle never pulls in node:fs, node:net or a database driver: the
 * stores (sqlite-store.ts, pg-store.ts, file-store.ts with log-frames.ts; open-store.ts picks one from a
 * string) and the TCP transport (tcp.ts).
 */
export * from './messages.js';
export * from './auth.js';
export * from './proofs.js';
export * from './ring-sig.js';
export * from './client.js';
export * from './flows.js';
export * from './store.js';
export * from './rate-limit.js';
export * from './server.js';
export * from './stats.js';
