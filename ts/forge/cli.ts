#!/usr/bin/env node
/**
 * `otr4-forge`: the forging toolkit on the command line (docs/deniability.md has a worked example). Every
 * command works on wire strings — what went over the network, one message per line in a transcript file —
 * and prints wire strings or fields. `--json` prints JSON; `--js` forces the pure-JS backend.
 *
 *   parse [WIRE | --transcript FILE]             the fields of each message
 *   macs --transcript FILE                       every revealed MAC key and the message it authenticates
 *   show-mac-key MESSAGE_KEY_HEX                 MKmac for a message key
 *   remac --mac-key HEX WIRE                     the message with a new authenticator
 *   modify --offset N --old TEXT --new TEXT (--mac-key HEX | --transcript FILE) WIRE
 *                                                replace guessed text and re-MAC (key found in the transcript)
 *   read (--chain-key HEX | --message-key HEX) [--new TEXT] WIRE
 *                                                decrypt; with --new, the forged message
 *   forge-dake --transcript FILE --initiator-id ID --responder-id ID [--line i:TEXT --line r:TEXT ...]
 *                                                a new DAKE (and messages) between the two client profiles
 *                                                found in the transcript's Identity and Auth-R messages —
 *                                                no secret key needed — with the session keys
 *
 * Exit status: 0 on success, 1 on a typed OtrError (bad input), 2 on a usage error.
 */
