// The owner's page (整改反馈), opened from the link in their notice: no account, a phone
// in a shop or a factory yard. It names the unit and what must be fixed by when, takes
// photos of the fix (made at most 1600 px on the phone) and a note, and sends them in one
// request with an Idempotency-Key made when the owner taps send, so a retry after a cut
// connection cannot send it twice. It lists the reports sent and why one was returned.
import { el, t, lang, langSwitch, localDate, localTime, oneLine, fill } from './common.js';
import { shrink, MAX_BYTES } from './photo.js';

async function view(token) {
  const r = await fetch(`/api/fix/${encodeURIComponent(token)}`, { headers: { Accept: 'application/json' }, cache: 'no-store' });
  if (r.status === 404) return null;
  if (!r.ok) throw new Error(`HTTP ${r.status}`);
  return r.json();
}

function form(v, token, again) {
  const o = t().ownerPage;
  const photos = el('input', { type: 'file', accept: 'image/*', capture: 'environment', multiple: true, 'data-testid': 'owner-photos' });
  const note = el('textarea', { name: 'note', rows: 3, maxlength: 2000, 'data-testid': 'owner-note' });
  const photoError = el('div', { class: 'field-error', role: 'alert', 'data-testid': 'owner-photo-error' });
  const error = el('div', { class: 'field-error', role: 'alert', 'data-testid': 'owner-error' });
  const send = el('button', { type: 'submit', 'data-testid': 'owner-send' }, o.send);
  const f = el('form', { class: 'visit-form', novalidate: true },
    el('label', {}, fill(o.photos, { n: v.max_photos }), photos), photoError,
    el('label', {}, o.note, note), error, el('div', { class: 'actions' }, send));
  let key = null;
  f.addEventListener('input', () => { photoError.textContent = ''; error.textContent = ''; key = null; });
  f.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const files = [...photos.files];
    if (!files.length) { photoError.textContent = o.needPhoto; return; }
    if (files.length > v.max_photos) { photoError.textContent = fill(o.tooMany, { n: v.max_photos }); return; }
    const body = new FormData();
    body.append('note', oneLine(note.value));
    for (const file of files) {
      if (!file.type.startsWith('image/')) { photoError.textContent = `${file.name}: ${t().visit.notImage}`; return; }
      let b;
      try { b = await shrink(file); } catch { photoError.textContent = `${file.name}: ${t().visit.notImage}`; return; }
      if (b.size > MAX_BYTES) { photoError.textContent = `${file.name}: ${t().visit.tooBig}`; return; }
      body.append('photo', b, 'fix.jpg');
    }
    // One key per report: a retry of the same report lands once.
    key = key || `${Date.now().toString(36)}-${crypto.randomUUID()}`;
    send.disabled = true;
    send.textContent = o.sending;
    try {
      const r = await fetch(`/api/fix/${encodeURIComponent(token)}`, { method: 'POST', body, headers: { 'Idempotency-Key': key, Accept: 'application/json' } });
      const answer = await r.json().catch(() => null);
      if (r.ok) { again(o.sent); return; }
      const e = (answer && answer.error) || {};
      (e.field && e.field.startsWith('photo') ? photoError : error).textContent = e.message || `HTTP ${r.status}`;
    } catch {
      error.textContent = o.failed;
    }
    send.disabled = false;
    send.textContent = o.send;
  });
  return f;
}

/** The owner's page for link `token`. */
export async function owner(app, token) {
  const o = t().ownerPage;
  document.body.className = 'owner-page';
  document.title = o.title;
  const draw = async (message) => {
    let v;
    try { v = await view(token); } catch { app.replaceChildren(el('div', { class: 'owner' }, el('p', { class: 'field-error' }, o.failed))); return; }
    if (!v) { app.replaceChildren(el('div', { class: 'owner' }, langSwitch(), el('h1', {}, o.title), el('p', { class: 'field-error', 'data-testid': 'owner-dead' }, o.unknown))); return; }
    const dead = !v.works ? fill(o.dead, { why: v.revoked_at ? o.revoked : o.expired }) : null;
    app.replaceChildren(el('div', { class: 'owner', 'data-testid': 'owner-page' },
      langSwitch(),
      el('h1', {}, o.title),
      el('h2', { 'data-testid': 'owner-unit' }, v.unit_name),
      v.address ? el('div', { class: 'muted' }, v.address) : null,
      message ? el('p', { class: 'ok', role: 'status', 'data-testid': 'owner-sent' }, message) : null,
      el('h3', {}, o.mustFix),
      v.hazards.length
        ? el('ul', { class: 'owner-hazards', 'data-testid': 'owner-hazards' }, ...v.hazards.map((h) => el('li', {},
          el('span', { class: `sev sev-${h.severity}` }, t().severities[h.severity] || h.severity), ' ',
          h[lang === 'en' ? 'name_en' : 'name_zh'],
          h.deadline ? el('span', { class: 'muted' }, ` · ${o.due} ${localDate(h.deadline)}`) : null)))
        : el('div', { class: 'muted' }, o.none),
      dead ? el('p', { class: 'field-error', 'data-testid': 'owner-dead' }, dead)
        : [el('p', {}, o.intro), el('div', { class: 'muted' }, `${o.validUntil} ${localDate(v.expires_at)}`), form(v, token, draw)],
      v.reports.length ? el('h3', {}, o.earlier) : null,
      v.reports.length ? el('ul', { class: 'owner-reports', 'data-testid': 'owner-reports' }, ...v.reports.map((r) => el('li', { 'data-status': r.status },
        `${localTime(r.at)} · ${fill(o.photosCount, { n: r.photos })} · `, el('b', {}, t().fix.status[r.status] || r.status),
        r.reason ? el('div', { class: 'fix-reason' }, `${t().fix.reason}: ${r.reason}`) : null))) : null));
  };
  await draw(null);
}
