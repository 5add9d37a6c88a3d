/**
 * hostile.v3.*: the most expensive OTRv3 message of each AKE type an UNAUTHENTICATED peer can send, through
 * Conversation.receive() of a live account whose policy allows OTRv3 (issue 10: no single such message may cost
 * more CPU than one honest AKE step). The victim, its limits and the helpers are hostile.ts's (budget and replay
 * cache out of the way); in addition pendingDakeProtectMs is 0, so each forged AKE from a fresh instance tag
 * finds room (the oldest context is evicted) and does its full work every time — the point is the cost of ONE
 * message, not how many the budget lets through.
 *   hostile.v3.honest       reference: the costliest honest AKE step, an honest Reveal Signature received and
 *                           answered (1536-bit DH, DSA verify, DSA sign, the session set up), through the same
 *                           receive(); each sample needs a fresh AKE up to that point, so only that call is timed;
 *   hostile.v3.dh-commit    a D-H Commit from a fresh instance tag: a new context and a D-H Key answered (one
 *                           1536-bit key pair made);
 *   hostile.v3.dh-key       a D-H Key from a fresh instance tag answering the D-H Commit we sent to "anyone"
 *                           after a query (the costly one: it joins our AKE, so we run the 1536-bit DH and sign
 *                           a Reveal Signature for a peer that has proven nothing);
 *   hostile.v3.reveal-sig   a Reveal Signature to the D-H Key we answered the attacker's own commitment with:
 *                           a correct r and MAC (the attacker holds x), a DSA signature that does not verify
 *                           (the DH and the DSA verification both run; the context is left as it was);
 *   hostile.v3.fragment     the first piece of a fragment flood: a piece of maxFragmentChars announcing a D-H
 *                           Commit in maxFragmentsPerMessage pieces, from a fresh instance tag each time.
 */
import type { BenchCase, BenchContext, Impl } from '../harness.js';
import type { CryptoBackend } from '../../ts/backend/types.js';
import { systemRandom } from '../../ts/crypto/random.js';
import type { DsaPrivateKey } from '../../ts/crypto/dsa.js';
import { armour, dearmour } from '../../ts/codec/armour.js';
import { formatFragmentV3 } from '../../ts/codec/fragment.js';
import { DEFAULT_LIMITS } from '../../ts/limits.js';
import { akeOnDhKey, akeStart, type AkeEnv } from '../../ts/v3/ake.js';
import { decodeMessage, encodeMessage, type DhKey, type RevealSig } from '../../ts/v3/messages.js';
import { dhKeyPairV3 } from '../../ts/v3/group.js';
import { MessageTypeV3 } from '../../ts/wire/header.js';
import { cycle, dsaKey, victim } from './hostile.js';

/** Room for every forged AKE from a fresh tag (see above); the rest is hostile.ts's OPEN_LIMITS. */
const V3_LIMITS = { pendingDakeProtectMs: 0 };
/** More fresh tags than contexts a conversation keeps, so a tag is never met again while its context lives. */
const TAGS = DEFAULT_LIMITS.maxInstancesPerConversation * 4;
const tagAt = (base: number, i: number) => base + i;

/** A DSA key that signs with x but claims another y: its signatures never verify, everything else is valid. */
function lyingKey(): DsaPrivateKey {
  const k = dsaKey();
  return { ...k, y: (k.y * k.g) % k.p };
}

function env(b: CryptoBackend, tag: number, key: DsaPrivateKey): AkeEnv {
  return { backend: b, random: systemRandom, dsaKey: key, ourTag: tag };
}

/** The one OTRv3 message in an Outcome's toSend (our answers here are short: never fragmented). */
function only<T>(toSend: readonly string[], what: string): T {
  if (toSend.length !== 1) throw new Error(`hostile.v3: expected one ${what}, got ${toSend.length} messages`);
  return decodeMessage(dearmour(toSend[0]!)) as T;
}

/** The command line's --quick; a page of the browser bench has no `process`. */
const SAMPLES = ((globalThis as { process?: { argv: string[] } }).process?.argv ?? []).includes('--quick') ? 12 : 40;

/** The honest Reveal Signature step, timed alone (the D-H Commit and D-H Key before it are not). */
async function honestRevealSig(b: CryptoBackend): Promise<{ usPerOp: number; rme: number; samples: number }> {
  const times: number[] = [];
  let v = victim(b, V3_LIMITS);
  for (let i = 0; i < SAMPLES + 2; i++) {
    // A fresh victim before its encrypted contexts (never evicted) fill the conversation.
    if (i % (DEFAULT_LIMITS.maxInstancesPerConversation >> 1) === 0) v = victim(b, V3_LIMITS);
    const them = env(b, tagAt(0x7000_0000, i), dsaKey());
    const start = akeStart(them, v.acct.instanceTag);
    const dhKey = only<DhKey>(v.conv.receive(armour(encodeMessage(start.send[0]!))).toSend, 'D-H Key');
    const reveal = armour(encodeMessage(akeOnDhKey(them, start.auth, dhKey).send[0]!));
    const t = performance.now();
    const r = v.conv.receive(reveal);
    const dt = performance.now() - t;
    if (!r.events.some((e) => e.type === 'encrypted')) throw new Error('hostile.v3.honest: the honest AKE did not complete');
    if (i >= 2) times.push(dt); // the first two warm up
    await new Promise((r) => setImmediate(r));
  }
  times.sort((x, y) => x - y);
  const mean = times.reduce((x, y) => x + y, 0) / times.length;
  const sd = Math.sqrt(times.reduce((x, y) => x + (y - mean) ** 2, 0) / Math.max(1, times.length - 1));
  return { usPerOp: mean * 1000, rme: ((1.96 * sd) / Math.sqrt(times.length) / mean) * 100, samples: times.length };
}

