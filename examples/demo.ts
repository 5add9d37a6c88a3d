/**
 * `npm start`: a real OTRv4 conversation between Alice and Bob in one process. Everything that would cross
 * the network is printed; messages are delivered in and out of order; SMP checks identities; the session ends.
 * Flags: --js forces the pure-JS backend; --quiet prints only the summary; --full prints every wire string
 * whole (for the forging toolkit: docs/deniability.md).
 */
import { init, Account, type Outcome, type OtrEvent } from '../ts/index.js';

const args = process.argv.slice(2);
const quiet = args.includes('--quiet');
const t0 = performance.now();
const { backend, fallbackReason } = await init({ backend: args.includes('--js') ? 'js' : 'auto' });
const log = (...s: unknown[]) => {
  if (!quiet) console.log(...s);
};

console.log(`otr4 demo — crypto backend: ${backend}${fallbackReason ? ` (fallback: ${fallbackReason})` : ''}`);
const alice = Account.create({ accountId: 'alice@example.org', dsaKey: null });
const bob = Account.create({ accountId: 'bob@example.org', dsaKey: null });
const a = alice.conversation('bob@example.org');
const b = bob.conversation('alice@example.org');
console.log(`Alice: instance 0x${alice.instanceTag.toString(16)}, fingerprint ${alice.fingerprint.slice(0, 32)}…`);
console.log(`Bob:   instance 0x${bob.instanceTag.toString(16)}, fingerprint ${bob.fingerprint.slice(0, 32)}…\n`);

const full = args.includes('--full');
const short = (s: string) => (full ? s : s.length > 96 ? `${s.slice(0, 60)}…${s.slice(-20)} (${s.length} chars)` : JSON.stringify(s));
const describe = (e: OtrEvent): string => {
  switch (e.type) {
    case 'encrypted':
      return `encrypted (v${e.version}) ssid=${e.ssid} peer=${e.peerFingerprint.slice(0, 16)}…`;
    case 'state':
      return `state ${e.from} → ${e.to}`;
    case 'smp':
      return `smp ${e.status}${e.question ? ` “${e.question}”` : ''}`;
    case 'extra-key':
      return `extra key (${e.direction}) ${Buffer.from(e.key).toString('hex').slice(0, 16)}…`;
    default:
      return e.type + ('reason' in e ? ` (${(e as { reason: string }).reason})` : '');
  }
};

function show(who: string, out: Outcome): Outcome {
  for (const m of out.messages) log(`   ${who} reads: “${m.text}”${m.encrypted ? ' [encrypted]' : ' [PLAINTEXT]'}`);
  for (const e of out.events) log(`   ${who} event: ${describe(e)}`);
  return out;
}

/** Sends everything in `out` from one side to the other and back until quiet. */
function deliver(from: 'Alice' | 'Bob', out: Outcome): void {
  let pending: { to: 'Alice' | 'Bob'; text: string }[] = out.toSend.map((text) => ({ to: from === 'Alice' ? 'Bob' : 'Alice', text }));
  while (pending.length) {
    const next: typeof pending = [];
    for (const m of pending) {
      log(` ${m.to === 'Bob' ? 'Alice → Bob  ' : 'Bob   → Alice'} ${short(m.text)}`);
      const r = show(m.to, (m.to === 'Bob' ? b : a).receive(m.text));
      for (const t of r.toSend) next.push({ to: m.to === 'Bob' ? 'Alice' : 'Bob', text: t });
    }
    pending = next;
  }
}

log('1. Alice asks for OTR; the interactive DAKE runs (Identity, Auth-R, Auth-I):');
const dakeStart = performance.now();
deliver('Alice', a.start());
const dakeMs = performance.now() - dakeStart;
console.log(`   DAKE done in ${dakeMs.toFixed(1)} ms: Alice ${a.state} ssid=${a.ssid}, Bob ${b.state} ssid=${b.ssid}`);
if (a.ssid !== b.ssid || a.state !== 'ENCRYPTED_MESSAGES') throw new Error('DAKE failed');

log('\n2. Messages both ways (each change of sender is a DH ratchet; every third a 3072-bit DH brace-key step):');
deliver('Alice', a.send('Hi Bob — this is off the record.'));
deliver('Bob', b.send('Hi Alice! Nobody else can read this.'));
deliver('Alice', a.send('And afterwards neither of us can prove what was said.'));

log('\n3. Out of order: Bob sends three messages; the network delivers them 3, 1, 2:');
const m = [1, 2, 3].map((i) => b.send(`out-of-order message ${i}`).toSend[0]!);
for (const i of [2, 0, 1]) {
  log(` Bob   → Alice ${short(m[i]!)}`);
  show('Alice', a.receive(m[i]!));
}
log(' …and an attacker replays message 1:');
show('Alice', a.receive(m[0]!));

log('\n4. SMP: Alice checks it is really Bob by a secret only they share:');
deliver('Alice', a.startSmp('the name of our first cat', 'Our first cat?'));
deliver('Bob', b.answerSmp('the name of our first cat'));

log('\n5. An extra symmetric key for a file transfer, derived on both sides:');
deliver('Alice', a.send('sending you the file', { extraKey: { context: new Uint8Array([0, 0, 0, 1]) } }));

log('\n6. Throughput: 200 messages Alice → Bob, then 200 alternating:');
let t = performance.now();
for (let i = 0; i < 200; i++) b.receive(a.send(`bulk ${i}`).toSend[0]!);
const oneWay = (performance.now() - t) / 200;
t = performance.now();
for (let i = 0; i < 200; i++) {
  const [s, r] = i % 2 ? [b, a] : [a, b];
  r.receive(s.send(`ping ${i}`).toSend[0]!);
}
const pingPong = (performance.now() - t) / 200;
console.log(`   ${oneWay.toFixed(3)} ms per message one way, ${pingPong.toFixed(2)} ms per message with a DH ratchet every message`);

log('\n7. Alice ends the conversation:');
deliver('Alice', a.end());
console.log(`   Alice ${a.state}, Bob ${b.state}`);

const saved = bob.serialize();
console.log(`\nBob's persisted account: ${saved.length} bytes. Total time ${(performance.now() - t0).toFixed(0)} ms.`);
