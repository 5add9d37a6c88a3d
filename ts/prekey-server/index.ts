/**
 * The untrusted prekey server protocol (otrv4-prekey-server.md): messages, the client side (DAKE-1/2/3,
 * publication with its proofs, storage status, ensemble retrieval), and the server core with its storage
 * interface and in-memory store. Node-only pieces (the durable FileStore, the TCP transport) are imported
 * from their own modules (file-store.ts, tcp.ts) so the library bundle never pulls in node:fs or node:net.
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
