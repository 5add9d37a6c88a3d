// The check every consumer page runs against the package's PUBLIC API only (whatever a real app can import):
// init() on the backend named in the page URL (?backend=wasm|js, default auto), then known answers through
// getBackend(): FIPS 202 SHAKE-256, RFC 8439 ChaCha20, the RFC 8032 Ed448 public key derivation, and 2^3 in
// the RFC 3526 3072-bit group; then a real OTRv4 conversation between two Accounts. The result lands on window.__otrResult (read by the browser tests) and in the
// page, so a person opening it sees the same.

const hex = (b) => Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
const bytes = (h) => Uint8Array.from(h.match(/../g) ?? [], (x) => parseInt(x, 16));

function checks(b) {
  const shake = hex(b.shake256([], 32));
  const chacha = hex(
    b.chacha20(bytes('000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f'), bytes('000000000000004a00000000'), bytes('4c616469657320616e642047656e746c'), 1),
  );
  // RFC 8032 §7.4 "blank": public key = G·prune(SHAKE-256(secret, 114)[0..57]).
  const h = b.shake256([bytes('6c82a562cb808d10d632be89c8513ebf6c929f34ddfa8c9f63c9960ef6e348a3528c8a3fcc2f044e39a3fc5b94492f8f032e7549a20098f95b')], 114).slice(0, 57);
  h[0] &= 0xfc;
  h[56] = 0;
  h[55] |= 0x80;
  const ed448 = hex(b.pointMulBase(h));
  const pow = b.modPow('modp3072', bytes('02'), bytes('03'));
  return [
    ['fips202.shake256', shake === '46b9dd2b0ba88d13233b3feb743eeb243fcd52ea62b81b82b50c27646ed5762f'],
    ['rfc8439.chacha20', chacha === '6e2e359a2568f98041ba0728dd0d6981'],
    ['rfc8032.ed448.public', ed448 === '5fd7449b59b461fd2ce787ec616ad46a1da1342485a70e1f8a0ea75d80e96778edf124769b46c7061bd6783df1e50f6cd1fa1abeafe8256180'],
    ['rfc3526.modp3072', pow.length === 384 && pow[383] === 8 && pow.subarray(0, 383).every((x) => x === 0)],
  ];
}

/** Two Accounts run the DAKE over an in-memory wire and exchange one message each way. */
function conversation(otr) {
  const a = otr.Account.create({ accountId: 'alice@example.org', dsaKey: null }).conversation('bob@example.org');
  const b = otr.Account.create({ accountId: 'bob@example.org', dsaKey: null }).conversation('alice@example.org');
  const ssid = new Map();
  const got = [];
  const relay = (from, outcome) => {
    const queue = [[from, outcome]];
    for (let steps = 0; queue.length && steps < 50; steps++) {
      const [side, o] = queue.shift();
      for (const e of o.events) if (e.type === 'encrypted') ssid.set(side, e.ssid);
      for (const m of o.messages) if (m.encrypted) got.push(m.text);
      const peer = side === a ? b : a;
      for (const text of o.toSend) queue.push([peer, peer.receive(text)]);
    }
  };
  relay(a, a.start());
  relay(b, b.send('hi Alice'));
  relay(a, a.send('hi Bob'));
  return (
    a.state === 'ENCRYPTED_MESSAGES' && b.state === 'ENCRYPTED_MESSAGES' && /^[0-9a-f]{16}$/.test(ssid.get(a) ?? '') &&
    ssid.get(a) === ssid.get(b) && got.join('|') === 'hi Alice|hi Bob'
  );
}

/** Runs the checks with the given module namespace (`import * as otr from 'otr4'`) and publishes the result. */
export async function runPublicKat(otr, consumer) {
  const want = new URLSearchParams(location.search).get('backend') ?? undefined;
  let result;
  try {
    const init = await otr.init(want ? { backend: want } : {});
    const results = [...checks(otr.getBackend()), ['otrv4.conversation', conversation(otr)]];
    result = { consumer, backend: init.backend, fallbackReason: init.fallbackReason, activeBackend: otr.activeBackend(), checks: Object.fromEntries(results) };
  } catch (e) {
    result = { consumer, error: `${e?.name}: ${e?.message}`, code: e?.code };
  }
  window.__otrResult = result;
  const pre = document.createElement('pre');
  pre.id = 'result';
  pre.textContent = JSON.stringify(result, null, 2);
  document.body.append(pre);
  return result;
}
