// The command post's wall: 1920×1080, dark, read from across the room, no mouse, no
// scrolling. It refreshes itself on every event and every 30 s, and reconnects by
// itself after the server restarts.
import { el, t, lang, onemap, pct, num, big, exact, badge, legend, langSwitch, getJSON, live, debounced, every, clockTime, localTime, ORDER, home, timeZone } from './common.js';
import { makeMap, refreshTiles, dataLoaded, loadConfig, RANKED_BELOW } from './map.js';

/** Names on the wall's map: the province's counties and towns, or the town's villages. */
const WALL_LABELS = { province: ['county', 'town'], town: ['village'] };

export async function wall(app) {
  document.body.className = 'wall';
  const town = await getJSON(`/api/regions/${encodeURIComponent(home())}`);
  const clock = el('div', { class: 'clock', 'data-testid': 'clock' });
  const date = el('div', { class: 'clock-date' });
  const tick = () => {
    const now = new Date();
    clock.textContent = clockTime(now);
    date.textContent = now.toLocaleDateString(document.documentElement.lang, { timeZone: timeZone(), year: 'numeric', month: 'long', day: 'numeric', weekday: 'long' });
  };
  tick();
  setInterval(tick, 1000);
  const panel = (cls, testid) => el('section', { class: `panel ${cls}`, 'data-testid': testid });
  const figs = panel('figs-panel');
  const colours = panel('colours-panel');
  const stages = panel('stages-panel');
  const rankA = panel('rank', 'rank-inspection');
  const rankB = panel('rank', 'rank-closure');
  const chart = panel('chart');
  const targets = panel('targets', 'targets');
  targets.hidden = true;
  const ticker = panel('ticker');
  const mapBox = el('div', { class: 'map', id: 'map' });
  const updated = el('div', { class: 'updated' });
  app.replaceChildren(
    el('header', { class: 'wall-head' },
      el('div', { class: 'brand' }, el('span', { class: 'brand-mark' }, '安'), el('h1', {}, t().wallTitle)),
      el('div', { class: 'head-right' }, el('div', { class: 'clock-box' }, clock, date), langSwitch())),
    el('main', { class: 'wall-grid' },
      el('div', { class: 'col left' }, figs, colours, stages, el('section', { class: 'panel legend-panel' }, legend(t().clusterHint))),
      el('div', { class: 'map-wrap' }, mapBox, updated),
      el('div', { class: 'col right' }, el('div', { class: 'rank-row' }, rankA, rankB), chart, targets, ticker)));
  const [w, s, e, n] = town.bbox;
  const rootLevel = (await loadConfig()).level || 'town';
  const map = await makeMap(mapBox, { dark: true, bounds: [[w, s], [e, n]], interactive: false, padding: 24,
    labels: WALL_LABELS[rootLevel] || ['village'] });
  // Ranked: the level under the wall's region (counties of a province, villages of a town).
  const ranked = RANKED_BELOW[town.level] || 'village';
  const levelName = lang === 'zh' ? t()[ranked] : (t().plural[ranked] || t()[ranked]);

  let events = [];
  // Region names for events that name no unit (a group's target).
  const names = new Map();
  const refresh = async () => {
    const [stats, byInspection, byClosure, progress, log] = await Promise.all([
      getJSON('/api/stats'), ends(ranked, 'inspection_rate'), ends(ranked, 'closure_rate'), getJSON('/api/progress'),
      getJSON('/api/events?limit=200').catch(() => ({ events: [] })),
    ]);
    figs.replaceChildren(bigFigures(stats));
    colours.replaceChildren(el('h2', {}, t().fiveColours), colourCounts(stats));
    stages.replaceChildren(el('h2', {}, t().byStage), stageBars(stats), el('h2', {}, t().byKind), kindRow(stats));
    rankA.replaceChildren(rankList(t().rankInspection(levelName), byInspection));
    rankB.replaceChildren(rankList(t().rankClosure(levelName), byClosure));
    chart.replaceChildren(el('h2', {}, t().progress), progressChart(progress.days));
    for (const r of [...(byInspection.regions || [])]) names.set(r.id, r.name);
    events = log.events || [];
    ticker.replaceChildren(el('h2', {}, t().ticker), tickerList(events, names));
    updated.textContent = `${t().updated} ${clockTime(new Date())}`;
    onemap.stats = stats;
    try {
      const tg = await getJSON('/api/targets');
      for (const g of tg.groups || []) names.set(g.group, g.name);
      renderTargets(targets, tg);
      ticker.replaceChildren(el('h2', {}, t().ticker), tickerList(events, names));
    } catch (_) { targets.hidden = true; }
  };
  await refresh();
  const again = debounced(async () => { refreshTiles(map, {}); await refresh(); }, 300);
  live(null, (ev) => {
    // The ticker moves at once; figures and map follow after a short quiet.
    events = [ev, ...events.filter((x) => x.seq !== ev.seq)].slice(0, 200);
    ticker.replaceChildren(el('h2', {}, t().ticker), tickerList(events, names));
    again();
  }, again);
  every(30, again);
  dataLoaded();
}

