// The worker's day (/day) on the phone: the signed-in user's units to go to in their
// scope, most urgent first (overdue after a yellow card, past a deadline to re-inspect,
// due within 3 days, red, black, never visited) and, once the user lets the page read
// the phone's position, nearest first among equals; a map of them; a tap opens the card.
import { el, t, onemap, num, badge, langSwitch, getJSON, live, debounced, every, localDate } from './common.js';
import { makeMap, refreshTiles, dataLoaded } from './map.js';
import { queueStatus } from './visit.js';
import { cardSheet } from './sheet.js';

const REASONS = ['fix_reported', 'overdue_yellow_card', 'reinspect', 'due_soon', 'major', 'suspended', 'uninspected'];

/** `d` metres in words. */
const distance = (d) => (d < 1000 ? `${Math.round(d)} m` : `${(d / 1000).toFixed(1)} km`);

/** The phone's position `[lon, lat]`, or null if the user says no or it takes too long. */
function position() {
  if (!navigator.geolocation) return Promise.resolve(null);
  return new Promise((done) => navigator.geolocation.getCurrentPosition(
    (p) => done([p.coords.longitude, p.coords.latitude]), () => done(null),
    { enableHighAccuracy: false, timeout: 8000, maximumAge: 120000 }));
}

function dayList(day, open) {
  const d = t().day;
  return el('ul', { class: 'unit-list', 'data-testid': 'day-list' }, ...day.units.map((u, i) =>
    el('li', { class: `unit u-${u.colour}`, 'data-id': u.id, tabindex: '0', onclick: () => open(String(u.id)),
      onkeydown: (e) => { if (e.key === 'Enter') open(String(u.id)); } },
      el('span', { class: 'day-n' }, String(i + 1)), badge(u.colour),
      el('div', { class: 'u-text' },
        el('div', { class: 'u-name' }, u.name || `#${u.id}`),
        el('div', { class: 'u-addr' }, `${t().kinds[u.kind] || ''} · ${u.address || ''}`),
        el('div', { class: 'day-why' }, ...u.reasons.map((r) => el('span', { class: `why why-${r}`, 'data-reason': r }, d.reasons[r] || r)),
          u.deadline ? el('span', { class: 'due' }, `${t().deadline} ${localDate(u.deadline)}`) : null)),
      u.distance_m != null ? el('span', { class: 'dist', 'data-testid': 'distance' }, distance(u.distance_m)) : null)));
}

export async function day(app) {
  document.body.className = 'grid day';
  const d = t().day;
  const home = onemap.session.home;
  const region = await getJSON(`/api/regions/${encodeURIComponent(home.id)}`);
  let near = null;
  const url = () => `/api/day?limit=200${near ? `&near=${near[0].toFixed(6)},${near[1].toFixed(6)}` : ''}`;
  let current = await getJSON(url());
  const mapBox = el('div', { class: 'map', id: 'map' });
  const listBox = el('div', { class: 'list-box' });
  const figs = el('div', { class: 'mini-figs day-figs' });
  const sheet = el('div', { class: 'sheet', id: 'card', hidden: true });
  const locate = el('button', { type: 'button', class: 'secondary', 'data-testid': 'locate', onclick: async () => {
    locate.disabled = true;
    locate.textContent = d.locating;
    near = await position();
    reframe = true;
    locate.disabled = false;
    locate.textContent = near ? d.located : d.noPosition;
    again();
  } }, d.locate);
  app.replaceChildren(
    el('header', { class: 'top' }, el('div', { class: 'head-text' }, el('div', { class: 'sub' }, `${d.title} · ${home.name || home.id}`),
      el('h1', { 'data-testid': 'region-name' }, d.heading)),
    el('a', { class: 'to-grid', href: home.level === 'micro_grid' ? `/grid/${encodeURIComponent(home.id)}` : '/' }, d.allUnits), langSwitch()),
    queueStatus(), figs, mapBox, el('div', { class: 'day-tools' }, locate), listBox, sheet);
  let map = null;
  const fill = (day) => {
    current = day;
    // Owners' reports take the first tile while any wait.
    figs.replaceChildren(...REASONS.filter((r) => r !== 'fix_reported' || day.counts[r]).slice(0, 4).map((r) => el('div', { class: `mf ${day.counts[r] ? (r === 'overdue_yellow_card' ? 'alarm' : 'warn') : ''}` },
      el('b', { 'data-testid': `count-${r}` }, num(day.counts[r])), el('span', {}, d.reasons[r]))));
    listBox.replaceChildren(el('div', { class: 'units-here' },
      el('h3', {}, `${d.toGo} (${num(day.total)})`),
      day.units.length ? dayList(day, (u) => card.open(u, true)) : el('div', { class: 'muted', 'data-testid': 'day-empty' }, d.nothing)));
    const src = map && map.getSource('day');
    if (src) src.setData(points(day));
    if (reframe) { reframe = false; frame(day); }
  };
  // Framed once when the map is made and again when the order changes (the position).
  let reframe = false;
  // The map frames the first 30 (the ringed ones) when there are any, else the user's area.
  const frame = (day) => {
    const first = day.units.slice(0, 30).map((u) => u.location);
    if (!map || !first.length) return;
    const lons = first.map((p) => p[0]);
    const lats = first.map((p) => p[1]);
    map.fitBounds([[Math.min(...lons), Math.min(...lats)], [Math.max(...lons), Math.max(...lats)]], { padding: 36, maxZoom: 16, duration: 0 });
  };
  const points = (day) => ({ type: 'FeatureCollection', features: day.units.map((u, i) => ({
    type: 'Feature', geometry: { type: 'Point', coordinates: u.location },
    properties: { id: u.id, n: i + 1, colour: u.colour } })) });
  const card = cardSheet(sheet, () => again());
  fill(current);
  // The list can be tapped before the map has come (a phone on 3G waits for MapLibre).
  onemap.interactive = true;
  const [w, s, e, n] = region.bbox;
  map = await makeMap(mapBox, { bounds: [[w, s], [e, n]], params: { region: home.id }, padding: 24, labels: [] });
  map.on('load', () => {
    frame(current);
    map.addSource('day', { type: 'geojson', data: points(current) });
    // The first 30 ringed and numbered as the list numbers them (the rest are on the tiles).
    map.addLayer({ id: 'day-ring', type: 'circle', source: 'day', filter: ['<=', ['get', 'n'], 30],
      paint: { 'circle-radius': 11, 'circle-color': 'rgba(0,0,0,0)', 'circle-stroke-color': '#1a5fb4', 'circle-stroke-width': 3 } });
    map.addLayer({ id: 'day-n', type: 'symbol', source: 'day', filter: ['<=', ['get', 'n'], 30],
      layout: { 'text-field': ['to-string', ['get', 'n']], 'text-size': 11, 'text-offset': [0, -1.7], 'text-allow-overlap': true },
      paint: { 'text-color': '#1a5fb4', 'text-halo-color': '#fff', 'text-halo-width': 2 } });
  });
  map.on('click', (ev) => {
    const f = map.queryRenderedFeatures(ev.point, { layers: ['units-point'] });
    if (f.length) card.open(String(f[0].properties.id), true);
  });
  const first = new URLSearchParams(location.search).get('unit');
  if (first) await card.open(first, false);
  const again = debounced(async () => {
    refreshTiles(map, { region: home.id });
    fill(await getJSON(url()));
    if (card.shown()) await card.open(card.shown(), false);
  }, 400);
  live(home.id, again, again);
  every(30, again);
  dataLoaded();
}
