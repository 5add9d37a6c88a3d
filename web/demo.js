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
    parties[el.id] = { el, name: el.id === 'alice' ? 'Alice' : 'Bob', conv: account.conversation(el.dataset.peer), log: $('.log', el) };
  }
  const other = (id) => (id === 'alice' ? 'bob' : 'alice');

  function render(id) {
    const p = parties[id];
    $('[data-field="state"]', p.el).textContent = p.conv.state;
    const encrypted = p.conv.state === 'ENCRYPTED_MESSAGES';
    for (const c of p.el.querySelectorAll('.compose input, .compose button')) c.disabled = false;
    $('[data-action="start"]', p.el).disabled = encrypted;
    $('[data-action="end"]', p.el).disabled = !encrypted;
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
