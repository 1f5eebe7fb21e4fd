// The grid worker's phone (390×844 and up): the micro-grid's figures, its map, and its
// units most urgent first (overdue, red, black, orange, yellow, uninspected, green),
// each opening its card as a sheet (the back button closes it).
import { el, t, onemap, pct, num, legend, langSwitch, getJSON, live, debounced, every } from './common.js';
import { makeMap, refreshTiles, dataLoaded } from './map.js';
import { unitList } from './leader.js';
import { queueStatus } from './visit.js';
import { cardSheet, inspects } from './sheet.js';

export async function grid(app, id) {
  document.body.className = 'grid';
  const rid = encodeURIComponent(id);
  const [region, list, stats] = await Promise.all([
    getJSON(`/api/regions/${rid}`), getJSON(`/api/regions/${rid}/units`), getJSON(`/api/stats?region=${rid}`)]);
  const mapBox = el('div', { class: 'map', id: 'map' });
  const listBox = el('div', { class: 'list-box' });
  const sheet = el('div', { class: 'sheet', id: 'card', hidden: true });
  const figs = el('div', { class: 'mini-figs' });
  const path = region.path.filter((r) => r.level === 'village' || r.level === 'grid').map((r) => r.name).join(' › ');
  app.replaceChildren(
    el('header', { class: 'top' }, el('div', { class: 'head-text' }, el('div', { class: 'sub' }, `${t().gridTitle} · ${path}`),
      el('h1', { 'data-testid': 'region-name' }, region.name)),
    inspects() ? el('a', { class: 'to-day', href: '/day', 'data-testid': 'to-day' }, t().day.heading) : null, langSwitch()),
    queueStatus(), figs, mapBox, listBox, el('div', { class: 'grid-legend' }, legend()), sheet);
  const fill = (s, l) => {
    const fig = (label, value, testid, cls = '') => el('div', { class: `mf ${cls}` },
      el('b', { 'data-testid': testid }, value), el('span', {}, label));
    figs.replaceChildren(
      fig(t().units, num(s.units.total), 'units'),
      fig(t().inspectionRate, pct(s.inspection_rate), 'inspection-rate'),
      fig(t().open, num(s.hazards.open), 'open', s.hazards.open ? 'warn' : ''),
      fig(t().overdue, num(s.hazards.overdue), 'overdue', s.hazards.overdue ? 'alarm' : ''));
    listBox.replaceChildren(unitList(l.units, (u) => openCard(u, true)));
    onemap.stats = s;
    onemap.list = l.units.map((u) => u.id);
  };
  const card = cardSheet(sheet, () => again());
  const openCard = (unit, push) => card.open(unit, push);
  fill(stats, list);
  const [w, s, e, n] = region.bbox;
  onemap.interactive = true;
  const map = await makeMap(mapBox, { bounds: [[w, s], [e, n]], params: { region: id }, padding: 24, labels: [] });
  map.on('load', () => map.setFilter('selected-line', ['==', ['get', 'id'], id]));
  map.on('click', (ev) => {
    const f = map.queryRenderedFeatures(ev.point, { layers: ['units-point'] });
    if (f.length) openCard(String(f[0].properties.id), true);
  });
  const first = new URLSearchParams(location.search).get('unit');
  if (first) await openCard(first, false);
  const again = debounced(async () => {
    refreshTiles(map, { region: id });
    const [l, st] = await Promise.all([getJSON(`/api/regions/${rid}/units`), getJSON(`/api/stats?region=${rid}`)]);
    fill(st, l);
    // The open card shows what was just written (a queued visit, once it landed).
    if (card.shown()) await card.open(card.shown(), false);
  }, 400);
  live(id, again, again);
  every(30, again);
  dataLoaded();
}
