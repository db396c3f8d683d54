// Wires a screener page (webapp/templates/screen.html) to the classifier API.
// The task id comes from the page (data-task); labels, descriptions and the
// details form come from the task's metadata.json. Only classifier.js touches
// the model; this module only reads the form and shows what it returns.

import { MODELS_URL, loadClassifier } from './classifier.js';
import { heatmapView } from './heatmap.js';
import { outlineView } from './outline-view.js';
import { offerSave, withdrawSave } from './history-save.js';
import { keptOnDevice } from './offline.js';
import { formatPercent, language, t, tr, translateMessage } from './i18n.js';

const root = document.querySelector('[data-screener]');
const $ = (id) => document.getElementById(id);
const ui = {
  status: $('model-status'),
  progress: $('model-progress'),
  dropZone: $('drop-zone'),
  fileInputs: [...document.querySelectorAll('.file-input')],
  previewFigure: $('preview-figure'),
  previewImage: $('preview-image'),
  previewCaption: $('preview-caption'),
  detailsForm: $('details-form'),
  fields: [...document.querySelectorAll('[data-field]')],
  error: $('error-alert'),
  placeholder: $('result-placeholder'),
  result: $('result'),
  resultSection: $('result-section'),
  resultCaption: $('result-caption'),
  resultDate: $('result-date'),
  topResult: $('top-result'),
  wrongKind: $('wrong-kind-alert'),
  unsure: $('unsure-alert'),
  risk: $('risk-summary'),
  probabilities: $('probabilities'),
};

// The class activation map over the preview, shown with a result and removed with it.
const heatmap = heatmapView({
  image: ui.previewImage,
  canvas: $('heatmap'),
  panel: $('heatmap-panel'),
  toggle: $('heatmap-toggle'),
  opacity: $('heatmap-opacity'),
  opacityValue: $('heatmap-opacity-value'),
  name: $('heatmap-label'),
  cropNote: $('heatmap-crop-note'),
});

// The lesion's outline over the preview and its measures (a model with one), likewise.
const outline = outlineView({
  image: ui.previewImage,
  svg: $('outline'),
  panel: $('outline-panel'),
  toggle: $('outline-toggle'),
  measures: $('outline-measures'),
  message: $('outline-message'),
});

const state = {
  task: root.dataset.task,
  classifier: null, // promise of the loaded classifier
  file: null,
  previewUrl: null,
  run: 0, // increases with every request; stale answers are dropped
  last: null, // {file, key} of the last request, to skip exact repeats
  queue: Promise.resolve(), // one classification at a time
};

// ---- small view helpers ----------------------------------------------------

