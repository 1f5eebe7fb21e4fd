// A unit's card: kind, name, address, owner, colour, risk level, hazards (severity,
// stage, deadline, days overdue), inspections and photos. All text from the server is
// set as text. Hazard types and categories are named from the server's checklist
// (`GET /api/checklists`, loaded once by app.js), the one table a notice uses too.
import { el, t, lang, onemap, badge, getJSON, localDate, localTime } from './common.js';

/** The name of checklist entry `key` of `what` (`items` or `categories`) in the page's language. */
function named(what, key) {
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
  const row = el('tr', { class: h.open ? (h.overdue ? 'hz-overdue' : 'hz-open') : 'hz-closed', 'data-hazard': h.id },
    el('td', {}, el('div', { class: 'hz-type' }, type),
      el('div', { class: 'hz-meta' }, `${named('categories', h.category)} · ${t().stages[h.stage] || h.stage}`)),
    el('td', {}, el('span', { class: `sev sev-${h.severity}` }, t().severities[h.severity] || h.severity)),
    el('td', {}, h.deadline ? localDate(h.deadline) : '–'),
    el('td', {}, state));
  return more ? [row, el('tr', { class: 'hz-more' }, el('td', { colspan: 4 }, more))] : [row];
}

/**
 * The card, with a close button if `onClose` is given, `actions` (buttons) under its head
 * and `buttons(hazard, typeName)` (a node or null) under each hazard.
 */
export function unitCard(c, onClose, actions, buttons) {
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
  ].filter(Boolean);
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
    el('h4', {}, t().inspections),
    c.inspections.length
      ? el('ul', { class: 'visits' }, ...c.inspections.map((i) => el('li', {},
        el('b', {}, t().inspectionKinds[i.kind] || i.kind), ` ${localTime(i.at)} · ${i.inspector}`,
        i.comprehensive ? el('span', { class: 'tag' }, t().visit.comprehensiveTag) : null,
        i.signature && i.signature.startsWith('/') ? el('img', { class: 'sig', src: i.signature, alt: t().visit.signature, 'data-testid': 'signature-shown' }) : null)))
      : el('div', { class: 'muted' }, t().noInspections),
    photos.length ? el('h4', {}, t().photos) : null,
    photos.length ? el('div', { class: 'photos' }, ...photos.map((p) => el('img', { src: p, alt: t().photos, loading: 'lazy' }))) : null);
}
