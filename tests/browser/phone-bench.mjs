// The worker's page on a phone's network, measured (run by scripts/bench-phone, which
// starts the release demo and passes its URL, the inspector's name and password and the
// number of runs). Chromium's own throttling: 1.6 Mbps down, 750 kbps up, 150 ms round
// trip, 4× CPU slowdown, at 390×844 with touch. Prints each run, then medians and worst.
import { launch } from './chromium.mjs';

const [base, name, password, runsArg] = process.argv.slice(2);
const runs = Number(runsArg || 5);
const FAST_3G = { offline: false, latency: 150, downloadThroughput: 1.6e6 / 8, uploadThroughput: 750e3 / 8 };
const OFFLINE = { ...FAST_3G, offline: true };

const browser = await launch();
const signIn = await fetch(`${base}/api/session`, {
  method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name, password }),
});
if (!signIn.ok) throw new Error(`sign in: ${signIn.status}`);
const { token } = await signIn.json();

const ready = (page) => page.waitForFunction(() => window.onemap && window.onemap.ready, null, { timeout: 180000 });
const until = async (page, f, arg) => page.waitForFunction(f, arg, { timeout: 180000, polling: 20 });

/** One run: a fresh phone (empty cache, no service worker). */
async function run() {
  const context = await browser.newContext({ viewport: { width: 390, height: 844 }, deviceScaleFactor: 1, hasTouch: true, isMobile: true });
  await context.addCookies([{ name: 'onemap_token', value: token, url: base }]);
  await context.addInitScript((t) => localStorage.setItem('onemap.token', t), token);
  const page = await context.newPage();
  const cdp = await context.newCDPSession(page);
  await cdp.send('Network.enable');
  await cdp.send('Network.emulateNetworkConditions', FAST_3G);
  await cdp.send('Emulation.setCPUThrottlingRate', { rate: 4 });
  // Until the list can be tapped (`onemap.interactive`), and until the map has drawn too.
  const load = async () => {
    const t0 = performance.now();
    await page.goto(`${base}/day`);
    await page.waitForFunction(() => window.onemap && window.onemap.interactive, null, { timeout: 180000, polling: 20 });
    const interactive = performance.now() - t0;
    await ready(page);
    return [interactive, performance.now() - t0];
  };
  const out = {};
  [out.cold, out.coldMap] = await load();
  await until(page, () => navigator.serviceWorker.controller !== null);
  // Once through the worker (it keeps what it fetches), then from it alone, the phone
  // without a signal: Chromium's per-page throttling does not reach the worker's own
  // fetches, so the kept load is measured offline, where nothing can come from the network.
  await load();
  await context.setOffline(true);
  [out.kept, out.keptMap] = await load();
  await context.setOffline(false);
  await cdp.send('Network.emulateNetworkConditions', FAST_3G);
  await load();

  // A visit with two photos, from the tap on save until the server has it.
  const jpeg = Buffer.from(await page.evaluate(() => {
    const cv = document.createElement('canvas'); cv.width = 2400; cv.height = 1800;
    const g = cv.getContext('2d');
    for (let i = 0; i < 60; i += 1) { g.fillStyle = `hsl(${i * 6}, 60%, 50%)`; g.fillRect((i % 10) * 240, Math.floor(i / 10) * 300, 240, 300); }
    return cv.toDataURL('image/jpeg', 0.9).split(',')[1];
  }), 'base64');
  await page.locator('[data-testid="day-list"] li').first().click();
  await page.waitForSelector('[data-testid="record-visit"]');
  await page.locator('[data-testid="record-visit"]').click();
  await page.waitForSelector('[data-testid="visit-form"]');
  await page.locator('[data-testid="result-pass"]').check();
  await page.locator('[data-testid="photos"]').setInputFiles([
    { name: 'a.jpg', mimeType: 'image/jpeg', buffer: jpeg }, { name: 'b.jpg', mimeType: 'image/jpeg', buffer: jpeg }]);
  await until(page, () => window.onemap.photosReady === 2);
  const sentBefore = await page.evaluate(() => (window.onemap.queue || {}).sent || 0);
  let t0 = performance.now();
  await page.locator('[data-testid="save-visit"]').click();
  await until(page, (n) => window.onemap.queue && window.onemap.queue.waiting === 0 && window.onemap.queue.sent > n, sentBefore);
  out.visit = performance.now() - t0;

  // Fifty writes queued without a network, then the network returns.
  const units = await page.evaluate(async () => (await (await fetch('/api/day?limit=50')).json()).units.map((u) => u.id));
  const seq0 = await page.evaluate(async () => (await (await fetch('/api/events?limit=1')).json()).last_seq);
  await cdp.send('Network.emulateNetworkConditions', OFFLINE);
  await page.evaluate(async (ids) => {
    const o = await import('/static/outbox.js');
    for (let i = 0; i < 50; i += 1) {
      const u = ids[i % ids.length];
      await o.enqueue({ label: 'bench', unit: u, url: `/api/units/${u}/inspections`, body: { inspector: 'bench', result: 'pass', at: new Date().toISOString() } });
    }
  }, units);
  await until(page, () => window.onemap.queue && window.onemap.queue.waiting === 50);
  t0 = performance.now();
  await cdp.send('Network.emulateNetworkConditions', FAST_3G);
  await until(page, () => window.onemap.queue.waiting === 0);
  out.replay = performance.now() - t0;
  out.refused = await page.evaluate(() => window.onemap.queue.refused);
  // Each landed once: the log holds fifty visits by this user since the queue was made.
  out.landed = await page.evaluate(async ([after, who]) => {
    const page = await (await fetch(`/api/events?after=${after}&limit=1000`)).json();
    return page.events.filter((e) => e.type === 'inspection' && e.by === who && e.after && e.after.inspection && e.after.inspection.inspector === 'bench').length;
  }, [seq0, name]);
  if (out.landed !== 50) throw new Error(`${out.landed} of the 50 queued writes landed`);
  await context.close();
  return out;
}

const results = [];
for (let i = 0; i < runs; i += 1) {
  const r = await run();
  results.push(r);
  console.log(`run ${i + 1}: cold ${r.cold.toFixed(0)} ms (map drawn ${r.coldMap.toFixed(0)}) · kept ${r.kept.toFixed(0)} ms (map drawn ${r.keptMap.toFixed(0)}) · visit ${r.visit.toFixed(0)} ms · 50 replayed ${r.replay.toFixed(0)} ms (refused ${r.refused}, landed ${r.landed})`);
}
const median = (xs) => { const s = [...xs].sort((a, b) => a - b); return s[Math.floor(s.length / 2)]; };
for (const [k, budget] of [['cold', 3000], ['coldMap', null], ['kept', 1000], ['keptMap', null], ['visit', 2000], ['replay', 10000]]) {
  const xs = results.map((r) => r[k]);
  console.log(`${k}: median ${median(xs).toFixed(0)} ms, worst ${Math.max(...xs).toFixed(0)} ms${budget ? ` (budget ${budget} ms)` : ''}`);
}
await browser.close();
