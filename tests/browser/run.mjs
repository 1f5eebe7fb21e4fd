// Browser tests of the page: Debian's chromium, driven by playwright-core, against the
// real server (started by tests/browser.rs, which passes its URL and an artifacts
// directory). Exits non-zero on the first failed check.
import { launch } from './chromium.mjs';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { createInterface } from 'node:readline';

const [base, artifacts, adminName, adminPassword] = process.argv.slice(2);
mkdirSync(artifacts, { recursive: true });
const origin = new URL(base).origin;

const browser = await launch();

// Lines from tests/browser.rs (the answer to `@@restart`).
let outage = false;
const stdinLines = [];
const waiting = [];
createInterface({ input: process.stdin }).on('line', (l) => { const w = waiting.shift(); if (w) w(l); else stdinLines.push(l); });
function nextLine() {
  return stdinLines.length ? Promise.resolve(stdinLines.shift()) : new Promise((r) => waiting.push(r));
}

// Signed-in users, made through the API as an admin would: a token per role.
const tokens = {};
async function api(path, init = {}, role = 'command') {
  const headers = { ...(init.headers || {}) };
  if (tokens[role]) headers.authorization = `Bearer ${tokens[role]}`;
  const r = await fetch(base + path, { ...init, headers });
  assert.ok(r.ok, `${path}: ${r.status}`);
  return r.json();
}
/** POST as whoever's job it is: targets the leader, registering the admin, the rest the inspector. */
async function post(path, body, role) {
  const as = role || (path === '/api/targets' ? 'leader' : path === '/api/units' || path === '/api/users' ? 'admin' : 'inspector');
  return api(path, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }, as);
}
async function signIn(name, password) {
  return (await post('/api/session', { name, password }, 'nobody')).token;
}
tokens.admin = await signIn(adminName, adminPassword);
const townId = (await api('/api/regions/town', {}, 'admin')).id;
const users = {};
for (const [name, role, scope] of [['browser-leader', 'leader', []], ['browser-inspector', 'inspector', [townId]]]) {
  users[role] = { name, password: (await post('/api/users', { name, role, scope })).password };
  tokens[role] = await signIn(name, users[role].password);
}
const wallUser = await post('/api/users', { name: 'browser-wall', role: 'command', wall: true });
tokens.command = wallUser.token;
{
  // Without a token, nothing but the page itself.
  const r = await fetch(`${base}/api/stats`);
  assert.equal(r.status, 401, 'no token: 401');
  const list = await api('/api/users', {}, 'admin');
  assert.ok(list.users.find((u) => u.name === 'browser-wall').wall, 'the wall user is marked as such');
}

/**
 * Opens a view; records console errors, page errors, dialogs and foreign requests.
 * Signed in by the page's cookie (`as`: a role's token), or through the sign-in form
 * (`form`: a name and password), or not at all when the path carries `#token=`; `geo`:
 * the phone's position, allowed.
 */
async function open(path, viewport, { as = 'command', form = null, touch = false, geo = null } = {}) {
  const context = await browser.newContext({ viewport, deviceScaleFactor: 1, hasTouch: touch, isMobile: touch,
    ...(geo ? { geolocation: geo, permissions: ['geolocation'] } : {}) });
  if (!form && !path.includes('#token=')) {
    await context.addCookies([{ name: 'onemap_token', value: tokens[as], url: base }]);
  }
  const page = await context.newPage();
  const problems = [];
  let signingIn = Boolean(form);
  page.on('console', (m) => {
    // While the test itself has stopped the server, the browser logs the refused
    // connections, and while signing in the refused sign-ins; anything else is a problem.
    if (m.type() === 'error' && !(outage && /ERR_CONNECTION_REFUSED|Failed to load resource|EventSource/.test(m.text()))
      && !(signingIn && /status of 401/.test(m.text()))) {
      problems.push(`console: ${m.text()}`);
    }
  });
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  page.on('dialog', (d) => { problems.push(`dialog: ${d.message()}`); d.dismiss(); });
  page.on('request', (r) => {
    const u = r.url();
    if (!u.startsWith(origin) && !u.startsWith('data:') && !u.startsWith('blob:')) problems.push(`foreign request: ${u}`);
  });
  await page.goto(base + path);
  if (form) {
    await page.waitForSelector('.signin form', { timeout: 60000 });
    await page.screenshot({ path: `${artifacts}/signin-${viewport.width}x${viewport.height}.png` });
    await page.fill('input[name=name]', form.name);
    await page.fill('input[name=password]', 'not the password');
    await page.click('button[type=submit]');
    await page.waitForFunction(() => document.querySelector('.signin .error').textContent.length > 0);
    await page.fill('input[name=password]', form.password);
    await page.click('button[type=submit]');
  }
  await page.waitForFunction(() => window.onemap && window.onemap.ready, null, { timeout: 60000 });
  signingIn = false;
  return { page, context, problems };
}
const text = (page, id) => page.locator(`[data-testid="${id}"]`).first().innerText();
const pct = (x) => `${(x * 100).toFixed(1)}%`;
const num = (x) => Number(x).toLocaleString('zh-CN');
let checks = 0;
function ok(cond, msg) { assert.ok(cond, msg); checks += 1; }

