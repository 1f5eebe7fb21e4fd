// The map: our own vector tiles (units, regions, hexes) on a plain background, or on a
// raster basemap when the server names one (`ONEMAP_BASEMAP_URL`, off by default).
//
// Labels render offline: the style has no `glyphs` URL, so MapLibre draws every glyph
// itself with TinySDF from the browser's own fonts (the `text-font` stack below is used
// as CSS font families) — nothing is fetched for text. Region names come from
// /api/labels, one point per region (labels of tiled polygons repeat per tile).
import { COLOURS, onemap, t, getJSON } from './common.js';

export const FONTS = ['Microsoft YaHei', 'PingFang SC', 'Noto Sans CJK SC', 'WenQuanYi Micro Hei', 'sans-serif'];

/** The levels of places, from the top down (as the server's `Level`). */
export const LEVELS = ['province', 'county', 'town', 'area', 'group', 'village', 'grid', 'micro_grid'];
/** The level a ranking under a region of each level orders (as the server's `ranked_below`). */
export const RANKED_BELOW = { province: 'county', county: 'town', town: 'village', area: 'village', group: 'village',
  village: 'grid', grid: 'micro_grid' };
// The zooms the server's tiles start drawing grids and micro-grids.
const MIN_ZOOM = { grid: 11, micro_grid: 14 };
const LINE = { county: '#3d5a73', town: '#5b7489', village: '#71869a', grid: '#9fb0c0', micro_grid: '#cfd7df' };
const LINE_DARK = { county: '#5fa0d6', town: '#4a86b8', village: '#3b78a8', grid: '#2d5878', micro_grid: '#1d3a55' };
const LINE_WIDTH = { county: 1.8, town: 1.4, village: 1.2, grid: 0.9, micro_grid: 0.6 };
const LABEL_SIZE = { county: 16, town: 14, village: 13, grid: 11, micro_grid: 10 };
/**
 * The zoom a level's names start at: the first level under the root at once (collision
 * keeps them apart), finer ones once they are large enough to read beside their
 * neighbours (villages and grids as on a town's map before, towns of a province early).
 */
function labelZoom(level, levels, dark) {
  if (level === levels[0]) return 0;
  return { county: 0, town: 7.5, village: dark ? 0 : 10.5, grid: 13.5, micro_grid: 15 }[level] ?? 0;
}
/** Replaces the region names on the map (GeoJSON points from `/api/labels`). */
export function setLabels(map, sets) {
  const src = map.getSource('labels');
  if (src) src.setData({ type: 'FeatureCollection', features: sets.flatMap((s) => s.features) });
}

let config = null;
/** The server's page settings (`/api/config`), fetched once. */
export async function loadConfig() {
  if (!config) config = await getJSON('/api/config');
  return config;
}

export function tileUrl(params = {}) {
  const q = new URLSearchParams(params).toString();
  return `${location.origin}/tiles/units,regions,hexes/{z}/{x}/{y}.mvt${q ? `?${q}` : ''}`;
}
const colourExpr = (prop) => ['match', ['get', prop], ...Object.entries(COLOURS).flat(), '#999999'];
const markExpr = () => ['match', ['get', 'colour'], ...Object.entries(t().marks).flat(), ''];
/** A choropleth ramp for a metric, with its legend stops. */
export const RAMPS = {
  inspection_rate: [[0.5, '#a50026'], [0.8, '#f46d43'], [0.95, '#fee08b'], [1, '#1a9850']],
  closure_rate: [[0.5, '#a50026'], [0.8, '#f46d43'], [0.95, '#fee08b'], [1, '#1a9850']],
  overdue: [[0, '#1a9850'], [3, '#fee08b'], [10, '#f46d43'], [30, '#a50026']],
};
export function choroplethExpr(metric) {
  return ['interpolate', ['linear'], ['get', metric], ...RAMPS[metric].flat()];
}

let loading = null;
/**
 * MapLibre GL JS, loaded when the first map is made: on a phone's slow network the page's
 * own files and its lists come first (a quarter of a megabyte less to wait for), the map
 * after them.
 */
function maplibre() {
  if (window.maplibregl) return Promise.resolve();
  loading = loading || new Promise((ok, fail) => {
    const s = document.createElement('script');
    s.src = '/static/maplibre-gl.js';
    s.onload = () => ok();
    s.onerror = () => { loading = null; fail(new Error('maplibre-gl.js did not load')); };
    document.head.append(s);
  });
  return loading;
}

