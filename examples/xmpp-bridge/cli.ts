/**
 * The bridge's local interface: one command per line in, one line per thing to see out. Lines not starting
 * with "/" are messages to the current peer (chosen with /to). `--json` prints every output as one JSON object
 * per line instead (what the tests read); the commands are the same.
 */
import type { OtrEvent } from '../../ts/index.js';
import { hexTag } from './wire-tags.js';
import type { OtrBridge, UiEvent } from './otr-bridge.js';

export const HELP = `commands (they act on the current peer, chosen with /to):
  /to JID             talk to JID (bare, e.g. bob@example.org)
  /otr                start a private (OTR) conversation: asks every device of the peer
  TEXT                send TEXT (encrypted; queued until the private conversation is up)
  /all TEXT           send TEXT to every device of the peer with a private conversation
  /inst TAG TEXT      send TEXT to one device, by its OTR instance tag (see /status)
  /smp SECRET [QUESTION]   verify the peer: they must answer with the same SECRET
  /answer SECRET      answer the peer's SMP question
  /end                end the private conversation
  /status             conversations, devices (instances), session ids and fingerprints
  /quit               log out and exit`;

const spaced = (hex: string): string => hex.replace(/(.{8})(?=.)/g, '$1 ').toUpperCase();

export class Cli {
  current: string | undefined;

  constructor(
    private readonly bridge: OtrBridge,
    private readonly json: boolean,
    private readonly write: (line: string) => void,
    private readonly quit: () => void,
  ) {}

  /** One line typed by the user. Never throws: a wrong command is answered with an error line. */
  line(input: string): void {
    const line = input.trim();
    if (!line) return;
    try {
      this.command(line);
    } catch (e) {
      this.show({ kind: 'error', text: (e as Error).message });
    }
  }

  private need(): string {
    if (!this.current) throw new Error('no peer chosen: /to JID first');
    return this.current;
  }

  private command(line: string): void {
    if (!line.startsWith('/')) {
      this.bridge.send(this.need(), line);
      return;
    }
    const [cmd = '', ...rest] = line.split(/\s+/);
    const arg = line.slice(cmd.length).trim();
    switch (cmd) {
      case '/to':
        if (!/^[^\s/@]+@[^\s/@]+$/.test(arg)) throw new Error('usage: /to user@domain');
        this.current = arg.toLowerCase();
        this.show({ kind: 'info', text: `talking to ${this.current}` });
        return;
      case '/otr':
        this.bridge.start(this.need());
        this.show({ kind: 'info', text: `asked ${this.need()} to start a private conversation` });
        return;
      case '/all': {
        const n = this.bridge.sendAll(this.need(), arg);
        if (n === 0) throw new Error(`no private conversation with ${this.need()} yet: /otr first`);
        return;
      }
      case '/inst': {
        const tag = parseInt(rest[0] ?? '', 16);
        const text = arg.slice((rest[0] ?? '').length).trim();
        if (!Number.isInteger(tag) || !text) throw new Error('usage: /inst TAG TEXT (TAG in hex, see /status)');
        this.bridge.send(this.need(), text, tag);
        return;
      }
      case '/smp': {
        const [secret, ...q] = rest;
        if (!secret) throw new Error('usage: /smp SECRET [QUESTION]');
        this.bridge.startSmp(this.need(), secret, q.length ? q.join(' ') : undefined);
        return;
      }
      case '/answer':
        if (!arg) throw new Error('usage: /answer SECRET');
        this.bridge.answerSmp(this.need(), arg);
        return;
      case '/end':
        this.bridge.end(this.need());
        return;
      case '/status':
        this.status();
        return;
      case '/help':
        this.write(this.json ? JSON.stringify({ type: 'help', text: HELP }) : HELP);
        return;
      case '/quit':
        this.quit();
        return;
      default:
        throw new Error(`unknown command ${cmd} (/help lists them)`);
    }
  }