// ---- the wall: renders units, figures equal /api/stats, updates live ----
{
  const { page, context, problems } = await open(`/wall#token=${tokens.command}`, { width: 1920, height: 1080 });
  ok(!(await page.evaluate(() => location.href)).includes('token'), 'wall: the token leaves the address bar');
  const stats = await api('/api/stats');
  ok((await text(page, 'units')) === num(stats.units.total), 'wall: units = /api/stats');
  ok((await text(page, 'inspection-rate')) === pct(stats.inspection_rate), 'wall: inspection rate');
  ok((await text(page, 'found')) === num(stats.hazards.found), 'wall: hazards found');
  ok((await text(page, 'closure-rate')) === pct(stats.hazards.closure_rate), 'wall: closure rate');
  ok((await text(page, 'overdue')) === num(stats.hazards.overdue), 'wall: overdue');
  for (const c of ['green', 'yellow', 'orange', 'red', 'black', 'uninspected']) {
    ok((await text(page, `colour-${c}`)) === num(stats.units.by_colour[c]), `wall: ${c} count`);
  }
  const rendered = await page.evaluate(() => window.onemap.map.queryRenderedFeatures({ layers: ['units-cluster', 'units-point'] }).length);
  ok(rendered > 0, `wall: the map renders unit features (${rendered})`);
  const clustered = await page.evaluate(() => window.onemap.map.queryRenderedFeatures({ layers: ['units-cluster'] })
    .reduce((n, f) => n + f.properties.count, 0));
  ok(clustered === stats.units.total, `wall: clusters count every unit (${clustered})`);
  ok((await page.locator('[data-testid="rank-inspection"] li').count()) === 10, 'wall: village ranking');
  ok((await text(page, 'major-open')) === num(stats.hazards.major_open), 'wall: major hazards open');
  ok((await page.locator('[data-testid="progress-chart"] polyline').count()) === 2, 'wall: closure chart');
  const labels = await page.evaluate(() => window.onemap.map.queryRenderedFeatures({ layers: ['label-village'] }).length);
  await page.screenshot({ path: `${artifacts}/wall-1920x1080.png` });
  ok(labels >= 40, `wall: village names are drawn on the map offline (${labels} labels placed)`);
  const counts = await page.evaluate(() => window.onemap.map.queryRenderedFeatures({ layers: ['units-count'] }).length);
  ok(counts > 0, `wall: cluster counts are drawn (${counts})`);
  ok((await api('/api/config')).basemap === null, 'wall: no raster basemap unless configured');
  ok((await page.locator('[data-testid="legend"]').count()) === 1, 'wall: legend');
  const scroll = await page.evaluate(() => [document.documentElement.scrollHeight, document.documentElement.scrollWidth]);
  ok(scroll[0] <= 1080 && scroll[1] <= 1920, `wall: no scrolling at 1920×1080 (${scroll})`);
  await page.screenshot({ path: `${artifacts}/wall-1920x1080.png` });

  // A unit turns red in the field: the open wall shows it without a reload.
  const green = (await api('/ogc/collections/units/items?colour=green&limit=1')).features[0].id;
  const redBefore = stats.units.by_colour.red;
  await post(`/api/units/${green}/inspections`, { inspector: '浏览器测试', hazards: [{ category: 'fire',
    hazard_type: 'blocked_escape_route', severity: 'major', stage: 'immediate' }] });
  await page.waitForFunction((n) => document.querySelector('[data-testid="colour-red"]').innerText === n,
    num(redBefore + 1), { timeout: 10000 });
  ok(true, 'wall: the red count went up live');
  await page.waitForSelector('[data-testid="ticker"] li', { timeout: 10000 });
  const ticker = (await page.locator('[data-testid="ticker"] li').allInnerTexts()).join(' | ');
  ok(ticker.includes('发现隐患'), `wall: the ticker shows the new event (${ticker})`);
  const reds = await page.evaluate(async () => {
    const m = window.onemap.map;
    await new Promise((r) => (m.loaded() ? r() : m.once('idle', r)));
    return m.queryRenderedFeatures({ layers: ['units-cluster'] }).reduce((n, f) => n + (f.properties.red || 0), 0);
  });
  ok(reds === redBefore + 1, `wall: the map's clusters count the new red unit (${reds})`);

  // A real server restart (tests/browser.rs stops the server, waits 3 s, starts it again
  // on the same port): a clear banner while it is down, then back and live by itself.
  outage = true;
  console.log('@@restart');
  await page.waitForSelector('#banner:not([hidden])', { timeout: 10000 });
  ok((await page.locator('#banner').innerText()).includes('连接'), 'wall: the banner says the server is unreachable');
  await page.screenshot({ path: `${artifacts}/wall-disconnected.png` });
  ok((await nextLine()) === 'restarted', 'wall: the server restarted');
  await page.waitForSelector('#banner[hidden]', { state: 'attached', timeout: 30000 });
  ok(true, 'wall: the banner goes away by itself when the server is back');
  outage = false;
  // Live again after the restart: the hazard is closed in the field, the unit is green.
  const hazard = (await api(`/api/units/${green}`)).hazards.find((h) => h.open);
  await post(`/api/hazards/${hazard.id}/close`, { evidence: '浏览器测试：已整改' });
  await page.waitForFunction((n) => document.querySelector('[data-testid="colour-red"]').innerText === n,
    num(redBefore), { timeout: 15000 });
  ok(true, 'wall: live again after the restart (the red count went back down)');
  // The demo's weekly targets: the wall shows the latest week that has them (the
  // campaign's last), a line per group; a target set there shows at once.
  await page.waitForSelector('[data-testid="targets"] li', { timeout: 15000 });
  const tg = await api('/api/targets');
  ok(tg.week === '2022-W32' && tg.groups.filter((g) => g.target != null).length === 12, `wall: the demo's targets for ${tg.week}`);
  ok((await page.locator('[data-testid="targets"] li').count()) === 12, 'wall: the week\'s targets, a line per group');
  const g0 = tg.groups[0];
  await post('/api/targets', { group: g0.group, week: tg.week, closures: g0.target + 5 });
  const shown = `${num(g0.closed)}/${num(g0.target + 5)}`;
  await page.waitForFunction((s) => document.querySelector('[data-testid="targets"] li .vl').innerText === s, shown, { timeout: 15000 });
  ok(true, `wall: a target set shows at once (${shown})`);
  await page.waitForTimeout(500);
  await page.screenshot({ path: `${artifacts}/wall-live-1920x1080.png` });
  // The title is the store's own town; a register imported is one line on the ticker.
  const town = await api('/api/regions/town', {}, 'admin');
  ok((await page.locator('header h1').innerText()).startsWith(town.name), `wall: the title names the store's town (${town.name})`);
  const spots = (await api('/ogc/collections/units/items?limit=20')).features.map((f) => f.geometry.coordinates);
  const register = ['编号,名称,类型,经度,纬度', ...spots.map(([x, y], i) => `BR-${i},浏览器导入${i},沿街店铺,${x},${y}`)].join('\n');
  const imported = await api('/api/imports/units?source=browser.csv', { method: 'POST', headers: { 'content-type': 'text/csv' }, body: register }, 'admin');
  ok(imported.new === 20, `wall: 20 units imported (${JSON.stringify(imported)})`);
  await page.waitForFunction(() => [...document.querySelectorAll('[data-testid="ticker"] li')].some((li) => li.innerText.includes('导入台账')), null, { timeout: 10000 });
  await page.waitForTimeout(800);
  const lines = await page.locator('[data-testid="ticker"] li').allInnerTexts();
  ok(lines.filter((l) => l.includes('导入台账')).length === 1 && lines.some((l) => l.includes('新增 20 家')), `wall: the import is one ticker line (${lines.join(' | ')})`);
  await page.reload();
  await page.waitForSelector('[data-testid="ticker"] li', { timeout: 15000 });
  const after = await page.locator('[data-testid="ticker"] li').allInnerTexts();
  ok(!after.some((l) => l.includes('新登记')), `wall: after a reload too, the imported units fold into the import (${after.join(' | ')})`);
  await page.screenshot({ path: `${artifacts}/wall-import-1920x1080.png` });
  // Places imported over HTTP: the open wall reloads its places by itself and labels
  // the renamed village; the import is a line on the ticker. (Renamed back after.)
  const village = (await api('/ogc/collections/villages/items?limit=1')).features[0];
  const placesOf = (name) => JSON.stringify({ type: 'FeatureCollection', features: [{ type: 'Feature',
    geometry: village.geometry, properties: { id: village.properties.id, name } }] });
  const renamed = `${village.properties.name}（更名）`;
  await page.evaluate(() => { window.beforePlaces = true; });
  const placed = await api('/api/imports/regions?level=village&source=browser.geojson',
    { method: 'POST', headers: { 'content-type': 'application/geo+json' }, body: placesOf(renamed) }, 'admin');
  ok(placed.updated === 1 && placed.new === 0, `wall: a village renamed by a places import (${JSON.stringify(placed)})`);
  await page.waitForFunction(() => window.beforePlaces === undefined, null, { timeout: 15000 });
  await page.waitForFunction((n) => (window.onemap?.map?.getStyle()?.sources?.labels?.data?.features || [])
    .some((f) => f.properties.name === n), renamed, { timeout: 20000 });
  ok(true, `wall: the open wall reloaded its places by itself and labels ${renamed}`);
  await page.waitForFunction(() => [...document.querySelectorAll('[data-testid="ticker"] li')].some((li) => li.innerText.includes('导入区划')), null, { timeout: 15000 });
  const placesLine = (await page.locator('[data-testid="ticker"] li').allInnerTexts()).find((l) => l.includes('导入区划'));
  ok(placesLine.includes('村社：新增 0 个，更新 1 个'), `wall: the places import is a line on the ticker saying what it brought (${placesLine})`);
  // The map drawn again, the renamed village labelled on it, before the picture.
  const drawn = await page.evaluate(async (n) => {
    const m = window.onemap.map;
    for (let i = 0; i < 100; i++) {
      await new Promise((r) => (m.loaded() ? r() : m.once('idle', r)));
      const names = m.queryRenderedFeatures().map((f) => f.properties.name);
      if (names.includes(n)) return true;
      await new Promise((r) => setTimeout(r, 200));
    }
    return false;
  }, renamed);
  ok(drawn, `wall: the map draws the renamed village's label (${renamed})`);
  await page.screenshot({ path: `${artifacts}/wall-places-1920x1080.png` });
  const back = await api('/api/imports/regions?level=village&source=browser.geojson',
    { method: 'POST', headers: { 'content-type': 'application/geo+json' }, body: placesOf(village.properties.name) }, 'admin');
  ok(back.updated === 1, 'wall: the village has its name back');
  ok(problems.length === 0, `wall: no console error or foreign request: ${problems.join('; ')}`);
  await context.close();
}

