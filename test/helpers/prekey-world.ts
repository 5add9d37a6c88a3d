/**
 * A prekey server in this process (memory store, seeded, on a test clock) and a transport to it: what the
 * offline-conversation tests publish to and fetch from.
 */
import { MemoryStore, PrekeyServer } from '../../ts/prekey-server/index.js';
import type { CryptoBackend } from '../../ts/backend/types.js';
import { seededRandom } from './rng.js';
import { testClock } from './session-pair.js';
import { inProcessTransport } from './prekey-transport.js';

export function prekeyWorld(be: CryptoBackend, seed: number) {
  const clock = testClock();
  const server = new PrekeyServer({
    backend: be,
    random: seededRandom(seed),
    now: clock,
    identity: 'prekey.example.org',
    identitySecret: seededRandom(seed + 1)(57),
    store: new MemoryStore(),
  });
  const transport = inProcessTransport(server);
  const info = { identity: 'prekey.example.org', publicKey: server.publicKey };
  return { clock, server, transport, info };
}