function casesFor(b: CryptoBackend, impl: Impl): BenchCase[] {
  const out: BenchCase[] = [];
  // Reference: an honest Reveal Signature through receive() (timed alone: each needs a fresh AKE before it).
  out.push({ name: 'hostile.v3.honest', impl, fn: () => undefined, measure: () => honestRevealSig(b) });
  // D-H Commit from fresh tags: each makes a context and a D-H key pair.
  {
    const v = victim(b, V3_LIMITS);
    const commit = akeStart(env(b, 0x7100_0000, dsaKey()), 0).send[0]!;
    const next = cycle(Array.from({ length: TAGS }, (_, i) => armour(encodeMessage({ ...commit, senderTag: tagAt(0x7100_0000, i), receiverTag: v.acct.instanceTag }))));
    only<DhKey>(v.conv.receive(next()).toSend, 'D-H Key');
    out.push({ name: 'hostile.v3.dh-commit', impl, fn: () => v.conv.receive(next()) });
  }
  // D-H Key from fresh tags, joining the AKE we offered to anyone after a v3 query.
  {
    const v = victim(b, V3_LIMITS);
    only(v.conv.receive('?OTRv3?').toSend, 'D-H Commit');
    const gy = dhKeyPairV3(b, systemRandom).pub;
    const next = cycle(
      Array.from({ length: TAGS }, (_, i) =>
        armour(encodeMessage({ type: MessageTypeV3.dhKey, senderTag: tagAt(0x7200_0000, i), receiverTag: v.acct.instanceTag, gy })),
      ),
    );
    only<RevealSig>(v.conv.receive(next()).toSend, 'Reveal Signature');
    out.push({ name: 'hostile.v3.dh-key', impl, fn: () => v.conv.receive(next()) });
  }
  // Reveal Signature with a valid r and MAC and a DSA signature that does not verify, to our pending D-H Key.
  {
    const v = victim(b, V3_LIMITS);
    const them = env(b, 0x7300_0001, lyingKey());
    const start = akeStart(them, v.acct.instanceTag);
    const dhKey = only<DhKey>(v.conv.receive(armour(encodeMessage(start.send[0]!))).toSend, 'D-H Key');
    const forged = armour(encodeMessage(akeOnDhKey(them, start.auth, dhKey).send[0]!));
    const r = v.conv.receive(forged);
    // Refused (no Signature message), and the context still awaits a Reveal Signature: the next one runs in full.
    if (r.toSend.length !== 0 || !r.events.some((e) => e.type === 'ignored')) throw new Error('hostile.v3.reveal-sig: the forged Reveal Signature was not refused');
    out.push({ name: 'hostile.v3.reveal-sig', impl, fn: () => v.conv.receive(forged) });
  }
  // First pieces of a fragment flood: the longest piece, the most pieces announced, a fresh tag each time.
  {
    const v = victim(b, V3_LIMITS);
    const L = DEFAULT_LIMITS;
    const head = armour(encodeMessage(akeStart(env(b, 0x7400_0000, dsaKey()), 0).send[0]!)).slice(0, -1);
    const shell = formatFragmentV3({ senderTag: 0x7400_0000, receiverTag: v.acct.instanceTag, index: 1, total: L.maxFragmentsPerMessage, piece: '' });
    const piece = head + 'A'.repeat(L.maxFragmentChars - shell.length - head.length);
    const next = cycle(
      Array.from({ length: 64 }, (_, i) =>
        formatFragmentV3({ senderTag: tagAt(0x7400_0000, i), receiverTag: v.acct.instanceTag, index: 1, total: L.maxFragmentsPerMessage, piece }),
      ),
    );
    const r = v.conv.receive(next());
    if (r.toSend.length !== 0 || r.events.some((e) => e.type === 'ignored' || e.type === 'throttled')) throw new Error('hostile.v3.fragment: the first piece was not taken');
    out.push({ name: 'hostile.v3.fragment', impl, fn: () => v.conv.receive(next()) });
  }
  return out;
}

export function cases(ctx: BenchContext): BenchCase[] {
  return [...casesFor(ctx.wasm, 'wasm'), ...casesFor(ctx.js, 'js')];
}