// ---- the leadership view: click a village on the map, its panel has its figures ----
{
  const { page, context, problems } = await open('/', { width: 1920, height: 1080 }, { form: users.leader });
  ok((await page.locator('.user-name').innerText()) === users.leader.name, 'leader: signed in through the form');
  const town = await api('/api/regions/town');
  const area = town.children[0];
  const group = (await api(`/api/regions/${area.id}`)).children[0];
  const village = (await api(`/api/regions/${group.id}`)).children[0];
  // Zoom to the village, then click its middle on the map.
  await page.evaluate((b) => new Promise((r) => { const m = window.onemap.map; m.fitBounds([[b[0], b[1]], [b[2], b[3]]], { duration: 0, padding: 40 }); m.once('idle', r); }), village.bbox);
  const point = await page.evaluate((id) => {
    const m = window.onemap.map;
    const fs = m.queryRenderedFeatures({ layers: ['fill-village'] }).filter((f) => f.properties.id === id);
    const c = m.getCanvas().getBoundingClientRect();
    // A pixel inside the village's polygon: probe a grid over the canvas.
    for (let y = 40; y < c.height - 40; y += 20) {
      for (let x = 40; x < c.width - 40; x += 20) {
        const hit = m.queryRenderedFeatures([x, y], { layers: ['fill-village'] });
        if (hit.length && hit[0].properties.id === id &&
            !m.queryRenderedFeatures([x, y], { layers: ['units-point', 'units-cluster'] }).length) return [c.left + x, c.top + y];
      }
    }
    return fs.length ? null : null;
  }, village.id);
  ok(point, 'leader: the village is on the map');
  await page.mouse.click(point[0], point[1]);
  await page.waitForFunction((n) => document.querySelector('[data-testid="region-name"]').innerText === n, village.name, { timeout: 10000 });
  const vs = await api(`/api/stats?region=${village.id}`);
  ok((await text(page, 'units')) === num(vs.units.total), 'leader: the village panel has its units');
  ok((await text(page, 'inspection-rate')) === pct(vs.inspection_rate), 'leader: and its inspection rate');
  ok((await text(page, 'found')) === num(vs.hazards.found), 'leader: and its hazards');
  ok((await page.locator('[data-testid="breadcrumbs"] a').count()) === 3, 'leader: town › area › group › village');
  ok(new URL(page.url()).searchParams.get('region') === village.id, 'leader: the URL names the village');
  // Down to a grid by the ranked list, then back with the browser's back button.
  await page.locator('[data-testid="children"] tr.child').first().click();
  await page.waitForFunction((n) => document.querySelector('[data-testid="region-name"]').innerText !== n, village.name);
  await page.goBack();
  await page.waitForFunction((n) => document.querySelector('[data-testid="region-name"]').innerText === n, village.name);
  ok(true, 'leader: the back button returns to the village');
  // All the way down by the ranked lists: grid → micro-grid → its units → a unit's card.
  const levelIs = (l) => page.waitForFunction((lv) => window.onemap.region && window.onemap.region.level === lv, l, { timeout: 10000 });
  await page.locator('[data-testid="children"] tr.child').first().click();
  await levelIs('grid');
  await page.locator('[data-testid="children"] tr.child').first().click();
  await levelIs('micro_grid');
  await page.waitForSelector('[data-testid="unit-list"] li');
  const mgId = await page.evaluate(() => window.onemap.region.id);
  const mgWant = (await api(`/api/regions/${mgId}/units`)).units.map((u) => u.id);
  const mgGot = await page.locator('[data-testid="unit-list"] li').evaluateAll((ls) => ls.map((l) => Number(l.dataset.id)));
  ok(JSON.stringify(mgGot) === JSON.stringify(mgWant), `leader: the micro-grid lists its units by urgency (${mgGot.length})`);
  ok((await page.locator('[data-testid="breadcrumbs"] a').count()) === 5, 'leader: town › area › group › village › grid › micro-grid');
  await page.locator('[data-testid="unit-list"] li').first().click();
  await page.waitForSelector('[data-testid="unit-card"]');
  ok((await text(page, 'unit-name')) === (await api(`/api/units/${mgWant[0]}`)).name, 'leader: the unit card opens from the list');
  ok(new URL(page.url()).searchParams.get('unit') === String(mgWant[0]), 'leader: the URL names the unit');
  await page.screenshot({ path: `${artifacts}/leader-micro-grid-1920x1080.png` });
  // Back to the village by its breadcrumb.
  await page.locator('[data-testid="breadcrumbs"] a').nth(3).click();
  await page.waitForFunction((n) => document.querySelector('[data-testid="region-name"]').innerText === n, village.name);
  // Any past day: the slider moves tiles and figures to that day's end.
  const days = (await api('/api/progress')).days.map((d) => d.date);
  const day = days[Math.floor(days.length / 3)];
  await page.evaluate((i) => { const s = document.querySelector('[data-testid="date-slider"]'); s.value = String(i); s.dispatchEvent(new Event('change')); }, days.indexOf(day));
  await page.waitForFunction((d) => location.search.includes(`at=${d}`), day);
  const past = await api(`/api/stats?region=${village.id}&at=${day}`);
  await page.waitForFunction((n) => document.querySelector('[data-testid="found"]').innerText === n, num(past.hazards.found), { timeout: 10000 });
  ok((await text(page, 'closure-rate')) === pct(past.hazards.closure_rate), `leader: the village on ${day} has that day's closure rate`);
  ok((await text(page, 'units')) === num(past.units.total), `leader: and that day's units`);
  // Back to today by the slider's end.
  await page.evaluate(() => { const s = document.querySelector('[data-testid="date-slider"]'); s.value = s.max; s.dispatchEvent(new Event('change')); });
  await page.waitForFunction(() => !location.search.includes('at='));
  // The town coloured by closure rate, with hexagons, from the URL.
  await page.goto(`${base}/?map=closure_rate&hex=1`);
  await page.waitForFunction(() => window.onemap && window.onemap.ready, null, { timeout: 60000 });
  await page.evaluate(() => new Promise((r) => { const m = window.onemap.map; if (m.loaded() && m.areTilesLoaded()) r(); else m.once('idle', r); }));
  const hexes = await page.evaluate(() => window.onemap.map.queryRenderedFeatures({ layers: ['hexes'] }).length);
  ok(hexes > 0, `leader: the H3 hexagons are drawn (${hexes})`);
  ok((await page.locator('[data-testid="children"] tr.child').count()) === 3, 'leader: the town lists its 3 areas');
  await page.screenshot({ path: `${artifacts}/leader-choropleth-1920x1080.png` });
  // A unit's card, from its URL.
  const villageUnits = (await api(`/api/regions/${village.id}/units`)).units;
  const someUnit = villageUnits.find((u) => u.open > 0) || villageUnits[0];
  await page.goto(`${base}/?region=${village.id}&unit=${someUnit.id}`);
  await page.waitForFunction(() => window.onemap && window.onemap.ready, null, { timeout: 60000 });
  await page.waitForSelector('[data-testid="unit-card"]', { timeout: 10000 });
  const card = await api(`/api/units/${someUnit.id}`);
  ok((await text(page, 'unit-name')) === card.name, 'leader: the unit card shows the unit');
  // Hazards are named from the server's checklist, the table the owners' notices use.
  const checklist = await api('/api/checklists');
  const zh = (key) => (checklist.items.find((i) => i.key === key) || { zh: key }).zh;
  const shown = await page.locator('[data-testid="hazards"] .hz-type').allInnerTexts();
  const wanted = [...card.hazards].sort((a, b) => (b.open - a.open) || (b.overdue_days - a.overdue_days)).map((h) => zh(h.hazard_type));
  ok(shown.length > 0 && JSON.stringify(shown) === JSON.stringify(wanted), `leader: the card names its ${shown.length} hazards from the checklist`);
  await page.screenshot({ path: `${artifacts}/leader-1920x1080.png` });
  ok(problems.length === 0, `leader: no console error or foreign request: ${problems.join('; ')}`);
  await context.close();
}

