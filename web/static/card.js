// A unit's whole file (一企一档): kind, name, address, owner, colour, risk level, the host
// building of a factory-in-factory, every hazard (severity, stage, deadline, days overdue,
// yellow card, closing evidence), every visit with its photos and the party's signature,
// the unit's videos and floor plans, and its history (who did what, when) on request. All text from the server is
// set as text. Hazard types and categories are named from the server's checklist
// (`GET /api/checklists`, loaded once by app.js), the one table a notice uses too.
import { el, t, lang, onemap, badge, getJSON, localDate, localTime } from './common.js';

/** Whether `u` is a link to one of this server's files. */
const local = (u) => typeof u === 'string' && u.startsWith('/');

/** The name of checklist entry `key` of `what` (`items` or `categories`) in the page's language. */
export function named(what, key) {
  const found = ((onemap.checklists || {})[what] || []).find((x) => x.key === key);
  return found ? found[lang === 'zh' ? 'zh' : 'en'] : key;
}

/** Fetches unit `id`'s card (as of `at`, a date, if given). */
export async function loadCard(id, at) {
  return getJSON(`/api/units/${encodeURIComponent(id)}${at ? `?at=${encodeURIComponent(at)}` : ''}`);
}

function hazardRow(h, buttons) {
  const type = named('items', h.hazard_type);
  const state = h.open
    ? el('span', { class: h.overdue ? 'st st-overdue' : 'st st-open' },
      h.overdue ? `${t().daysOverdue} ${h.overdue_days} ${t().days}` : t().openNow)
    : el('span', { class: 'st st-closed' }, `✓ ${t().closedAt} ${localDate(h.closed_at)}`);
  const more = buttons ? buttons(h, type) : null;
  const yellow = h.yellow_card_at ? el('div', { class: 'hz-yc' }, `${t().file.yellowCard} ${localDate(h.yellow_card_at)}`) : null;
  const evidence = !h.open && h.evidence
    ? el('div', { class: 'hz-ev', 'data-testid': 'evidence-shown' }, `${t().file.evidence}: `,
      local(h.evidence) ? el('img', { src: h.evidence, alt: t().file.evidence, loading: 'lazy' }) : h.evidence)
    : null;
  const row = el('tr', { class: h.open ? (h.overdue ? 'hz-overdue' : 'hz-open') : 'hz-closed', 'data-hazard': h.id },
    el('td', {}, el('div', { class: 'hz-type' }, type),
      el('div', { class: 'hz-meta' }, `${named('categories', h.category)} · ${t().stages[h.stage] || h.stage}`,
        h.comprehensive ? el('span', { class: 'tag' }, t().visit.comprehensiveTag) : null), yellow, evidence),
    el('td', {}, el('span', { class: `sev sev-${h.severity}` }, t().severities[h.severity] || h.severity)),
    el('td', {}, h.deadline ? localDate(h.deadline) : '–'),
    el('td', {}, state));
  return more ? [row, el('tr', { class: 'hz-more' }, el('td', { colspan: 4 }, more))] : [row];
}

/**
 * The card, with a close button if `onClose` is given, `actions` (buttons) under its head,
 * `buttons(hazard, typeName)` (a node or null) under each hazard and `after` (a node)
 * after the hazards.
 */
