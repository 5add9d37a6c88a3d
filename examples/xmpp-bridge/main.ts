/**
 * OTR over XMPP: a bridge that logs in to an XMPP server, holds OTR sessions for the account, and lets a person
 * chat through it from the terminal (see docs/xmpp-bridge.md).
 *
 *   XMPP_PASSWORD=… node build/examples/xmpp-bridge/main.js --jid alice@example.org/laptop
 *       [--service xmpp://host:5222] [--state FILE | --store sqlite:PATH] [--max-message-size 4096]
 *       [--to bob@example.org] [--json] [--wire]
 *
 * The password comes from the environment (XMPP_PASSWORD) or --password-file, never the command line (other
 * users can read that). --state defaults to ./<jid without resource>.otr-state.json; --store keeps the state
 * in the SQLite record store instead (sealed with XMPP_BRIDGE_SEAL_KEY, hex, if set).
 */
import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { client, xml, type Element } from '@xmpp/client';
import { init } from '../../ts/index.js';
import { OtrBridge, bareJid } from './otr-bridge.js';
import { fileBackend, sqliteBackend } from './persistence.js';
import { Cli } from './cli.js';

function args(): Map<string, string | true> {
  const m = new Map<string, string | true>();
  const a = process.argv.slice(2);
  for (let i = 0; i < a.length; i++) {
    const k = a[i]!;
    if (!k.startsWith('--')) throw new Error(`unexpected argument ${k}`);
    const v = a[i + 1];
    if (v === undefined || v.startsWith('--')) m.set(k.slice(2), true);
    else {
      m.set(k.slice(2), v);
      i++;
    }
  }
  return m;
}

const write = (line: string): void => void process.stdout.write(line + '\n');

async function main(): Promise<void> {
  const a = args();
  const str = (k: string): string | undefined => (typeof a.get(k) === 'string' ? (a.get(k) as string) : undefined);
  const jid = str('jid');
  const m = jid && /^([^@/\s]+)@([^@/\s]+)(?:\/(.+))?$/.exec(jid);
  if (!m) throw new Error('usage: --jid user@domain[/resource] (see docs/xmpp-bridge.md)');
  const [, user, domain, resource] = m as unknown as [string, string, string, string | undefined];
  const passwordFile = str('password-file');
  const password = passwordFile ? readFileSync(passwordFile, 'utf8').trim() : process.env.XMPP_PASSWORD;
  if (!password) throw new Error('no password: set XMPP_PASSWORD or pass --password-file FILE');
  const json = a.get('json') === true;
  const account = bareJid(`${user}@${domain}`);
  const storeArg = str('store');
  if (storeArg !== undefined && !storeArg.startsWith('sqlite:')) throw new Error('--store takes sqlite:PATH');
  const maxMessageSize = Number(str('max-message-size') ?? 4096);
  if (!Number.isInteger(maxMessageSize) || maxMessageSize < 500) throw new Error('--max-message-size must be an integer >= 500');

  await init();
  const backend = storeArg
    ? await sqliteBackend(storeArg.slice('sqlite:'.length), account, process.env.XMPP_BRIDGE_SEAL_KEY)
    : fileBackend(str('state') ?? `./${account}.otr-state.json`);
  const xmpp = client({ service: str('service') ?? `xmpp://${domain}:5222`, domain, username: user, password, resource });
  const { bridge, restored } = await OtrBridge.open(account, { requireEncryption: true, maxMessageSize }, {
    backend,
    wire: a.get('wire') === true,
    fatal: () => void quit(1),
    transport: (to, body) => {
      xmpp.send(xml('message', { type: 'chat', to }, xml('body', {}, body))).catch((e: Error) => cli.show({ kind: 'error', text: `could not send to ${to}: ${e.message}` }));
    },
    ui: (e) => cli.show(e),
  });
  let quitting = false;
  const quit = async (code = 0): Promise<never> => {
    if (!quitting) {
      quitting = true;
      // What was typed last is saved and sent before we log out.
      await bridge.idle();
      try {
        // Only once the stream is up: before that, a stanza would be taken for the stream header.
        if (xmpp.status === 'online') await xmpp.send(xml('presence', { type: 'unavailable' }));
        await xmpp.stop();
      } catch {
        // already offline
      }
      await backend.close().catch(() => {});
    }
    process.exit(code);
  };
  const cli = new Cli(bridge, json, write, () => void quit());
  const to = str('to');
  if (to) cli.line(`/to ${to}`);

  xmpp.on('error', (e: Error) => cli.show({ kind: 'error', text: `xmpp: ${e.message}` }));
  xmpp.on('offline', () => cli.show({ kind: 'info', text: 'offline' }));
  xmpp.on('stanza', (s: Element) => {
    if (!s.is('message') || !s.attrs.from) return;
    const body = s.getChildText('body');
    if (s.attrs.type === 'error') {
      cli.show({ kind: 'error', text: `the server could not deliver a message to ${s.attrs.from}` });
      return;
    }
    if (body === null || (s.attrs.type !== 'chat' && s.attrs.type !== 'normal' && s.attrs.type !== undefined)) return;
    bridge.receive(s.attrs.from, body);
  });
  xmpp.on('online', async (address: { toString(): string }) => {
    // Available presence: the server then delivers messages sent to our bare JID, and any stored offline.
    await xmpp.send(xml('presence'));
    const fp = bridge.account.fingerprint;
    if (json) write(JSON.stringify({ type: 'ready', jid: address.toString(), instance: bridge.account.instanceTag.toString(16).padStart(8, '0'), fingerprint: fp, restored, where: backend.where }));
    else write(`* online as ${address.toString()}; OTR device #${bridge.account.instanceTag.toString(16).padStart(8, '0')}, fingerprint ${fp}${restored ? ` (restored from ${backend.where})` : ''}; /help for commands`);
  });

  const rl = createInterface({ input: process.stdin, terminal: false });
  rl.on('line', (l) => cli.line(l));
  rl.on('close', () => void quit());
  process.on('SIGTERM', () => void quit());
  process.on('SIGINT', () => void quit());
  await xmpp.start();
}

main().catch((e: Error) => {
  process.stderr.write(`xmpp-bridge: ${e.message}\n`);
  process.exit(1);
});