// ---- the grid worker: the list is the API's, a script in a name stays text ----
{
  const lonlat = (await api('/ogc/collections/units/items?limit=1&offset=100')).features[0].geometry.coordinates;
  const evil = '<img src=x onerror=alert(1)>';
  const reg = await post('/api/units', { kind: 'street_shop', name: evil, address: '<b>航坞路</b> 1号', owner_name: '周',
    owner_phone: '138****0000', location: lonlat, risk: 'blue' });
  const mg = reg.record.micro_grid;
  const { page, context, problems } = await open(`/grid/${mg}`, { width: 390, height: 844 });
  const want = (await api(`/api/regions/${mg}/units`)).units.map((u) => u.id);
  const got = await page.locator('[data-testid="unit-list"] li').evaluateAll((ls) => ls.map((l) => Number(l.dataset.id)));
  ok(JSON.stringify(got) === JSON.stringify(want), `grid: the list is the API's (${got.length} units)`);
  const names = await page.locator('.u-name').allInnerTexts();
  ok(names.includes(evil), 'grid: the script-in-a-name shows as text');
  ok((await page.locator('.unit-list img').count()) === 0, 'grid: no element made from a name');
  ok(await page.evaluate(() => !window.__xss), 'grid: nothing ran');
  await page.screenshot({ path: `${artifacts}/grid-390x844.png`, fullPage: false });
  await page.locator(`[data-testid="unit-list"] li[data-id="${reg.unit}"]`).click();
  await page.waitForSelector('[data-testid="unit-card"]');
  ok((await text(page, 'unit-name')) === evil, 'grid: the card shows the name as text');
  await page.screenshot({ path: `${artifacts}/grid-card-390x844.png` });
  ok(problems.length === 0, `grid: no console error, dialog or foreign request: ${problems.join('; ')}`);
  await context.close();

  // A grid worker of that micro-grid signs in on a phone and lands on it; the rest of
  // the town is not theirs to see.
  const worker = { name: 'browser-grid', password: (await post('/api/users', { name: 'browser-grid', role: 'grid_worker', scope: [mg] })).password };
  const mine = await open('/', { width: 390, height: 844 }, { form: worker });
  ok(new URL(mine.page.url()).pathname === `/grid/${mg}`, 'grid worker: opens on their own micro-grid');
  const got2 = await mine.page.locator('[data-testid="unit-list"] li').evaluateAll((ls) => ls.map((l) => Number(l.dataset.id)));
  ok(JSON.stringify(got2) === JSON.stringify(want), 'grid worker: their list is the API\'s');
  ok(mine.problems.length === 0, `grid worker: ${mine.problems.join('; ')}`);
  const elsewhere = (await api('/ogc/collections/units/items?limit=50')).features.map((x) => x.id).find((id) => !want.includes(id));
  const seen = await mine.page.evaluate(async ([m, u]) => ({
    town: await (await fetch('/api/regions/town')).json(),
    mine: (await fetch(`/api/regions/${m}`)).status,
    other: (await fetch(`/api/units/${u}`)).status,
    stats: await (await fetch('/api/stats')).json(),
  }), [mg, elsewhere]);
  ok(seen.other === 404 && seen.mine === 200, `grid worker: a unit elsewhere reads as 404, their micro-grid 200 (${seen.other}, ${seen.mine})`);
  ok(seen.town.figures.units === want.length && seen.town.children.length === 1, 'grid worker: the town shows only their units and the branch to them');
  ok(seen.stats.units.total === want.length, `grid worker: their figures count their units only (${seen.stats.units.total})`);
  await mine.page.screenshot({ path: `${artifacts}/grid-worker-390x844.png` });
  await mine.context.close();
}