function element(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

function percentText(probability) {
  const percent = probability * 100;
  if (percent > 0 && percent < 0.05) return `<${formatPercent(0.001)}`;
  return formatPercent(probability);
}

function setStatus(text, phase = 'loading') {
  ui.status.textContent = text;
  ui.status.dataset.phase = phase; // colours the dot: loading, ready, failed
}

function showError(message) {
  ui.error.textContent = translateMessage(message);
  ui.error.hidden = false;
}

function clearError() {
  ui.error.hidden = true;
  ui.error.textContent = '';
}

function showPlaceholder(text) {
  ui.result.hidden = true;
  heatmap.hide();
  outline.hide();
  withdrawSave();
  ui.placeholder.textContent = text;
  ui.placeholder.hidden = false;
}

// ---- the model ---------------------------------------------------------------

function showProgress(fraction) {
  if (fraction === null) {
    ui.progress.hidden = true;
    return;
  }
  const percent = String(Math.round(fraction * 100));
  ui.progress.hidden = false;
  if (ui.progress.getAttribute('aria-valuenow') === percent) return;
  ui.progress.setAttribute('aria-valuenow', percent);
  ui.progress.firstElementChild.style.width = `${percent}%`;
}

/** Whether the service worker will read the model from this device's copy. */
async function modelOnDevice() {
  const folder = new URL(`${state.task}/`, MODELS_URL);
  try {
    return await keptOnDevice([new URL('metadata.json', folder), new URL('model.json', folder)]);
  } catch (error) {
    return false;
  }
}

// The page (its figures, its "Model version") was made for one model. A new
// version of the site taking over while the page loads (static/js/offline.js)
// hands it the new model: then reload, once per version, so that the page
// describes the model it runs.
const RELOADED_FOR = 'screener-reloaded-for-version';

function describesAnotherModel(version) {
  const made = root.dataset.modelVersion;
  if (!made || !version || made === version) return false;
  try {
    if (sessionStorage.getItem(RELOADED_FOR) === version) return false;
    sessionStorage.setItem(RELOADED_FOR, version);
  } catch {
    return false; // without storage a reload could repeat
  }
  return true;
}

async function load() {
  const local = await modelOnDevice();
  setStatus(local ? t('Loading the model from this device…') : t('Downloading the model…'));
  showProgress(0);
  // The bar carries the percentage; the status line (read out by screen readers)
  // changes only with the step.
  const onProgress = (fraction) => {
    showProgress(fraction);
    if (fraction >= 1) setStatus(t('Preparing the model…'));
  };
  try {
    const loaded = await loadClassifier(state.task, { onProgress });
    if (describesAnotherModel(loaded.metadata.version)) {
      window.location.reload();
      return new Promise(() => {}); // the page is going
    }
    // A plain state for people; which TF.js backend runs it is for the curious (a tooltip).
    const ready = t('Model ready.');
    setStatus(local ? `${ready} ${t('Loaded from this device’s cache.')}` : ready, 'ready');
    ui.status.title = `TensorFlow.js: ${loaded.backend}`;
    return loaded;
  } finally {
    showProgress(null);
  }
}

function classifier() {
  if (!state.classifier) {
    state.classifier = load().catch((error) => {
      state.classifier = null; // the next image tries again
      setStatus(t('The model could not be loaded.'), 'failed');
      throw new Error(t('{message} Reload the page to try again.',
        { message: translateMessage(error.message) }));
    });
  }
  return state.classifier;
}

// ---- the details form ----------------------------------------------------------

function fieldLabel(control) {
  return document.querySelector(`label[for="${control.id}"]`).textContent.trim();
}

/** The optional details as {name: value}; throws a readable Error for a bad entry. */
function readDetails() {
  const values = {};
  for (const control of ui.fields) {
    control.classList.remove('is-invalid');
    control.removeAttribute('aria-invalid');
  }
  for (const control of ui.fields) {
    const value = control.value.trim();
    const { validity } = control;
    if (control.type === 'number' && (validity.badInput || validity.rangeUnderflow || validity.rangeOverflow)) {
      control.classList.add('is-invalid');
      control.setAttribute('aria-invalid', 'true');
      const params = { field: fieldLabel(control), min: control.min, max: control.max, value };
      throw new Error(validity.badInput
        ? t('{field} must be a number between {min} and {max}, or left empty.', params)
        : t('{field} must be between {min} and {max} (got {value}).', params));
    }
    if (value !== '') values[control.dataset.field] = value;
  }
  return values;
}

function describeDetails(values) {
  const parts = ui.fields
    .filter((control) => values[control.dataset.field] !== undefined)
    .map((control) => (control.tagName === 'SELECT'
      ? control.selectedOptions[0].textContent.trim()
      : `${fieldLabel(control)}: ${values[control.dataset.field]}`));
  return parts.length ? parts.join(' · ') : t('no details given');
}

// ---- results ---------------------------------------------------------------------

function renderTop(best, label, hasRiskSummary) {
  ui.topResult.replaceChildren();
  const sentence = element('p', 'fs-5 mb-1');
  // The sentence around the name, in the page's language: "… {name} (…)".
  const [before, after] = t('The closest match is {name} ({percent}).',
    { percent: percentText(best.probability) }).split('{name}');
  sentence.append(before, element('strong', '', tr(label.name)), after);
  ui.topResult.append(sentence);
  if (label.description) ui.topResult.append(element('p', 'mb-1', tr(label.description)));
  if (label.malignant && !hasRiskSummary) { // else the risk sentence says what to do
    ui.topResult.append(element('p', 'mb-1 fw-semibold',
      t('This kind can be serious: please have it checked by a doctor soon.')));
  }
}

function renderBars(results) {
  ui.probabilities.replaceChildren(...results.map((item) => {
    const percent = percentText(item.probability);
    const row = element('li', 'probability mb-2');
    const head = element('div', 'd-flex justify-content-between gap-3');
    const name = element('span', 'probability-name', tr(item.name));
    name.id = `probability-${item.id}`;
    head.append(name, element('span', 'probability-value', percent));
    const bar = element('div', 'progress');
    bar.setAttribute('role', 'meter');
    bar.setAttribute('aria-labelledby', name.id);
    bar.setAttribute('aria-valuemin', '0');
    bar.setAttribute('aria-valuemax', '100');
    bar.setAttribute('aria-valuenow', (item.probability * 100).toFixed(1));
    bar.setAttribute('aria-valuetext', percent);
    const fill = element('div', 'progress-bar');
    fill.style.width = `${(item.probability * 100).toFixed(2)}%`;
    bar.append(fill);
    row.append(head, bar);
    return row;
  }));
}

const rate = (fraction) => formatPercent(fraction, 0);

/** The warning for an image unlike the screener's kind, with the measured rates behind it. */
function renderWrongKind(assessment, metadata) {
  const check = metadata.wrong_kind;
  ui.wrongKind.hidden = !assessment.wrongKind;
  if (!assessment.wrongKind) return;
  const detected = Object.values(check.detection_rate);
  const [low, high] = [rate(Math.min(...detected)), rate(Math.max(...detected))];
  const caught = low === high ? low : `${low}–${high}`;
  ui.wrongKind.replaceChildren(
    element('strong', '', t('This does not look like the kind of image this screener was made for')),
    ` ${t('({kind}). The answer below is probably meaningless.', { kind: tr(metadata.image_kind) })} `,
    element('span', 'small', t('This check caught {caught} of other kinds of image on test and '
      + 'wrongly warns on {false_alarms} of real ones.',
    { caught, false_alarms: rate(check.false_alarm_rate) })));
}

/**
 * The warning for an image the model is unsure about (top probability below the
 * threshold of metadata.unsure), with how often such answers were right on test.
 * `detailed`: details were given, so the test figures with details apply where measured.
 */
function renderUnsure(assessment, metadata, detailed) {
  ui.unsure.hidden = !assessment.unsure || assessment.wrongKind; // the wrong-kind warning says more
  if (ui.unsure.hidden) return;
  const { test = {} } = metadata.unsure;
  const measured = (detailed && test.with_metadata) || test.without_metadata;
  const top = assessment.results[0];
  const parts = [
    element('strong', '', t('The model is unsure about this image:')),
    ` ${t('its top answer has only {percent} probability.', { percent: percentText(top.probability) })}`,
  ];
  if (measured && measured.accuracy_flagged !== null && measured.accuracy_not_flagged !== null) {
    const figures = { right: rate(measured.accuracy_flagged), otherwise: rate(measured.accuracy_not_flagged) };
    parts.push(` ${measured === test.with_metadata
      ? t('On test images this unsure (with their details), the top answer was right only {right} '
        + 'of the time (vs {otherwise} otherwise).', figures)
      : t('On test images this unsure, the top answer was right only {right} of the time '
        + '(vs {otherwise} otherwise).', figures)} `,
    element('span', 'small', t('Look at the other likely kinds below too; {flagged} of test images '
      + 'were this unsure.', { flagged: rate(measured.flagged) })));
  }
  ui.unsure.replaceChildren(...parts);
}

/** The plain-words risk sentence and the measured sensitivity/specificity behind it. */
function renderRisk(assessment, metadata) {
  const { risk } = assessment;
  // For an image of the wrong kind a confident sentence would mislead: the warning stands alone.
  ui.risk.hidden = !risk || assessment.wrongKind;
  if (ui.risk.hidden) return;
  const rule = metadata.risk;
  const test = rule.test.without_metadata;
  const names = new Map(metadata.labels.map((label) => [label.id, tr(label.name)]));
  ui.risk.dataset.level = risk.high ? 'high' : 'low';
  // With one serious kind, "all serious kinds" is the focus kind: say it once.
  const figures = {
    n: test.n,
    focus_rate: rate(test.focus_sensitivity),
    focus: names.get(rule.focus),
    all_rate: rate(test.sensitivity),
    all: rule.labels.map((id) => names.get(id)).join(', '),
    specificity: rate(test.specificity),
  };
  ui.risk.replaceChildren(
    element('p', `fs-5 fw-semibold mb-1 ${risk.high ? 'text-danger-emphasis' : 'text-success-emphasis'}`,
      tr(risk.message)),
    element('p', 'small text-body-secondary mb-0', rule.labels.length > 1
      ? t('How far to trust this sentence: on {n} test images it flagged {focus_rate} of {focus} cases '
        + 'and {all_rate} of all {all} cases (sensitivity), and called {specificity} of the others '
        + 'harmless (specificity).', figures)
      : t('How far to trust this sentence: on {n} test images it flagged {focus_rate} of {focus} cases '
        + '(sensitivity), and called {specificity} of the others harmless (specificity).', figures)));
}

/** The date and time of the result, on paper (a history entry prints its own). */
function dateResult() {
  const now = new Date().toLocaleString(language, { dateStyle: 'medium', timeStyle: 'short' });
  ui.resultDate.textContent = t('Date: {date}', { date: now });
}

function render(assessment, loaded, fileName, values) {
  const { results } = assessment;
  dateResult();
  const labels = new Map(loaded.metadata.labels.map((label) => [label.id, label]));
  // A model of the image alone has no details form, so nothing to describe.
  const details = ui.detailsForm ? ` (${describeDetails(values)})` : '';
  ui.resultCaption.textContent = t('Result for “{name}”', { name: fileName }) + details;
  renderWrongKind(assessment, loaded.metadata);
  renderUnsure(assessment, loaded.metadata, Object.keys(values).length > 0);
  renderRisk(assessment, loaded.metadata);
  renderTop(results[0], labels.get(results[0].id), Boolean(assessment.risk));
  renderBars(results);
  ui.placeholder.hidden = true;
  ui.result.hidden = false;
  // Evidence for an answer that is probably meaningless would only mislead.
  heatmap.show(assessment.wrongKind ? null : assessment.explanation);
  // Nor would the outline of what is probably not a lesion photo.
  if (assessment.wrongKind && (assessment.outline || assessment.outlineMessage)) {
    outline.show(null, t('No outline: this does not look like the kind of image this screener was made for.'));
  } else {
    outline.show(assessment.outline, assessment.outlineMessage);
  }
  offerSave({ task: state.task, metadata: loaded.metadata, fileName, values, assessment,
    file: state.last?.file || state.file, image: ui.previewImage });
}

// ---- the flow: choose an image or change a detail → classify ------------------------

async function classifyNow(run, file, values) {
  if (run !== state.run) return; // a newer request is waiting
  ui.resultSection.setAttribute('aria-busy', 'true');
  try {
    const loaded = await classifier();
    const assessment = await loaded.assess(file, values);
    if (run !== state.run) return;
    clearError();
    render(assessment, loaded, file.name || t('the image'), values);
  } catch (error) {
    if (run !== state.run) return;
    showPlaceholder(t('No result for this image.'));
    showError(error.message || String(error));
  } finally {
    if (run === state.run) ui.resultSection.removeAttribute('aria-busy');
  }
}

function requestClassification() {
  let values;
  try {
    values = readDetails();
  } catch (error) {
    state.run += 1; // drop any answer still on its way
    state.last = null;
    showPlaceholder(state.file ? t('No result: correct the details first.') : t('Choose an image to see the result.'));
    showError(error.message);
    return;
  }
  if (!state.file) {
    clearError();
    return;
  }
  const key = JSON.stringify(values);
  if (state.last && state.last.file === state.file && state.last.key === key) return;
  state.last = { file: state.file, key };
  const run = ++state.run;
  const { file } = state;
  clearError();
  showPlaceholder(t('Analysing the image…'));
  state.queue = state.queue.then(() => classifyNow(run, file, values));
}

function showPreview(file) {
  if (state.previewUrl) URL.revokeObjectURL(state.previewUrl);
  state.previewUrl = URL.createObjectURL(file);
  ui.previewFigure.hidden = true; // shown once the browser can display it
  ui.previewCaption.textContent = file.name || '';
  ui.previewImage.src = state.previewUrl;
}

function choose(file) {
  if (!file) return;
  state.file = file;
  showPreview(file);
  requestClassification();
}

function debounce(fn, ms) {
  let timer;
  return () => {
    clearTimeout(timer);
    timer = setTimeout(fn, ms);
  };
}

function wire() {
  for (const input of ui.fileInputs) {
    input.addEventListener('change', () => {
      choose(input.files[0]);
      input.value = ''; // choosing the same file again still counts
    });
  }

  ui.previewImage.addEventListener('load', () => { ui.previewFigure.hidden = false; });
  ui.previewImage.addEventListener('error', () => { ui.previewFigure.hidden = true; });

  // Dropping a file anywhere else must not make the browser navigate away to it.
  for (const type of ['dragover', 'drop']) window.addEventListener(type, (event) => event.preventDefault());
  ui.dropZone.addEventListener('dragover', (event) => {
    event.preventDefault();
    event.dataTransfer.dropEffect = 'copy';
    ui.dropZone.classList.add('is-dragover');
  });
  ui.dropZone.addEventListener('dragleave', () => ui.dropZone.classList.remove('is-dragover'));
  ui.dropZone.addEventListener('drop', (event) => {
    event.preventDefault();
    ui.dropZone.classList.remove('is-dragover');
    const file = event.dataTransfer.files[0];
    if (file) choose(file);
    else showError(t('Nothing usable was dropped: drop an image file.'));
  });

  if (ui.detailsForm) {
    const later = debounce(requestClassification, 400);
    ui.detailsForm.addEventListener('submit', (event) => {
      event.preventDefault();
      requestClassification();
    });
    ui.detailsForm.addEventListener('change', requestClassification);
    ui.detailsForm.addEventListener('input', (event) => {
      if (event.target.tagName === 'INPUT') later();
    });
  }
}

if (root) {
  wire();
  classifier().catch((error) => showError(error.message));
}
