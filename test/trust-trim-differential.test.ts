/**
 * The restore trim of the trust store (session 11: a queue per rank instead of a scan per peer forgotten) keeps
 * exactly the peers the old trim kept, in the same order, on random records: strangers, contacts, verified and
 * revoked keys, several keys a peer, non-ASCII names, a name repeated after it was forgotten (accepted) or while
 * it is still held (refused), bounds from "one peer" to "everything fits".
 *
 * The reference below is the trim as it was before session 11 (fingerprints.ts: sizeOf, holdsTrust, keepRank,
 * resized's loop and evictPeer), copied here so the comparison outlives the old code.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { OtrDecodeError } from '../ts/errors.js';
import { utf8 } from '../ts/bytes.js';
import { LastSeenFingerprints } from '../ts/session/fingerprints.js';
import type { StateValue } from '../ts/session/state-codec.js';
import { CASES, seededRandom } from './helpers/rng.js';

interface Known {
  fp: string;
  first: number;
  last: number;
  trust: string;
}
interface Rec {
  peer: string;
  v4: string | null;
  v3: string | null;
  known: Known[];
  contact: true | undefined;
}

// ---- The reference: the trim before session 11, on decoded records. ----

function refSizeOf(r: Rec): number {
  let n = 64 + utf8(r.peer).length;
  if (r.v4 !== null) n += 8 + r.v4.length;
  if (r.v3 !== null) n += 8 + r.v3.length;
  for (const k of r.known) n += 80 + k.fp.length;
  if (r.contact) n += 16;
  return n;
}

function refKeepRank(r: Rec): number {
  return r.known.some((k) => k.trust !== 'unverified') ? 2 : r.contact ? 1 : 0;
}

/** What the old fromValue kept (in order), or 'refused' where it threw on a repeated peer still held. */
function referenceTrim(records: Rec[], maxBytes: number): Rec[] | 'refused' {
  const byPeer = new Map<string, { rec: Rec; size: number }>();
  let bytes = 0;
  const evictPeer = (keep: string): void => {
    let victim: string | undefined;
    let rank = 3;
    for (const [peer, e] of byPeer) {
      if (peer === keep) continue;
      const r = refKeepRank(e.rec);
      if (r < rank) {
        victim = peer;
        rank = r;
        if (r === 0) break;
      }
    }
    if (victim === undefined) return;
    bytes -= byPeer.get(victim)!.size;
    byPeer.delete(victim);
  };
  for (const rec of records) {
    if (byPeer.has(rec.peer)) return 'refused';
    const size = refSizeOf(rec);
    byPeer.set(rec.peer, { rec, size });
    bytes += size;
    while (bytes > maxBytes && byPeer.size > 1) evictPeer(rec.peer);
  }
  return [...byPeer.values()].map((e) => e.rec);
}

// ---- Random records. ----

const TRUSTS = ['unverified', 'unverified', 'unverified', 'verified-smp', 'verified-hand', 'revoked'];

function randomRecords(rnd: (n: number) => Uint8Array): Rec[] {
  const byte = () => rnd(1)[0]!;
  const count = 1 + (byte() % 120);
  // One record in eight repeats names: most repeats are refused, which would leave few records to trim.
  const repeats = byte() % 8 === 0;
  const names: string[] = [];
  const out: Rec[] = [];
  for (let i = 0; i < count; i++) {
    // One in sixteen repeats an earlier name: accepted if that peer was forgotten meanwhile, else refused.
    const repeat = repeats && names.length > 0 && byte() % 16 === 0;
    const peer = repeat ? names[byte() % names.length]! : `${byte() % 4 === 0 ? 'ü'.repeat(byte() % 20) : ''}p${i}@example.${byte() % 3}`;
    names.push(peer);
    const keys = 1 + (byte() % 4);
    const known: Known[] = [];
    for (let k = 0; k < keys; k++) {
      const v4 = byte() % 3 !== 0;
      const first = byte();
      known.push({ fp: Buffer.from(rnd(v4 ? 56 : 20)).toString('hex'), first, last: first + byte(), trust: byte() % 3 === 0 ? TRUSTS[byte() % TRUSTS.length]! : 'unverified' });
    }
    const v4 = known.find((k) => k.fp.length === 112)?.fp ?? null;
    const v3 = byte() % 2 === 0 ? (known.find((k) => k.fp.length === 40)?.fp ?? null) : null;
    out.push({ peer, v4, v3, known, contact: byte() % 3 === 0 ? true : undefined });
  }
  return out;
}

test(`the restore trim keeps what the old trim kept, in order (${CASES} random records)`, () => {
  const rnd = seededRandom(3120);
  let trimmed = 0;
  let refused = 0;
  let repeatedAccepted = 0;
  for (let c = 0; c < CASES; c++) {
    const records = randomRecords(rnd);
    const total = records.reduce((n, r) => n + refSizeOf(r), 0);
    // From below one peer's size to above the whole record.
    const maxBytes = Math.floor((total * (rnd(1)[0]! + 1)) / 200);
    const expected = referenceTrim(records, maxBytes);
    let got: StateValue | 'refused';
    try {
      got = LastSeenFingerprints.fromValue(records as unknown as StateValue, 100_000, 16, maxBytes).toValue();
    } catch (e) {
      if (!(e instanceof OtrDecodeError)) throw e;
      got = 'refused';
    }
    assert.equal(got, expected, `case ${c}: ${records.length} records, bound ${maxBytes} of ${total}`);
    if (expected === 'refused') refused++;
    else if (expected.length < records.length) trimmed++;
    if (expected !== 'refused' && new Set(records.map((r) => r.peer)).size < records.length) repeatedAccepted++;
  }
  // The cases cover both outcomes and real trims, not only records that fit.
  assert.ok(trimmed > CASES / 3, `${trimmed} trimmed`);
  assert.ok(refused > 0, `${refused} refused`);
  assert.ok(repeatedAccepted > 0, `${repeatedAccepted} accepted with a forgotten peer's name repeated`);
});

test.run();
