// onemap's page: the wall (/wall), the leadership click-through (/), the grid worker's
// view (/grid/{micro_grid_id}), the worker's day (/day) and the owner's fix report
// (/fix/{token}, no account). Plain ES modules, no framework, no build step.
// Every string shown comes from i18n.js; every name or address from the server is set
// as text (textContent), never as HTML.
//
// Signing in: the page asks `GET /api/session`; without a session it shows the sign-in
// form, whose `POST /api/session` sets the HttpOnly cookie every later request (JSON,
// tiles, the event stream, photos) carries. A wall screen opens `/wall#token=…` once:
// the token is exchanged for the cookie and removed from the address bar.
import { el, t, lang, onemap, langSwitch, getJSON, SignInNeeded } from './common.js';
import { setToken } from './outbox.js';
import { setTown } from './i18n.js';
import { loadConfig } from './map.js';
import { wall } from './wall.js';
import { leader } from './leader.js';
import { grid } from './grid.js';
import { day } from './day.js';
import { briefing } from './briefing.js';
import { owner } from './owner.js';

async function session() {
  const hash = new URLSearchParams(location.hash.slice(1));
  const token = hash.get('token');
  if (token) {
    history.replaceState(null, '', location.pathname + location.search);
    await fetch('/api/session', {
      method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ token }),
    });
  }
  const r = await fetch('/api/session', { headers: { Accept: 'application/json' } });
  if (r.status === 401) return null;
  if (!r.ok) throw new Error(`/api/session: ${r.status}`);
  return r.json();
}

function signInForm(app) {
  document.body.className = 'signin-page';
  const name = el('input', { name: 'name', autocomplete: 'username', required: true, autofocus: true });
  const password = el('input', { name: 'password', type: 'password', autocomplete: 'current-password', required: true });
  const error = el('p', { class: 'error', role: 'alert' });
  const submit = el('button', { type: 'submit' }, t().signIn);
  const form = el('form', {},
    langSwitch(),
    el('h1', {}, el('span', { class: 'brand-mark' }, '安'), t().title),
    el('label', {}, t().userName, name),
    el('label', {}, t().password, password),
    error, submit);
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    submit.disabled = true;
    error.textContent = '';
    try {
      const r = await fetch('/api/session', {
        method: 'POST', headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ name: name.value, password: password.value }),
      });
      if (r.ok) {
        // Writes carry the token (the cookie serves reads only); the phone keeps it for
        // the writes it queues while offline.
        setToken((await r.json()).token);
        start();
        return;
      }
      if (r.status === 429) error.textContent = t().locked + (r.headers.get('Retry-After') || '');
      else if (r.status === 401) error.textContent = t().wrongPassword;
      else error.textContent = t().signInFailed;
    } catch (e) {
      error.textContent = t().signInFailed;
    }
    submit.disabled = false;
    password.value = '';
    password.focus();
  });
  app.replaceChildren(el('div', { class: 'signin' }, form));
  onemap.signIn = true;
}

let tries = 0;
async function start() {
  document.documentElement.lang = lang === 'zh' ? 'zh-CN' : 'en';
  // The titles carry the store's own town name (offline: the one seen last).
  try { const c = await loadConfig(); setTown(c.town, c.time_zone); } catch (_) { /* offline */ }
  document.title = t().title;
  const app = document.getElementById('app');
  app.replaceChildren(el('div', { class: 'loading' }, t().loading));
  const path = location.pathname;
  // The owner's page needs no account: its link is its key.
  if (path.startsWith('/fix/')) { await owner(app, decodeURIComponent(path.slice(5))); return; }
  try {
    const s = await session();
    if (!s) { signInForm(app); return; }
    onemap.session = s;
    onemap.signIn = false;
    // The hazard types' names, held on the server (the card names hazards with them).
    if (!onemap.checklists) onemap.checklists = await getJSON('/api/checklists');
    const home = s.home;
    // A grid worker's page is their own micro-grid.
    const ownGrid = home.level === 'micro_grid' ? `/grid/${encodeURIComponent(home.id)}` : null;
    if ((path === '/grid' || path === '/grid/' || (path === '/' && s.user.role === 'grid_worker')) && ownGrid) {
      history.replaceState(null, '', ownGrid);
      await grid(app, home.id);
    } else if (path === '/wall') await wall(app);
    else if (path === '/day') await day(app);
    else if (path === '/briefing') await briefing(app);
    else if (path.startsWith('/grid/')) await grid(app, decodeURIComponent(path.slice(6)));
    else await leader(app);
  } catch (e) {
    if (e instanceof SignInNeeded) {
      if (onemap.map) { onemap.map.remove(); onemap.map = null; }
      signInForm(app);
      return;
    }
    // The server is down or restarting: the banner is up (common.js); try again.
    console.warn('start failed:', e.message || e);
    if (onemap.map) { onemap.map.remove(); onemap.map = null; }
    tries += 1;
    setTimeout(start, Math.min(10000, 1000 * 2 ** Math.min(tries, 4)));
  }
}
// The service worker keeps the page, its files and what was read working offline.
if ('serviceWorker' in navigator) navigator.serviceWorker.register('/sw.js').catch((e) => console.warn('service worker:', e.message));
start();
