/** A prekey server reached in-process: `transport(from)` is what a client at address `from` talks through. */
import type { PrekeyServer, PsTransport } from '../../ts/prekey-server/index.js';

export function inProcessTransport(server: PrekeyServer): (from: string) => PsTransport {
  return (from) => async (text) => {
    const r = await server.handleText(from, text);
    if (!r.reply) throw r.error ?? new Error('no reply');
    return r.reply;
  };
}
