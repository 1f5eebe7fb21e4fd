// An inspector's actions on a unit's card: a yellow card (黄牌) with a new deadline, a
// hazard closed (销号) with a photo of the fix as evidence, a suspension order (停业整改)
// and its lifting; an owner's fix link (整改反馈) made or revoked, and an owner's report
// closing a hazard or returned with a reason. Each asks to confirm in words that say what will happen and to whom,
// then goes to the phone's queue (outbox.js) like every write.
import { el, t, onemap, localDate, oneLine, fill, timeZone } from './common.js';
import { enqueue } from './outbox.js';
import { shrink } from './photo.js';

/** Whether the signed-in user may card, close and suspend (inspectors). */
export const rectifies = () => onemap.session && onemap.session.user.role === 'inspector';


/** A confirm step: `what` says what will happen; `ok()` queues the write. */
export function confirmBox(what, fields, ok, done) {
  const a = t().actions;
  const error = el('div', { class: 'field-error', role: 'alert', 'data-testid': 'action-error' });
  const go = el('button', { type: 'submit', 'data-testid': 'confirm' }, a.confirm);
  const form = el('form', { class: 'visit-form confirm-box', 'data-testid': 'confirm-box', novalidate: true },
    ...fields, el('p', { class: 'what', 'data-testid': 'what-happens' }, what()), error,
    el('div', { class: 'actions' }, go, el('button', { type: 'button', class: 'secondary', onclick: () => done(false) }, a.cancel)));
  form.addEventListener('input', () => { form.querySelector('.what').textContent = what(); error.textContent = ''; });
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    error.textContent = '';
    const problem = await ok();
    if (problem) { error.textContent = problem; return; }
    go.disabled = true;
    done(true);
  });
  return form;
}

/** The end of `date` (YYYY-MM-DD) in the town, or null if it is not ahead. */
function endOf(date) {
  if (!date) return null;
  const end = new Date(`${date}T23:59:59${timeZone()}`);
  return end > new Date() ? end : null;
}

/** A yellow card for hazard `h` of `card`. */
export function yellowCardForm(card, h, typeName, done) {
  const a = t().actions;
  const date = el('input', { type: 'date', name: 'deadline', 'data-testid': 'yellow-deadline' });
  return confirmBox(
    () => fill(a.yellowWhat, { owner: card.owner_name || card.name, unit: card.name, type: typeName, date: date.value || '…' }),
    [el('h3', {}, `${a.yellowCard} · ${typeName}`), el('label', {}, a.newDeadline, date)],
    async () => {
      const end = endOf(date.value);
      if (!end) return a.needFutureDeadline;
      await enqueue({ label: `${a.yellowCard} · ${card.name}`, unit: card.id, url: `/api/hazards/${h.id}/yellow-card`,
        body: { deadline: end.toISOString(), at: new Date().toISOString() } });
      return null;
    }, done);
}

/** Hazard `h` of `card` closed with a photo of the fix. */
export function closeForm(card, h, typeName, done) {
  const a = t().actions;
  const photo = el('input', { type: 'file', accept: 'image/*', capture: 'environment', 'data-testid': 'evidence-photo' });
  return confirmBox(
    () => fill(a.closeWhat, { unit: card.name, type: typeName }),
    [el('h3', {}, `${a.close} · ${typeName}`), el('label', {}, a.evidence, photo)],
    async () => {
      const f = photo.files[0];
      if (!f) return a.needEvidence;
      if (!f.type.startsWith('image/')) return `${f.name}: ${t().visit.notImage}`;
      let blob;
      try { blob = await shrink(f); } catch { return `${f.name}: ${t().visit.notImage}`; }
      await enqueue({ label: `${a.close} · ${card.name}`, unit: card.id, url: `/api/hazards/${h.id}/close`,
        body: { at: new Date().toISOString() }, files: [{ blob, kind: 'photo', role: 'evidence' }] });
      return null;
    }, done);
}

