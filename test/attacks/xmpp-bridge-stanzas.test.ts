/**
 * Attack: what a hostile XMPP server or peer can put in a stanza the bridge (examples/xmpp-bridge) receives —
 * the sender JID and the body, the largest and the most confusing. Driven through OtrBridge.receive (what the
 * stanza handler calls) with an in-memory state backend. Nothing may throw out of receive (that would escape
 * the XMPP client's event handler), pollute objects through a JID such as `__proto__`, or break the bridge
 * (a failed save stops it for good), and the bridge must still talk to an honest peer afterwards.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { init } from '../../ts/index.js';
import { OtrBridge, type UiEvent } from '../../examples/xmpp-bridge/otr-bridge.js';
import type { StateBackend } from '../../examples/xmpp-bridge/persistence.js';
import type { BridgeState } from '../../examples/xmpp-bridge/state-file.js';

interface Rig {
  bridge: OtrBridge;
  ui: UiEvent[];
  sent: { to: string; body: string }[];
  saved: () => BridgeState | undefined;
  fatal: Error[];
}

async function rig(account: string): Promise<Rig> {
  let state: BridgeState | undefined;
  const backend: StateBackend = { where: 'memory', load: async () => state, save: async (s) => void (state = JSON.parse(JSON.stringify(s))), close: async () => {} };
  const ui: UiEvent[] = [];
  const sent: { to: string; body: string }[] = [];
  const fatal: Error[] = [];
  const { bridge } = await OtrBridge.open(account, { requireEncryption: false }, { backend, transport: (to, body) => sent.push({ to, body }), ui: (e) => ui.push(e), fatal: (e) => fatal.push(e) });
  return { bridge, ui, sent, saved: () => state, fatal };
}

test.before(async () => {
  await init();
});

const HOSTILE_FROM = ['/only-a-resource', '__proto__', '__proto__/x', 'constructor@x', 'hasOwnProperty', 'x'.repeat(1 << 20) + '@e.org', '@', 'bob@e.org/' + 'r'.repeat(1 << 16), 'BOB@E.ORG/Mixed'];
const HOSTILE_BODY = ['', '?OTR:', '?OTR|ffffffff|00000000|00000000,1,1,x,', '?OTR:' + 'A'.repeat(1 << 20) + '.', '?OTRv4?', '\u0000\uffff\ud800', 'x'.repeat(4 << 20)];

test('hostile sender JIDs and bodies: receive never throws, nothing polluted, the bridge keeps working', async () => {
  const r = await rig('alice@e.org');
  for (const from of HOSTILE_FROM)
    for (const body of HOSTILE_BODY) {
      try {
        r.bridge.receive(from, body);
      } catch (e) {
        assert.unreachable(`receive threw for from=${from.slice(0, 40)} body=${body.slice(0, 40)}: ${String(e)}`);
      }
    }
  await r.bridge.idle();
  assert.equal(r.fatal, [], 'no save failed');
  assert.is(({} as Record<string, unknown>)['00000000'], undefined, 'Object.prototype untouched');
  assert.is((Object as unknown as Record<string, unknown>)['00000000'], undefined);
  // Still talks: an honest peer's OTR session goes through.
  const bob = await rig('bob@e.org');
  const relay = async () => {
    for (let i = 0; i < 10 && (r.sent.length || bob.sent.length); i++) {
      for (const m of r.sent.splice(0)) if (m.to.startsWith('bob@e.org')) bob.bridge.receive('alice@e.org/laptop', m.body);
      for (const m of bob.sent.splice(0)) if (m.to.startsWith('alice@e.org')) r.bridge.receive('bob@e.org/phone', m.body);
      await Promise.all([r.bridge.idle(), bob.bridge.idle()]);
    }
  };
  r.sent.length = 0;
  r.bridge.start('bob@e.org');
  await r.bridge.idle();
  await relay();
  assert.equal(r.bridge.encryptedInstances('bob@e.org').length, 1, 'alice reached an encrypted session with bob');
});

test.run();
