/**
 * A deterministic OTRv4 conversation through the library's protocol layers (interactive DAKE, then the
 * double ratchet in both directions with DH ratchet steps), driven by a seeded random source and a fixed
 * clock. The browser page runs it and so does Node; equal transcripts mean the page computed every wire byte
 * exactly as Node does. Each receiver also checks it decrypts what was sent, so a run that returns proved
 * the conversation works in that runtime by itself.
 */
import type { CryptoBackend } from '../../../ts/backend/types.js';
import { bytesToHex, equalBytes, fromUtf8, utf8 } from '../../../ts/bytes.js';
import { ed448KeyPair } from '../../../ts/crypto/eddsa.js';
import { createClientProfile } from '../../../ts/profile/client-profile.js';
import { decodeDataMessage } from '../../../ts/wire/data.js';
import { DAKE_IDLE, receiveAuthI, receiveAuthR, receiveIdentity, startDake, type DakeLocal } from '../../../ts/ake/index.js';
import { decryptDataMessage, encryptDataMessage, type RatchetState } from '../../../ts/ratchet/index.js';
import { seededRandom } from '../../helpers/rng.js';

export interface ConversationTranscript {
  ssid: string;
  /** Identity, Auth-R, Auth-I, then every data message, hex. */
  wire: string[];
  /** What each receiver decrypted, in order. */
  received: string[];
}

const NOW_MS = 1_700_000_000_000;

/** Who says what: alternations make new ratchets, repeated senders stay on one chain. */
export const CONVERSATION_SCRIPT: readonly ['alice' | 'bob', string][] = [
  ['bob', 'hi Alice, this is Bob'],
  ['alice', 'hello Bob'],
  ['alice', 'a second message on the same chain'],
  ['bob', 'a DH ratchet step'],
  ['alice', 'ünïcödé and emoji 🔐 survive'],
  ['bob', 'bye'],
];

export function runConversation(b: CryptoBackend, seed: number): ConversationTranscript {
  const rnd = seededRandom(seed);
  const party = (tag: number, acct: string, peer: string): DakeLocal => {
    const identitySecret = rnd(57);
    const forgingKey = ed448KeyPair(b, rnd(57)).publicKey;
    const profile = createClientProfile(b, {
      ownerTag: tag,
      identitySecret,
      forgingKey,
      versions: '4',
      expiry: BigInt(NOW_MS / 1000 + 86400),
    });
    return { instanceTag: tag, profile, identityScalar: ed448KeyPair(b, identitySecret).scalar, accountId: utf8(acct), peerAccountId: utf8(peer) };
  };
  const bob = party(0x0000_0b0b, 'bob@example.org', 'alice@example.org');
  const alice = party(0x0000_0a0a, 'alice@example.org', 'bob@example.org');
  const s1 = startDake(b, rnd, bob, 0);
  const s2 = receiveIdentity(b, rnd, alice, DAKE_IDLE, s1.message!, NOW_MS);
  const s3 = receiveAuthR(b, rnd, bob, s1.state, s2.message!, NOW_MS);
  const s4 = receiveAuthI(b, alice, s2.state, s3.message!);
  if (!s3.established || !s4.established) throw new Error('DAKE did not establish both sides');
  if (!equalBytes(s3.established.ssid, s4.established.ssid)) throw new Error('the two sides derived different SSIDs');
  const wire = [s1.message!, s2.message!, s3.message!].map(bytesToHex);
  const states: Record<'alice' | 'bob', RatchetState> = { alice: s4.established.ratchet, bob: s3.established.ratchet };
  const tags = { alice: alice.instanceTag, bob: bob.instanceTag };
  const received: string[] = [];
  for (const [from, text] of CONVERSATION_SCRIPT) {
    const to = from === 'alice' ? 'bob' : 'alice';
    const s = encryptDataMessage(b, rnd, states[from], utf8(text), { senderTag: tags[from], receiverTag: tags[to] });
    states[from] = s.state;
    const r = decryptDataMessage(b, states[to], decodeDataMessage(s.message), { now: NOW_MS });
    states[to] = r.state;
    const got = fromUtf8(r.plaintext);
    if (got !== text) throw new Error(`${to} decrypted ${JSON.stringify(got)} instead of ${JSON.stringify(text)}`);
    wire.push(bytesToHex(s.message));
    received.push(got);
  }
  return { ssid: bytesToHex(s4.established.ssid), wire, received };
}
