// onemap's page: the wall (/wall), the leadership click-through (/) and the grid
// worker's view (/grid/{micro_grid_id}). Plain ES modules, no framework, no build step.
// Every string shown comes from i18n.js; every name or address from the server is set
// as text (textContent), never as HTML.
import { el, t, lang, onemap } from './common.js';
import { wall } from './wall.js';
import { leader } from './leader.js';
import { grid } from './grid.js';

let tries = 0;
async function start() {
  document.documentElement.lang = lang === 'zh' ? 'zh-CN' : 'en';
  document.title = t().title;
  const app = document.getElementById('app');
  app.replaceChildren(el('div', { class: 'loading' }, t().loading));
  const path = location.pathname;
  try {
    if (path === '/wall') await wall(app);
    else if (path.startsWith('/grid/')) await grid(app, decodeURIComponent(path.slice(6)));
    else await leader(app);
  } catch (e) {
    // The server is down or restarting: the banner is up (common.js); try again.
    console.warn('start failed:', e.message || e);
    if (onemap.map) { onemap.map.remove(); onemap.map = null; }
    tries += 1;
    setTimeout(start, Math.min(10000, 1000 * 2 ** Math.min(tries, 4)));
  }
}
start();
