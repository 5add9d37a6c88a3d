/**
 * Whole client exchanges over any request/response transport (`send` delivers one prekey-server message in
 * text form and resolves with the server's one reply): publish, ask for the storage status, fetch ensembles.
 * The transport in tcp.ts fits; so does an XMPP stanza round trip.
 */
import type { CryptoBackend } from '../backend/types.js';
import type { RandomSource } from '../crypto/random.js';
import { fromServerText, toServerText } from './messages.js';
import { ensembleQuery, receiveDake2, receiveEnsembles, receiveServerResult, startServerDake, type EnsembleResponse, type PsClientLocal, type PsRequest, type PsResult, type PsServerInfo } from './client.js';

export type PsTransport = (text: string) => Promise<string>;

/** DAKE-1, DAKE-2, DAKE-3 with `request` attached, and the server's answer. */
export async function runServerRequest(
  b: CryptoBackend,
  random: RandomSource,
  send: PsTransport,
  local: PsClientLocal,
  server: PsServerInfo,
  request: PsRequest,
): Promise<PsResult> {
  const start = startServerDake(b, random, local);
  const dake2 = fromServerText(await send(toServerText(start.message)));
  const next = receiveDake2(b, random, local, server, start.state, dake2, request);
  return receiveServerResult(b, local, next.state, fromServerText(await send(toServerText(next.message))));
}

/** Asks for `identity`'s ensembles (no DAKE: the values are public). */
export async function fetchEnsembles(send: PsTransport, ourTag: number, identity: string, versions = '4'): Promise<EnsembleResponse> {
  const reply = await send(toServerText(ensembleQuery(ourTag, identity, versions)));
  return receiveEnsembles(fromServerText(reply), ourTag, identity);
}