import { closeSync, openSync, readSync, realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { bytesToHex, hexToBytes } from '../bytes.js';
import { OtrError, OtrLimitError } from '../errors.js';
import { DEFAULT_LIMITS } from '../limits.js';
import { init, getBackend } from '../backend/select.js';
import { systemRandom } from '../crypto/random.js';
import { classifyIncoming } from '../codec/classify.js';
import { peekHeader, MessageType, PROTOCOL_VERSION_4 } from '../wire/header.js';
import { decodeAuthR, decodeIdentity } from '../wire/dake.js';
import type { ClientProfile } from '../profile/client-profile.js';
import type { RatchetState } from '../ratchet/state.js';
import { formatParsed, parseWire, type Json } from './parse.js';
import { findMacKey, macKeyIndex, modifyDataMessage, readAndForge, remacMessage, showMacKey } from './data.js';
import { forgeInteractiveDake } from './dake.js';
import { forgeTranscript } from './transcript.js';

/** A bad command line or an unreadable file: exit status 2 with the usage text. */
export class UsageError extends Error {}

const USAGE = `usage: otr4-forge <command> [options]
  parse [WIRE | --transcript FILE] [--json]
  macs --transcript FILE [--json]
  show-mac-key MESSAGE_KEY_HEX
  remac --mac-key HEX WIRE
  modify --offset N --old TEXT --new TEXT (--mac-key HEX | --transcript FILE) WIRE
  read (--chain-key HEX | --message-key HEX) [--new TEXT] WIRE
  forge-dake --transcript FILE --initiator-id ID --responder-id ID [--line i:TEXT | --line r:TEXT ...] [--json]
options: --json (JSON output), --js (pure-JS backend); a transcript file holds one wire string per line`;

/** Largest transcript file the CLI reads: limits.maxForgeTranscriptBytes (ts/limits.ts says why). */
export const MAX_TRANSCRIPT_BYTES = DEFAULT_LIMITS.maxForgeTranscriptBytes;

/**
 * One wire string per non-empty line (a transcript as a client logs it). A file that cannot be read is a
 * usage error; one larger than MAX_TRANSCRIPT_BYTES an OtrLimitError. Each line is then bounded by the
 * decoders' own limits.
 */
export function readTranscript(path: string, maxBytes = MAX_TRANSCRIPT_BYTES): string[] {
  let buf: Buffer;
  let n = 0;
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (e) {
    throw new UsageError(`cannot read transcript ${JSON.stringify(path)}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  try {
    buf = Buffer.alloc(Math.min(maxBytes + 1, 1 << 16));
    for (;;) {
      if (n === buf.length) {
        if (n > maxBytes) break;
        const bigger = Buffer.alloc(Math.min(maxBytes + 1, buf.length * 2));
        buf.copy(bigger, 0, 0, n);
        buf = bigger;
      }
      const got = readSync(fd, buf, n, buf.length - n, null);
      if (got === 0) break;
      n += got;
    }
  } catch (e) {
    throw new UsageError(`cannot read transcript ${JSON.stringify(path)}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  } finally {
    closeSync(fd);
  }
  if (n > maxBytes) throw new OtrLimitError(`transcript file is larger than ${maxBytes} bytes`);
  return buf
    .toString('utf8', 0, n)
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l.length > 0);
}

function hex(v: string | undefined, what: string, len: number): Uint8Array {
  if (v === undefined) throw new UsageError(`${what} is required`);
  if (!/^[0-9a-fA-F]*$/.test(v) || v.length !== 2 * len) throw new UsageError(`${what} must be ${len} bytes of hex`);
  return hexToBytes(v.toLowerCase());
}

function one(positionals: string[], what: string): string {
  if (positionals.length !== 1) throw new UsageError(`give exactly one ${what}`);
  return positionals[0]!;
}

/** The initiator's and responder's client profiles, from a transcript's first Identity and Auth-R. */
function profilesFrom(wire: readonly string[]): { initiator: ClientProfile; responder: ClientProfile } {
  let initiator: ClientProfile | undefined;
  let responder: ClientProfile | undefined;
  for (const w of wire) {
    const c = classifyIncoming(w);
    if (c.kind !== 'encoded') continue;
    const h = peekHeader(c.bytes);
    if (h.version !== PROTOCOL_VERSION_4) continue;
    if (h.type === MessageType.identity && !initiator) initiator = decodeIdentity(c.bytes).profile;
    if (h.type === MessageType.authR && !responder) responder = decodeAuthR(c.bytes).profile;
  }
  if (!initiator || !responder) throw new UsageError('the transcript holds no Identity and Auth-R message to take client profiles from');
  return { initiator, responder };
}

const ratchetKeys = (s: RatchetState): Json => ({
  rootKey: bytesToHex(s.rootKey),
  sendChain: s.sendChain ? bytesToHex(s.sendChain) : null,
  recvChain: s.recvChain ? bytesToHex(s.recvChain) : null,
  ratchetI: s.i,
});

/** Runs one command; returns what to print. Exported for the tests. */
export async function run(argv: string[]): Promise<string> {
  const { values: o, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      json: { type: 'boolean' },
      js: { type: 'boolean' },
      transcript: { type: 'string' },
      'mac-key': { type: 'string' },
      'chain-key': { type: 'string' },
      'message-key': { type: 'string' },
      offset: { type: 'string' },
      old: { type: 'string' },
      new: { type: 'string' },
      'initiator-id': { type: 'string' },
      'responder-id': { type: 'string' },
      line: { type: 'string', multiple: true },
      help: { type: 'boolean', short: 'h' },
    },
  });
  const [cmd, ...args] = positionals;
  if (o.help || !cmd) return USAGE;
  await init({ backend: o.js ? 'js' : 'auto' });
  const b = getBackend();
  const out = (j: Json, text: () => string) => (o.json ? JSON.stringify(j, null, 2) : text());

  switch (cmd) {
    case 'parse': {
      const wire = o.transcript ? readTranscript(o.transcript) : [one(args, 'wire string (or --transcript FILE)')];
      const parsed = wire.map((w) => parseWire(w));
      return out(parsed as unknown as Json, () => parsed.map((p, i) => `#${i}: ${formatParsed(p)}`).join('\n\n'));
    }
    case 'macs': {
      if (!o.transcript) throw new UsageError('macs needs --transcript FILE');
      const rows = macKeyIndex(b, readTranscript(o.transcript)).map((r) => ({ ...r, macKey: bytesToHex(r.macKey) }));
      return out(rows, () =>
        rows.length === 0 ? 'no MAC keys revealed' : rows.map((r) => `#${r.revealedIn} reveals ${r.macKey.slice(0, 16)}… → authenticates #${r.authenticates ?? '?'}\n  ${r.macKey}`).join('\n'),
      );
    }
    case 'show-mac-key': {
      const k = bytesToHex(showMacKey(b, hex(one(args, 'message key'), 'message key', 64)));
      return out({ macKey: k }, () => k);
    }
    case 'remac':
      return remacMessage(b, one(args, 'wire string'), hex(o['mac-key'], '--mac-key', 64));
    case 'modify': {
      const wire = one(args, 'wire string');
      if (o.offset === undefined || !/^\d+$/.test(o.offset)) throw new UsageError('--offset must be a byte offset');
      if (o.old === undefined || o.new === undefined) throw new UsageError('--old and --new are required');
      let macKey: Uint8Array | undefined;
      if (o['mac-key']) macKey = hex(o['mac-key'], '--mac-key', 64);
      else if (o.transcript) {
        macKey = findMacKey(b, wire, readTranscript(o.transcript));
        if (!macKey) throw new UsageError('no MAC key in the transcript authenticates this message (not revealed yet)');
      } else throw new UsageError('give --mac-key HEX or --transcript FILE');
      return modifyDataMessage(b, wire, { offset: Number(o.offset), oldText: o.old, newText: o.new, macKey });
    }
    case 'read': {
      const wire = one(args, 'wire string');
      const r = readAndForge(b, wire, {
        ...(o['chain-key'] ? { chainKey: hex(o['chain-key'], '--chain-key', 64) } : {}),
        ...(o['message-key'] ? { messageKey: hex(o['message-key'], '--message-key', 64) } : {}),
        ...(o.new !== undefined ? { newText: o.new } : {}),
      });
      const j = { text: r.text, authentic: r.authentic, macKey: bytesToHex(r.macKey), forged: r.forged ?? null };
      return out(j, () => [`text: ${JSON.stringify(r.text)}${r.authentic ? '' : '  (the key does not authenticate this message: wrong key?)'}`, `mac key: ${j.macKey}`, ...(r.forged ? ['forged:', r.forged] : [])].join('\n'));
    }
    case 'forge-dake': {
      if (!o.transcript) throw new UsageError('forge-dake needs --transcript FILE (to take the client profiles from)');
      if (!o['initiator-id'] || !o['responder-id']) throw new UsageError('--initiator-id and --responder-id are required');
      const p = profilesFrom(readTranscript(o.transcript));
      const initiator = { profile: p.initiator, accountId: o['initiator-id'] };
      const responder = { profile: p.responder, accountId: o['responder-id'] };
      const lines = (o.line ?? []).map((l) => {
        const m = /^([ir]):(.*)$/s.exec(l);
        if (!m) throw new UsageError('--line is i:TEXT (initiator) or r:TEXT (responder)');
        return { from: m[1] === 'i' ? ('initiator' as const) : ('responder' as const), text: m[2]! };
      });
      if (lines.length) {
        const t = forgeTranscript(b, systemRandom, { initiator, responder, messages: lines, nowMs: Date.now() });
        return out({ ssid: bytesToHex(t.ssid), wire: t.wire }, () => [`ssid: ${bytesToHex(t.ssid)}`, ...t.wire].join('\n'));
      }
      const d = forgeInteractiveDake(b, systemRandom, { initiator, responder });
      const j = { ssid: bytesToHex(d.ssid), wire: [...d.transcript], initiator: ratchetKeys(d.initiator.ratchet), responder: ratchetKeys(d.responder.ratchet) };
      return out(j, () => [`ssid: ${j.ssid}`, ...j.wire, `initiator keys: ${JSON.stringify(j.initiator)}`, `responder keys: ${JSON.stringify(j.responder)}`].join('\n'));
    }
    default:
      throw new UsageError(`unknown command ${JSON.stringify(cmd)}`);
  }
}

/** Whether this module is the program being run (directly or through the package's bin link), not imported. */
function isMain(): boolean {
  try {
    return process.argv[1] !== undefined && realpathSync(process.argv[1]) === fileURLToPath(import.meta.url);
  } catch {
    return false;
  }
}

if (isMain()) {
  run(process.argv.slice(2)).then(
    (s) => {
      process.stdout.write(s + '\n');
    },
    (e: unknown) => {
      if (e instanceof UsageError || (e as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
        process.stderr.write(`${(e as Error).message}\n${USAGE}\n`);
        process.exitCode = 2;
      } else if (e instanceof OtrError) {
        process.stderr.write(`${e.name} (${e.code}): ${e.message}\n`);
        process.exitCode = 1;
      } else throw e;
    },
  );
}
