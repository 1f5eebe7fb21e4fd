// The daily briefing (每日通报, /briefing?date=&region=): what the command post's morning
// meeting reads, laid out as an A4 page that prints as it shows (style.css @media print).
// The region's figures in a sentence, the villages ranked by inspection and closure rate
// with the day before's change, each group's week against its target, the overdue and
// major hazards, the hardest cases, and the leader's comment — written here by a leader
// and kept with that day's briefing. A past date shows that day; the sheet downloads as XLSX.
import { el, t, onemap, num, pct, fill, langSwitch, getJSON, localDate, localTime, timeZone } from './common.js';
import { token } from './outbox.js';

/** `n` places up (▲), down (▼) or level, as the ranking shows a change. */
function move(n) {
  if (!n) return el('span', { class: 'move level' }, '–');
  return el('span', { class: `move ${n > 0 ? 'up' : 'down'}` }, `${n > 0 ? '▲' : '▼'}${Math.abs(n)}`);
}

/** Percentage points from `before` to `now`, signed. */
const points = (now, before) => {
  const d = (now - before) * 100;
  return `${d >= 0 ? '+' : '−'}${Math.abs(d).toFixed(1)}`;
};

/** A progress bar (the page's policy allows no style attribute: the width is set as a property). */
function bar(progress) {
  const fillEl = el('span', { class: `b-fill${progress >= 1 ? ' met' : ''}` });
  fillEl.style.width = `${Math.min(100, (progress || 0) * 100)}%`;
  return el('span', { class: 'b-bar' }, fillEl, el('span', { class: 'b-pct' }, progress == null ? '–' : pct(progress)));
}

function table(cls, head, rows) {
  return el('table', { class: `b-table ${cls}` },
    el('thead', {}, el('tr', {}, ...head.map((h) => el('th', {}, h)))),
    el('tbody', {}, ...rows.map((r) => el('tr', {}, ...r.map((c) => el('td', {}, c))))));
}

/** How many hazards a list shows on the sheet (the rest are in the workbook). */
const SHOWN = 20;

function hazardTable(testid, list) {
  const b = t().briefing;
  if (!list.items.length) return el('p', { class: 'b-none', 'data-testid': testid }, b.none);
  const rows = list.items.slice(0, SHOWN).map((h) => [h.unit_name || `#${h.unit}`, h.village, h.hazard_type,
    h.severity === 'major' ? b.major : b.general, localDate(h.found_at),
    h.deadline ? localDate(h.deadline) : '–', h.yellow_card_at ? b.yes : '', String(h.days_open),
    h.days_overdue ? String(h.days_overdue) : '']);
  const more = list.total > rows.length ? el('p', { class: 'b-more' }, fill(b.more, { n: num(list.total - rows.length) })) : null;
  return el('div', { 'data-testid': testid }, table('hazards', b.hazardHead, rows), more);
}

/** When the figures are of: the day's end as `date 24:00`, else the moment. */
function asOf(br) {
  const end = new Date(`${br.date}T00:00:00${br.time_zone}`).getTime() + 86400000;
  return new Date(br.at).getTime() === end ? `${br.date} 24:00` : localTime(br.at);
}

function summary(br) {
  const b = t().briefing;
  const s = br.totals;
  return el('p', { class: 'b-summary', 'data-testid': 'briefing-summary' }, fill(b.summary, {
    at: asOf(br), region: br.region.name, units: num(s.units), inspected: num(s.inspected),
    inspectionRate: pct(s.inspection_rate), inspectionChange: points(s.inspection_rate, s.previous_inspection_rate),
    found: num(s.found), closed: num(s.closed), closureRate: pct(s.closure_rate),
    closureChange: points(s.closure_rate, s.previous_closure_rate), foundToday: num(s.found_today),
    closedToday: num(s.closed_today), overdue: num(s.overdue), major: num(s.major_open),
  }));
}

/** POSTs `body` as the signed-in user (writes take the bearer token, not the cookie). */
async function post(url, body) {
  const r = await fetch(url, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', 'Idempotency-Key': `${Date.now().toString(36)}-${Math.random().toString(36).slice(2)}`, Authorization: `Bearer ${token() || ''}` },
    body: JSON.stringify(body),
  });
  const answer = await r.json().catch(() => ({}));
  return { problem: r.ok ? null : (answer.error && answer.error.message) || `${r.status}`, answer };
}

function commentBox(br, region, date, reload) {
  const b = t().briefing;
  const c = br.comment;
  const shown = el('div', { class: 'b-comment-text', 'data-testid': 'comment-text' },
    c ? c.text : b.noComment, c ? el('div', { class: 'b-signed' }, `${c.by} · ${localTime(c.at)}`) : null);
  if (onemap.session.user.role !== 'leader') return el('section', { class: 'b-comment' }, el('h2', {}, b.comment), shown);
  const text = el('textarea', { rows: 4, maxlength: 2000, 'data-testid': 'comment-input', 'aria-label': b.comment }, c ? c.text : '');
  const error = el('div', { class: 'field-error', role: 'alert' });
  const save = el('button', { type: 'submit', 'data-testid': 'comment-save' }, b.save);
  const form = el('form', { class: 'b-comment-form no-print' }, text, error, el('div', { class: 'actions' }, save));
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    save.disabled = true;
    error.textContent = '';
    try {
      const r = await post('/api/briefing/comment', { region, date, text: text.value });
      if (r.problem) error.textContent = r.problem;
      else {
        await reload();
        return;
      }
    } catch (_) {
      error.textContent = b.offline;
    }
    save.disabled = false;
  });
  return el('section', { class: 'b-comment' }, el('h2', {}, b.comment), shown, form);
}