/**
 * A map in `container`: `dark` for the wall, `bounds` to show, `params` for the tiles
 * (filters, `at`, `region`), `labels` the label levels to fetch.
 */
export async function makeMap(container, opts) {
  const [cfg] = await Promise.all([loadConfig(), maplibre()]);
  const dark = !!opts.dark;
  const raster = cfg.basemap;
  const ink = dark ? '#08131f' : '#ffffff';
  // Region names first, so the map's first drawing has them (and `ready` means drawn).
  const q = opts.labelRegion ? `&region=${encodeURIComponent(opts.labelRegion)}` : '';
  // `labels`: the levels named (a layer each); their names are `labelSets` when the
  // caller fetched them, else fetched here.
  const labelLevels = opts.labels || ['village'];
  const labelSets = opts.labelSets ? await opts.labelSets
    : await Promise.all(labelLevels.map((l) => getJSON(`/api/labels?level=${l}${q}`)));
  const sources = {
    onemap: { type: 'vector', tiles: [tileUrl(opts.params)], minzoom: 0, maxzoom: 16 },
    labels: { type: 'geojson', data: { type: 'FeatureCollection', features: labelSets.flatMap((s) => s.features) } },
  };
  const layers = [{ id: 'background', type: 'background', paint: { 'background-color': dark ? '#06101b' : '#e9edf1' } }];
  if (raster) {
    sources.basemap = { type: 'raster', tiles: raster.tiles, tileSize: 256, maxzoom: 18 };
    layers.push({ id: 'basemap', type: 'raster', source: 'basemap', paint: dark ? { 'raster-brightness-max': 0.45, 'raster-saturation': -0.6 } : {} });
  }
  const fillOpacity = raster ? 0.25 : 1;
  const root = cfg.level || 'town';
  // Levels drawn under the root: those with polygons (areas and groups are sets of villages).
  const below = LEVELS.filter((l) => LEVELS.indexOf(l) > LEVELS.indexOf(root) && LINE[l]);
  layers.push(
    { id: 'root-fill', type: 'fill', source: 'onemap', 'source-layer': 'regions',
      filter: ['==', ['get', 'level'], root], paint: { 'fill-color': dark ? '#0d2032' : '#ffffff', 'fill-opacity': fillOpacity } },
    // One fill a level: the choropleth paints the level ranked under the selection; the
    // others stay invisible, there for a click to hit.
    ...below.map((l) => ({ id: `fill-${l}`, type: 'fill', source: 'onemap', 'source-layer': 'regions',
      minzoom: MIN_ZOOM[l] || 0, filter: ['==', ['get', 'level'], l], paint: { 'fill-color': '#000000', 'fill-opacity': 0 } })),
    { id: 'hexes', type: 'fill', source: 'onemap', 'source-layer': 'hexes', layout: { visibility: 'none' },
      paint: { 'fill-color': choroplethExpr('closure_rate'), 'fill-opacity': 0.6, 'fill-outline-color': '#ffffff' } },
    // Outlines, finest first so that coarser ones draw over them.
    ...[...below].reverse().map((l) => ({ id: `line-${l}`, type: 'line', source: 'onemap', 'source-layer': 'regions',
      minzoom: MIN_ZOOM[l] || 0, filter: ['==', ['get', 'level'], l],
      paint: { 'line-color': (dark ? LINE_DARK : LINE)[l], 'line-width': LINE_WIDTH[l],
        ...(l === 'grid' ? { 'line-dasharray': [3, 2] } : {}) } })),
    { id: 'root-line', type: 'line', source: 'onemap', 'source-layer': 'regions',
      filter: ['==', ['get', 'level'], root], paint: { 'line-color': dark ? '#5fb2ff' : '#12324f', 'line-width': 2.5 } },
    { id: 'selected-line', type: 'line', source: 'onemap', 'source-layer': 'regions',
      filter: ['==', ['get', 'id'], ''], paint: { 'line-color': '#1565c0', 'line-width': 3.5 } },
    { id: 'units-cluster', type: 'circle', source: 'onemap', 'source-layer': 'units', filter: ['has', 'count'],
      paint: {
        'circle-color': colourExpr('colour'),
        'circle-radius': ['interpolate', ['linear'], ['sqrt', ['get', 'count']], 1, 6, 12, 17, 30, 28],
        'circle-opacity': 0.9, 'circle-stroke-color': ink, 'circle-stroke-width': 1.5,
      } },
    { id: 'units-point', type: 'circle', source: 'onemap', 'source-layer': 'units', filter: ['!', ['has', 'count']],
      paint: {
        'circle-color': colourExpr('colour'),
        'circle-radius': ['interpolate', ['linear'], ['zoom'], 14, 6, 17, 11],
        // A second cue besides colour: black (suspended) ringed in red, uninspected hollow-looking.
        'circle-stroke-color': ['match', ['get', 'colour'], 'black', '#ff5252', 'uninspected', '#37474f', '#ffffff'],
        'circle-stroke-width': ['match', ['get', 'colour'], 'black', 2.5, 'uninspected', 2, 1.2],
      } },
    { id: 'selected-unit', type: 'circle', source: 'onemap', 'source-layer': 'units',
      filter: ['all', ['has', 'id'], ['==', ['to-string', ['get', 'id']], '']],
      paint: { 'circle-radius': ['interpolate', ['linear'], ['zoom'], 14, 12, 17, 18], 'circle-opacity': 0,
        'circle-stroke-color': '#1565c0', 'circle-stroke-width': 3.5 } },
    { id: 'units-mark', type: 'symbol', source: 'onemap', 'source-layer': 'units', minzoom: 15, filter: ['!', ['has', 'count']],
      layout: { 'text-field': markExpr(), 'text-font': FONTS, 'text-size': 11, 'text-allow-overlap': true, 'text-ignore-placement': true },
      paint: { 'text-color': ['match', ['get', 'colour'], 'yellow', '#1b1b1b', '#ffffff'] } },
    // Region names, one layer a level, the finest lowest: MapLibre places the upper
    // layers' labels first and drops any label that would collide with one placed, so
    // a zoom shows the larger regions' names and as many smaller ones as fit.
    ...[...labelLevels].reverse().map((l, i, all) => ({ id: `label-${l}`, type: 'symbol', source: 'labels',
      filter: ['==', ['get', 'level'], l], minzoom: labelZoom(l, labelLevels, dark),
      layout: { 'text-field': ['get', 'name'], 'text-font': FONTS, 'text-size': (dark ? 2 : 0) + LABEL_SIZE[l], 'text-padding': 3,
        'text-variable-anchor': ['center', 'top', 'bottom', 'left', 'right'], 'text-radial-offset': 0.6,
        'symbol-sort-key': all.length - i },
      paint: { 'text-color': dark ? (l === labelLevels[0] ? '#d6ebff' : '#a9cdee') : (l === labelLevels[0] ? '#12324f' : '#37474f'),
        'text-halo-color': ink, 'text-halo-width': 1.5 } })),
    // Above the labels: counts are placed first and always shown; names give way.
    { id: 'units-count', type: 'symbol', source: 'onemap', 'source-layer': 'units',
      filter: ['all', ['has', 'count'], ['>=', ['get', 'count'], 10]],
      layout: { 'text-field': ['to-string', ['get', 'count']], 'text-font': FONTS, 'text-size': dark ? 13 : 11,
        'text-allow-overlap': true },
      paint: { 'text-color': ['match', ['get', 'colour'], 'yellow', '#1b1b1b', '#ffffff'] } },
  );
  const map = new maplibregl.Map({
    container, style: { version: 8, sources, layers }, bounds: opts.bounds,
    fitBoundsOptions: { padding: opts.padding ?? 20 },
    attributionControl: false, interactive: opts.interactive !== false, maxZoom: 18,
    localIdeographFontFamily: FONTS.join(', '),
  });
  if (opts.interactive !== false) map.addControl(new maplibregl.NavigationControl({ showCompass: false }), 'top-left');
  onemap.map = map;
  onemap.mapIdle = false;
  map.once('idle', () => { onemap.mapIdle = true; markReady(); });
  return map;
}

/** New tiles: the same URL again (the server answers no-cache with an ETag) or new filters. */
export function refreshTiles(map, params) {
  const src = map && map.getSource('onemap');
  if (src) src.setTiles([tileUrl(params)]);
}
/** Waits until the map has drawn everything it has loaded. */
export function settled(map) {
  return new Promise((r) => (map.loaded() && map.areTilesLoaded() ? r() : map.once('idle', r)));
}

// Ready (for people and tests) once the figures are in and the map has drawn.
function markReady() {
  if (onemap.mapIdle && onemap.dataLoaded) onemap.ready = true;
}
export function dataLoaded() {
  onemap.dataLoaded = true;
  markReady();
}
