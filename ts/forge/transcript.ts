/**
 * Forging toolkit, "Forge Entire Transcript" (otrv4.md §Forging Transcripts): a whole conversation — DAKE and
 * data messages — between two client profiles, from a list of (sender, text). The DAKE is forgeInteractiveDake
 * (no secret needed by default); every data message is made by the honest ratchet (encryptDataMessage) and
 * read back by the other side's honest ratchet (decryptDataMessage), so the MAC keys revealed in later
 * messages are exactly those a real conversation would reveal.
 */
import type { CryptoBackend } from '../backend/types.js';
import type { RandomSource } from '../crypto/random.js';
import { fromUtf8, utf8 } from '../bytes.js';
import { OtrArgumentError } from '../errors.js';
import { armour, dearmour } from '../codec/armour.js';
import { decodeDataMessage } from '../wire/data.js';
import { decryptDataMessage, encryptDataMessage, type RatchetState } from '../ratchet/index.js';
import { forgeInteractiveDake, type ForgeDakeOptions } from './dake.js';

export interface ForgedLine {
  readonly from: 'initiator' | 'responder';
  readonly text: string;
}

export interface ForgeTranscriptOptions extends ForgeDakeOptions {
  readonly messages: readonly ForgedLine[];
  /** The clock the receiving ratchet stamps stored keys with (ms). */
  readonly nowMs: number;
}

export interface ForgedTranscript {
  /** Every string on the wire, in order: Identity, Auth-R, Auth-I, then one data message per line. */
  readonly wire: string[];
  readonly ssid: Uint8Array;
}

export function forgeTranscript(b: CryptoBackend, random: RandomSource, o: ForgeTranscriptOptions): ForgedTranscript {
  const dake = forgeInteractiveDake(b, random, o);
  const tags = { initiator: o.initiator.profile.ownerTag, responder: o.responder.profile.ownerTag };
  const st: Record<'initiator' | 'responder', RatchetState> = { initiator: dake.initiator.ratchet, responder: dake.responder.ratchet };
  const wire: string[] = [...dake.transcript];
  for (const line of o.messages) {
    if (line.from !== 'initiator' && line.from !== 'responder') throw new OtrArgumentError('each line is from "initiator" or "responder"');
    const to = line.from === 'initiator' ? 'responder' : 'initiator';
    const sent = encryptDataMessage(b, random, st[line.from], utf8(line.text), { senderTag: tags[line.from], receiverTag: tags[to] });
    st[line.from] = sent.state;
    const text = armour(sent.message);
    const got = decryptDataMessage(b, st[to], decodeDataMessage(dearmour(text)), { now: o.nowMs });
    st[to] = got.state;
    if (fromUtf8(got.plaintext) !== line.text) throw new OtrArgumentError('forged line did not read back'); // cannot happen
    wire.push(text);
  }
  return { wire, ssid: dake.ssid };
}
