// Recording a visit (排查 / 复查) on the phone: a pass, or hazards from the server's
// checklist (the routine one, or the comprehensive one-time inspection's), each with
// severity, stage and deadline; photos from the camera, made at most 1600 px on the phone
// before they are queued; the party's signature drawn on the screen (signature_pad),
// required when hazards were found; then the write goes to the phone's queue
// (outbox.js), which sends it now or when the network returns. Every mistake is shown
// next to its field and nothing is queued.
import { el, t, lang, onemap, oneLine, timeZone } from './common.js';
import { enqueue, watch, dismiss, sentCount } from './outbox.js';
import SignaturePad from './vendor/signature_pad.js';
import { shrink, MAX_BYTES } from './photo.js';

const name = (x) => x[lang === 'zh' ? 'zh' : 'en'];

function hazardRow(items, remove) {
  const v = t().visit;
  const type = el('select', { name: 'hazard_type', 'data-testid': 'hazard-type' },
    el('option', { value: '' }, v.pickType),
    ...onemap.checklists.categories.map((c) => {
      const group = el('optgroup', { label: name(c) },
        ...items.filter((i) => i.category === c.key).map((i) => el('option', { value: i.key }, name(i))));
      return group.children.length ? group : null;
    }));
  const severity = el('select', { name: 'severity', 'data-testid': 'severity' },
    ...['general', 'major'].map((s) => el('option', { value: s }, t().severities[s])));
  const stage = el('select', { name: 'stage', 'data-testid': 'stage' },
    ...['immediate', 'concentrated', 'deadline'].map((s) => el('option', { value: s }, t().stages[s])));
  const deadline = el('input', { type: 'date', name: 'deadline', 'data-testid': 'deadline' });
  const error = el('div', { class: 'field-error', role: 'alert' });
  const row = el('fieldset', { class: 'hazard-row', 'data-testid': 'hazard-row' },
    el('label', {}, v.type, type),
    el('div', { class: 'row2' }, el('label', {}, t().severity, severity), el('label', {}, t().stage, stage)),
    el('label', {}, t().deadline, deadline),
    error,
    el('button', { type: 'button', class: 'link', onclick: () => remove(row) }, v.remove));
  row.read = () => {
    error.textContent = '';
    const key = type.value;
    if (!key) { error.textContent = v.needType; return null; }
    const item = items.find((i) => i.key === key);
    const h = { category: item.category, hazard_type: key, severity: severity.value, stage: stage.value };
    if (deadline.value) {
      // The end of that day in the town.
      const end = new Date(`${deadline.value}T23:59:59${timeZone()}`);
      if (end <= new Date()) { error.textContent = v.pastDeadline; return null; }
      h.deadline = end.toISOString();
    } else if (stage.value === 'deadline') { error.textContent = v.needDeadline; return null; }
    return h;
  };
  return row;
}