/** A suspension order for `card`'s unit, or its lifting when one is in force. */
export function suspensionForm(card, done) {
  const a = t().actions;
  const lift = card.suspended;
  return confirmBox(
    () => fill(lift ? a.resumeWhat : a.suspendWhat, { unit: card.name, owner: card.owner_name || card.name }),
    [el('h3', {}, `${lift ? a.resume : a.suspend} · ${card.name}`)],
    async () => {
      await enqueue({ label: `${lift ? a.resume : a.suspend} · ${card.name}`, unit: card.id,
        url: `/api/units/${card.id}/${lift ? 'resume' : 'suspend'}`, body: { at: new Date().toISOString() } });
      return null;
    }, done);
}

/** The buttons under an open hazard's row. */
export function hazardButtons(card, h, typeName, show) {
  if (!rectifies() || !h.open) return null;
  return el('div', { class: 'hz-actions' },
    el('button', { type: 'button', class: 'secondary', 'data-testid': 'yellow-card', onclick: () => show((done) => yellowCardForm(card, h, typeName, done)) },
      `${t().actions.yellowCard}${h.yellow_card_at ? ` (${localDate(h.yellow_card_at)})` : ''}`),
    el('button', { type: 'button', class: 'secondary', 'data-testid': 'close-hazard', onclick: () => show((done) => closeForm(card, h, typeName, done)) },
      t().actions.close));
}

/** A fix link for `card`'s owner: the server sends it by SMS. */
export function fixLinkForm(card, done) {
  const f = t().fix;
  return confirmBox(
    () => fill(card.owner_phone ? f.linkWhat : f.linkNoPhone, { owner: card.owner_name || card.name, phone: card.owner_phone }),
    [el('h3', {}, `${f.makeLink} · ${card.name}`)],
    async () => {
      await enqueue({ label: `${f.makeLink} · ${card.name}`, unit: card.id, url: `/api/units/${card.id}/fix-links`, body: {} });
      return null;
    }, done);
}

/** Link `link` of `card` revoked. */
export function revokeLinkForm(card, link, done) {
  const f = t().fix;
  return confirmBox(
    () => fill(f.revokeWhat, { unit: card.name }),
    [el('h3', {}, `${f.revoke} · ${card.name}`)],
    async () => {
      await enqueue({ label: `${f.revoke} · ${card.name}`, unit: card.id, url: `/api/fix-links/${link.id}/revoke`, body: {} });
      return null;
    }, done);
}

/** One of `card`'s open hazards closed on the owner's report `r`. */
export function acceptForm(card, r, named, done) {
  const f = t().fix;
  const open = card.hazards.filter((h) => h.open);
  const pick = el('select', { name: 'hazard', 'data-testid': 'accept-hazard' },
    ...open.map((h) => el('option', { value: String(h.id) }, named(h.hazard_type))));
  const typeName = () => { const h = open.find((x) => String(x.id) === pick.value); return h ? named(h.hazard_type) : '…'; };
  return confirmBox(
    () => fill(f.acceptWhat, { unit: card.name, type: typeName(), time: localDate(r.at) }),
    [el('h3', {}, `${f.accept} · ${card.name}`), el('label', {}, f.pickHazard, pick)],
    async () => {
      if (!pick.value) return f.pickHazard;
      await enqueue({ label: `${t().actions.close} · ${card.name}`, unit: card.id, url: `/api/hazards/${pick.value}/close`,
        body: { at: new Date().toISOString(), evidence: fill(f.evidenceText, { id: r.id }), report: r.id } });
      return null;
    }, done);
}

/** The owner's report `r` of `card` returned with a reason. */
export function rejectForm(card, r, done) {
  const f = t().fix;
  const reason = el('textarea', { name: 'reason', maxlength: 500, rows: 3, 'data-testid': 'reject-reason' });
  return confirmBox(
    () => fill(f.rejectWhat, { unit: card.name, owner: card.owner_name || card.name }),
    [el('h3', {}, `${f.reject} · ${card.name}`), el('label', {}, f.reason, reason)],
    async () => {
      if (!oneLine(reason.value)) return f.needReason;
      await enqueue({ label: `${f.reject} · ${card.name}`, unit: card.id, url: `/api/fix-reports/${r.id}/reject`,
        body: { reason: oneLine(reason.value) } });
      return null;
    }, done);
}
