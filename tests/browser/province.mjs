// The page on a province (tests/browser.rs generates a small one in PostGIS and passes
// its URL, an artifacts directory and an admin's name and password): the wall and the
// leadership view at 1920×1080 carry the province's name, rank its counties (not its
// 23,040 villages), draw the province with its counties' and towns' names placed by
// MapLibre's collision (none on top of another), keep every figure inside its box, and
// click from the province to a county, a town and a village. Exits non-zero on the
// first failed check; screenshots of each step go to the artifacts directory.
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { launch } from './chromium.mjs';

const [base, artifacts, adminName, adminPassword] = process.argv.slice(2);
mkdirSync(artifacts, { recursive: true });
const origin = new URL(base).origin;
const browser = await launch();

let checks = 0;
function ok(cond, msg) { assert.ok(cond, msg); checks += 1; console.log(`ok ${checks} - ${msg}`); }

let token = null;
async function api(path, init = {}) {
  const headers = { ...(init.headers || {}) };
  if (token) headers.authorization = `Bearer ${token}`;
  const r = await fetch(base + path, { ...init, headers });
  assert.ok(r.ok, `${path}: ${r.status}`);
  return r.json();
}
const postJSON = (path, body) => api(path, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
token = (await postJSON('/api/session', { name: adminName, password: adminPassword })).token;
const suffix = Date.now().toString(36);
const wallToken = (await postJSON('/api/users', { name: `province-wall-${suffix}`, role: 'command', wall: true })).token;
const leaderPassword = (await postJSON('/api/users', { name: `province-leader-${suffix}`, role: 'leader', scope: [] })).password;
token = (await postJSON('/api/session', { name: `province-leader-${suffix}`, password: leaderPassword })).token;

const province = await api('/api/regions/town');
const stats = await api('/api/stats');
ok(province.level === 'province', `the store's root is a province (${province.name})`);

/** A view, signed in by the cookie; console errors and foreign requests recorded. */
async function open(path, viewport) {
  const context = await browser.newContext({ viewport, deviceScaleFactor: 1 });
  if (!path.includes('#token=')) await context.addCookies([{ name: 'onemap_token', value: token, url: base }]);
  const page = await context.newPage();
  const problems = [];
  page.on('console', (m) => { if (m.type() === 'error') problems.push(`console: ${m.text()}`); });
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  page.on('request', (r) => {
    const u = r.url();
    if (!u.startsWith(origin) && !u.startsWith('data:') && !u.startsWith('blob:')) problems.push(`foreign request: ${u}`);
  });
  const started = Date.now();
  await page.goto(base + path);
  await page.waitForFunction(() => window.onemap && window.onemap.ready, null, { timeout: 60000 });
  return { page, context, problems, ms: Date.now() - started };
}
/** Waits until the map has drawn all it loaded. */
const idle = (page) => page.evaluate(() => new Promise((r) => {
  const m = window.onemap.map;
  const done = () => (m.loaded() && m.areTilesLoaded() ? r() : m.once('idle', done));
  done();
}));
/** Every figure and rank line whose text does not fit its box (cut, or spilling out). */
const overflowing = (page) => page.evaluate(() => [...document.querySelectorAll(
  '.fig-value, .cc-n, .kind-n, .ranks .rk, .ranks .nm, .ranks .vl, .stage .sub, .children td')]
  .filter((e) => e.offsetParent !== null && e.scrollWidth > e.clientWidth + 1)
  .map((e) => `${e.className || e.tagName}: "${e.textContent}" (${e.scrollWidth} > ${e.clientWidth})`));
/**
 * The region names MapLibre placed, by level, with their boxes on the screen: each
 * label's anchor and the size of its text as the page draws it, so boxes that meet are
 * two names on top of each other.
 */
const placed = (page, levels) => page.evaluate((ls) => {
  const m = window.onemap.map;
  const out = {};
  for (const l of ls) {
    if (!m.getLayer(`label-${l}`)) continue;
    const seen = new Map();
    for (const f of m.queryRenderedFeatures({ layers: [`label-${l}`] })) seen.set(f.properties.id, f);
    out[l] = [...seen.values()].map((f) => {
      const p = m.project(f.geometry.coordinates);
      return { name: f.properties.name, x: p.x, y: p.y };
    });
  }
  return out;
}, levels);
/** Pairs of placed names whose centres are closer than their text is wide (they would overlap if both centred). */
function overlaps(labels) {
  const all = Object.values(labels).flat();
  const bad = [];
  for (let i = 0; i < all.length; i++) {
    for (let j = i + 1; j < all.length; j++) {
      const a = all[i], b = all[j];
      if (Math.abs(a.x - b.x) < 4 && Math.abs(a.y - b.y) < 4) bad.push(`${a.name}/${b.name}`);
    }
  }
  return bad;
}
/** A pixel inside region `id` drawn in layer `fill-{level}`, clear of units, in page coordinates. */
const pixelIn = (page, level, id) => page.evaluate(([lv, rid]) => {
  const m = window.onemap.map;
  const c = m.getCanvas().getBoundingClientRect();
  for (let y = 60; y < c.height - 40; y += 12) {
    for (let x = 60; x < c.width - 40; x += 12) {
      const hit = m.queryRenderedFeatures([x, y], { layers: [`fill-${lv}`] });
      if (hit.length && (!rid || hit[0].properties.id === rid) &&
        !m.queryRenderedFeatures([x, y], { layers: ['units-point', 'units-cluster'] }).length) {
        return { x: c.left + x, y: c.top + y, id: hit[0].properties.id, name: hit[0].properties.name };
      }
    }
  }
  return null;
}, [level, id]);

// ---- the wall ----
{
  const { page, context, problems, ms } = await open(`/wall#token=${wallToken}`, { width: 1920, height: 1080 });
  await idle(page);
  const title = await page.locator('.wall-head h1').innerText();
  ok(title.includes(province.name) && !title.includes('瓜沥'), `wall: titled with the province (${title})`);
  const ranks = await page.locator('[data-testid="rank-inspection"] li .nm').allInnerTexts();
  const counties = await api('/api/rankings?metric=inspection_rate&limit=1000');
  ok(counties.level === 'county' && counties.total === province.children.length, `wall: the ranking is of the ${counties.total} counties`);
  ok(ranks.length === 10 && ranks.every((n) => counties.regions.some((r) => r.name === n)),
    `wall: top 7 and last 3 counties ranked (${ranks.join(' ')})`);
  const last = counties.regions[counties.regions.length - 1];
  ok(ranks[9] === last.name, `wall: the last line is the last county (${last.name})`);
  const clustered = await page.evaluate(() => {
    const seen = new Map();
    for (const f of window.onemap.map.queryRenderedFeatures({ layers: ['units-cluster', 'units-point'] })) {
      seen.set(`${f.properties.count}:${f.geometry.coordinates.join(',')}`, f.properties.count || 1);
    }
    return [...seen.values()].reduce((a, b) => a + b, 0);
  });
  ok(clustered === stats.units.total, `wall: the province's map counts every unit (${clustered} of ${stats.units.total})`);
  const lines = await page.evaluate(() => window.onemap.map.queryRenderedFeatures({ layers: ['line-county'] }).length);
  ok(lines > 0, `wall: the counties are drawn (${lines} outlines)`);
  const labels = await placed(page, ['county', 'town', 'village']);
  ok((labels.county || []).length >= 20, `wall: county names placed (${(labels.county || []).length} of ${province.children.length})`);
  ok(!(labels.village || []).length, 'wall: no village names at province scale');
  const towns = (labels.town || []).length;
  ok(towns < stats.regions.town, `wall: town names only where they fit (${towns} of ${stats.regions.town})`);
  ok(overlaps(labels).length === 0, `wall: no name drawn on another (${overlaps(labels).join(', ')})`);
  const cut = await overflowing(page);
  ok(cut.length === 0, `wall: every figure fits its box (${cut.join('; ')})`);
  ok((await page.locator('[data-testid="units"]').getAttribute('data-value')) === String(stats.units.total), 'wall: the exact unit count is kept in the figure');
  await page.screenshot({ path: `${artifacts}/province-wall-1920x1080.png` });
  ok(problems.length === 0, `wall: no console error or foreign request: ${problems.join('; ')}`);
  console.log(`wall: ready in ${ms} ms`);
  await context.close();
}

// ---- the leadership view: province → county → town → village by the map ----
{
  const { page, context, problems, ms } = await open('/', { width: 1920, height: 1080 });
  await idle(page);
  const level = () => page.evaluate(() => window.onemap.region.level);
  ok((await page.locator('header h1').innerText()).includes(province.name), 'leader: titled with the province');
  ok((await page.locator('.title-row .level').innerText()) === '省', 'leader: the level badge says 省');
  ok((await page.locator('[data-testid="region-name"]').innerText()) === province.name, 'leader: the province is selected');
  const units = await page.evaluate(() => window.onemap.map.queryRenderedFeatures({ layers: ['units-cluster', 'units-point'] }).length);
  ok(units > 0, `leader: the province's map is drawn (${units} clusters)`);
  let cut = await overflowing(page);
  ok(cut.length === 0, `leader: every figure fits its box at the province (${cut.join('; ')})`);
  await page.screenshot({ path: `${artifacts}/province-leader-1920x1080.png` });
  console.log(`leader: ready in ${ms} ms`);
  const names = { county: '区县', town: '镇街', village: '村社' };
  for (const [from, to] of [['province', 'county'], ['county', 'town'], ['town', 'village']]) {
    ok((await level()) === from, `leader: at a ${from}`);
    // The busiest region one level down (the picture shows something), else any.
    const busiest = await page.evaluate(() => [...(window.onemap.region.children || [])]
      .sort((a, b) => b.figures.units - a.figures.units).map((c) => c.id)[0]);
    const spot = (await pixelIn(page, to, busiest)) || (await pixelIn(page, to, null));
    ok(spot, `leader: a ${to} under the ${from} is on the map`);
    await page.mouse.click(spot.x, spot.y);
    await page.waitForFunction((l) => window.onemap.region && window.onemap.region.level === l, to, { timeout: 15000 });
    await page.waitForFunction((n) => document.querySelector('[data-testid="region-name"]').innerText === n, spot.name, { timeout: 15000 });
    ok(new URL(page.url()).searchParams.get('region') === spot.id, `leader: clicked into ${to} ${spot.name}; the URL names it`);
    ok((await page.locator('.title-row .level').innerText()) === names[to], `leader: the level badge says ${names[to]}`);
    await page.waitForTimeout(700); // the map's move to the region
    await idle(page);
    cut = await overflowing(page);
    ok(cut.length === 0, `leader: every figure fits its box at the ${to} (${cut.join('; ')})`);
    const labels = await placed(page, ['county', 'town', 'village', 'grid']);
    ok(overlaps(labels).length === 0, `leader: no name drawn on another at the ${to}`);
    if (to === 'village') {
      ok((labels.village || []).some((l) => l.name === spot.name), `leader: the village's name is on the map in its town (${spot.name})`);
    }
    await page.screenshot({ path: `${artifacts}/province-leader-${to}-1920x1080.png` });
  }
  ok((await page.locator('[data-testid="breadcrumbs"] a').count()) === 3, 'leader: province › county › town › village');
  ok(problems.length === 0, `leader: no console error or foreign request: ${problems.join('; ')}`);
  await context.close();
}

// ---- on a phone: screenshots to look at ----
for (const path of ['/', `/wall#token=${wallToken}`]) {
  const { page, context } = await open(path, { width: 390, height: 844 });
  await idle(page);
  await page.screenshot({ path: `${artifacts}/province-${path === '/' ? 'leader' : 'wall'}-390x844.png` });
  await context.close();
}

await browser.close();
console.log(`${checks} province checks passed`);