// ---- field work on the phone: a visit with hazards, a photo and a signature; offline ----
{
  // A micro-grid with at least four units a grid worker can work.
  let mg = null;
  for (const f of (await api('/ogc/collections/units/items?limit=40&offset=300')).features) {
    const m = f.properties.micro_grid;
    if ((await api(`/api/regions/${m}/units`)).units.length >= 4) { mg = m; break; }
  }
  ok(mg !== null, 'field: a micro-grid with four units');
  const units = (await api(`/api/regions/${mg}/units`)).units.map((u) => u.id);
  const worker = { name: 'browser-field', password: (await post('/api/users', { name: 'browser-field', role: 'grid_worker', scope: [mg] })).password };
  const { page, context, problems } = await open('/', { width: 390, height: 844 }, { form: worker, touch: true });
  const history = async (u) => (await api(`/api/units/${u}/history`)).events;
  const openForm = async (u) => {
    await page.locator(`[data-testid="unit-list"] li[data-id="${u}"]`).click();
    await page.waitForSelector('[data-testid="record-visit"]');
    await page.locator('[data-testid="record-visit"]').click();
    await page.waitForSelector('[data-testid="visit-form"]');
  };
  const shot = (name) => page.screenshot({ path: `${artifacts}/field-${name}-390x844.png` });
  const [a, b, c, d] = units;
  const before = (await history(a)).length;
  await openForm(a);
  await shot('form');
  // Bad input: nothing chosen, a deadline stage without a deadline, a past deadline, no
  // signature with hazards, a file that is not an image — each named, nothing queued.
  await page.locator('[data-testid="save-visit"]').click();
  ok((await text(page, 'result-error')).length > 0, 'field: no pass and no hazard is refused in the page');
  await page.locator('[data-testid="result-hazards"]').check();
  await page.locator('[data-testid="add-hazard"]').click();
  const rows = page.locator('[data-testid="hazard-row"]');
  ok((await rows.count()) === 2, 'field: two hazard rows');
  await rows.nth(0).locator('[data-testid="hazard-type"]').selectOption('blocked_escape_route');
  await rows.nth(0).locator('[data-testid="severity"]').selectOption('major');
  await rows.nth(0).locator('[data-testid="stage"]').selectOption('deadline');
  await rows.nth(1).locator('[data-testid="hazard-type"]').selectOption('messy_wiring');
  await page.locator('[data-testid="save-visit"]').click();
  ok((await rows.nth(0).locator('.field-error').innerText()).length > 0, 'field: a deadline stage without a deadline is named on its row');
  await rows.nth(0).locator('[data-testid="deadline"]').fill('2020-01-01');
  await page.locator('[data-testid="save-visit"]').click();
  ok((await rows.nth(0).locator('.field-error').innerText()).length > 0, 'field: a past deadline is refused on its row');
  const due = new Date(Date.now() + 20 * 86400e3).toISOString().slice(0, 10);
  await rows.nth(0).locator('[data-testid="deadline"]').fill(due);
  await page.locator('[data-testid="save-visit"]').click();
  ok((await text(page, 'signature-error')).length > 0, 'field: hazards without a signature are refused');
  await page.locator('[data-testid="photos"]').setInputFiles({ name: 'notes.txt', mimeType: 'text/plain', buffer: Buffer.from('not a photo') });
  await page.waitForFunction(() => document.querySelector('[data-testid="photo-error"]').textContent.length > 0);
  ok(true, 'field: a file that is not an image is refused');
  await shot('bad-input');
  ok((await history(a)).length === before, 'field: nothing was sent by the refused saves');
  // A real JPEG, made by the browser (2400 px wide: the page makes it 1600).
  const jpeg = Buffer.from(await page.evaluate(() => {
    const cv = document.createElement('canvas'); cv.width = 2400; cv.height = 1800;
    const g = cv.getContext('2d'); g.fillStyle = '#c33'; g.fillRect(0, 0, 2400, 1800); g.fillStyle = '#fff'; g.fillRect(300, 300, 900, 600);
    return cv.toDataURL('image/jpeg', 0.9).split(',')[1];
  }), 'base64');
  await page.locator('[data-testid="photos"]').setInputFiles({ name: 'exit.jpg', mimeType: 'image/jpeg', buffer: jpeg });
  await page.waitForFunction(() => window.onemap.photosReady === 1);
  const box = await page.locator('[data-testid="signature"]').boundingBox();
  await page.mouse.move(box.x + 30, box.y + 100);
  await page.mouse.down();
  for (let i = 1; i <= 12; i += 1) await page.mouse.move(box.x + 30 + i * 22, box.y + 100 - 40 * Math.sin(i / 2), { steps: 2 });
  await page.mouse.up();
  await page.locator('[data-testid="visit-note"]').fill('后门堆放纸箱\n已当场要求清理');
  await shot('filled');
  // The command post's wall is open while the grid worker saves.
  const wall = await open(`/wall#token=${tokens.command}`, { width: 1920, height: 1080 });
  const aBefore = (await api(`/api/units/${a}`)).colour;
  const foundBefore = (await api('/api/stats')).hazards.found;
  const t0 = Date.now();
  await page.locator('[data-testid="save-visit"]').click();
  while ((await history(a)).length === before) {
    ok(Date.now() - t0 < 20000, 'field: the visit is sent within 20 s');
    await new Promise((r) => setTimeout(r, 200));
  }
  ok(await page.evaluate(() => window.onemap.queue.refused === 0), 'field: nothing refused');
  const card = await api(`/api/units/${a}`);
  const visit = card.inspections[card.inspections.length - 1];
  const found = card.hazards.filter((h) => h.inspection === visit.id);
  ok(found.length === 2 && found.some((h) => h.severity === "major" && h.deadline), `field: the visit's two hazards are on the card (${found.length})`);
  ok(visit.photos.length === 1 && visit.signature && visit.signature.startsWith('/api/attachments/'), 'field: its photo and signature are kept');
  ok(visit.note === '后门堆放纸箱 已当场要求清理', `field: and its note, on one line (${visit.note})`);
  const photo = await fetch(base + visit.photos[0], { headers: { authorization: `Bearer ${tokens.command}` } });
  const bytes = Buffer.from(await photo.arrayBuffer());
  ok(photo.headers.get('content-type') === 'image/jpeg' && bytes[0] === 0xff && bytes[1] === 0xd8, 'field: the photo is a JPEG');
  ok(bytes.readUInt16BE(bytes.indexOf(Buffer.from([0xff, 0xc0])) + 7) === 1600, 'field: shrunk to 1600 px on the phone');
  const events = (await history(a)).slice(before);
  ok(events.filter((e) => e.type === 'hazard_found').length === 1 && events.every((e) => e.by === 'browser-field'), 'field: one visit in the history, by the grid worker');
  // The open card catches up by itself once the visit has landed (the event stream).
  await page.waitForFunction((n) => document.querySelectorAll('[data-testid="hazards"] tbody tr').length === n, card.hazards.length, { timeout: 15000 });
  ok(true, 'field: the open card shows the visit once it landed');
  ok((await page.locator('[data-testid="signature-shown"]').count()) === 1, 'field: the card shows the signature with its visit');
  ok((await page.locator('.card .photos img').count()) === 1, 'field: and the photo once');
  ok((await text(page, 'visit-note-shown')) === visit.note, 'field: the card shows the note with its visit');
  // The open wall shows it without a reload: two more hazards found, the unit red.
  await wall.page.waitForFunction((n) => document.querySelector('[data-testid="found"]').innerText === n,
    num(foundBefore + 2), { timeout: 15000 });
  const statsNow = await api('/api/stats');
  await wall.page.waitForFunction((n) => document.querySelector('[data-testid="colour-red"]').innerText === n,
    num(statsNow.units.by_colour.red), { timeout: 15000 });
  ok((await api(`/api/units/${a}`)).colour === 'red' && aBefore !== 'red', `field: the open wall shows the visit: found ${num(foundBefore + 2)}, the unit red (was ${aBefore})`);
  await wall.page.screenshot({ path: `${artifacts}/field-wall-after-1920x1080.png` });
  ok(wall.problems.length === 0, `field wall: ${wall.problems.join('; ')}`);
  await wall.context.close();
  await shot('card-after');

  // Offline: three visits wait on the phone, then land once each; the last one's first
  // send is cut off after the server answered.
  // The cards once opened load offline (the service worker keeps them).
  await page.waitForFunction(() => navigator.serviceWorker.controller !== null, null, { timeout: 10000 });
  for (const u of [b, c, d]) {
    await page.evaluate(() => history.back());
    await page.locator(`[data-testid="unit-list"] li[data-id="${u}"]`).click();
    await page.waitForSelector('[data-testid="record-visit"]');
  }
  let cut = false;
  await context.route(new RegExp(`/api/units/${d}/(re)?inspections$`), async (route) => {
    if (cut) return route.continue();
    try { await route.fetch(); cut = true; } catch { /* offline */ }
    return route.abort('connectionreset');
  });
  await context.setOffline(true);
  for (const u of [b, c, d]) {
    await page.evaluate(() => history.back());
    await page.waitForSelector('[data-testid="unit-list"]');
    await openForm(u);
    await page.locator('[data-testid="result-pass"]').check();
    await page.locator('[data-testid="save-visit"]').click();
    await page.waitForSelector('[data-testid="unit-card"]');
  }
  await page.waitForFunction(() => window.onemap.queue && window.onemap.queue.waiting === 3);
  ok((await text(page, 'waiting')).startsWith('3'), 'field: offline, the page shows 3 waiting');
  await shot('offline-3-waiting');
  await context.setOffline(false);
  await page.waitForFunction(() => window.onemap.queue && window.onemap.queue.waiting === 0, null, { timeout: 30000 });
  await page.waitForFunction(() => window.onemap.queue.sent >= 4, null, { timeout: 30000 });
  ok(cut, 'field: one send was cut off after the server committed it');
  for (const u of [b, c, d]) {
    const visits = (await history(u)).filter((e) => e.type === 'inspection' && e.by === 'browser-field');
    ok(visits.length === 1, `field: unit ${u}'s offline visit landed once (${visits.length})`);
  }
  await shot('back-online');
  // The server's refusal in words, 403: a visit queued for a unit outside the worker's
  // micro-grid (their area changed while they were out) is refused, kept and explained.
  const outside = (await api('/ogc/collections/units/items?limit=50')).features.find((f) => f.properties.micro_grid !== mg).id;
  await page.evaluate(async (u) => {
    const o = await import('/static/outbox.js');
    await o.enqueue({ label: 'outside', unit: u, url: `/api/units/${u}/inspections`, body: { inspector: 'browser-field', result: 'pass' } });
  }, outside);
  await page.waitForSelector('[data-testid="refused"]', { timeout: 20000 });
  const refused403 = await text(page, 'refused');
  ok(refused403.includes('不在您的辖区') && refused403.includes('outside your scope'), `field: a 403 is shown in words (${refused403})`);
  ok((await history(outside)).every((e) => e.by !== 'browser-field'), 'field: and nothing was written there');
  await shot('refused-403');
  await page.locator('[data-testid="refused"] button').click();
  await page.waitForFunction(() => window.onemap.queue.refused === 0, null, { timeout: 10000 });
  const real = problems.filter((p) => !/ERR_INTERNET_DISCONNECTED|ERR_CONNECTION_RESET|Failed to load resource|EventSource/.test(p));
  ok(real.length === 0, `field: no console error but the network's: ${real.join('; ')}`);
  await context.close();

  // An inspector on the same micro-grid: a yellow card, then a hazard closed with a photo.
  const insp = await open(`/grid/${mg}`, { width: 390, height: 844 }, { form: users.inspector, touch: true });
  const ip = insp.page;
  const ishot = (name) => ip.screenshot({ path: `${artifacts}/inspector-${name}-390x844.png` });
  const major = found.find((h) => h.severity === 'major');
  const general = found.find((h) => h.severity !== 'major');
  await ip.locator(`[data-testid="unit-list"] li[data-id="${a}"]`).click();
  await ip.waitForSelector(`tr[data-hazard="${major.id}"]`);
  await ishot('card');
  await ip.locator(`tr[data-hazard="${major.id}"] + tr.hz-more [data-testid="yellow-card"]`).click();
  await ip.waitForSelector('[data-testid="confirm-box"]');
  await ip.locator('[data-testid="confirm"]').click();
  ok((await text(ip, 'action-error')).length > 0, 'inspector: a yellow card without a deadline is refused in the page');
  const newDue = new Date(Date.now() + 7 * 86400e3).toISOString().slice(0, 10);
  await ip.locator('[data-testid="yellow-deadline"]').fill(newDue);
  const what = await text(ip, 'what-happens');
  ok(what.includes(card.name) && what.includes(newDue), `inspector: the confirm step says what happens, to whom (${what})`);
  await ishot('yellow-card-confirm');
  await ip.locator('[data-testid="confirm"]').click();
  const waitFor = async (check, msg) => {
    const t1 = Date.now();
    for (;;) {
      if (await check()) { ok(true, msg); return; }
      ok(Date.now() - t1 < 20000, msg);
      await new Promise((r) => setTimeout(r, 200));
    }
  };
  const hazardNow = async (id) => (await api(`/api/units/${a}`)).hazards.find((h) => h.id === id);
  await waitFor(async () => (await hazardNow(major.id)).yellow_card_at !== null, 'inspector: the yellow card lands');
  ok((await hazardNow(major.id)).deadline.startsWith(new Date(`${newDue}T23:59:59+08:00`).toISOString().slice(0, 10)), 'inspector: with the new deadline');
  await ip.waitForSelector(`tr[data-hazard="${general.id}"] + tr.hz-more [data-testid="close-hazard"]`);
  await ip.locator(`tr[data-hazard="${general.id}"] + tr.hz-more [data-testid="close-hazard"]`).click();
  await ip.waitForSelector('[data-testid="confirm-box"]');
  await ip.locator('[data-testid="confirm"]').click();
  ok((await text(ip, 'action-error')).length > 0, 'inspector: a closure without a photo is refused in the page');
  await ip.locator('[data-testid="evidence-photo"]').setInputFiles({ name: 'fixed.jpg', mimeType: 'image/jpeg', buffer: jpeg });
  await ishot('close-confirm');
  await ip.locator('[data-testid="confirm"]').click();
  await waitFor(async () => (await hazardNow(general.id)).closed_at !== null, 'inspector: the closure lands');
  const closed = await hazardNow(general.id);
  ok(closed.evidence.startsWith('/api/attachments/'), `inspector: its evidence is the photo (${closed.evidence})`);
  const ev = await fetch(base + closed.evidence, { headers: { authorization: `Bearer ${tokens.command}` } });
  ok(ev.headers.get('content-type') === 'image/jpeg', 'inspector: the evidence is served back as a JPEG');
  await ip.waitForFunction((id) => !document.querySelector(`tr[data-hazard="${id}"] + tr.hz-more`), general.id, { timeout: 15000 });
  await ishot('after');
  // The unit's whole file: the closing evidence on the card, the history as the API has it.
  await ip.waitForSelector(`tr[data-hazard="${general.id}"] [data-testid="evidence-shown"] img`);
  ok(true, 'file: the card shows the closing evidence photo');
  ok((await ip.locator(`tr[data-hazard="${major.id}"] .hz-yc`).count()) === 1, 'file: and the yellow card on its hazard');
  await ip.locator('[data-testid="history"] summary').click();
  await ip.waitForSelector('[data-testid="history"] ol.events li');
  const logged = await history(a);
  const listed = await ip.locator('[data-testid="history"] ol.events li').evaluateAll((ls) => ls.map((l) => l.dataset.type));
  ok(JSON.stringify(listed) === JSON.stringify(logged.map((e) => e.type).reverse()),
    `file: the history lists the unit's events, newest first (${listed.join(',')})`);
  await ishot('history');
  // The server's refusal in words: the major hazard is closed from the office while the
  // inspector's close form is open; their closure is refused (409) and the page says so.
  await ip.locator(`tr[data-hazard="${major.id}"] + tr.hz-more [data-testid="close-hazard"]`).click();
  await ip.waitForSelector('[data-testid="confirm-box"]');
  await ip.locator('[data-testid="evidence-photo"]').setInputFiles({ name: 'fixed.jpg', mimeType: 'image/jpeg', buffer: jpeg });
  await post(`/api/hazards/${major.id}/close`, { evidence: 'closed from the office' });
  await ip.locator('[data-testid="confirm"]').click();
  await ip.waitForSelector('[data-testid="refused"]', { timeout: 20000 });
  const refusal = await text(ip, 'refused');
  ok(refusal.includes('已被处理') && refusal.includes('already closed'), `inspector: a 409 is shown in words (${refusal})`);
  ok(await ip.evaluate(() => window.onemap.queue.refused === 1 && window.onemap.queue.waiting === 0), 'inspector: refused, kept, not retried');
  await ishot('refused-409');
  ok(insp.problems.filter((p) => !/status of 409/.test(p)).length === 0, `inspector: ${insp.problems.join('; ')}`);
  await insp.context.close();

  // The worker's day: the inspector's units to go to, as /api/day lists them, nearest
  // first once the phone's position is allowed; a tap opens the card.
  const pos = { longitude: 120.47, latitude: 30.19 };
  const dy = await open('/day', { width: 390, height: 844 }, { as: 'inspector', touch: true, geo: pos });
  const dp = dy.page;
  const want = await api('/api/day?limit=200', {}, 'inspector');
  const ids = () => dp.locator('[data-testid="day-list"] li').evaluateAll((ls) => ls.map((l) => Number(l.dataset.id)));
  ok(want.units.length > 0 && JSON.stringify(await ids()) === JSON.stringify(want.units.map((u) => u.id)),
    `day: the list is /api/day's, most urgent first (${want.units.length})`);
  ok((await text(dp, 'count-overdue_yellow_card')) === num(want.counts.overdue_yellow_card), 'day: the overdue yellow cards counted as the API counts them');
  const top = want.units[0];
  const why = await dp.locator(`[data-testid="day-list"] li[data-id="${top.id}"] [data-reason]`).evaluateAll((ls) => ls.map((l) => l.dataset.reason));
  ok(JSON.stringify(why) === JSON.stringify(top.reasons), `day: the first unit shows its reasons (${why.join(',')})`);
  await dp.screenshot({ path: `${artifacts}/day-390x844.png` });
  await dp.locator('[data-testid="locate"]').click();
  const near = await api(`/api/day?limit=200&near=${pos.longitude},${pos.latitude}`, {}, 'inspector');
  await dp.waitForFunction(() => document.querySelectorAll('[data-testid="distance"]').length > 0, null, { timeout: 15000 });
  ok(JSON.stringify(await ids()) === JSON.stringify(near.units.map((u) => u.id)), 'day: with the position, the order is the API\'s nearest-first order');
  await dp.screenshot({ path: `${artifacts}/day-near-390x844.png` });
  const firstId = near.units[0].id;
  await dp.locator(`[data-testid="day-list"] li[data-id="${firstId}"]`).click();
  await dp.waitForSelector('[data-testid="unit-card"]');
  ok(Number(new URLSearchParams(new URL(dp.url()).search).get('unit')) === firstId, 'day: one tap opens the card');
  ok((await dp.locator('[data-testid="record-visit"]').count()) === 1, 'day: the card can record a visit');
  await dp.screenshot({ path: `${artifacts}/day-card-390x844.png` });
  ok(dy.problems.length === 0, `day: ${dy.problems.join('; ')}`);
  await dy.context.close();

  // Owners' fix reports: the inspector sends a link from the card; the owner, with no
  // account, sends a photo and a note through it; the inspector's day puts the unit
  // first, and the card closes the hazard on the report.
  const fixDue = new Date(Date.now() + 5 * 86400e3).toISOString();
  const fixVisit = await post(`/api/units/${b}/inspections`, { inspector: '浏览器测试', hazards: [{ category: 'fire',
    hazard_type: 'messy_wiring', severity: 'general', stage: 'deadline', deadline: fixDue }] });
  const fixHazard = fixVisit.record.hazards[0].id;
  const fx = await open(`/day?unit=${b}`, { width: 390, height: 844 }, { form: users.inspector, touch: true });
  const fp = fx.page;
  const fshot = async (name, box) => {
    if (box) await fp.locator('[data-testid="fix-box"]').scrollIntoViewIfNeeded();
    await fp.screenshot({ path: `${artifacts}/fix-${name}-390x844.png` });
  };
  await fp.waitForSelector('[data-testid="make-fix-link"]');
  await fp.locator('[data-testid="make-fix-link"]').click();
  await fp.waitForSelector('[data-testid="confirm-box"]');
  const linkWhat = await text(fp, 'what-happens');
  const bCard = await api(`/api/units/${b}`);
  ok(linkWhat.includes('14') && linkWhat.includes(bCard.owner_name || bCard.name), `fix: the confirm step says who gets the link (${linkWhat})`);
  await fshot('link-confirm');
  await fp.locator('[data-testid="confirm"]').click();
  await fp.waitForSelector('[data-testid="fix-link-url"]', { timeout: 20000 });
  const linkUrl = await fp.locator('[data-testid="fix-link-url"]').getAttribute('href');
  ok(/\/fix\/fx_[0-9a-f]{64}$/.test(linkUrl), `fix: the link is shown once it is made (${linkUrl})`);
  await fshot('link-made', true);
  ok((await api(`/api/units/${b}/fixes`, {}, 'inspector')).links.length === 1, 'fix: the unit has its link');

  // The owner's phone: no cookie, no account.
  const ownerCtx = await browser.newContext({ viewport: { width: 390, height: 844 }, deviceScaleFactor: 1, hasTouch: true, isMobile: true });
  const op = await ownerCtx.newPage();
  const ownerProblems = [];
  op.on('console', (m) => { if (m.type() === 'error') ownerProblems.push(m.text()); });
  op.on('pageerror', (e) => ownerProblems.push(e.message));
  await op.goto(linkUrl);
  await op.waitForSelector('[data-testid="owner-page"]', { timeout: 30000 });
  ok((await text(op, 'owner-unit')) === bCard.name, 'owner: the page names the unit');
  ok((await text(op, 'owner-hazards')).includes('电气线路'), `owner: and what must be fixed (${await text(op, 'owner-hazards')})`);
  await op.screenshot({ path: `${artifacts}/owner-390x844.png` });
  await op.locator('[data-testid="owner-send"]').click();
  ok((await text(op, 'owner-photo-error')).length > 0, 'owner: no photo is refused in the page, nothing sent');
  ok((await api(`/api/units/${b}/fixes`, {}, 'inspector')).reports.length === 0, 'owner: nothing was sent');
  await op.locator('[data-testid="owner-photos"]').setInputFiles({ name: 'fixed.jpg', mimeType: 'image/jpeg', buffer: jpeg });
  await op.locator('[data-testid="owner-note"]').fill('线路已重新布设，加装了线槽');
  await op.locator('[data-testid="owner-send"]').click();
  await op.waitForSelector('[data-testid="owner-sent"]', { timeout: 20000 });
  await op.screenshot({ path: `${artifacts}/owner-sent-390x844.png` });
  await op.setViewportSize({ width: 1920, height: 1080 });
  await op.screenshot({ path: `${artifacts}/owner-sent-1920x1080.png` });
  const sentReports = (await api(`/api/units/${b}/fixes`, {}, 'inspector')).reports;
  ok(sentReports.length === 1 && sentReports[0].status === 'waiting' && sentReports[0].photos.length === 1, 'owner: the report landed once, with its photo');
  const ownPhoto = await fetch(`${base}/api/attachments/${sentReports[0].photos[0]}`, { headers: { authorization: `Bearer ${tokens.inspector}` } });
  ok(ownPhoto.headers.get('content-type') === 'image/jpeg', 'owner: the photo is a JPEG (made small on the phone)');
  ok(ownerProblems.length === 0, `owner: ${ownerProblems.join('; ')}`);

  // The inspector's day puts the unit first; its card closes the hazard on the report.
  const dayNow = await api('/api/day?limit=5', {}, 'inspector');
  ok(dayNow.units[0].id === b && dayNow.units[0].reasons[0] === 'fix_reported', 'fix: the day lists the reported unit first');
  await fp.goto(`${base}/day`);
  await fp.waitForFunction(() => window.onemap && window.onemap.ready, null, { timeout: 60000 });
  const firstListed = await fp.locator('[data-testid="day-list"] li').first();
  ok(Number(await firstListed.getAttribute('data-id')) === b, 'fix: the day page lists it first');
  await fshot('day');
  await firstListed.click();
  await fp.waitForSelector('[data-testid="fix-report"][data-status="waiting"] [data-testid="accept-fix"]');
  await fshot('report-on-card', true);
  await fp.locator('[data-testid="accept-fix"]').click();
  await fp.waitForSelector('[data-testid="confirm-box"]');
  ok((await text(fp, 'what-happens')).includes(bCard.name), 'fix: closing on the report says what happens');
  await fshot('accept-confirm');
  await fp.locator('[data-testid="confirm"]').click();
  await fp.waitForSelector('[data-testid="fix-report"][data-status="accepted"]', { timeout: 20000 });
  const closedOnReport = (await api(`/api/units/${b}`)).hazards.find((h) => h.id === fixHazard);
  ok(closedOnReport.closed_at !== null, 'fix: the hazard is closed');
  ok((await api(`/api/units/${b}/fixes`, {}, 'inspector')).reports[0].status === 'accepted', 'fix: the report is accepted');
  const fixEvents = (await api(`/api/units/${b}/history`)).events.map((e) => e.type).filter((k) => k.startsWith('fix_') || k === 'hazard_closed');
  ok(JSON.stringify(fixEvents) === JSON.stringify(['fix_link_made', 'fix_reported', 'hazard_closed']), `fix: an event each (${fixEvents.join(',')})`);
  await fp.waitForSelector(`tr.hz-closed[data-hazard="${fixHazard}"]`, { timeout: 20000 });
  ok(true, 'fix: the open card shows the hazard closed once it has landed');
  await fshot('accepted', true);
  await fp.setViewportSize({ width: 1920, height: 1080 });
  await fp.locator('[data-testid="fix-box"]').scrollIntoViewIfNeeded();
  await fp.screenshot({ path: `${artifacts}/fix-accepted-1920x1080.png` });
  ok(fx.problems.length === 0, `fix: ${fx.problems.join('; ')}`);
  await fx.context.close();
  await ownerCtx.close();
}

