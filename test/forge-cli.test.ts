/**
 * The `otr4-forge` CLI (ts/forge/cli.ts) on a real transcript file — the wire strings of a conversation made
 * through the Account API, one per line — run in-process through its exported `run`, and once as a child
 * process for the exit codes. Its output must be what the library functions give, and the forged message it
 * prints must be accepted by an honest receiver holding the keys.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Account } from '../ts/index.js';
import { WASM } from './helpers/backends.js';
import { seededRandom } from './helpers/rng.js';
import { ALICE_ID, BOB_ID, makePair } from './helpers/session-pair.js';
import { bytesToHex, hexToBytes } from '../ts/bytes.js';
import { MAX_TRANSCRIPT_BYTES, UsageError, readTranscript, run } from '../ts/forge/cli.js';
import { findMacKey, macKeyIndex, parseWire, showMacKey } from '../ts/forge/index.js';
import { OtrError, OtrLimitError } from '../ts/errors.js';
import { decodeIdentity } from '../ts/wire/dake.js';
import { armour, dearmour } from '../ts/codec/armour.js';

const CLI = fileURLToPath(new URL('../ts/forge/cli.js', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'otr4-forge-'));

// One real conversation: query, DAKE, Alice writes twice, Bob answers, Alice answers (revealing keys).
const p = makePair(WASM, 11);
const wire: string[] = [];
function deliver(to: 'a' | 'b', strings: readonly string[]): void {
  let queue = strings.map((s) => ({ to, s }));
  while (queue.length) {
    const next: typeof queue = [];
    for (const m of queue) {
      wire.push(m.s);
      for (const t of (m.to === 'a' ? p.a : p.b).receive(m.s).toSend) next.push({ to: m.to === 'a' ? 'b' : 'a', s: t });
    }
    queue = next;
  }
}
deliver('b', p.a.start().toSend);
const bobBefore = p.bob.serialize();
deliver('b', p.a.send('pay Mallory 100 euros').toSend);
deliver('a', p.b.send('done').toSend);
deliver('b', p.a.send('thanks').toSend);
deliver('a', p.b.send('np').toSend);
const file = join(dir, 'transcript.txt');
writeFileSync(file, wire.join('\n') + '\n');
const first = wire.find((w) => w.startsWith('?OTR:AAQD'))!; // Alice's first data message

test('parse --json: every line of the transcript, in order', async () => {
  const parsed = JSON.parse(await run(['parse', '--transcript', file, '--json'])) as { kind: string }[];
  assert.equal(parsed.map((x) => x.kind).slice(0, 5), ['query message', 'OTRv4 Identity', 'OTRv4 Auth-R', 'OTRv4 Auth-I', 'OTRv4 Data']);
  assert.is(parsed.length, wire.length);
  assert.ok((await run(['parse', first])).startsWith('#0: OTRv4 Data'));
});

test('macs: each revealed key is matched to the message it authenticates; modify with --transcript is accepted by Bob', async () => {
  const rows = JSON.parse(await run(['macs', '--transcript', file, '--json'])) as { revealedIn: number; macKey: string; authenticates: number | null }[];
  assert.ok(rows.length >= 2);
  for (const r of rows) {
    assert.ok(r.authenticates !== null && r.authenticates < r.revealedIn, 'revealed after the message it authenticates');
    assert.is(r.macKey, bytesToHex(findMacKey(WASM, wire[r.authenticates!]!, wire)!));
  }
  const forged = await run(['modify', '--offset', '4', '--old', 'Mallory', '--new', 'Trudy!!', '--transcript', file, first]);
  const bob = Account.restore(bobBefore, { backend: WASM, random: seededRandom(3), clock: p.clock }).conversation(ALICE_ID);
  assert.equal(bob.receive(forged).messages.map((m) => m.text), ['pay Trudy!! 100 euros']);
});

test('show-mac-key, forge-dake from the transcript profiles; usage and input errors', async () => {
  const mk = 'ab'.repeat(64);
  assert.is(await run(['show-mac-key', mk]), bytesToHex(showMacKey(WASM, hexToBytes(mk))));
  const out = JSON.parse(await run(['forge-dake', '--transcript', file, '--initiator-id', BOB_ID, '--responder-id', ALICE_ID, '--line', 'r:I never said that', '--json'])) as { wire: string[] };
  assert.is(out.wire.length, 4);
  assert.is(bytesToHex(decodeIdentity(dearmour(out.wire[0]!)).profile.encoded), bytesToHex(p.bob.clientProfile.encoded), "Bob's real profile");
  await assert.not.throws(async () => run(['--help']));
  for (const bad of [['show-mac-key', 'zz'], ['remac', first], ['nope'], ['read', first], ['modify', '--offset', 'x', first]]) {
    let threw = false;
    try {
      await run(bad);
    } catch {
      threw = true;
    }
    assert.ok(threw, bad.join(' '));
  }
  // As a program: 0 on success, 2 on a usage error, 1 on hostile input (a typed OtrError).
  const sh = (args: string[]) => spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8' });
  assert.is(sh(['show-mac-key', mk]).status, 0);
  assert.is(sh(['show-mac-key', 'zz']).status, 2);
  const hostile = sh(['parse', '?OTR:AAQDAAAA.']);
  assert.is(hostile.status, 1);
  assert.match(hostile.stderr, /Otr\w*Error/);
});

test('hostile transcript files: unreadable is a usage error, oversized a typed limit error read no further than the cap', async () => {
  const missing = join(dir, 'no-such-file');
  assert.throws(() => readTranscript(missing), (e: unknown) => e instanceof UsageError && /ENOENT/.test((e as Error).message));
  assert.throws(() => readTranscript(dir), (e: unknown) => e instanceof UsageError, 'a directory');
  // A device that never ends: refused at the cap (plus one byte), not read to exhaustion.
  assert.throws(() => readTranscript('/dev/zero', 1 << 16), (e: unknown) => e instanceof OtrLimitError);
  const big = join(dir, 'big.txt');
  writeFileSync(big, (first + '\n').repeat(8));
  assert.is(readTranscript(big, (first.length + 1) * 8).length, 8, 'exactly at the cap is read');
  assert.throws(() => readTranscript(big, (first.length + 1) * 8 - 1), (e: unknown) => e instanceof OtrLimitError);
  assert.ok(MAX_TRANSCRIPT_BYTES >= 1 << 20, 'a real conversation fits');
  // Confusing lines (binary, truncated, wrong version, a data message cut short) are typed errors for parse,
  // skipped by macs.
  const junk = join(dir, 'junk.txt');
  const cut = first.slice(0, first.length - 20) + '.';
  writeFileSync(junk, ['\u0000\u00ff\ufffd', '?OTR:', '?OTR:AAUD.', cut, '?OTR:' + 'A'.repeat(5000) + '.', first].join('\n'));
  for (const line of readTranscript(junk).slice(0, 5)) {
    let threw: unknown;
    try {
      await run(['parse', line]);
    } catch (e) {
      threw = e;
    }
    if (threw === undefined) continue; // plain text is plain text
    assert.instance(threw, OtrError, JSON.stringify(line.slice(0, 20)));
  }
  assert.equal(JSON.parse(await run(['macs', '--transcript', junk, '--json'])), []);
  const sh = (args: string[]) => spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8' });
  const r = sh(['macs', '--transcript', missing]);
  assert.is(r.status, 2);
  assert.not.match(r.stderr, /\n\s+at /, 'no stack trace');
});

test('macs: every line decoded once and the work bounded; beyond the trial budget a typed limit error, before any trial', () => {
  const rows = macKeyIndex(WASM, wire);
  const data = wire.filter((w) => w.startsWith('?OTR:AAQD')).length;
  assert.ok(rows.length >= 2);
  assert.throws(() => macKeyIndex(WASM, wire, rows.length * data - 1), (e: unknown) => e instanceof OtrLimitError);
  assert.equal(macKeyIndex(WASM, wire, rows.length * data), rows, 'exactly at the budget');
  // A key that authenticates nothing in the transcript is reported as such.
  assert.equal(macKeyIndex(WASM, [wire.find((w, i) => rows.some((r) => r.revealedIn === i))!]).map((r) => r.authenticates).filter((x) => x !== null), []);
});

test('forge-dake on a hostile transcript: profiles with small-order or undecodable keys give typed errors', async () => {
  const identity = wire.find((w) => parseWireKind(w) === 'OTRv4 Identity')!;
  const bytes = dearmour(identity);
  const F = p.bob.clientProfile.forgingKey;
  const at = indexOf(bytes, F);
  assert.ok(at > 0, "Bob's forging key is in his Identity");
  const identityPoint = new Uint8Array(57);
  identityPoint[0] = 1; // the neutral element: decodes, but is no valid key
  const offCurve = new Uint8Array(57).fill(0xff); // not canonical
  for (const bad of [identityPoint, offCurve]) {
    const forged = bytes.slice();
    forged.set(bad, at);
    const f = join(dir, 'hostile-profile.txt');
    writeFileSync(f, wire.map((w) => (w === identity ? armour(forged) : w)).join('\n'));
    let threw: unknown;
    try {
      await run(['forge-dake', '--transcript', f, '--initiator-id', BOB_ID, '--responder-id', ALICE_ID]);
    } catch (e) {
      threw = e;
    }
    assert.instance(threw, OtrError, bytesToHex(bad.subarray(0, 2)));
  }
});

function indexOf(hay: Uint8Array, needle: Uint8Array): number {
  outer: for (let i = 0; i + needle.length <= hay.length; i++) {
    for (let j = 0; j < needle.length; j++) if (hay[i + j] !== needle[j]) continue outer;
    return i;
  }
  return -1;
}

function parseWireKind(w: string): string | undefined {
  try {
    return parseWire(w).kind;
  } catch {
    return undefined;
  }
}

test.run();
