// The page's service worker: the phone keeps working without a network. Every GET of
// the page, its files, MapLibre, tiles and the API's reads (cards, lists, the day, the
// checklist, figures) goes to the network first and is kept; without a network the kept
// copy answers, so the page, the worker's area once seen and the cards once opened load
// offline. Writes are never touched here: the page queues them itself (outbox.js). The
// event stream is left alone. Signing out empties the cache (common.js).
const CACHE = 'onemap-v1';

self.addEventListener('install', () => self.skipWaiting());
self.addEventListener('activate', (e) => e.waitUntil(self.clients.claim()));

function kept(url) {
  if (url.origin !== self.location.origin) return false;
  const p = url.pathname;
  if (p === '/api/events/stream') return false;
  return p === '/' || p === '/wall' || p.startsWith('/grid') || p.startsWith('/static/')
    || p.startsWith('/tiles/') || p.startsWith('/api/');
}

self.addEventListener('fetch', (e) => {
  const req = e.request;
  if (req.method !== 'GET') return;
  const url = new URL(req.url);
  if (!kept(url)) return;
  e.respondWith((async () => {
    const cache = await caches.open(CACHE);
    try {
      const resp = await fetch(req);
      if (resp.ok) cache.put(req, resp.clone());
      return resp;
    } catch (err) {
      const hit = await cache.match(req);
      if (hit) return hit;
      throw err;
    }
  })());
});