// ---- the daily briefing: an A4 page that prints, with the leader's comment ----
{
  const date = '2022-07-20';
  const br = await api(`/api/briefing?date=${date}`, {}, 'leader');
  const { page, context, problems } = await open(`/briefing?date=${date}`, { width: 1920, height: 1080 }, { form: users.leader });
  ok((await text(page, 'briefing-title')).startsWith(br.region.name), `briefing: titled with the town (${br.region.name})`);
  ok((await page.locator('[data-testid="briefing-villages"] tbody tr').count()) === br.villages.length && br.villages.length === 74, 'briefing: every village ranked');
  ok((await page.locator('[data-testid="briefing-villages"] tbody tr').first().innerText()).includes(br.villages[0].name), `briefing: the first village first (${br.villages[0].name})`);
  ok((await page.locator('[data-testid="briefing-groups"] tbody tr').count()) === 12, 'briefing: the 12 groups against their targets');
  ok((await text(page, 'briefing-summary')).includes(pct(br.totals.closure_rate)), 'briefing: the closure rate in the summary');
  await page.screenshot({ path: `${artifacts}/briefing-1920x1080.png` });
  // The leader's comment, written in the page, is kept with that day's briefing.
  const said = '各村要对逾期隐患逐户过堂，周五前销号。';
  await page.locator('[data-testid="comment-input"]').fill(said);
  await page.locator('[data-testid="comment-save"]').click();
  await page.waitForFunction((s) => document.querySelector('[data-testid="comment-text"]').innerText.includes(s), said, { timeout: 15000 });
  ok((await api(`/api/briefing?date=${date}`, {}, 'command')).comment.text === said, 'briefing: the comment is kept with the day');
  ok((await api('/api/briefing?date=2022-07-21', {}, 'command')).comment === null, 'briefing: another day has its own (none)');
  // Printed to PDF (A4, print CSS) and read back as text.
  await page.emulateMedia({ media: 'print' });
  const pdf = `${artifacts}/briefing-${date}.pdf`;
  await page.pdf({ path: pdf, format: 'A4', printBackground: true });
  const { execFileSync } = await import('node:child_process');
  const printed = execFileSync('pdftotext', ['-layout', pdf, '-']).toString();
  ok(printed.includes(br.villages[0].name), `briefing PDF: the day's first village (${br.villages[0].name})`);
  ok(printed.includes(pct(br.totals.closure_rate)), `briefing PDF: the town's closure rate (${pct(br.totals.closure_rate)})`);
  ok(printed.includes(said), 'briefing PDF: the leader\'s comment');
  ok(!printed.includes('打印 / 存为 PDF'), 'briefing PDF: the page\'s buttons are not printed');
  await page.emulateMedia({ media: 'screen' });
  // Sent from the page: the demo server has no channels, so every group is named as without one.
  await page.locator('[data-testid="briefing-send"]').click();
  await page.waitForFunction(() => document.querySelector('[data-testid="briefing-sent"]').innerText.length > 0, null, { timeout: 15000 });
  ok((await text(page, 'briefing-sent')).includes('未配置渠道 12'), `briefing: sent, no group has a channel (${await text(page, 'briefing-sent')})`);
  await page.setViewportSize({ width: 390, height: 844 });
  await page.waitForTimeout(300);
  await page.screenshot({ path: `${artifacts}/briefing-390x844.png` });
  ok(problems.length === 0, `briefing: ${problems.join('; ')}`);
  await context.close();
}

// ---- English by the switch ----
{
  const { page, context, problems } = await open('/wall', { width: 1920, height: 1080 });
  await page.locator('button.lang:not(.sign-out)').click();
  await page.waitForFunction(() => window.onemap && window.onemap.ready && document.documentElement.lang === 'en', null, { timeout: 60000 });
  ok((await page.locator('header h1').innerText()).includes('one map'), 'lang: English title');
  await page.screenshot({ path: `${artifacts}/wall-english.png` });
  ok(problems.length === 0, `lang: ${problems.join('; ')}`);
  await context.close();
}

await browser.close();
process.stdin.destroy();
console.log(`browser: ${checks} checks passed; screenshots in ${artifacts}`);
