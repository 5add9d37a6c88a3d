// The demo: two OTRv4 parties in one page, connected by an in-page "wire". Each party is an Account with one
// Conversation; whatever one side's Outcome says to send is handed to the other side's receive(), and every
// string is shown on the wire exactly as a chat network would carry it.
//
// The library is loaded with a dynamic import inside try/catch, so a missing bundle or a failing init() shows
// a visible error instead of a blank page (a static import failure would stop this module before any code ran).

const $ = (sel, root = document) => root.querySelector(sel);
const params = new URLSearchParams(location.search);

/** Shows why the library could not start, and disables everything. */
function showError(e) {
  const box = $('#error');
  $('#error-message').textContent = `${e?.name ?? 'Error'}${e?.code ? ` [${e.code}]` : ''}: ${e?.message ?? e}`;
  box.hidden = false;
  const badge = $('#backend');
  badge.textContent = 'unavailable';
  badge.dataset.state = 'error';
  document.body.dataset.ready = 'error';
}

/** A fingerprint in groups of eight hex digits, as users compare it. */
function groups(hex) {
  return hex.replace(/(.{8})(?!$)/g, '$1 ');
}

function line(log, cls, text) {
  const li = document.createElement('li');
  li.className = cls;
  li.textContent = text;
  log.append(li);
  log.scrollTop = log.scrollHeight;
}