export function unitCard(c, onClose, actions, buttons, after) {
  const open = c.hazards.filter((h) => h.open);
  const hazards = [...c.hazards].sort((a, b) => (b.open - a.open) || (b.overdue_days - a.overdue_days));
  // Each photo once (a visit's photos are also the unit's attachments); signatures apart.
  const signatures = new Set(c.inspections.map((i) => i.signature).filter(Boolean));
  const photos = [...new Set([...c.inspections.flatMap((i) => i.photos || []),
    ...(c.attachments || []).filter((a) => a.kind === 'photo').map((a) => a.url)])]
    .filter((p) => typeof p === 'string' && p.startsWith('/') && !signatures.has(p));
  const rows = [
    [t().kind, t().kinds[c.kind] || c.kind],
    [t().address, c.address],
    [t().owner, `${c.owner_name || ''} ${c.owner_phone || ''}`.trim()],
    [t().risk, el('span', {}, el('span', { class: `risk r-${c.risk}` }), t().risks[c.risk] || c.risk)],
    c.batch ? [t().batch, t().batches[c.batch] || c.batch] : null,
    c.host ? [t().host, hostName(c.host)] : null,
  ].filter(Boolean);
  const files = (kind) => (c.attachments || []).filter((a) => a.kind === kind && local(a.url));
  const videos = files('video');
  const plans = files('floor_plan');
  return el('article', { class: 'card', 'data-testid': 'unit-card' },
    el('header', { class: 'card-head' },
      badge(c.colour),
      el('h3', { 'data-testid': 'unit-name' }, c.name),
      onClose ? el('button', { class: 'close', type: 'button', 'aria-label': t().close, title: t().close, onclick: onClose }, '×') : null),
    c.suspended ? el('div', { class: 'suspended' }, `■ ${t().suspended}`) : null,
    actions ? el('div', { class: 'card-actions' }, actions) : null,
    el('dl', {}, ...rows.flatMap(([k, v]) => [el('dt', {}, k), el('dd', {}, v)])),
    el('h4', {}, `${t().hazards} (${open.length}/${c.hazards.length})`),
    hazards.length
      ? el('table', { class: 'hz', 'data-testid': 'hazards' },
        el('thead', {}, el('tr', {}, el('th', {}, t().hazards), el('th', {}, t().severity), el('th', {}, t().deadline), el('th', {}, t().status))),
        el('tbody', {}, ...hazards.flatMap((h) => hazardRow(h, buttons))))
      : el('div', { class: 'muted' }, t().noHazards),
    after || null,
    el('h4', {}, t().inspections),
    c.inspections.length
      ? el('ul', { class: 'visits' }, ...c.inspections.map((i) => el('li', {},
        el('b', {}, t().inspectionKinds[i.kind] || i.kind), ` ${localTime(i.at)} · ${i.inspector}`,
        i.comprehensive ? el('span', { class: 'tag' }, t().visit.comprehensiveTag) : null,
        i.note ? el('div', { class: 'visit-note', 'data-testid': 'visit-note-shown' }, i.note) : null,
        i.signature && i.signature.startsWith('/') ? el('img', { class: 'sig', src: i.signature, alt: t().visit.signature, 'data-testid': 'signature-shown' }) : null)))
      : el('div', { class: 'muted' }, t().noInspections),
    photos.length ? el('h4', {}, t().photos) : null,
    photos.length ? el('div', { class: 'photos' }, ...photos.map((p) => el('img', { src: p, alt: t().photos, loading: 'lazy' }))) : null,
    videos.length ? el('h4', {}, t().file.videos) : null,
    videos.length ? el('div', { class: 'videos' }, ...videos.map((v) =>
      el('video', { src: v.url, controls: true, preload: 'metadata', playsinline: true, 'data-testid': 'video' }))) : null,
    plans.length ? el('h4', {}, t().file.plans) : null,
    plans.length ? el('ul', { class: 'plans' }, ...plans.map((f) => el('li', {},
      f.content_type.startsWith('image/') ? el('img', { src: f.url, alt: t().file.plans, loading: 'lazy' }) : null,
      el('a', { href: f.url, target: '_blank', rel: 'noopener', 'data-testid': 'plan' }, `${t().file.plan} · ${localDate(f.at)}`)))) : null,
    historyBox(c));
}

/** The host building's name (a link to its card), filled in once read; `#id` if out of reach. */
function hostName(id) {
  const a = el('a', { href: `?unit=${encodeURIComponent(id)}`, 'data-testid': 'host' }, `#${id}`);
  getJSON(`/api/units/${encodeURIComponent(id)}`).then((h) => { a.textContent = h.name; }).catch(() => {});
  return a;
}

// The units whose history the user opened (it stays open when the card is redrawn).
const historyOpen = new Set();

/** What happened to the unit, who did it and when: read when the user opens it. */
function historyBox(c) {
  const list = el('div', { class: 'history' });
  const box = el('details', { class: 'history-box', 'data-testid': 'history' }, el('summary', {}, t().file.history), list);
  box.addEventListener('toggle', async () => {
    if (box.open) historyOpen.add(c.id); else historyOpen.delete(c.id);
    if (!box.open || list.dataset.loaded) return;
    list.textContent = t().loading;
    try {
      const h = await getJSON(`/api/units/${encodeURIComponent(c.id)}/history`);
      list.dataset.loaded = '1';
      list.replaceChildren(h.events.length
        ? el('ol', { class: 'events' }, ...[...h.events].reverse().map((ev) => el('li', { 'data-type': ev.type },
          el('span', { class: 'ev-time' }, localTime(ev.at)),
          ev.colour_after ? badge(ev.colour_after) : el('span', { class: 'badge c-none' }, '·'),
          el('span', { class: 'ev-what' }, t().events[ev.type] || ev.type),
          el('span', { class: 'ev-by' }, ev.by === 'system' ? t().file.clock : ev.by))))
        : el('div', { class: 'muted' }, t().noEvents));
    } catch (e) {
      list.textContent = t().file.historyFailed;
    }
  });
  if (historyOpen.has(c.id)) box.open = true;
  return box;
}
