// The leadership view: click through town → area → group → village → grid →
// micro-grid → unit. The URL holds the whole selection (region, unit, date, filters,
// map mode), so breadcrumbs, links and the browser's back button all work.
import { el, t, onemap, pct, num, big, exact, badge, legend, langSwitch, getJSON, live, debounced, every, ORDER, home } from './common.js';
import { makeMap, refreshTiles, dataLoaded, choroplethExpr, RAMPS, LEVELS, RANKED_BELOW, setLabels, loadConfig } from './map.js';
import { bigFigures, colourCounts } from './wall.js';
import { loadCard, unitCard } from './card.js';
import { inspects } from './sheet.js';

const depth = (level) => LEVELS.indexOf(level);
/** Names drawn on the whole map: the two levels with polygons under the root. */
const BASE_LABELS = { province: ['county', 'town'], town: ['village', 'grid'] };
const METRICS = { inspection_rate: 'byInspection', closure_rate: 'byClosure', overdue: 'byOverdue' };

/** The selection, from the URL. */
function readURL() {
  const q = new URLSearchParams(location.search);
  const list = (k) => new Set((q.get(k) || '').split(',').filter(Boolean));
  return {
    region: q.get('region') || home(), unit: q.get('unit'), at: q.get('at'),
    kinds: list('kind'), colours: list('colour'),
    choropleth: METRICS[q.get('map')] ? q.get('map') : 'none', hexes: q.get('hex') === '1',
  };
}
function writeURL(s) {
  const q = new URLSearchParams();
  if (s.region !== home()) q.set('region', s.region);
  if (s.unit) q.set('unit', s.unit);
  if (s.at) q.set('at', s.at);
  if (s.kinds.size) q.set('kind', [...s.kinds].join(','));
  if (s.colours.size) q.set('colour', [...s.colours].join(','));
  if (s.choropleth !== 'none') q.set('map', s.choropleth);
  if (s.hexes) q.set('hex', '1');
  const qs = q.toString();
  return `/${qs ? `?${qs}` : ''}`;
}