  private status(): void {
    const rows = this.bridge.status();
    if (this.json) {
      this.write(JSON.stringify({ type: 'status', instances: rows.map((r) => ({ peer: r.peer, instance: hexTag(r.instance), current: r.current, ...r.record })) }));
      return;
    }
    if (rows.length === 0) this.write('* no conversations yet');
    for (const r of rows)
      this.write(
        `* ${r.peer} #${hexTag(r.instance)}${r.current ? ' (current)' : ''}: ${r.record.encrypted ? 'private' : 'not private'}` +
          `${r.record.ssid ? `, session id ${r.record.ssid}` : ''}${r.record.fingerprint ? `, fingerprint ${spaced(r.record.fingerprint)}` : ''}` +
          `${r.record.resource ? `, at ${r.record.resource}` : ''}`,
      );
  }

  /** Renders one event for the person (or as JSON). */
  show(e: UiEvent): void {
    if (this.json) {
      this.write(JSON.stringify(toJson(e)));
      return;
    }
    const line = human(e, this.bridge);
    if (line) this.write(line);
  }
}

function toJson(e: UiEvent): Record<string, unknown> {
  switch (e.kind) {
    case 'message':
      return { type: 'message', peer: e.peer, instance: hexTag(e.instance), encrypted: e.encrypted, text: e.text };
    case 'otr': {
      const ev: Record<string, unknown> = { ...e.event };
      for (const [k, v] of Object.entries(ev)) if (v instanceof Uint8Array) ev[k] = Buffer.from(v).toString('hex');
      if (typeof ev.instance === 'number') ev.instance = hexTag(ev.instance);
      return { ...ev, peer: e.peer };
    }
    case 'wire':
      return { type: 'wire', dir: e.dir, jid: e.jid, body: e.body };
    case 'info':
    case 'error':
      return { type: e.kind, text: e.text };
  }
}

function human(e: UiEvent, bridge: OtrBridge): string | undefined {
  switch (e.kind) {
    case 'message': {
      const who = bridge.encryptedInstances(e.peer).length > 1 ? `${e.peer}#${hexTag(e.instance)}` : e.peer;
      return `<${who}> ${e.encrypted ? '' : '[not encrypted] '}${e.text}`;
    }
    case 'otr':
      return humanEvent(e.peer, e.event);
    case 'wire':
      return `${e.dir === 'in' ? '<<' : '>>'} ${e.jid} ${e.body.length > 80 ? `${e.body.slice(0, 60)}… (${e.body.length} chars)` : e.body}`;
    case 'info':
      return `* ${e.text}`;
    case 'error':
      return `! ${e.text}`;
  }
}

function humanEvent(peer: string, e: OtrEvent): string | undefined {
  switch (e.type) {
    case 'encrypted':
      return `* private conversation with ${peer} (OTRv${e.version}, device #${hexTag(e.instance)}); session id ${e.ssid}; their fingerprint ${spaced(e.peerFingerprint)}`;
    case 'finished':
      return `* ${peer} ${e.reason === 'expired' ? 'was idle too long: the private conversation expired' : 'ended the private conversation'}; /end, then /otr to start again`;
    case 'ended':
      return `* private conversation with ${peer} ended`;
    case 'smp':
      switch (e.status) {
        case 'asked':
          return `* ${peer} asks to verify you${e.question ? `: "${e.question}"` : ''}; reply /answer SECRET`;
        case 'succeeded':
          return `* verified: ${peer} knows the same secret (SMP succeeded)`;
        case 'failed':
          return `! verification FAILED: ${peer} gave a different secret`;
        case 'in-progress':
          return `* verifying ${peer}…`;
        default:
          return `! verification with ${peer}: ${e.status}`;
      }
    case 'not-sent':
      return e.reason === 'queued' ? `* queued until the private conversation is up: ${e.text}` : `! not sent (${peer} ended the conversation; /end then /otr): ${e.text}`;
    case 'unreadable':
      return `! unreadable message from ${peer}: ${e.detail}`;
    case 'unencrypted-warning':
      return `! ${peer} sent a message that was not encrypted`;
    case 'peer-error':
      return `! ${peer} reports an OTR error: ${e.message}`;
    case 'message-lost':
      return `! a message from ${peer} was lost`;
    default:
      return undefined; // state changes, ignored messages, extra keys: not for the person
  }
}