/** Sends the briefing to each group's channel (once per group and day), and says what happened. */
function sendButton(region, date) {
  const b = t().briefing;
  const said = el('span', { class: 'b-sent', role: 'status', 'data-testid': 'briefing-sent' });
  const go = el('button', { type: 'button', 'data-testid': 'briefing-send', onclick: async () => {
    go.disabled = true;
    try {
      const r = await post('/api/briefing/send', { region, date });
      const rec = r.answer.record || {};
      said.textContent = r.problem || fill(b.sent, { queued: (rec.queued || []).length, already: (rec.already || []).length, none: (rec.without_channel || []).length });
    } catch (_) {
      said.textContent = b.offline;
    }
    go.disabled = false;
  } }, b.send);
  return el('span', { class: 'b-send' }, go, said);
}

export async function briefing(app) {
  document.body.className = 'briefing-page';
  const b = t().briefing;
  const q = new URLSearchParams(location.search);
  const today = new Intl.DateTimeFormat('en-CA', { timeZone: timeZone() }).format(new Date());
  const date = q.get('date') || today;
  const region = q.get('region') || onemap.session.home.id;
  const query = `date=${encodeURIComponent(date)}&region=${encodeURIComponent(region)}`;
  const br = await getJSON(`/api/briefing?${query}`);
  const reload = async () => briefing(app);
  const pick = el('input', { type: 'date', value: date, max: today, 'data-testid': 'briefing-date', 'aria-label': b.date });
  pick.addEventListener('change', () => {
    if (!pick.value) return;
    history.replaceState(null, '', `/briefing?date=${pick.value}&region=${encodeURIComponent(region)}`);
    briefing(app);
  });
  const tools = el('div', { class: 'b-tools no-print' },
    el('a', { href: `/?region=${encodeURIComponent(region)}`, class: 'b-back' }, b.back), pick,
    el('button', { type: 'button', 'data-testid': 'print', onclick: () => window.print() }, b.print),
    el('a', { class: 'button', href: `/api/briefing?${query}&format=xlsx`, 'data-testid': 'briefing-xlsx' }, b.xlsx),
    onemap.session.user.role === 'leader' ? sendButton(br.region.id, br.date) : null,
    langSwitch());
  const villages = br.villages.map((v) => [String(v.inspection_rank), v.name, num(v.units), num(v.inspected),
    pct(v.inspection_rate), move(v.inspection_rank_change), num(v.found), num(v.closed), pct(v.closure_rate),
    String(v.closure_rank), move(v.closure_rank_change), num(v.overdue)]);
  const groups = br.groups.map((g) => [g.name, g.target == null ? '–' : num(g.target), num(g.closed),
    bar(g.progress)]);
  const most = br.most_open.map((u) => [u.unit_name || `#${u.unit}`, u.village, String(u.open), String(u.overdue), String(u.oldest_days)]);
  const page = el('article', { class: 'sheet-a4', 'data-testid': 'briefing' },
    el('header', { class: 'b-head' },
      el('h1', { 'data-testid': 'briefing-title' }, fill(b.title, { region: br.region.name })),
      el('div', { class: 'b-sub' }, `${br.date} · ${fill(b.asOf, { at: asOf(br) })} · ${br.week}`)),
    summary(br),
    el('section', {}, el('h2', {}, b.villages), br.villages.length
      ? el('div', { 'data-testid': 'briefing-villages' }, table('villages', b.villageHead, villages))
      : el('p', { class: 'b-none' }, b.none)),
    el('section', {}, el('h2', {}, fill(b.groups, { week: br.week })), br.groups.length
      ? el('div', { 'data-testid': 'briefing-groups' }, table('groups', b.groupHead, groups))
      : el('p', { class: 'b-none' }, b.none)),
    el('section', {}, el('h2', {}, `${b.overdue} (${num(br.overdue.total)})`), hazardTable('briefing-overdue', br.overdue)),
    el('section', {}, el('h2', {}, `${b.majorOpen} (${num(br.major.total)})`), hazardTable('briefing-major', br.major)),
    el('section', {}, el('h2', {}, b.hardest),
      el('h3', {}, b.mostOpen), most.length ? table('units', b.unitHead, most) : el('p', { class: 'b-none' }, b.none),
      el('h3', {}, b.oldest), hazardTable('briefing-oldest', { total: br.oldest_open.length, items: br.oldest_open })),
    commentBox(br, br.region.id, br.date, reload));
  document.title = `${fill(b.title, { region: br.region.name })} ${br.date}`;
  app.replaceChildren(tools, page);
  onemap.ready = true;
}