/** The form for a visit to `card`'s unit; `done()` when it is queued or cancelled. */
export function visitForm(card, done) {
  const v = t().visit;
  const lists = onemap.checklists.checklists;
  const kind = card.inspections.length ? 'reinspection' : 'inspection';
  const inspector = el('input', { name: 'inspector', value: onemap.session.user.name, required: true, 'data-testid': 'inspector' });
  const comprehensive = el('input', { type: 'checkbox', name: 'comprehensive', 'data-testid': 'comprehensive' });
  const pass = el('input', { type: 'radio', name: 'result', value: 'pass', 'data-testid': 'result-pass' });
  const found = el('input', { type: 'radio', name: 'result', value: 'hazards', 'data-testid': 'result-hazards' });
  const resultError = el('div', { class: 'field-error', role: 'alert', 'data-testid': 'result-error' });
  const rows = el('div', { class: 'hazard-rows' });
  const items = () => {
    const list = lists.find((l) => l.comprehensive === comprehensive.checked);
    return onemap.checklists.items.filter((i) => list.items.includes(i.key));
  };
  const addRow = () => rows.append(hazardRow(items(), (r) => r.remove()));
  const add = el('button', { type: 'button', class: 'secondary', 'data-testid': 'add-hazard', onclick: () => { found.checked = true; addRow(); } }, v.addHazard);
  comprehensive.addEventListener('change', () => { rows.replaceChildren(); if (found.checked) addRow(); });
  found.addEventListener('change', () => { if (!rows.children.length) addRow(); });
  pass.addEventListener('change', () => rows.replaceChildren());

  const photos = el('input', { type: 'file', accept: 'image/*', capture: 'environment', multiple: true, 'data-testid': 'photos' });
  const photoError = el('div', { class: 'field-error', role: 'alert', 'data-testid': 'photo-error' });
  const thumbs = el('div', { class: 'photos' });
  const shrunk = [];
  photos.addEventListener('change', async () => {
    photoError.textContent = '';
    for (const f of photos.files) {
      if (!f.type.startsWith('image/')) { photoError.textContent = `${f.name}: ${v.notImage}`; continue; }
      let b;
      try { b = await shrink(f); } catch { photoError.textContent = `${f.name}: ${v.notImage}`; continue; }
      if (b.size > MAX_BYTES) { photoError.textContent = `${f.name}: ${v.tooBig}`; continue; }
      shrunk.push(b);
      thumbs.append(el('img', { src: URL.createObjectURL(b), alt: v.photo }));
    }
    photos.value = '';
    onemap.photosReady = shrunk.length;
  });

  const canvas = el('canvas', { class: 'signature', 'data-testid': 'signature', width: 340, height: 160 });
  const signError = el('div', { class: 'field-error', role: 'alert', 'data-testid': 'signature-error' });
  const pad = new SignaturePad(canvas, { backgroundColor: 'rgb(255,255,255)' });
  const clear = el('button', { type: 'button', class: 'link', onclick: () => pad.clear() }, v.clearSignature);

  const note = el('textarea', { name: 'note', rows: 2, maxlength: 2000, 'data-testid': 'visit-note' });
  const save = el('button', { type: 'submit', 'data-testid': 'save-visit' }, v.save);
  const form = el('form', { class: 'visit-form', 'data-testid': 'visit-form', novalidate: true },
    el('h3', {}, `${t().inspectionKinds[kind]} · ${card.name}`),
    el('label', {}, v.inspector, inspector),
    el('label', { class: 'check' }, comprehensive, v.comprehensive),
    el('div', { class: 'choice' }, el('label', {}, pass, v.pass), el('label', {}, found, v.found)),
    resultError, rows, add,
    el('h4', {}, v.photos), photos, photoError, thumbs,
    el('h4', {}, v.signature), canvas, clear, signError,
    el('label', {}, v.note, note),
    el('div', { class: 'actions' }, save, el('button', { type: 'button', class: 'secondary', onclick: () => done(false) }, v.cancel)));
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    resultError.textContent = '';
    signError.textContent = '';
    const hazards = [...rows.children].map((r) => r.read());
    if (!pass.checked && !found.checked) { resultError.textContent = v.needResult; return; }
    if (found.checked && !hazards.length) { resultError.textContent = v.needResult; return; }
    if (hazards.some((h) => h === null)) return;
    if (found.checked && pad.isEmpty()) { signError.textContent = v.needSignature; return; }
    if (!inspector.value.trim()) { resultError.textContent = v.needInspector; return; }
    const body = { inspector: inspector.value.trim(), at: new Date().toISOString() };
    if (pass.checked) body.result = 'pass'; else body.hazards = hazards;
    if (comprehensive.checked) body.comprehensive = true;
    if (oneLine(note.value)) body.note = oneLine(note.value);
    const files = shrunk.map((blob) => ({ blob, kind: 'photo', role: 'photo' }));
    if (!pad.isEmpty()) {
      const sig = await new Promise((ok) => canvas.toBlob(ok, 'image/png'));
      files.push({ blob: sig, kind: 'photo', role: 'signature' });
    }
    save.disabled = true;
    await enqueue({
      label: `${t().inspectionKinds[kind]} · ${card.name}`,
      unit: card.id,
      url: `/api/units/${card.id}/${kind === 'inspection' ? 'inspections' : 'reinspections'}`,
      body, files,
    });
    done(true);
  });
  return form;
}

/** How many writes wait on the phone, and each refused one with the server's reason. */
export function queueStatus() {
  const v = t().visit;
  const box = el('div', { class: 'queue', 'data-testid': 'queue' });
  watch((entries, err) => {
    if (!entries) {
      if (err && err.signIn) box.dataset.signIn = '1';
      return;
    }
    const waiting = entries.filter((e) => e.state === 'waiting');
    const refused = entries.filter((e) => e.state === 'refused');
    onemap.queue = { waiting: waiting.length, refused: refused.length, sent: sentCount() };
    box.hidden = !waiting.length && !refused.length;
    box.replaceChildren(...[
      waiting.length ? el('div', { class: 'waiting', 'data-testid': 'waiting' }, `${waiting.length} ${v.waiting}`) : null,
      box.dataset.signIn && waiting.length ? el('div', { class: 'field-error' }, v.signInAgain) : null,
      ...refused.map((e) => el('div', { class: 'refused', 'data-testid': 'refused' },
        el('b', {}, e.label), ` — ${v.refusedWhy[e.status] || v.refused}`,
        el('div', { class: 'refused-detail' }, e.field ? `${e.field}: ${e.error}` : e.error),
        el('button', { type: 'button', class: 'link', onclick: () => dismiss(e.seq) }, v.dismiss)))].filter(Boolean));
  });
  return box;
}
