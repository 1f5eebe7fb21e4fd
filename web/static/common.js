// What every view shares: the language table, DOM building (text only, never HTML),
// number formats, badges and the legend, JSON fetching, and the connection to the
// server (live events, the "server unreachable" banner, reconnection).
import { STRINGS, timeZone } from './i18n.js';

export { timeZone };

export const COLOURS = {
  green: '#2e9e44', yellow: '#f2c200', orange: '#f07c00', red: '#d7191c',
  black: '#1b1b1b', uninspected: '#8c96a3',
};
/** Most urgent first: the order of legends and counts. */
export const ORDER = ['red', 'black', 'orange', 'yellow', 'uninspected', 'green'];

export let lang = localStorage.getItem('onemap.lang') === 'en' ? 'en' : 'zh';
export const t = () => STRINGS[lang];
/** What tests (and curious people) can look at: `window.onemap`. */
export const onemap = (window.onemap = { ready: false });

/** An element; children are nodes or text (strings become text nodes, never HTML). */
export function el(tag, attrs = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v == null || v === false) continue;
    if (k === 'class') e.className = v;
    else if (k.startsWith('on')) e.addEventListener(k.slice(2), v);
    else e.setAttribute(k, v === true ? '' : v);
  }
  for (const c of children.flat()) {
    if (c == null || c === false) continue;
    e.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return e;
}
/** `text` with each `{name}` replaced by `values[name]`. */
export const fill = (text, values) => text.replace(/\{(\w+)\}/g, (_, k) => values[k] ?? '');
/** Text as the server keeps it: one line (line breaks become spaces), trimmed. */
export const oneLine = (s) => s.replace(/\s+/g, ' ').trim();
export const pct = (x) => (x == null ? '–' : `${(x * 100).toFixed(1)}%`);
export const num = (x) => (x == null ? '–' : Number(x).toLocaleString(lang === 'zh' ? 'zh-CN' : 'en-US'));
/**
 * A count short enough for its box: exact below 100,000, then in 万 and 亿 (Chinese) or
 * k, M and B (English) with three or four significant digits — a province's 10,000,000
 * units are 1,000万 or 10M. The exact figure goes in the element's title (`figure`).
 */
