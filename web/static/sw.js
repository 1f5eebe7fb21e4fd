// The page's service worker: the phone keeps working without a network. Every GET of
// the page, its files, MapLibre, tiles and the API's reads (cards, lists, the day, the
// checklist, figures) is kept; without a network the kept copy answers, so the page, the
// worker's area once seen and the cards once opened load offline. Writes are never touched here: the page queues them itself (outbox.js). The
// event stream is left alone. Signing out empties the cache (common.js).
const CACHE = 'onemap-v1';

self.addEventListener('install', () => self.skipWaiting());
self.addEventListener('activate', (e) => e.waitUntil(self.clients.claim()));

function kept(url) {
  if (url.origin !== self.location.origin) return false;
  const p = url.pathname;
  if (p === '/api/events/stream') return false;
  return p === '/' || p === '/wall' || p === '/day' || p === '/briefing' || p.startsWith('/grid') || p.startsWith('/static/')
    || p.startsWith('/tiles/') || p.startsWith('/api/');
}

// The page's own files (the shell and /static/) answer from the kept copy at once and are
// revalidated behind it (a 304 while the server is the same build): on a slow network
// the page opens in a moment, and a new version is in use from the next load. Reads of
// data (the API, tiles) go to the network first, so what is shown is fresh when it can be.
const shell = (url) => url.pathname.startsWith('/static/') || url.pathname === '/' || url.pathname === '/wall'
  || url.pathname === '/day' || url.pathname === '/briefing' || url.pathname.startsWith('/grid');

self.addEventListener('fetch', (e) => {
  const req = e.request;
  if (req.method !== 'GET') return;
  const url = new URL(req.url);
  if (!kept(url)) return;
  e.respondWith((async () => {
    const cache = await caches.open(CACHE);
    const fresh = fetch(req).then((resp) => {
      if (resp.ok) cache.put(req, resp.clone());
      return resp;
    });
    if (shell(url)) {
      const hit = await cache.match(req);
      if (hit) {
        e.waitUntil(fresh.catch(() => {}));
        return hit;
      }
    }
    try {
      return await fresh;
    } catch (err) {
      const hit = await cache.match(req);
      if (hit) return hit;
      throw err;
    }
  })());
});