async function main() {
  const otr = await import('../dist/otr.browser.js');
  const forced = params.get('backend');
  const init = await otr.init(forced ? { backend: forced } : {});
  const badge = $('#backend');
  badge.textContent = init.backend;
  badge.dataset.state = init.backend;
  $('#backend-note').textContent = init.fallbackReason
    ? `(fell back to JavaScript: ${init.fallbackReason})`
    : init.backend === 'wasm'
      ? '(AssemblyScript compiled to WebAssembly, self-tested at load)'
      : '(pure JavaScript, forced)';
  if (typeof otr.Account !== 'function') throw new Error('this build of otr4 does not export Account');

  const wire = $('#wire');
  const parties = {};
  for (const el of document.querySelectorAll('.party')) {
    // v4 only (dsaKey: null): no OTRv3 DSA key to generate, so the page is ready at once.
    const account = otr.Account.create({ accountId: el.dataset.account, dsaKey: null });
    parties[el.id] = { el, name: el.id === 'alice' ? 'Alice' : 'Bob', account, conv: account.conversation(el.dataset.peer), log: $('.log', el), smpAsked: false };
    $('[data-field="own-fp"]', el).textContent = groups(account.fingerprint);
  }
  const other = (id) => (id === 'alice' ? 'bob' : 'alice');

  function render(id) {
    const p = parties[id];
    $('[data-field="state"]', p.el).textContent = p.conv.state;
    const encrypted = p.conv.state === 'ENCRYPTED_MESSAGES';
    for (const c of p.el.querySelectorAll('.compose input, .compose button')) c.disabled = false;
    $('[data-action="start"]', p.el).disabled = encrypted;
    $('[data-action="end"]', p.el).disabled = !encrypted;
    $('[data-action="verify"]', p.el).disabled = !encrypted;
    for (const c of p.el.querySelectorAll('.smp input, .smp button')) c.disabled = !encrypted;
    $('.smp button', p.el).textContent = p.smpAsked ? 'Answer SMP' : 'Check identity (SMP)';
    // The peer's fingerprint in this session and its trust in the account's store (docs/trust.md).
    const fp = p.conv.peerFingerprint;
    $('[data-field="peer-fp"]', p.el).textContent = fp ? groups(fp) : 'no session yet';
    const trust = fp ? (p.conv.fingerprints.find((k) => k.fingerprint === fp)?.trust ?? 'unverified') : 'none';
    const dd = $('[data-field="trust"]', p.el);
    dd.dataset.trust = trust;
    dd.textContent = { none: '—', unverified: 'unverified', 'verified-smp': 'verified by SMP ✓', 'verified-hand': 'verified by hand ✓', revoked: 'revoked ✗' }[trust];
  }

  function smpStatus(p, status, text) {
    const el = $('[data-field="smp"]', p.el);
    el.dataset.status = status;
    el.textContent = text;
  }

  // Deliveries go through a queue, not recursion: a reply produced while handling a message is sent after it.
  const queue = [];
  function post(from, strings) {
    for (const s of strings) queue.push({ from, to: other(from), text: s });
  }
  function pump() {
    for (let steps = 0; queue.length > 0 && steps < 200; steps++) {
      const { from, to, text } = queue.shift();
      const li = document.createElement('li');
      li.textContent = `${parties[from].name} → ${parties[to].name}: ${text}`;
      li.title = text;
      wire.append(li);
      wire.scrollTop = wire.scrollHeight;
      apply(to, parties[to].conv.receive(text));
    }
  }

  /** Shows an Outcome on party `id`'s side and puts what it has to send on the wire. */
  function apply(id, outcome) {
    const p = parties[id];
    for (const m of outcome.messages) line(p.log, m.encrypted ? 'peer' : 'peer plaintext', `${parties[other(id)].name}${m.encrypted ? '' : ' (unencrypted)'}: ${m.text}`);
    for (const ev of outcome.events) {
      if (ev.type === 'encrypted') {
        const dd = $('[data-field="ssid"]', p.el);
        dd.textContent = ev.ssid;
        dd.classList.add('set');
        line(p.log, 'system', `Private conversation started (OTRv${ev.version}). SSID ${ev.ssid}`);
      } else if (ev.type === 'finished') line(p.log, 'system', `${parties[other(id)].name} ended the private conversation.`);
      else if (ev.type === 'ended') line(p.log, 'system', 'You ended the private conversation.');
      else if (ev.type === 'unreadable') line(p.log, 'system', `Unreadable message (${ev.code}).`);
      else if (ev.type === 'not-sent') line(p.log, 'system', `Not sent (${ev.reason}): ${ev.text}`);
      else if (ev.type === 'fingerprint-new') line(p.log, 'system', `New fingerprint for ${parties[other(id)].name} (${ev.trust}).`);
      else if (ev.type === 'fingerprint-changed') line(p.log, 'system', `Warning: ${parties[other(id)].name}'s fingerprint changed.`);
      else if (ev.type === 'verified') line(p.log, 'system', `${parties[other(id)].name}'s fingerprint is verified (SMP).`);
      else if (ev.type === 'smp') {
        if (ev.status === 'asked') {
          p.smpAsked = true;
          smpStatus(p, 'asked', `${parties[other(id)].name} asks: ${ev.question || '(no question)'} — type the secret and answer.`);
        } else if (ev.status === 'in-progress') smpStatus(p, 'in-progress', 'SMP in progress…');
        else {
          p.smpAsked = false;
          const text = { succeeded: 'SMP succeeded: same secret, same fingerprints.', failed: 'SMP failed: the secrets differ (or someone is in the middle).', aborted: 'SMP aborted.', invalid: 'SMP message invalid.' }[ev.status];
          smpStatus(p, ev.status, text);
          line(p.log, 'system', text);
        }
      }
    }
    render(id);
    post(id, outcome.toSend);
  }

  for (const [id, p] of Object.entries(parties)) {
    $('[data-action="start"]', p.el).addEventListener('click', () => {
      line(p.log, 'system', 'Starting OTR…');
      apply(id, p.conv.start());
      pump();
    });
    $('[data-action="end"]', p.el).addEventListener('click', () => {
      apply(id, p.conv.end());
      pump();
    });
    $('[data-action="verify"]', p.el).addEventListener('click', () => {
      p.conv.verifyFingerprint();
      line(p.log, 'system', `You verified ${parties[other(id)].name}'s fingerprint by hand.`);
      render(id);
    });
    $('.smp', p.el).addEventListener('submit', (ev) => {
      ev.preventDefault();
      const secret = $('[name="secret"]', ev.currentTarget).value;
      const question = $('[name="question"]', ev.currentTarget).value;
      if (!secret) return;
      const outcome = p.smpAsked ? p.conv.answerSmp(secret) : p.conv.startSmp(secret, question || undefined);
      if (!p.smpAsked) smpStatus(p, 'in-progress', 'Waiting for the answer…');
      p.smpAsked = false;
      apply(id, outcome);
      pump();
    });
    $('.compose', p.el).addEventListener('submit', (ev) => {
      ev.preventDefault();
      const input = $('input', ev.currentTarget);
      const text = input.value;
      if (!text) return;
      input.value = '';
      const outcome = p.conv.send(text);
      line(p.log, 'me', `${p.name}: ${text}`);
      apply(id, outcome);
      pump();
    });
    render(id);
  }
  document.body.dataset.ready = 'true';
}

main().catch((e) => {
  console.error(e);
  showError(e);
});
