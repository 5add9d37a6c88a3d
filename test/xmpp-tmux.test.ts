/**
 * The bridge's CLI driven as a person would: Alice's bridge runs in a terminal (a private tmux server), the
 * test types into it with send-keys and reads what the screen shows with capture-pane; Bob's bridge is driven
 * through its JSON interface. Covers starting OTR, reading the session id, chatting both ways, /status, SMP,
 * /end and /quit.
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startProsody, type Prosody } from './helpers/prosody.js';
import { BRIDGE, BridgeProc, type Line } from './xmpp-harness.js';

const TMUX = process.env.OTR_TMUX ?? 'tmux';
const TMUX_INSTALL = 'apt-get install -y --no-install-recommends tmux';

const t = suite('xmpp bridge CLI in a terminal');
let server: Prosody;
let tmp: string;
let sock: string;
let bob: BridgeProc;
let setupError: unknown;

function tmux(...args: string[]): string {
  const r = spawnSync(TMUX, ['-S', sock, ...args], { encoding: 'utf8' });
  if (r.error) throw new Error(`cannot run ${TMUX} (${r.error.message}); the terminal test needs the Debian package tmux: ${TMUX_INSTALL}`);
  if (r.status !== 0) throw new Error(`tmux ${args[0]} failed: ${r.stderr}`);
  return r.stdout;
}

const screen = (): string => tmux('capture-pane', '-p', '-J', '-t', 'alice', '-S', '-200');

/** Types a line as a person would: the text, then Enter. */
function typeLine(text: string): void {
  tmux('send-keys', '-t', 'alice', '-l', text);
  tmux('send-keys', '-t', 'alice', 'Enter');
}

async function waitScreen(re: RegExp, what: string, timeoutMs = 20_000): Promise<RegExpExecArray> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const s = screen();
    const m = re.exec(s);
    if (m) return m;
    if (Date.now() > deadline) throw new Error(`the screen never showed ${what} (${re}):\n${s}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

const isType = (type: string, extra: (l: Line) => boolean = () => true) => (l: Line) => l.type === type && extra(l);

t.before(async () => {
  try {
    tmp = mkdtempSync(join(tmpdir(), 'otr4-xmpp-tmux-'));
    sock = join(tmp, 'tmux.sock');
    tmux('-V');
    server = await startProsody();
    await Promise.all([server.addUser('alice', 'alice-pw'), server.addUser('bob', 'bob-pw')]);
    bob = new BridgeProc('bob', server, 'bob', 'bob-pw', 'desk', join(tmp, 'bob.json'));
    const cmd = [process.execPath, BRIDGE, '--jid', 'alice@localhost/terminal', '--service', server.service, '--state', join(tmp, 'alice.json')];
    tmux('-f', '/dev/null', 'new-session', '-d', '-s', 'alice', '-x', '200', '-y', '50', '-e', 'XMPP_PASSWORD=alice-pw', ...cmd);
    await Promise.all([bob.waitFor(isType('ready'), 'login'), waitScreen(/\* online as alice@localhost\/terminal/, 'the login line')]);
  } catch (e) {
    setupError = e;
  }
});

t.after(async () => {
  await bob?.quit();
  try {
    if (sock) tmux('kill-server');
  } catch {
    // already gone (the session ended with /quit)
  }
  await server?.stop();
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

t.before.each(() => {
  if (setupError) throw setupError;
});

t('a person starts OTR, reads the session id, and chats both ways', async () => {
  typeLine('/help');
  await waitScreen(/\/smp SECRET \[QUESTION\]/, 'the help text');
  typeLine('/to bob@localhost');
  await waitScreen(/\* talking to bob@localhost/, 'the chosen peer');
  typeLine('/otr');
  const enc = await bob.waitFor(isType('encrypted'), 'session');
  const m = await waitScreen(/\* private conversation with bob@localhost \(OTRv4, device #([0-9a-f]{8})\); session id ([0-9a-f]{16})/, 'the session line');
  assert.is(m[2], enc.ssid, 'the screen shows the session id both sides compare');
  assert.is(m[1], String(bob.of('ready')[0]!.instance));
  typeLine('hello Bob, typed in a terminal');
  await bob.waitFor(isType('message', (l) => l.text === 'hello Bob, typed in a terminal' && l.encrypted === true), 'the typed message');
  bob.type('/to alice@localhost');
  bob.type('hi Alice, I read you');
  await waitScreen(/<bob@localhost> hi Alice, I read you/, 'the reply');
  assert.not.match(screen(), /not encrypted/);
  typeLine('/status');
  await waitScreen(/\* bob@localhost #[0-9a-f]{8} \(current\): private, session id [0-9a-f]{16}, fingerprint [0-9A-F]{8} /, 'the status line');
});

t('SMP, a wrong command, /end and /quit as a person sees them', async () => {
  bob.type('/smp tea Our usual drink?');
  await waitScreen(/\* bob@localhost asks to verify you: "Our usual drink\?"; reply \/answer SECRET/, 'the SMP question');
  typeLine('/answer tea');
  await waitScreen(/\* verified: bob@localhost knows the same secret \(SMP succeeded\)/, 'the SMP result');
  typeLine('/frobnicate');
  await waitScreen(/! unknown command \/frobnicate/, 'the error line');
  typeLine('/end');
  await waitScreen(/\* private conversation with bob@localhost ended/, 'the end');
  await bob.waitFor(isType('finished'), 'the end of the session');
  typeLine('/quit');
  const deadline = Date.now() + 10_000;
  while (!/no server running|can't find session|error connecting/i.test(spawnSync(TMUX, ['-S', sock, 'has-session', '-t', 'alice'], { encoding: 'utf8' }).stderr)) {
    if (Date.now() > deadline) throw new Error(`the bridge did not exit on /quit:\n${screen()}`);
    await new Promise((r) => setTimeout(r, 100));
  }
});

t.run();