/**
 * The top and the bottom of a ranking ("对抗晾晒": the laggards are shown too): the first
 * 7 and the last 3, two pages of `/api/rankings` (a province's ranking is not fetched whole).
 */
async function ends(level, metric) {
  const base = `/api/rankings?level=${level}&metric=${metric}`;
  const top = await getJSON(`${base}&limit=10`);
  if (top.total <= 10) return top;
  const last = await getJSON(`${base}&offset=${top.total - 3}&limit=3`);
  return { ...top, regions: [...top.regions.slice(0, 7), ...last.regions] };
}

/** A big figure: `count` values are shortened for their box, the exact one in the title. */
function figure(key, value, testid, cls = '') {
  const rate = cls.split(' ').includes('rate');
  return el('div', { class: `fig ${cls}` },
    el('div', { class: 'fig-value', 'data-testid': testid, ...(rate ? {} : exact(value)) }, rate ? pct(value) : big(value)),
    el('div', { class: 'fig-label' }, t()[key]));
}
export function bigFigures(s) {
  const h = s.hazards;
  return el('div', { class: 'figs' },
    figure('units', s.units.total, 'units'),
    figure('inspected', s.inspected, 'inspected'),
    figure('inspectionRate', s.inspection_rate, 'inspection-rate', 'rate'),
    figure('found', h.found, 'found'),
    figure('closed', h.closed, 'closed'),
    figure('closureRate', h.closure_rate, 'closure-rate', 'rate'),
    figure('overdue', h.overdue, 'overdue', h.overdue ? 'alarm' : ''),
    figure('majorOpen', h.major_open, 'major-open', h.major_open ? 'alarm' : ''));
}
export function colourCounts(s) {
  return el('div', { class: 'colour-counts' },
    ...ORDER.map((c) => el('div', { class: `cc cc-${c}` }, badge(c),
      el('span', { class: 'cc-n', 'data-testid': `colour-${c}`, ...exact(s.units.by_colour[c]) }, big(s.units.by_colour[c])))));
}
function bar(value) {
  const f = el('span', { class: 'fill' });
  f.style.width = `${Math.max(0, Math.min(100, (value || 0) * 100)).toFixed(1)}%`; // CSSOM: allowed by the CSP
  return el('span', { class: 'bar' }, f);
}
function stageBars(s) {
  return el('div', { class: 'stage-bars' }, ...['immediate', 'concentrated', 'deadline'].map((k) => {
    const st = s.hazards.by_stage[k] || { found: 0, closed: 0, closure_rate: null };
    return el('div', { class: 'stage' }, el('span', { class: 'nm' }, t().stages[k]), bar(st.closure_rate),
      el('span', { class: 'vl' }, pct(st.closure_rate)), el('span', { class: 'sub' }, `${big(st.closed)}/${big(st.found)}`));
  }));
}
function kindRow(s) {
  return el('div', { class: 'kinds' }, ...Object.keys(t().kinds).map((k) =>
    el('div', { class: 'kind' }, el('div', { class: 'kind-n', ...exact(s.units.by_kind[k] || 0) }, big(s.units.by_kind[k] || 0)), el('div', { class: 'kind-l' }, t().kinds[k]))));
}
/** Top 7 and the last 3 of a ranking (as `ends` fetched it). */
function rankList(title, ranking) {
  const all = ranking.regions || ranking.ranking || [];
  const top = all.slice(0, 7);
  const last = all.length > 10 ? all.slice(-3) : all.slice(7, 10);
  const row = (r, cls) => el('li', { class: cls },
    el('span', { class: 'rk' }, r.rank), el('span', { class: 'nm' }, r.name),
    el('span', { class: `mv ${r.rank_change > 0 ? 'up' : r.rank_change < 0 ? 'down' : ''}` },
      r.rank_change > 0 ? `▲${r.rank_change}` : r.rank_change < 0 ? `▼${-r.rank_change}` : ''),
    el('span', { class: 'vl' }, pct(r.value)));
  return el('div', {}, el('h2', {}, title),
    el('ol', { class: 'ranks' }, ...top.map((r) => row(r, '')), ...last.map((r, i) => row(r, i === 0 ? 'last first-last' : 'last'))));
}
export function progressChart(days) {
  const W = 560, H = 200, L = 60, R = 14, T = 30, B = 26;
  const ns = 'http://www.w3.org/2000/svg';
  const node = (tag, attrs, text) => {
    const e = document.createElementNS(ns, tag);
    for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
    if (text != null) e.textContent = text;
    return e;
  };
  const svg = node('svg', { viewBox: `0 0 ${W} ${H}`, class: 'progress-svg', 'data-testid': 'progress-chart' });
  if (!days.length) return svg;
  const maxF = Math.max(...days.map((d) => d.found_total)) || 1;
  const x = (i) => L + (i * (W - L - R)) / Math.max(1, days.length - 1);
  const y = (v) => H - B - (v * (H - T - B)) / maxF;
  for (const f of [0, 0.5, 1]) {
    svg.append(node('line', { x1: L, x2: W - R, y1: y(maxF * f), y2: y(maxF * f), class: 'gridline' }));
    svg.append(node('text', { x: L - 6, y: y(maxF * f) + 4, class: 'axis', 'text-anchor': 'end' }, big(Math.round(maxF * f))));
  }
  const pts = (key) => days.map((d, i) => `${x(i).toFixed(1)},${y(d[key]).toFixed(1)}`).join(' ');
  svg.append(node('polygon', { points: `${x(0)},${y(0)} ${pts('closed_total')} ${x(days.length - 1)},${y(0)}`, class: 'area-closed' }));
  svg.append(node('polyline', { points: pts('found_total'), class: 'line-found' }));
  svg.append(node('polyline', { points: pts('closed_total'), class: 'line-closed' }));
  const last = days[days.length - 1];
  svg.append(node('text', { x: L, y: H - 6, class: 'axis' }, days[0].date.slice(5)));
  svg.append(node('text', { x: W - R, y: H - 6, class: 'axis', 'text-anchor': 'end' }, last.date.slice(5)));
  svg.append(node('text', { x: L, y: 16, class: 'key-found' }, `━ ${t().found} ${big(last.found_total)}`));
  svg.append(node('text', { x: L + 220, y: 16, class: 'key-closed' }, `━ ${t().closed} ${big(last.closed_total)} · ${pct(last.closure_rate)}`));
  return svg;
}
function tickerList(all, names) {
  // An import is one line: its units' own events (logged with it, at its moment) stay
  // in their histories.
  const imports = new Set(all.filter((e) => e.type === 'units_imported').map((e) => e.at));
  const events = all.filter((e) => !(imports.has(e.at) && (e.type === 'unit_registered' || e.type === 'unit_edited')));
  events.splice(14);
  if (!events.length) return el('div', { class: 'muted empty' }, t().noEvents);
  return el('ul', { class: 'events', 'data-testid': 'ticker' }, ...events.map((ev) =>
    el('li', {}, el('span', { class: 'ev-time' }, localTime(ev.at).slice(-5)),
      ev.colour_after ? badge(ev.colour_after) : el('span', { class: 'badge c-none' }, '·'),
      el('span', { class: 'ev-what' }, t().events[ev.type] || ev.type),
      el('span', { class: 'ev-name' }, importLine(ev) || ev.unit_name || names.get(ev.region) || ev.region || ''))));
}
/** An import's line on the ticker: what it brought, not the root region's id. */
function importLine(ev) {
  if (!ev.after) return null;
  if (ev.type === 'units_imported') return t().imported(num(ev.after.new || 0), num(ev.after.updated || 0));
  if (ev.type === 'regions_imported') return t().placesImported(t()[ev.after.level] || ev.after.level, num(ev.after.new || 0), num(ev.after.updated || 0));
  if (ev.type === 'records_imported') return t().recordsImported(num(ev.after.visits || 0), num(ev.after.hazards || 0));
  return null;
}
function renderTargets(box, data) {
  const set = (data.groups || []).filter((g) => g.target != null);
  if (!set.length) { box.hidden = true; return; }
  box.hidden = false;
  box.replaceChildren(el('h2', {}, `${t().targets} (${data.week || ''})`),
    el('ul', { class: 'targets-list' }, ...set.map((g) => el('li', {},
      el('span', { class: 'nm' }, g.name), bar(g.progress), el('span', { class: 'vl' }, `${num(g.closed)}/${num(g.target)}`)))));
}