export function big(x) {
  if (x == null) return '–';
  const n = Number(x);
  if (Math.abs(n) < 1e5) return num(n);
  const steps = lang === 'zh' ? [[1e8, '亿'], [1e4, '万']] : [[1e9, 'B'], [1e6, 'M'], [1e3, 'k']];
  const [d, unit] = steps.find(([step]) => Math.abs(n) >= step);
  const v = n / d;
  const digits = Math.abs(v) >= 1000 ? 0 : Math.abs(v) >= 100 ? 1 : 2;
  return `${Number(v.toFixed(digits)).toLocaleString(lang === 'zh' ? 'zh-CN' : 'en-US', { maximumFractionDigits: digits })}${unit}`;
}
/** Attributes of an element showing a count: the exact figure as title and `data-value`. */
export const exact = (x) => ({ title: num(x), 'data-value': x == null ? '' : String(x) });
const locale = () => (lang === 'zh' ? 'zh-CN' : 'en-GB');
/** A moment as the town's local date and time. */
export function localTime(iso) {
  if (!iso) return '–';
  return new Date(iso).toLocaleString(locale(), { timeZone: timeZone(), hour12: false,
    year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit' });
}
export function localDate(iso) {
  if (!iso) return '–';
  return new Date(iso).toLocaleDateString(locale(), { timeZone: timeZone(), year: 'numeric', month: '2-digit', day: '2-digit' });
}
export function clockTime(d) {
  return d.toLocaleTimeString(locale(), { timeZone: timeZone(), hour12: false });
}

/** A status badge: colour, a character and a word (colour is never the only cue). */
export function badge(colour) {
  if (!colour) return null;
  return el('span', { class: `badge c-${colour}`, title: t().colours[colour] },
    el('span', { class: 'mark' }, t().marks[colour] || '?'), t().colourShort[colour] || colour);
}
export function legend(extra) {
  return el('div', { class: 'legend', 'data-testid': 'legend' },
    el('div', { class: 'legend-title' }, t().legend),
    ...ORDER.map((c) => el('div', { class: 'legend-row' }, el('span', { class: `dot c-${c}` }, t().marks[c]),
      el('span', {}, t().colours[c]))),
    extra ? el('div', { class: 'legend-hint' }, extra) : null);
}
/** The header's corner: who is signed in, signing out, the language switch. */
export function langSwitch() {
  const who = onemap.session ? onemap.session.user.name : null;
  return el('span', { class: 'user-box' },
    who ? el('span', { class: 'user-name' }, who) : null,
    who && onemap.session.kind !== 'wall' ? el('button', { class: 'lang sign-out', type: 'button', onclick: async () => {
      await fetch('/api/session', { method: 'DELETE' });
      localStorage.removeItem('onemap.token');
      if (window.caches) await caches.delete('onemap-v1');
      location.reload();
    } }, t().signOut) : null,
    el('button', { class: 'lang', type: 'button', onclick: () => {
      localStorage.setItem('onemap.lang', lang === 'zh' ? 'en' : 'zh');
      location.reload();
    } }, t().lang));
}

/** Where the signed-in user's views start: `town`, or the region of their scope. */
export function home() {
  const h = onemap.session && onemap.session.home;
  return h && h.level !== 'town' ? h.id : 'town';
}

/** Raised when the server wants a sign-in (no token, or it expired or was revoked). */
export class SignInNeeded extends Error {}

// ---------- the connection ----------
const down = { stream: false, fetch: false };
function showBanner() {
  const b = document.getElementById('banner');
  if (!b) return;
  const on = down.stream || down.fetch;
  if (on) b.textContent = t().disconnected;
  b.hidden = !on;
  document.body.classList.toggle('offline', on);
}
/** JSON from our server; a network failure raises the banner until a fetch succeeds. */
export async function getJSON(url) {
  let r;
  try {
    r = await fetch(url, { headers: { Accept: 'application/json' } });
  } catch (e) {
    down.fetch = true;
    showBanner();
    throw e;
  }
  if (r.status >= 502) { down.fetch = true; showBanner(); } else if (down.fetch) { down.fetch = false; showBanner(); }
  if (r.status === 401) throw new SignInNeeded(url);
  if (!r.ok) throw new Error(`${url}: ${r.status}`);
  return r.json();
}

/**
 * Listens to the event stream (`region` narrows it). `onEvent` gets each event,
 * `onReconnect` is called when the stream comes back after a break (events may have
 * been missed by the figures: refresh everything). EventSource resends Last-Event-ID.
 */
export function live(region, onEvent, onReconnect) {
  const url = region ? `/api/events/stream?region=${encodeURIComponent(region)}` : '/api/events/stream';
  let es;
  let wasDown = false;
  const open = () => {
    es = new EventSource(url);
    es.onopen = () => {
      down.stream = false;
      showBanner();
      if (wasDown) { wasDown = false; onReconnect(); }
    };
    es.onmessage = (m) => {
      let ev;
      try { ev = JSON.parse(m.data); } catch (_) { return; }
      // New or redrawn places change the map's frame, labels and lists, which every
      // view reads once at load: load it again (the phone's queue is kept in IndexedDB).
      if (ev.type === 'regions_imported') { location.reload(); return; }
      onEvent(ev);
    };
    es.onerror = () => {
      wasDown = true;
      down.stream = true;
      showBanner();
      // EventSource retries by itself; if it gave up (the server answered an error),
      // open it anew a little later.
      if (es.readyState === EventSource.CLOSED) setTimeout(open, 3000);
    };
  };
  open();
  onemap.stream = () => es;
}

/**
 * Runs `fn` (async) after `ms` of quiet; never two at once; errors end in the banner
 * (set by getJSON), never as unhandled rejections.
 */
export function debounced(fn, ms) {
  let timer = null;
  let running = false;
  let again = false;
  const run = async () => {
    if (running) { again = true; return; }
    running = true;
    try { await fn(); } catch (e) { console.warn('refresh failed:', e.message || e); }
    running = false;
    if (again) { again = false; trigger(); }
  };
  const trigger = () => { clearTimeout(timer); timer = setTimeout(run, ms); };
  return trigger;
}
/** Refreshes by `trigger` every `seconds` too: the page stays right without events. */
export function every(seconds, trigger) {
  setInterval(trigger, seconds * 1000);
}
