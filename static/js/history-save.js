// The "Save to history" button under a screener's result (screen.html): keeps the
// result, a small copy of the image, the details and the model version in this
// browser's IndexedDB (history-store.js). screen-page.js calls offerSave() after
// showing a result and withdrawSave() when the result goes.
// An entry keeps its model's texts in the English of metadata.json (kinds, details, body
// site, risk sentence: /history shows them in its own language) and the texts composed on
// this page as shown, with the page's language (`lang`).

import { MAX_IMAGE_SIDE, addEntry, newId } from './history-store.js';
import { language, t, translateMessage } from './i18n.js';
import { keptOutline } from './outline-view.js';

const $ = (id) => document.getElementById(id);
const ui = {
  panel: $('history-save'),
  button: $('history-save-button'),
  lesion: $('history-lesion'),
  message: $('history-save-message'),
};

// The longer side of the kept copy of the image, in pixels.
export const THUMBNAIL_SIDE = MAX_IMAGE_SIDE;
let offered = null; // the result the button would save
let generation = 0;
let named = null; // the image the name to group by was typed for

const clean = (node) => (node && !node.hidden ? node.textContent.replace(/\s+/g, ' ').trim() : '');

function say(text, kind = 'info') {
  ui.message.textContent = text;
  ui.message.dataset.kind = kind;
}

/** A JPEG data URL of `file`, its longer side at most THUMBNAIL_SIDE pixels. */
export async function thumbnail(file, fallback) {
  let source;
  try {
    source = await createImageBitmap(file);
  } catch (error) {
    await fallback.decode();
    source = fallback;
  }
  const width = source.width || source.naturalWidth;
  const height = source.height || source.naturalHeight;
  const scale = Math.min(1, THUMBNAIL_SIDE / Math.max(width, height));
  const canvas = document.createElement('canvas');
  canvas.width = Math.max(1, Math.round(width * scale));
  canvas.height = Math.max(1, Math.round(height * scale));
  const context = canvas.getContext('2d');
  context.fillStyle = '#fff'; // a transparent PNG becomes white, not black, in a JPEG
  context.fillRect(0, 0, canvas.width, canvas.height);
  context.drawImage(source, 0, 0, canvas.width, canvas.height);
  if (source.close) source.close();
  return canvas.toDataURL('image/jpeg', 0.85);
}

/** The details given, named as metadata.json names them (as the form does, in English):
 * [{name, label, value, shown}]. */
function detailsOf(values, metadata) {
  const fields = metadata.metadata_encoding?.fields || [];
  return fields.filter((field) => values[field.name] !== undefined).map((field) => {
    const value = String(values[field.name]);
    const index = (field.values || []).indexOf(value);
    const capitalized = value.charAt(0).toUpperCase() + value.slice(1).toLowerCase();
    return {
      name: field.name,
      label: field.label,
      value,
      shown: index >= 0 ? (field.value_names || [])[index] || capitalized : value,
    };
  });
}

/** The result now shown, as an entry (without its image). */
function describe({ task, metadata, fileName, values, assessment }) {
  const details = detailsOf(values, metadata);
  const site = details.find((item) => item.name === 'site');
  const risk = $('risk-summary');
  const riskLines = risk.hidden ? [] : [...risk.querySelectorAll('p')].map(clean);
  const missed = document.querySelector('.often-missed-summary')?.cloneNode(true);
  missed?.querySelector('.badge')?.remove(); // the badge's words only label the line on the page
  const limits = [$('model-limits'), missed].map(clean).filter(Boolean).join(' ');
  return {
    id: newId(),
    created: new Date().toISOString(),
    task,
    task_title: metadata.title || task,
    model_version: String(metadata.version || ''),
    file_name: fileName,
    details,
    site: site ? { value: site.value, name: site.shown } : null,
    results: assessment.results.map(({ id, name, probability }) => ({ id, name, probability })),
    risk: riskLines.length ? { high: risk.dataset.level === 'high',
      message: assessment.risk?.message || riskLines[0], trust: riskLines.slice(1).join(' ') } : null,
    warnings: [$('wrong-kind-alert'), $('unsure-alert')].map(clean).filter(Boolean),
    // the lesion's outline and its measures, as the page showed them (none for an image
    // unlike the screener's kind, which the page shows without one)
    outline: assessment.wrongKind ? null : keptOutline(assessment.outline),
    limits,
    lang: language,
  };
}

export function offerSave(result) {
  if (!ui.panel) return;
  generation += 1;
  offered = { ...result, entry: describe(result) };
  // A name belongs to one lesion: another image starts without it (the same image with
  // other details keeps it).
  if (result.file !== named) ui.lesion.value = '';
  named = result.file;
  ui.panel.hidden = false;
  ui.button.disabled = false;
  say('');
}

export function withdrawSave() {
  if (!ui.panel) return;
  generation += 1;
  offered = null;
  ui.panel.hidden = true;
}

async function save() {
  if (!offered) return;
  const mine = generation;
  const { entry, file, image } = offered;
  ui.button.disabled = true;
  say(t('Saving…'));
  try {
    const lesion = ui.lesion.value.trim();
    const saved = { ...entry, ...(lesion ? { lesion } : {}),
      created: new Date().toISOString(), image: await thumbnail(file, image) };
    await addEntry(saved);
    if (mine !== generation) return;
    ui.lesion.value = ''; // used: the next image must not join this lesion unasked
    say(t('Saved in this browser only. See it on the History page.'), 'saved');
  } catch (error) {
    if (mine !== generation) return;
    ui.button.disabled = false;
    say(t('Not saved. {message} The screener still works.', { message: translateMessage(error.message) }),
      'failed');
  }
}

if (ui.button) ui.button.addEventListener('click', save);
document.getElementById('result-print')?.addEventListener('click', () => window.print());
