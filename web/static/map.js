// The map: our own vector tiles (units, regions, hexes) on a plain background, or on a
// raster basemap when the server names one (`ONEMAP_BASEMAP_URL`, off by default).
//
// Labels render offline: the style has no `glyphs` URL, so MapLibre draws every glyph
// itself with TinySDF from the browser's own fonts (the `text-font` stack below is used
// as CSS font families) — nothing is fetched for text. Region names come from
// /api/labels, one point per region (labels of tiled polygons repeat per tile).
import { COLOURS, onemap, t, getJSON } from './common.js';

export const FONTS = ['Microsoft YaHei', 'PingFang SC', 'Noto Sans CJK SC', 'WenQuanYi Micro Hei', 'sans-serif'];

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
  const labelSets = await Promise.all((opts.labels || ['village']).map((l) => getJSON(`/api/labels?level=${l}${q}`)));
  const sources = {
    onemap: { type: 'vector', tiles: [tileUrl(opts.params)], minzoom: 8, maxzoom: 16 },
    labels: { type: 'geojson', data: { type: 'FeatureCollection', features: labelSets.flatMap((s) => s.features) } },
  };
  const layers = [{ id: 'background', type: 'background', paint: { 'background-color': dark ? '#06101b' : '#e9edf1' } }];
  if (raster) {
    sources.basemap = { type: 'raster', tiles: raster.tiles, tileSize: 256, maxzoom: 18 };
    layers.push({ id: 'basemap', type: 'raster', source: 'basemap', paint: dark ? { 'raster-brightness-max': 0.45, 'raster-saturation': -0.6 } : {} });
  }
  const fillOpacity = raster ? 0.25 : 1;
  layers.push(
    { id: 'town-fill', type: 'fill', source: 'onemap', 'source-layer': 'regions',
      filter: ['==', ['get', 'level'], 'town'], paint: { 'fill-color': dark ? '#0d2032' : '#ffffff', 'fill-opacity': fillOpacity } },
    { id: 'village-fill', type: 'fill', source: 'onemap', 'source-layer': 'regions',
      filter: ['==', ['get', 'level'], 'village'],
      paint: { 'fill-color': dark ? '#10263a' : '#f7f9fb', 'fill-opacity': raster ? 0.15 : 0.9 } },
    // Invisible fills: what a click inside a grid or micro-grid hits.
    { id: 'grid-fill', type: 'fill', source: 'onemap', 'source-layer': 'regions', minzoom: 11,
      filter: ['==', ['get', 'level'], 'grid'], paint: { 'fill-color': '#000000', 'fill-opacity': 0 } },
    { id: 'micro-fill', type: 'fill', source: 'onemap', 'source-layer': 'regions', minzoom: 14,
      filter: ['==', ['get', 'level'], 'micro_grid'], paint: { 'fill-color': '#000000', 'fill-opacity': 0 } },
    { id: 'hexes', type: 'fill', source: 'onemap', 'source-layer': 'hexes', layout: { visibility: 'none' },
      paint: { 'fill-color': choroplethExpr('closure_rate'), 'fill-opacity': 0.6, 'fill-outline-color': '#ffffff' } },
    { id: 'micro-line', type: 'line', source: 'onemap', 'source-layer': 'regions', minzoom: 14,
      filter: ['==', ['get', 'level'], 'micro_grid'], paint: { 'line-color': dark ? '#1d3a55' : '#cfd7df', 'line-width': 0.6 } },
    { id: 'grid-line', type: 'line', source: 'onemap', 'source-layer': 'regions', minzoom: 11,
      filter: ['==', ['get', 'level'], 'grid'],
      paint: { 'line-color': dark ? '#2d5878' : '#9fb0c0', 'line-width': 0.9, 'line-dasharray': [3, 2] } },
    { id: 'village-line', type: 'line', source: 'onemap', 'source-layer': 'regions',
      filter: ['==', ['get', 'level'], 'village'], paint: { 'line-color': dark ? '#3b78a8' : '#71869a', 'line-width': 1.2 } },
    { id: 'town-line', type: 'line', source: 'onemap', 'source-layer': 'regions',
      filter: ['==', ['get', 'level'], 'town'], paint: { 'line-color': dark ? '#5fb2ff' : '#12324f', 'line-width': 2.5 } },
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
      filter: ['==', ['to-string', ['get', 'id']], ''],
      paint: { 'circle-radius': ['interpolate', ['linear'], ['zoom'], 14, 12, 17, 18], 'circle-opacity': 0,
        'circle-stroke-color': '#1565c0', 'circle-stroke-width': 3.5 } },
    { id: 'units-mark', type: 'symbol', source: 'onemap', 'source-layer': 'units', minzoom: 15, filter: ['!', ['has', 'count']],
      layout: { 'text-field': markExpr(), 'text-font': FONTS, 'text-size': 11, 'text-allow-overlap': true, 'text-ignore-placement': true },
      paint: { 'text-color': ['match', ['get', 'colour'], 'yellow', '#1b1b1b', '#ffffff'] } },
    { id: 'region-label', type: 'symbol', source: 'labels',
      filter: ['==', ['get', 'level'], 'village'], minzoom: opts.dark ? 0 : 10.5,
      layout: { 'text-field': ['get', 'name'], 'text-font': FONTS, 'text-size': dark ? 14 : 13, 'text-padding': 1,
        'text-variable-anchor': ['center', 'top', 'bottom', 'left', 'right', 'top-left', 'bottom-right'], 'text-radial-offset': 0.9 },
      paint: { 'text-color': dark ? '#a9cdee' : '#263238', 'text-halo-color': ink, 'text-halo-width': 1.5 } },
    { id: 'grid-label', type: 'symbol', source: 'labels', filter: ['==', ['get', 'level'], 'grid'], minzoom: 13.5,
      layout: { 'text-field': ['get', 'name'], 'text-font': FONTS, 'text-size': 11 },
      paint: { 'text-color': '#546e7a', 'text-halo-color': ink, 'text-halo-width': 1.2 } },
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
