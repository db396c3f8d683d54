// The /history page (webapp/templates/history.html): lists the results saved in
// this browser (history-store.js), newest first, filtered by screener and body site;
// opens one (#entry=<id>), prints it, deletes one or all, exports and imports them.
// Nothing here talks to the server.

import {
  MAX_IMPORT_BYTES, deleteAll, deleteEntry, exportDocument, importEntries, listEntries, parseExport,
} from './history-store.js';

const $ = (id) => document.getElementById(id);
const ui = {
  error: $('history-error'),
  message: $('history-message'),
  listSection: $('history-list-section'),
  list: $('history-list'),
  empty: $('history-empty'),
  filterTask: $('history-filter-task'),
  filterSite: $('history-filter-site'),
  exportButton: $('history-export'),
  importInput: $('history-import'),
  deleteAllButton: $('history-delete-all'),
  entry: $('history-entry'),
  confirm: $('history-confirm'),
  confirmText: $('history-confirm-text'),
  confirmButton: $('history-confirm-button'),
  confirmCancel: $('history-confirm-cancel'),
};

let entries = [];

// ---- helpers ----------------------------------------------------------------------

function element(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

function formatPercent(probability) {
  const percent = probability * 100;
  if (percent > 0 && percent < 0.05) return '<0.1%';
  return `${percent.toFixed(1)}%`;
}

const formatDate = (iso) => new Date(iso).toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' });

function showError(text) {
  ui.error.textContent = text;
  ui.error.hidden = !text;
}

function say(text) {
  ui.message.textContent = text;
}

const taskTitles = new Map([...ui.filterTask.options].filter((o) => o.value).map((o) => [o.value, o.textContent]));
const taskVersions = new Map([...ui.filterTask.options].filter((o) => o.value)
  .map((o) => [o.value, o.dataset.version]));

/** Ask for a confirmation in a modal dialog; resolves true if confirmed. */
function confirmWith(text, action) {
  return new Promise((resolve) => {
    ui.confirmText.textContent = text;
    ui.confirmButton.textContent = action;
    const finish = (answer) => {
      ui.confirmButton.removeEventListener('click', yes);
      ui.confirmCancel.removeEventListener('click', no);
      ui.confirm.removeEventListener('close', no);
      if (ui.confirm.open) ui.confirm.close();
      resolve(answer);
    };
    const yes = () => finish(true);
    const no = () => finish(false);
    ui.confirmButton.addEventListener('click', yes);
    ui.confirmCancel.addEventListener('click', no);
    ui.confirm.addEventListener('close', no); // Escape
    ui.confirm.showModal();
    ui.confirmCancel.focus();
  });
}

// ---- the list ---------------------------------------------------------------------

function fillSiteFilter() {
  const chosen = ui.filterSite.value;
  const sites = new Map();
  for (const entry of entries) if (entry.site) sites.set(entry.site.value, entry.site.name);
  const options = [...sites].sort((a, b) => a[1].localeCompare(b[1]))
    .map(([value, name]) => new Option(name, value));
  ui.filterSite.replaceChildren(new Option('All body sites', ''), ...options);
  ui.filterSite.value = sites.has(chosen) ? chosen : '';
}

function entryTitle(entry) {
  const top = entry.results[0];
  return `${top.name} (${formatPercent(top.probability)})`;
}

function renderList() {
  const task = ui.filterTask.value;
  const site = ui.filterSite.value;
  const shown = entries.filter((entry) => (!task || entry.task === task)
    && (!site || entry.site?.value === site));
  ui.list.replaceChildren(...shown.map((entry) => {
    const item = element('li', 'history-item');
    item.dataset.task = entry.task;
    const image = element('img', 'history-thumb rounded-1');
    image.src = entry.image;
    image.alt = '';
    const text = element('div', 'history-item-text');
    const link = element('a', 'history-item-link fw-semibold', entryTitle(entry));
    link.href = `#entry=${encodeURIComponent(entry.id)}`;
    const facts = [formatDate(entry.created), taskTitles.get(entry.task) || entry.task_title];
    if (entry.site) facts.push(entry.site.name);
    if (entry.lesion) facts.push(`“${entry.lesion}”`);
    text.append(link, element('div', 'small text-body-secondary', facts.join(' · ')));
    if (entry.risk) {
      text.append(element('div', `small ${entry.risk.high ? 'text-danger-emphasis' : 'text-success-emphasis'}`,
        entry.risk.message));
    }
    item.append(image, text);
    return item;
  }));
  ui.empty.hidden = shown.length > 0;
  ui.empty.textContent = entries.length
    ? 'No saved result matches these filters.'
    : 'Nothing saved yet. After a result on a screener, choose “Save to history”.';
  ui.exportButton.disabled = entries.length === 0;
  ui.deleteAllButton.disabled = entries.length === 0;
}

// ---- one entry ----------------------------------------------------------------------

function fact(list, term, value) {
  list.append(element('dt', '', term), element('dd', '', value));
}

function renderEntry(entry) {
  $('entry-heading').textContent = `${entry.task_title}: ${formatDate(entry.created)}`;
  const image = $('entry-image');
  image.src = entry.image;
  image.alt = `The image saved with this result${entry.file_name ? ` (${entry.file_name})` : ''}`;
  $('entry-image-caption').textContent = entry.file_name;

  const facts = $('entry-facts');
  facts.replaceChildren();
  fact(facts, 'Date', formatDate(entry.created));
  fact(facts, 'Screener', entry.task_title);
  if (entry.lesion) fact(facts, 'Name', entry.lesion);
  fact(facts, 'Details', entry.details.length
    ? entry.details.map((item) => `${item.label}: ${item.shown}`).join(' · ') : 'none given');
  fact(facts, 'Body site', entry.site ? entry.site.name : 'not given');
  const current = taskVersions.get(entry.task);
  fact(facts, 'Model version', entry.model_version + (current && current !== entry.model_version
    ? ` (this site now runs version ${current})` : ''));

  $('entry-warnings').replaceChildren(...entry.warnings.map(
    (text) => element('div', 'alert alert-warning', text)));
  const risk = $('entry-risk');
  risk.hidden = !entry.risk;
  if (entry.risk) {
    risk.dataset.level = entry.risk.high ? 'high' : 'low';
    risk.replaceChildren(
      element('p', `fs-5 fw-semibold mb-1 ${entry.risk.high ? 'text-danger-emphasis' : 'text-success-emphasis'}`,
        entry.risk.message),
      element('p', 'small text-body-secondary mb-0', entry.risk.trust));
  }
  $('entry-probabilities-heading').textContent = `All ${entry.results.length} kinds, most likely first`;
  $('entry-probabilities').replaceChildren(...entry.results.map((item) => {
    const row = element('tr');
    const name = element('th', '', item.name);
    name.scope = 'row';
    row.append(name, element('td', 'text-end', formatPercent(item.probability)));
    return row;
  }));
  $('entry-limits').textContent = entry.limits
    ? `What the model (version ${entry.model_version}) was measured to do: ${entry.limits}` : '';
}

function openedId() {
  const match = /^#entry=(.+)$/.exec(window.location.hash);
  return match ? decodeURIComponent(match[1]) : null;
}

function route() {
  const id = openedId();
  const entry = id && entries.find((item) => item.id === id);
  ui.entry.hidden = !entry;
  ui.listSection.hidden = Boolean(entry);
  if (entry) {
    renderEntry(entry);
    document.title = `${entry.task_title}, ${formatDate(entry.created)}: History`;
  } else {
    document.title = 'History';
    if (id) say('That saved result is no longer here.');
  }
}

async function refresh() {
  entries = await listEntries();
  fillSiteFilter();
  renderList();
  route();
}

// ---- actions -------------------------------------------------------------------------

async function attempt(work) {
  showError('');
  try {
    await work();
  } catch (error) {
    showError(error.message || String(error));
  }
}

function exportAll() {
  const text = JSON.stringify(exportDocument(entries), null, 1);
  const url = URL.createObjectURL(new Blob([text], { type: 'application/json' }));
  const link = element('a');
  link.href = url;
  link.download = `screener-history-${new Date().toISOString().slice(0, 10)}.json`;
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
  say(`Exported ${entries.length} saved result${entries.length === 1 ? '' : 's'} to one JSON file.`);
}

async function importFile(file) {
  if (file.size > MAX_IMPORT_BYTES) throw new Error('This file is far too large to be a history export; nothing was imported.');
  let imported;
  try {
    imported = parseExport(await file.text());
  } catch (error) {
    throw new Error(`${error.message} Nothing was imported; your history is unchanged.`);
  }
  const known = new Set(entries.map((entry) => entry.id));
  const added = imported.filter((entry) => !known.has(entry.id)).length;
  try {
    await importEntries(imported);
  } catch (error) {
    throw new Error(`${error.message} Nothing was imported; your history is unchanged.`);
  }
  await refresh();
  say(`Imported ${imported.length} saved result${imported.length === 1 ? '' : 's'} from “${file.name}”`
    + ` (${added} new, ${imported.length - added} already here).`);
}

function wire() {
  ui.filterTask.addEventListener('change', renderList);
  ui.filterSite.addEventListener('change', renderList);
  window.addEventListener('hashchange', () => { say(''); route(); });
  $('history-back').addEventListener('click', (event) => {
    event.preventDefault();
    history.pushState(null, '', window.location.pathname);
    route();
  });
  ui.exportButton.addEventListener('click', exportAll);
  ui.importInput.addEventListener('change', () => {
    const [file] = ui.importInput.files;
    ui.importInput.value = '';
    if (file) attempt(() => importFile(file));
  });
  ui.deleteAllButton.addEventListener('click', () => attempt(async () => {
    const n = entries.length;
    if (!await confirmWith(`Delete all ${n} saved result${n === 1 ? '' : 's'} from this browser? `
      + 'This cannot be undone; export them first to keep a copy.', 'Delete all')) return;
    await deleteAll();
    await refresh();
    say(`Deleted all ${n} saved result${n === 1 ? '' : 's'}.`);
  }));
  $('entry-delete').addEventListener('click', () => attempt(async () => {
    const id = openedId();
    if (!id || !await confirmWith('Delete this saved result from this browser? This cannot be undone.',
      'Delete')) return;
    await deleteEntry(id);
    history.pushState(null, '', window.location.pathname);
    await refresh();
    say('Deleted the saved result.');
  }));
  $('entry-print').addEventListener('click', () => window.print());
}

wire();
refresh().catch((error) => {
  showError(`${error.message} The screeners still work; only saving results is not possible.`);
  for (const control of [ui.exportButton, ui.importInput, ui.deleteAllButton]) control.disabled = true;
  ui.empty.hidden = true;
});
