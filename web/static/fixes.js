// The owner's fix reports (整改反馈) on a unit's card, for inspectors: each report with
// its photos, note and standing — a waiting one closes a hazard or is returned with a
// reason — the unit's links (valid until when, revocable) and a button that sends the
// owner a new link. A link's address is shown once, when the server has made it.
import { el, t, localDate, localTime } from './common.js';
import { fixLinkForm, revokeLinkForm, acceptForm, rejectForm } from './actions.js';

// The newest link made on this page per unit: { url } (the server shows a token once).
const made = new Map();
window.addEventListener('onemap:written', (ev) => {
  const { entry, answer } = ev.detail;
  if (answer && answer.token && answer.type === 'fix_link_made') {
    made.set(String(entry.unit), `${location.origin}/fix/${answer.token}`);
    document.querySelectorAll(`[data-fix-unit="${entry.unit}"]`).forEach((box) => box.dispatchEvent(new Event('refresh')));
  }
});

function madeLink(unit) {
  const url = made.get(String(unit));
  if (!url) return null;
  const f = t().fix;
  const copy = el('button', { type: 'button', class: 'secondary', 'data-testid': 'copy-link' }, f.copy);
  copy.addEventListener('click', async () => {
    try { await navigator.clipboard.writeText(url); copy.textContent = f.copied; } catch { /* the address is shown to copy by hand */ }
  });
  return el('div', { class: 'fix-made', 'data-testid': 'fix-link-made' }, el('div', {}, f.linkReady),
    el('a', { href: url, target: '_blank', rel: 'noopener', 'data-testid': 'fix-link-url' }, url), copy);
}

function report(c, r, named, show) {
  const f = t().fix;
  const waiting = r.status === 'waiting' && c.hazards.some((h) => h.open);
  return el('li', { class: `fix-report fix-${r.status}`, 'data-testid': 'fix-report', 'data-status': r.status },
    el('div', { class: 'fix-head' }, el('b', {}, f.status[r.status] || r.status), ` · ${localTime(r.at)}`),
    r.note ? el('div', { class: 'fix-note' }, r.note) : null,
    el('div', { class: 'photos' }, ...r.photos.map((h) => el('img', { src: `/api/attachments/${h}`, alt: t().photos, loading: 'lazy' }))),
    r.reason ? el('div', { class: 'fix-reason' }, `${f.reason}: ${r.reason}`) : null,
    waiting ? el('div', { class: 'hz-actions' },
      el('button', { type: 'button', 'data-testid': 'accept-fix', onclick: () => show((done) => acceptForm(c, r, named, done)) }, f.accept),
      el('button', { type: 'button', class: 'secondary', 'data-testid': 'reject-fix', onclick: () => show((done) => rejectForm(c, r, done)) }, f.reject)) : null);
}

function link(c, l, show) {
  const f = t().fix;
  const works = !l.revoked_at && new Date(l.expires_at) > new Date();
  const state = l.revoked_at ? f.revoked : (works ? `${f.validUntil} ${localDate(l.expires_at)}` : f.expired);
  return el('li', { class: 'fix-link', 'data-testid': 'fix-link' }, `${localDate(l.made_at)} · ${l.made_by} · ${state}`,
    works ? el('button', { type: 'button', class: 'secondary', 'data-testid': 'revoke-link', onclick: () => show((done) => revokeLinkForm(c, l, done)) }, f.revoke) : null);
}

/** The box, filled from `GET /api/units/{id}/fixes`; `named(key)` names a hazard type. */
export function fixBox(c, named, show) {
  const f = t().fix;
  const body = el('div', {}, t().loading);
  const box = el('section', { class: 'fix-box', 'data-testid': 'fix-box', 'data-fix-unit': String(c.id) },
    el('h4', {}, f.heading), body);
  const fill = async () => {
    let got;
    try {
      const r = await fetch(`/api/units/${encodeURIComponent(c.id)}/fixes`, { headers: { Accept: 'application/json' } });
      if (!r.ok) throw new Error(`HTTP ${r.status}`);
      got = await r.json();
    } catch {
      body.replaceChildren(el('div', { class: 'muted' }, f.needNetwork));
      return;
    }
    body.replaceChildren(
      madeLink(c.id) || '',
      got.reports.length ? el('ul', { class: 'fix-reports' }, ...got.reports.map((r) => report(c, r, named, show)))
        : el('div', { class: 'muted' }, f.none),
      got.links.length ? el('ul', { class: 'fix-links' }, ...got.links.map((l) => link(c, l, show))) : '',
      el('button', { type: 'button', class: 'secondary', 'data-testid': 'make-fix-link', onclick: () => show((done) => fixLinkForm(c, done)) }, f.makeLink));
  };
  box.addEventListener('refresh', fill);
  fill();
  return box;
}
