// The grid worker's phone (390×844 and up): the micro-grid's figures, its map, and its
// units most urgent first (overdue, red, black, orange, yellow, uninspected, green),
// each opening its card as a sheet (the back button closes it).
import { el, t, onemap, pct, num, legend, langSwitch, getJSON, live, debounced, every } from './common.js';
import { makeMap, refreshTiles, dataLoaded } from './map.js';
import { loadCard, unitCard } from './card.js';
import { unitList } from './leader.js';
import { visitForm, queueStatus } from './visit.js';
import { rectifies, hazardButtons, suspensionForm } from './actions.js';

/** Whether the signed-in user records visits (inspectors and grid workers). */
const inspects = () => ['inspector', 'grid_worker'].includes(onemap.session.user.role);

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
      el('h1', { 'data-testid': 'region-name' }, region.name)), langSwitch()),
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
  // The unit whose card is shown (null while the form or nothing is), refreshed with the list.
  let shown = null;
  const openCard = async (unit, push) => {
    if (push) history.pushState({ unit }, '', `?unit=${encodeURIComponent(unit)}`);
    let c;
    try { c = await loadCard(unit); } catch (e) { console.warn('card:', e.message || e); return; }
    const record = inspects() ? el('button', { type: 'button', 'data-testid': 'record-visit', onclick: () => {
      shown = null;
      sheet.replaceChildren(visitForm(c, (queued) => {
        if (queued) again();
        openCard(unit, false).catch((e) => console.warn(e.message));
      }));
      sheet.scrollTop = 0;
    } }, t().visit.record) : null;
    const keep = shown === unit ? sheet.scrollTop : 0;
    // A form in place of the card; back to the card (refreshed) when it is done.
    const show = (make) => {
      shown = null;
      sheet.replaceChildren(make((queued) => {
        if (queued) again();
        openCard(unit, false).catch((e) => console.warn(e.message));
      }));
      sheet.scrollTop = 0;
    };
    const suspend = rectifies() ? el('button', { type: 'button', class: 'secondary', 'data-testid': c.suspended ? 'resume' : 'suspend',
      onclick: () => show((done) => suspensionForm(c, done)) }, c.suspended ? t().actions.resume : t().actions.suspend) : null;
    sheet.replaceChildren(unitCard(c, () => history.back(), [record, suspend].filter(Boolean),
      (h, typeName) => hazardButtons(c, h, typeName, show)));
    sheet.hidden = false;
    sheet.scrollTop = keep;
    shown = unit;
  };
  const closeCard = () => { shown = null; sheet.hidden = true; sheet.replaceChildren(); };
  window.addEventListener('popstate', () => {
    const u = new URLSearchParams(location.search).get('unit');
    if (u) openCard(u, false).catch((e) => console.warn(e.message)); else closeCard();
  });
  fill(stats, list);
  const [w, s, e, n] = region.bbox;
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
    if (shown) await openCard(shown, false);
  }, 400);
  live(id, again, again);
  every(30, again);
  dataLoaded();
}