export async function leader(app) {
  document.body.className = 'leader';
  let state = readURL();
  const [progress, town] = await Promise.all([getJSON('/api/progress'), getJSON(`/api/regions/${encodeURIComponent(home())}`)]);
  const days = progress.days.map((d) => d.date);
  const side = el('aside', { class: 'side' });
  const mapBox = el('div', { class: 'map', id: 'map' });
  const cardBox = el('div', { class: 'card-float', id: 'card', hidden: true });
  const rampBox = el('div', { class: 'ramp', hidden: true });
  const dateFlag = el('div', { class: 'date-flag', hidden: true });
  app.replaceChildren(
    el('header', { class: 'top' }, el('div', { class: 'brand' }, el('span', { class: 'brand-mark' }, '安'), el('h1', {}, t().title)),
      el('div', { class: 'head-right' }, dateFlag, inspects() ? el('a', { class: 'to-day', href: '/day', 'data-testid': 'to-day' }, t().day.heading) : null,
        el('a', { class: 'to-day', href: '/briefing', 'data-testid': 'to-briefing' }, t().briefing.link), langSwitch())),
    el('main', { class: 'leader-grid' }, el('div', { class: 'map-wrap' }, mapBox, cardBox, rampBox), side));

  const tileParams = () => {
    const p = {};
    if (state.at) p.at = state.at;
    if (state.kinds.size) p.kind = [...state.kinds].join(',');
    if (state.colours.size) p.colour = [...state.colours].join(',');
    return p;
  };
  const [w, s, e, n] = town.bbox;
  const rootLevel = (await loadConfig()).level || 'town';
  const baseLabels = BASE_LABELS[rootLevel] || ['village', 'grid'];
  // A province's villages and grids are named for the town in view only (23,040
  // villages would be megabytes of names): fetched when the selection enters a town.
  const labelCache = new Map();
  const fetchLabels = (levels, within) => Promise.all(levels.map((l) => {
    const key = `${l}@${within || ''}`;
    if (!labelCache.has(key)) labelCache.set(key, getJSON(`/api/labels?level=${l}${within ? `&region=${encodeURIComponent(within)}` : ''}`));
    return labelCache.get(key);
  }));
  const named = [...new Set([...baseLabels, 'village', 'grid'])];
  const map = await makeMap(mapBox, { bounds: [[w, s], [e, n]], params: tileParams(), labels: named,
    labelSets: fetchLabels(baseLabels), padding: 30 });
  let labelTown = null;
  const updateLabels = async (region) => {
    if (rootLevel !== 'province') return;
    const here = [...(region.path || []), { id: region.id, level: region.level }];
    const townId = (here.find((r) => r.level === 'town') || {}).id || null;
    if (townId === labelTown) return;
    labelTown = townId;
    const sets = await fetchLabels(baseLabels);
    if (townId) sets.push(...await fetchLabels(['village', 'grid'], townId));
    if (labelTown === townId) setLabels(map, sets);
  };
  const fit = (r) => {
    if (r && r.bbox) map.fitBounds([[r.bbox[0], r.bbox[1]], [r.bbox[2], r.bbox[3]]], { padding: 50, duration: 500, maxZoom: 17 });
  };
  const applyLayers = () => {
    const m = state.choropleth === 'none' ? null : state.choropleth;
    // The choropleth paints the level ranked under the selection (counties of a
    // province, villages of a town); the other levels' fills stay clear.
    const painted = RANKED_BELOW[(onemap.region && onemap.region.level) || rootLevel];
    for (const l of LEVELS) {
      if (!map.getLayer(`fill-${l}`)) continue;
      const on = m && l === painted;
      map.setPaintProperty(`fill-${l}`, 'fill-color', on ? choroplethExpr(m) : '#000000');
      map.setPaintProperty(`fill-${l}`, 'fill-opacity', on ? 0.65 : 0);
    }
    map.setLayoutProperty('hexes', 'visibility', state.hexes ? 'visible' : 'none');
    map.setPaintProperty('hexes', 'fill-color', choroplethExpr(m || 'closure_rate'));
    map.setFilter('selected-line', ['==', ['get', 'id'], state.region]);
    const shown = m || (state.hexes ? 'closure_rate' : null);
    rampBox.hidden = !shown;
    if (shown) rampBox.replaceChildren(ramp(shown));
    dateFlag.hidden = !state.at;
    // On a phone the date alone: the word would push the region's name out of the bar.
    dateFlag.replaceChildren(...(state.at ? [el('span', { class: 'as-of' }, `${t().asOf} `), state.at] : []));
  };

  /** Changes the selection: `push` adds a history entry (region or unit changed). */
  const go = async (changes, { push = true, fitTo = false } = {}) => {
    const tilesBefore = JSON.stringify(tileParams());
    state = { ...state, ...changes };
    const url = writeURL(state);
    if (push) history.pushState(null, '', url); else history.replaceState(null, '', url);
    if (JSON.stringify(tileParams()) !== tilesBefore) refreshTiles(map, tileParams());
    applyLayers();
    try {
      await render();
      if (fitTo) fit(onemap.region);
    } catch (e) {
      // The banner says the server is unreachable; the next event or refresh redraws.
      console.warn('render failed:', e.message || e);
    }
  };
  const showCard = async () => {
    // Clusters have no id: only a unit's own point is ringed.
    map.setFilter('selected-unit', ['all', ['has', 'id'], ['==', ['to-string', ['get', 'id']], state.unit || '']]);
    if (!state.unit) { cardBox.hidden = true; cardBox.replaceChildren(); return; }
    const c = await loadCard(state.unit, state.at);
    cardBox.replaceChildren(unitCard(c, () => go({ unit: null })));
    cardBox.hidden = false;
    // Bring the unit into view (left of the card) when it is off the map or too small.
    if (Array.isArray(c.location) && (map.getZoom() < 15 || !map.getBounds().contains(c.location))) {
      map.easeTo({ center: c.location, zoom: Math.max(map.getZoom(), 16), offset: [-200, 40], duration: 500 });
    }
  };
  const render = async () => {
    const q = new URLSearchParams(tileParams());
    const regionQ = q.toString() ? `?${q}` : '';
    if (state.region !== 'town') q.set('region', state.region);
    const [region, stats] = await Promise.all([
      getJSON(`/api/regions/${encodeURIComponent(state.region)}${regionQ}`), getJSON(`/api/stats?${q}`)]);
    onemap.region = region;
    onemap.stats = stats;
    applyLayers();
    updateLabels(region).catch((e) => console.warn('labels:', e.message || e));
    let units = null;
    if (region.level === 'micro_grid') {
      units = (await getJSON(`/api/regions/${encodeURIComponent(region.id)}/units${state.at ? `?at=${state.at}` : ''}`)).units;
    }
    side.replaceChildren(
      breadcrumbs(region, (id) => go({ region: id, unit: null }, { fitTo: true })),
      el('div', { class: 'title-row' }, el('span', { class: 'level' }, t()[region.level]), el('h2', { 'data-testid': 'region-name' }, region.name)),
      bigFigures(stats), colourCounts(stats),
      controls(state, days, go),
      units ? unitList(units, (id) => go({ unit: String(id) })) : childrenTable(region, state.choropleth, (c) => go({ region: c.id, unit: null }, { fitTo: true })),
      legend(t().clusterHint));
    await showCard();
  };

  map.on('click', (ev) => {
    const hit = (layers) => map.queryRenderedFeatures(ev.point, { layers });
    const u = hit(['units-point']);
    if (u.length) { go({ unit: String(u[0].properties.id) }); return; }
    if (hit(['units-cluster']).length) { map.easeTo({ center: ev.lngLat, zoom: map.getZoom() + 2 }); return; }
    // What the click is in, at each level drawn there.
    const at = {};
    for (const f of hit(LEVELS.map((l) => `fill-${l}`).filter((l) => map.getLayer(l)))) at[f.properties.level] = f.properties.id;
    const cur = onemap.region;
    const next = RANKED_BELOW[cur.level];
    // Inside the selection (or the root, or an area or group, which have no polygon of
    // their own): one level down. Elsewhere: the neighbour at the same level, else the
    // finest region the click is in.
    const inside = at[cur.level] === cur.id || !cur.path.length || !at[cur.level] && ['area', 'group'].includes(cur.level);
    let target = null;
    if (inside) target = next ? at[next] : null;
    else if (at[cur.level]) target = at[cur.level];
    else target = LEVELS.filter((l) => at[l] && depth(l) < depth(cur.level)).map((l) => at[l]).pop() || null;
    if (target && target !== cur.id) go({ region: target, unit: null }, { fitTo: true });
  });
  for (const l of ['units-point', 'units-cluster', ...LEVELS.map((x) => `fill-${x}`).filter((x) => map.getLayer(x))]) {
    map.on('mouseenter', l, () => { map.getCanvas().style.cursor = 'pointer'; });
    map.on('mouseleave', l, () => { map.getCanvas().style.cursor = ''; });
  }
  window.addEventListener('popstate', () => {
    const before = JSON.stringify(tileParams());
    const region = state.region;
    state = readURL();
    if (JSON.stringify(tileParams()) !== before) refreshTiles(map, tileParams());
    applyLayers();
    render().then(() => { if (state.region !== region) fit(onemap.region); }).catch((e) => console.warn(e.message));
  });
  await new Promise((r) => (map.isStyleLoaded() ? r() : map.once('load', r)));
  applyLayers();
  await render();
  if (state.region !== home() && !state.unit) fit(onemap.region);
  const again = debounced(async () => { refreshTiles(map, tileParams()); await render(); }, 500);
  live(null, () => { if (!state.at) again(); }, again);
  every(30, () => { if (!state.at) again(); });
  dataLoaded();
}

