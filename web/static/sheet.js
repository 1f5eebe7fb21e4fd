// The unit's card as a sheet over a page (the grid worker's view and the worker's day):
// it opens from a list or the map, pushes `?unit=ID` so the back button closes it, and
// for inspectors and grid workers carries the record-visit and inspector actions, each
// of which replaces the card with its form and comes back to the card (refreshed).
import { el, t, onemap } from './common.js';
import { loadCard, unitCard, named } from './card.js';
import { fixBox } from './fixes.js';
import { visitForm } from './visit.js';
import { rectifies, hazardButtons, suspensionForm } from './actions.js';

/** Whether the signed-in user records visits (inspectors and grid workers). */
export const inspects = () => ['inspector', 'grid_worker'].includes(onemap.session.user.role);

/**
 * A sheet in `sheet` (an element); `written()` is called when a write was queued. Returns
 * `{ open(unit, push), close(), shown() }`.
 */
export function cardSheet(sheet, written) {
  // The unit whose card is shown (null while a form or nothing is).
  let shown = null;
  const open = async (unit, push) => {
    if (push) history.pushState({ unit }, '', `?unit=${encodeURIComponent(unit)}`);
    let c;
    try { c = await loadCard(unit); } catch (e) { console.warn('card:', e.message || e); return; }
    const keep = shown === unit ? sheet.scrollTop : 0;
    // A form in place of the card; back to the card (refreshed) when it is done.
    const show = (make) => {
      shown = null;
      sheet.replaceChildren(make((queued) => {
        if (queued) written();
        open(unit, false).catch((e) => console.warn(e.message));
      }));
      sheet.scrollTop = 0;
    };
    const record = inspects() ? el('button', { type: 'button', 'data-testid': 'record-visit',
      onclick: () => show((done) => visitForm(c, done)) }, t().visit.record) : null;
    const suspend = rectifies() ? el('button', { type: 'button', class: 'secondary', 'data-testid': c.suspended ? 'resume' : 'suspend',
      onclick: () => show((done) => suspensionForm(c, done)) }, c.suspended ? t().actions.resume : t().actions.suspend) : null;
    const fixes = rectifies() ? fixBox(c, (key) => named('items', key), show) : null;
    sheet.replaceChildren(unitCard(c, () => history.back(), [record, suspend].filter(Boolean),
      (h, typeName) => hazardButtons(c, h, typeName, show), fixes));
    sheet.hidden = false;
    sheet.scrollTop = keep;
    shown = unit;
  };
  const close = () => { shown = null; sheet.hidden = true; sheet.replaceChildren(); };
  window.addEventListener('popstate', () => {
    const u = new URLSearchParams(location.search).get('unit');
    if (u) open(u, false).catch((e) => console.warn(e.message)); else close();
  });
  return { open, close, shown: () => shown };
}
