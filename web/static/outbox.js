// The phone's queue of writes (IndexedDB, via idb-keyval): every write the page makes
// is kept here first, with its Idempotency-Key made when the user tapped save, and sent
// whenever the network allows — a few at once, each unit's in the order they were made. A write whose send was cut off (even after the
// server committed it) is sent again with the same key, so it lands exactly once. A
// write the server refuses (4xx) is kept, with the server's reason, until the user
// dismisses it: nothing is dropped silently.
//
// An entry: { seq, key, label, unit, files: [{ blob, kind, role }], url, body, state:
// 'waiting' | 'refused', error? }. Files are uploaded first (content-addressed, so a
// repeat stores nothing new); by their role (`photo`, `signature`, `evidence`) their hashes
// fill `photos`, `signature` or `evidence` in the body before it is sent.
import { get, set, createStore } from './vendor/idb-keyval.js';

const store = createStore('onemap', 'outbox');
const listeners = new Set();
let sending = false;
/** Writes this page has sent (and the server acknowledged). */
let sent = 0;
export const sentCount = () => sent;

/** The Bearer token writes need (the cookie serves reads only), kept from sign-in. */
export function token() { return localStorage.getItem('onemap.token'); }
export function setToken(t) { if (t) localStorage.setItem('onemap.token', t); else localStorage.removeItem('onemap.token'); }

async function all() { return (await get('entries', store)) || []; }
async function save(entries) { await set('entries', entries, store); listeners.forEach((f) => f(entries)); }
// Every change of the queue reads and writes it whole, one change at a time (sends run
// side by side, and a change lost to a race would send an answered write again).
let turn = Promise.resolve();
function update(f) {
  const next = turn.then(async () => { const entries = await f(await all()); await save(entries); return entries; });
  turn = next.catch(() => {});
  return next;
}

/** Calls `f(entries)` now and on every change. */
export async function watch(f) { listeners.add(f); f(await all()); }

/** Queues a write and starts sending. */
export async function enqueue(entry) {
  const key = entry.key || `${Date.now().toString(36)}-${crypto.randomUUID()}`;
  await update((entries) => {
    const seq = entries.reduce((m, e) => Math.max(m, e.seq), 0) + 1;
    return [...entries, { ...entry, seq, key, state: 'waiting' }];
  });
  send();
  return key;
}

/** Forgets a refused write (the user read why). */
export async function dismiss(seq) { await update((entries) => entries.filter((e) => e.seq !== seq)); }

class Refused extends Error {
  constructor(status, body) {
    const e = (body && body.error) || {};
    super(e.message || `HTTP ${status}`);
    this.status = status;
    this.field = e.field;
  }
}

async function call(method, url, key, body, type) {
  const headers = { 'Idempotency-Key': key, Accept: 'application/json', Authorization: `Bearer ${token() || ''}` };
  if (type) headers['Content-Type'] = type;
  const r = await fetch(url, { method, headers, body });
  const answer = await r.json().catch(() => null);
  if (r.status === 401) throw Object.assign(new Error('sign in again'), { signIn: true });
  if (r.status >= 400 && r.status < 500 && r.status !== 408 && r.status !== 429) throw new Refused(r.status, answer);
  if (!r.ok) throw new Error(`HTTP ${r.status}`);
  return answer;
}

async function sendOne(e) {
  const body = { ...e.body };
  for (const [i, f] of (e.files || []).entries()) {
    const a = await call('POST', `/api/units/${e.unit}/attachments?kind=${f.kind}`, `${e.key}-file-${i}`, f.blob, f.blob.type || 'application/octet-stream');
    if (f.role === 'photo') body.photos = [...(body.photos || []), a.record.hash];
    else if (f.role === 'signature') body.signature = a.record.hash;
    else if (f.role === 'evidence') body.evidence = a.record.url;
  }
  return call('POST', e.url, e.key, JSON.stringify(body), 'application/json');
}

/** How many writes go at once: a round trip on 3G is 150 ms or more, one at a time is slow. */
const AT_ONCE = 4;

/**
 * The next write that may go: the oldest waiting one not in flight whose unit has no
 * older write still waiting, so each unit's writes land in the order they were made.
 */
function nextOf(entries, flying, done) {
  const held = new Set();
  for (const e of entries) {
    if (e.state !== 'waiting' || done.has(e.seq)) continue;
    if (!flying.has(e.seq) && !held.has(e.unit)) return e;
    held.add(e.unit);
  }
  return null;
}

/**
 * Sends every waiting write, oldest first, up to AT_ONCE side by side (one unit's in
 * order); stops when one cannot go yet (no network, the server away, a sign-in needed).
 */
export async function send() {
  if (sending) return;
  sending = true;
  const flying = new Set();
  // Sent or refused in this round: a copy of the queue read before it changed still
  // holds them.
  const done = new Set();
  let stopped = false;
  const worker = async () => {
    while (!stopped) {
      const next = nextOf(await all(), flying, done);
      if (!next) return;
      flying.add(next.seq);
      try {
        const answer = await sendOne(next);
        sent += 1;
        done.add(next.seq);
        await update((entries) => entries.filter((e) => e.seq !== next.seq));
        // The page may want what the server answered (a fix link's token, shown once).
        window.dispatchEvent(new CustomEvent('onemap:written', { detail: { entry: next, answer } }));
      } catch (err) {
        if (err instanceof Refused) {
          done.add(next.seq);
          await update((entries) => entries.map((e) => (e.seq === next.seq ? { ...e, state: 'refused', error: err.message, status: err.status, field: err.field } : e)));
        } else {
          stopped = true;
          listeners.forEach((f) => f(null, err));
        }
      } finally {
        flying.delete(next.seq);
      }
    }
  };
  try {
    await Promise.all(Array.from({ length: AT_ONCE }, worker));
  } finally {
    sending = false;
  }
  // A write queued while the last sends finished goes now, not at the next tick.
  if (!stopped && nextOf(await all(), flying, done)) send();
}

window.addEventListener('online', () => send());
setInterval(() => { if (navigator.onLine) send(); }, 5000);