function breadcrumbs(region, go) {
  const items = [...region.path, { id: region.id, level: region.level, name: region.name }];
  return el('nav', { class: 'crumbs', 'data-testid': 'breadcrumbs' }, ...items.map((r, i) => {
    const last = i === items.length - 1;
    const name = r.name;
    const target = i === 0 ? 'town' : r.id;
    return el('span', { class: 'crumb' },
      last ? el('b', {}, name) : el('a', { href: `/?region=${encodeURIComponent(target)}`, onclick: (e) => { e.preventDefault(); go(target); } }, name),
      last ? null : el('span', { class: 'sep' }, '›'));
  }));
}
function ramp(metric) {
  const stops = RAMPS[metric];
  const sw = stops.map(([, c]) => { const s = el('span', { class: 'sw' }); s.style.background = c; return s; });
  const isRate = metric !== 'overdue';
  return el('div', {}, el('div', { class: 'ramp-title' }, t()[METRICS[metric]]),
    el('div', { class: 'ramp-row' }, el('span', {}, isRate ? `${t().low} ≤${pct(stops[0][0])}` : `${t().few} 0`), ...sw,
      el('span', {}, isRate ? `${t().high} ${pct(1)}` : `${t().many} ≥${stops[stops.length - 1][0]}`)));
}
function controls(state, days, go) {
  const sel = el('select', { 'data-testid': 'choropleth', onchange: (e) => go({ choropleth: e.target.value }, { push: false }) },
    ...[['none', t().none], ...Object.entries(METRICS).map(([k, v]) => [k, t()[v]])].map(([v, l]) => el('option', { value: v, selected: v === state.choropleth }, l)));
  const hex = el('input', { type: 'checkbox', 'data-testid': 'hexes', checked: state.hexes, onchange: (e) => go({ hexes: e.target.checked }, { push: false }) });
  const check = (key, value, label, extra) => el('label', { class: 'chk' },
    el('input', { type: 'checkbox', checked: state[key].has(value), onchange: (e) => {
      const set = new Set(state[key]);
      if (e.target.checked) set.add(value); else set.delete(value);
      go({ [key]: set }, { push: false });
    } }), extra, label);
  const slider = el('input', { type: 'range', min: '0', max: String(days.length), step: '1', 'data-testid': 'date-slider' });
  slider.value = state.at && days.includes(state.at) ? String(days.indexOf(state.at)) : String(days.length);
  const shown = el('span', { class: 'date', 'data-testid': 'date' }, state.at || t().today);
  const pick = () => { const i = Number(slider.value); return i >= days.length ? null : days[i]; };
  slider.addEventListener('input', () => { shown.textContent = pick() || t().today; });
  slider.addEventListener('change', () => go({ at: pick(), unit: state.unit }, { push: false }));
  return el('div', { class: 'controls' },
    el('div', { class: 'row' }, el('span', { class: 'lbl' }, t().choropleth), sel, el('label', { class: 'chk' }, hex, t().hexes)),
    el('div', { class: 'row' }, el('span', { class: 'lbl' }, t().kindFilter), ...Object.keys(t().kinds).map((k) => check('kinds', k, t().kinds[k]))),
    el('div', { class: 'row' }, el('span', { class: 'lbl' }, t().colourFilter),
      ...ORDER.map((c) => check('colours', c, t().colourShort[c], el('span', { class: `dot small c-${c}` }, t().marks[c])))),
    el('div', { class: 'row' }, el('span', { class: 'lbl' }, t().date), slider, shown));
}
function childrenTable(region, choropleth, go) {
  const kids = region.children || [];
  if (!kids.length) return null;
  const metric = choropleth === 'none' ? 'inspection_rate' : choropleth;
  // Best first; for the overdue count, fewest first.
  const sign = metric === 'overdue' ? 1 : -1;
  const sorted = [...kids].sort((a, b) => sign * (a.figures[metric] - b.figures[metric]) || (b.figures.overdue - a.figures.overdue));
  return el('div', { class: 'children' },
    el('h3', {}, `${t().children} · ${t()[kids[0].level] || ''} (${kids.length}) · ${t()[METRICS[metric]]}`),
    el('table', { 'data-testid': 'children' },
      el('thead', {}, el('tr', {}, el('th', {}, '#'), el('th', {}, t().name), el('th', { class: 'n' }, t().units),
        el('th', { class: 'n' }, t().inspectionRate), el('th', { class: 'n' }, t().closureRate), el('th', { class: 'n' }, t().overdue))),
      el('tbody', {}, ...sorted.map((c, i) => el('tr', { class: 'child', 'data-id': c.id, onclick: () => go(c) },
        el('td', { class: 'rk' }, i + 1), el('td', {}, c.name), el('td', { class: 'n', ...exact(c.figures.units) }, big(c.figures.units)),
        el('td', { class: 'n' }, pct(c.figures.inspection_rate)), el('td', { class: 'n' }, pct(c.figures.closure_rate)),
        el('td', { class: `n ${c.figures.overdue ? 'warn' : ''}` }, num(c.figures.overdue)))))));
}
/** A micro-grid's units, most urgent first (shared with the grid worker's view). */
export function unitList(units, open) {
  return el('div', { class: 'units-here' }, el('h3', {}, `${t().unitsHere} (${units.length})`),
    el('ul', { class: 'unit-list', 'data-testid': 'unit-list' }, ...units.map((u) =>
      el('li', { class: `unit u-${u.colour}`, 'data-id': u.id, tabindex: '0', onclick: () => open(u.id),
        onkeydown: (e) => { if (e.key === 'Enter') open(u.id); } },
        badge(u.colour),
        el('div', { class: 'u-text' }, el('div', { class: 'u-name' }, u.name), el('div', { class: 'u-addr' },
          `${t().kinds[u.kind] || ''} · ${u.address || ''}`)),
        u.overdue ? el('span', { class: 'od' }, `${t().overdue} ${u.overdue}`) : u.open ? el('span', { class: 'op' }, `${t().open} ${u.open}`) : null))));
}
