// The /history page (webapp/templates/history.html): lists the results saved in
// this browser (history-store.js), newest first, filtered by screener and body site;
// opens one (#entry=<id>), prints it, deletes one or all, exports and imports them.
// Results saved under one name on one screener and body site are one lesion followed
// over time (#lesion=<key>): its checks side by side, and what changed, in words.
// Nothing here talks to the server but to read each screener's metadata.json (which
// kinds are serious), as the screeners do.
// Languages: the page's own text is t(); an entry keeps the English of its model's texts
// (kinds, details, body site, risk sentence), shown through tr(); the texts it saved as the
// screener showed them (the risk sentence's measured rates, warnings, limits) are in the
// language of that page (entry.lang): translated where the catalogue can, else marked.

import { MODELS_URL } from './classifier.js';
import { language, t, tr, translateMessage } from './i18n.js';
import {
  MAX_IMPORT_BYTES, checkImages, deleteAll, deleteEntry, exportDocument, importEntries, lesionKey,
  lesionSeries, listEntries, parseExport,
} from './history-store.js';
import { colourName, measureList, outlineSvg, outlinedImage } from './outline-view.js';

// ---- every text this script shows (the template holds the rest) ----------------------

// Counts: a whole phrase for one and for more, as languages inflect them differently.
const checksOf = (n) => (n === 1 ? t('1 check') : t('{n} checks', { n }));
// A sentence's full stop, unless it already ends with one (in a quotation or not).
const stop = (text) => (/[.!?][”“"]?$/.test(text) ? text : `${text}.`);
const TEXT = {
  allSites: t('All body sites'),
  noMatch: t('No saved result matches these filters.'),
  nothingSaved: t('Nothing saved yet. After a result on a screener, choose “Save to history”.'),
  gone: t('That saved result is no longer here.'),
  seriesGone: t('No saved result has that name any more.'),
  pageTitle: t('History'),
  entryTitle: (task, date) => t('{task}, {date}: History', { task, date }),
  seriesTitle: (lesion, n) => t('“{lesion}”, {checks}: History', { lesion, checks: checksOf(n) }),
  quoted: (name) => t('“{name}”', { name }),
  // one entry
  entryHeading: (task, date) => `${task}: ${date}`,
  imageAlt: (fileName) => (fileName ? t('The image saved with this result ({name})', { name: fileName })
    : t('The image saved with this result')),
  date: t('Date'),
  screener: t('Screener'),
  name: t('Name'),
  details: t('Details'),
  noDetails: t('none given'),
  bodySite: t('Body site'),
  noSite: t('not given'),
  modelVersion: t('Model version'),
  versionNow: (version, current) => (current && current !== version
    ? t('{version} (this site now runs version {current})', { version, current }) : version),
  kindsHeading: (n) => t('All {n} kinds, most likely first', { n }),
  limits: (version) => t('What the model (version {version}) was measured to do:', { version }),
  seeSeries: (lesion, n) => (n === 1 ? t('See the check of “{lesion}”', { lesion })
    : t('See all {n} checks of “{lesion}” side by side', { lesion, n })),
  // a lesion followed over time
  seriesHeading: (lesion, site) => (site ? t('“{lesion}”, {site}', { lesion, site })
    : TEXT.quoted(lesion)),
  // `first` and `last` are days: one day (all checks on it) is said once.
  seriesFacts: (task, n, first, last) => (first !== last
    ? t('{task} · {checks}, from {first} to {last}', { task, checks: checksOf(n), first, last })
    : t('{task} · {checks}, on {first}', { task, checks: checksOf(n), first })),
  seriesListFacts: (task, site, n, first, last) => [task, site,
    checksOf(n) + (n > 1 ? `, ${first === last ? first : `${first} – ${last}`}` : '')]
    .filter(Boolean).join(' · '),
  seriesChanged: t('The result changed between checks.'),
  seriesSame: t('The same result at every check.'),
  seriesOne: t('One check so far.'),
  oneCheck: t('One check so far: save another photo of this lesion later, under the same name and '
    + 'body site, to see here whether the result changes.'),
  topMoved: (date, from, fromSerious, to, toSerious) => {
    const before = fromSerious ? t('{name} (a serious kind)', { name: from }) : from;
    const now = toSerious ? t('{name}, a serious kind', { name: to }) : to;
    return t('On {date}, the most likely kind moved from {from} to {to}.', { date, from: before, to: now });
  },
  riskAppeared: (date, message) => t('The risk sentence “{message}” appeared on {date}.', { date, message }),
  riskWent: (date, before, now) => stop(t('On {date}, the risk sentence “{before}” gave way to “{now}”',
    { date, before, now })),
  riskGone: (date, before) => t('On {date}, the risk sentence “{before}” no longer appeared.', { date, before }),
  versionChanged: (date, before, now) => t('The check of {date} was made by another version of the '
    + 'model ({now}; before: {before}): a new model alone can change an answer.', { date, before, now }),
  unchanged: (from, to, top, risk) => stop(risk
    ? t('From {from} to {to}, nothing changed: the most likely kind stayed {top} and the risk '
      + 'sentence stayed “{risk}”', { from, to, top, risk })
    : t('From {from} to {to}, nothing changed: the most likely kind stayed {top}', { from, to, top })),
  checkTop: (name, percent) => t('Most likely: {name} ({percent})', { name, percent }),
  checkKinds: (date) => t('Every kind on {date}', { date }),
  modelsHeading: (n) => (n === 1 ? t('The model') : t('The models')),
  modelLine: (version, dates, current) => (dates.length === 1
    ? t('Version {version}, check of {dates}.', { version: TEXT.versionNow(version, current), dates: dates[0] })
    : t('Version {version}, checks of {dates}.',
      { version: TEXT.versionNow(version, current), dates: dates.join('; ') })),
  // the lesion's outline (outline-view.js), saved with a result
  checkOutline: (area, asymmetry, compactness, colours) => t('Outline: {area} of the photo, '
    + 'asymmetry {asymmetry}, compactness {compactness}, colours: {colours}',
  { area, asymmetry, compactness, colours }),
  noColours: t('none clearly'),
  outlineArea: (date, before, now) => t('On {date}, the outlined area filled {now} of the photo '
    + '(before: {before}).', { date, before, now }),
  outlineAsymmetry: (date, before, now) => t('On {date}, the outline’s asymmetry was {now} '
    + '(before: {before}), about the long / short axis.', { date, before, now }),
  outlineBorder: (date, before, now) => t('On {date}, the border’s compactness was {now} '
    + '(before: {before}).', { date, before, now }),
  outlineColoursAdded: (date, names) => t('On {date}, the outline held colours not found before: '
    + '{names}.', { date, names }),
  outlineColoursGone: (date, names) => t('On {date}, these colours were no longer found in the '
    + 'outline: {names}.', { date, names }),
  outlineSame: (from, to) => t('From {from} to {to}, the outline’s measures changed little.', { from, to }),
  outlineCaveat: t('The outline’s measures change with the photo’s distance, angle and light: '
    + 'compare photos taken the same way. A change in them is not a diagnosis.'),
  riskTrust: t('The risk sentence'),
  measured: t('Measured limits'),
  // actions
  exported: (n) => (n === 1 ? t('Exported 1 saved result to one JSON file.')
    : t('Exported {n} saved results to one JSON file.', { n })),
  tooLarge: t('This file is far too large to be a history export; nothing was imported.'),
  unchangedHistory: (message) => t('{message} Nothing was imported; your history is unchanged.',
    { message: translateMessage(message) }),
  imported: (n, file, added) => (n === 1
    ? t('Imported 1 saved result from “{file}” ({added} new, {old} already here).',
      { file, added, old: n - added })
    : t('Imported {n} saved results from “{file}” ({added} new, {old} already here).',
      { n, file, added, old: n - added })),
  confirmDeleteAll: (n) => (n === 1
    ? t('Delete the 1 saved result from this browser? This cannot be undone; export it first to '
      + 'keep a copy.')
    : t('Delete all {n} saved results from this browser? This cannot be undone; export them first '
      + 'to keep a copy.', { n })),
  deleteAllAction: t('Delete all'),
  deletedAll: (n) => (n === 1 ? t('Deleted the 1 saved result.') : t('Deleted all {n} saved results.', { n })),
  confirmDelete: t('Delete this saved result from this browser? This cannot be undone.'),
  deleteAction: t('Delete'),
  deleted: t('Deleted the saved result.'),
  unavailable: (message) => t('{message} The screeners still work; only saving results is not possible.',
    { message: translateMessage(message) }),
};

const $ = (id) => document.getElementById(id);
const ui = {
  error: $('history-error'),
  message: $('history-message'),
  listSection: $('history-list-section'),
  list: $('history-list'),
  empty: $('history-empty'),
  lesions: $('history-lesions'),
  lesionList: $('history-lesion-list'),
  filterTask: $('history-filter-task'),
  filterSite: $('history-filter-site'),
  exportButton: $('history-export'),
  importInput: $('history-import'),
  deleteAllButton: $('history-delete-all'),
  entry: $('history-entry'),
  series: $('history-series'),
  confirm: $('history-confirm'),
  confirmText: $('history-confirm-text'),
  confirmButton: $('history-confirm-button'),
  confirmCancel: $('history-confirm-cancel'),
};

let entries = [];
let series = [];
// task → the ids of its serious kinds (metadata.json's labels marked malignant), or null
const seriousKinds = new Map();

// ---- helpers ----------------------------------------------------------------------

function element(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

const percentFormat = new Intl.NumberFormat(language, {
  style: 'percent', minimumFractionDigits: 1, maximumFractionDigits: 1,
});

function formatPercent(probability) {
  if (probability > 0 && probability < 0.0005) return `<${percentFormat.format(0.001)}`;
  return percentFormat.format(probability);
}

const shareFormat = new Intl.NumberFormat(language, { style: 'percent', maximumFractionDigits: 0 });
const formatShare = (fraction) => shareFormat.format(fraction);
const formatDate = (iso) => new Date(iso).toLocaleString(language, { dateStyle: 'medium', timeStyle: 'short' });
const formatDay = (iso) => new Date(iso).toLocaleDateString(language, { dateStyle: 'medium' });

/** `node` showing `text` that `entry` saved as its screener page showed it: in this page's
 * language where the catalogue can translate it, else as saved and marked with its language. */
function savedText(node, entry, text) {
  const saved = entry.lang || 'en';
  const shown = saved === language ? text : translateMessage(text);
  node.textContent = shown;
  if (saved !== language && shown === text) node.lang = saved;
  else node.removeAttribute('lang');
  return node;
}

const taskTitle = (entry) => taskTitles.get(entry.task) || tr(entry.task_title);

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

/** Read which kinds of each of `tasks` are serious, once (null if its metadata.json cannot be read). */
async function loadSeriousKinds(tasks) {
  await Promise.all([...new Set(tasks)].filter((task) => !seriousKinds.has(task)).map(async (task) => {
    let kinds = null;
    try {
      const response = await fetch(new URL(`${encodeURIComponent(task)}/metadata.json`, MODELS_URL));
      if (response.ok) {
        const { labels } = await response.json();
        kinds = new Set(labels.filter((label) => label.malignant).map((label) => label.id));
      }
    } catch (error) {
      kinds = null; // the sentences then do not say which kinds are serious
    }
    seriousKinds.set(task, kinds);
  }));
}

const isSerious = (task, id) => Boolean(seriousKinds.get(task)?.has(id));
const seriesHref = (key) => `#lesion=${encodeURIComponent(key)}`;

// ---- the list ---------------------------------------------------------------------

function fillSiteFilter() {
  const chosen = ui.filterSite.value;
  const sites = new Map();
  for (const entry of entries) if (entry.site) sites.set(entry.site.value, tr(entry.site.name));
  const options = [...sites].sort((a, b) => a[1].localeCompare(b[1]))
    .map(([value, name]) => new Option(name, value));
  ui.filterSite.replaceChildren(new Option(TEXT.allSites, ''), ...options);
  ui.filterSite.value = sites.has(chosen) ? chosen : '';
}

function entryTitle(entry) {
  const top = entry.results[0];
  return `${tr(top.name)} (${formatPercent(top.probability)})`;
}

function listItem(image, link, ...lines) {
  const item = element('li', 'history-item');
  const thumb = element('img', 'history-thumb rounded-1');
  thumb.src = image;
  thumb.alt = '';
  const text = element('div', 'history-item-text');
  text.append(link, ...lines);
  item.append(thumb, text);
  return item;
}

function riskLine(risk, className = 'small') {
  return element('div', `${className} ${risk.high ? 'text-danger-emphasis' : 'text-success-emphasis'}`,
    tr(risk.message));
}

function renderList() {
  const task = ui.filterTask.value;
  const site = ui.filterSite.value;
  const matches = (item) => (!task || item.task === task) && (!site || item.site?.value === site);
  const shown = entries.filter(matches);
  ui.list.replaceChildren(...shown.map((entry) => {
    const link = element('a', 'history-item-link fw-semibold', entryTitle(entry));
    link.href = `#entry=${encodeURIComponent(entry.id)}`;
    const facts = [formatDate(entry.created), taskTitle(entry)];
    if (entry.site) facts.push(tr(entry.site.name));
    if (entry.lesion) facts.push(TEXT.quoted(entry.lesion));
    const item = listItem(entry.image, link, element('div', 'small text-body-secondary', facts.join(' · ')));
    item.dataset.task = entry.task;
    if (entry.risk) item.lastChild.append(riskLine(entry.risk));
    return item;
  }));
  const lesions = series.filter(matches);
  ui.lesionList.replaceChildren(...lesions.map((lesion) => {
    const checks = lesion.entries;
    const last = checks.at(-1);
    const link = element('a', 'history-item-link fw-semibold', TEXT.quoted(lesion.lesion));
    link.href = seriesHref(lesion.key);
    const changed = changesOf(lesion).changed;
    return listItem(last.image, link,
      element('div', 'small text-body-secondary', TEXT.seriesListFacts(
        taskTitle(lesion), lesion.site && tr(lesion.site.name), checks.length,
        formatDay(checks[0].created), formatDay(last.created))),
      element('div', `small ${changed ? 'text-danger-emphasis fw-semibold' : ''}`,
        checks.length === 1 ? TEXT.seriesOne : changed ? TEXT.seriesChanged : TEXT.seriesSame));
  }));
  ui.lesions.hidden = lesions.length === 0;
  ui.empty.hidden = shown.length > 0;
  ui.empty.textContent = entries.length ? TEXT.noMatch : TEXT.nothingSaved;
  ui.exportButton.disabled = entries.length === 0;
  ui.deleteAllButton.disabled = entries.length === 0;
}

// ---- one entry ----------------------------------------------------------------------

function fact(list, term, value) {
  const definition = element('dd', '', value);
  list.append(element('dt', '', term), definition);
  return definition;
}

function probabilityRows(results) {
  return results.map((item) => {
    const row = element('tr');
    const name = element('th', '', tr(item.name));
    name.scope = 'row';
    row.append(name, element('td', 'text-end', formatPercent(item.probability)));
    return row;
  });
}

function renderEntry(entry) {
  $('entry-heading').textContent = TEXT.entryHeading(taskTitle(entry), formatDate(entry.created));
  const image = $('entry-image');
  image.src = entry.image;
  image.alt = TEXT.imageAlt(entry.file_name);
  $('entry-image-caption').textContent = entry.file_name;
  const outlined = entry.outline?.polygon ? entry.outline : null;
  const overlay = $('entry-outline-svg');
  if (outlined) outlineSvg(outlined, overlay);
  else overlay.replaceChildren();
  overlay.toggleAttribute('hidden', !outlined);
  $('entry-outline').hidden = !outlined;
  $('entry-outline-measures').replaceChildren(...(outlined ? measureList(outlined) : []));

  const facts = $('entry-facts');
  facts.replaceChildren();
  fact(facts, TEXT.date, formatDate(entry.created));
  fact(facts, TEXT.screener, taskTitle(entry));
  if (entry.lesion) fact(facts, TEXT.name, entry.lesion);
  // The body site has its own line: the other details here (none: no line, if a site was given).
  const details = entry.details.filter((item) => !(entry.site && item.name === 'site'));
  if (details.length || !entry.site) {
    fact(facts, TEXT.details, details.length
      ? details.map((item) => `${tr(item.label)}: ${tr(item.shown)}`).join(' · ') : TEXT.noDetails);
  }
  fact(facts, TEXT.bodySite, entry.site ? tr(entry.site.name) : TEXT.noSite);
  fact(facts, TEXT.modelVersion, TEXT.versionNow(entry.model_version, taskVersions.get(entry.task)));

  $('entry-warnings').replaceChildren(...entry.warnings.map(
    (text) => savedText(element('div', 'alert alert-warning'), entry, text)));
  const risk = $('entry-risk');
  risk.hidden = !entry.risk;
  if (entry.risk) {
    risk.dataset.level = entry.risk.high ? 'high' : 'low';
    risk.replaceChildren(
      element('p', `fs-5 fw-semibold mb-1 ${entry.risk.high ? 'text-danger-emphasis' : 'text-success-emphasis'}`,
        tr(entry.risk.message)),
      savedText(element('p', 'small text-body-secondary mb-0'), entry, entry.risk.trust));
  }
  $('entry-probabilities-heading').textContent = TEXT.kindsHeading(entry.results.length);
  $('entry-probabilities').replaceChildren(...probabilityRows(entry.results));
  $('entry-limits').replaceChildren(...(entry.limits ? [TEXT.limits(entry.model_version), ' ',
    savedText(element('span'), entry, entry.limits)] : []));

  const key = lesionKey(entry);
  const lesion = key && series.find((item) => item.key === key);
  $('entry-series').hidden = !lesion;
  if (lesion) {
    const link = $('entry-series-link');
    link.href = seriesHref(key);
    link.textContent = TEXT.seeSeries(lesion.lesion, lesion.entries.length);
  }
}

// ---- a lesion followed over time ----------------------------------------------------

/**
 * What changed from each check of `lesion` to the next, in words:
 * {changed: true if the top kind or the risk sentence changed, sentences: [text, …]}.
 */
function changesOf(lesion) {
  const checks = lesion.entries;
  if (checks.length < 2) return { changed: false, sentences: [TEXT.oneCheck] };
  const sentences = [];
  let changed = false;
  for (let i = 1; i < checks.length; i += 1) {
    const before = checks[i - 1];
    const now = checks[i];
    // The day, or the day and time when both checks fall on the same day.
    const sameDay = formatDay(before.created) === formatDay(now.created);
    const when = (entry) => (sameDay ? formatDate : formatDay)(entry.created);
    const found = [];
    if (before.model_version !== now.model_version) {
      sentences.push(TEXT.versionChanged(when(now), before.model_version, now.model_version));
    }
    const [topBefore, topNow] = [before.results[0], now.results[0]];
    if (topBefore.id !== topNow.id) {
      found.push(TEXT.topMoved(when(now), tr(topBefore.name), isSerious(before.task, topBefore.id),
        tr(topNow.name), isSerious(now.task, topNow.id)));
    }
    const [highBefore, highNow] = [Boolean(before.risk?.high), Boolean(now.risk?.high)];
    if (highNow && !highBefore) found.push(TEXT.riskAppeared(when(now), tr(now.risk.message)));
    if (highBefore && !highNow) {
      found.push(now.risk ? TEXT.riskWent(when(now), tr(before.risk.message), tr(now.risk.message))
        : TEXT.riskGone(when(now), tr(before.risk.message)));
    }
    if (found.length) {
      changed = true;
      sentences.push(...found);
    } else {
      sentences.push(TEXT.unchanged(when(before), when(now), tr(topNow.name), tr(now.risk?.message)));
    }
    if (before.outline?.polygon && now.outline?.polygon) {
      sentences.push(...outlineChanges(before.outline, now.outline, when(before), when(now)));
    }
  }
  if (checks.filter((entry) => entry.outline?.polygon).length > 1) sentences.push(TEXT.outlineCaveat);
  return { changed, sentences };
}

const percent0 = (value) => formatShare(value);
const twoDigits = (value) => new Intl.NumberFormat(language, { minimumFractionDigits: 2, maximumFractionDigits: 2 })
  .format(value);
const axes = (asymmetry) => `${percent0(asymmetry.major)} / ${percent0(asymmetry.minor)}`;
// Changes smaller than these are "little": a fifth of the area, 8 points of asymmetry
// or of compactness (a photo taken again the same way moves them about that much).
const AREA_CHANGE = 0.2;
const SHAPE_CHANGE = 0.08;

/** Sentences on how the outline's measures changed from `before` to `now`. */
function outlineChanges(before, now, from, to) {
  const found = [];
  if (Math.abs(now.areaFraction - before.areaFraction) >= AREA_CHANGE * Math.max(before.areaFraction, 1e-6)) {
    found.push(TEXT.outlineArea(to, percent0(before.areaFraction), percent0(now.areaFraction)));
  }
  const asymmetry = (a) => Math.max(a.major, a.minor);
  if (Math.abs(asymmetry(now.asymmetry) - asymmetry(before.asymmetry)) >= SHAPE_CHANGE) {
    found.push(TEXT.outlineAsymmetry(to, axes(before.asymmetry), axes(now.asymmetry)));
  }
  if (Math.abs(now.compactness - before.compactness) >= SHAPE_CHANGE) {
    found.push(TEXT.outlineBorder(to, twoDigits(before.compactness), twoDigits(now.compactness)));
  }
  const added = now.colours.filter((id) => !before.colours.includes(id));
  const gone = before.colours.filter((id) => !now.colours.includes(id));
  if (added.length) found.push(TEXT.outlineColoursAdded(to, added.map(colourName).join(', ')));
  if (gone.length) found.push(TEXT.outlineColoursGone(to, gone.map(colourName).join(', ')));
  return found.length ? found : [TEXT.outlineSame(from, to)];
}

/** One line of a check's outline measures, or null. */
function outlineLine(outline) {
  if (!outline?.polygon) return null;
  return TEXT.checkOutline(percent0(outline.areaFraction), axes(outline.asymmetry),
    twoDigits(outline.compactness),
    outline.colours.length ? outline.colours.map(colourName).join(', ') : TEXT.noColours);
}

function checkCard(entry) {
  const card = element('li', 'series-check');
  const heading = element('h4', 'h6 mb-1');
  const link = element('a', '', formatDate(entry.created));
  link.href = `#entry=${encodeURIComponent(entry.id)}`;
  heading.append(link);
  const image = element('img', 'series-image rounded-1');
  image.src = entry.image;
  image.alt = TEXT.imageAlt(entry.file_name);
  const top = entry.results[0];
  const frame = element('div', 'series-figure');
  frame.append(image);
  outlinedImage(image, entry.outline); // its words: the line below
  card.append(heading, frame, element('p', 'series-top fw-semibold mb-1',
    TEXT.checkTop(tr(top.name), formatPercent(top.probability))));
  const shape = outlineLine(entry.outline);
  if (shape) card.append(element('p', 'series-outline small mb-1', shape));
  if (entry.risk) card.append(riskLine(entry.risk, 'series-risk fw-semibold mb-1'));
  for (const warning of entry.warnings) {
    card.append(savedText(element('p', 'small text-warning-emphasis mb-1'), entry, warning));
  }
  const table = element('table', 'table table-sm series-probabilities mb-0');
  const caption = element('caption', 'visually-hidden', TEXT.checkKinds(formatDate(entry.created)));
  const body = element('tbody');
  body.append(...probabilityRows(entry.results));
  table.append(caption, body);
  card.append(table);
  return card;
}

function renderSeries(lesion) {
  const checks = lesion.entries;
  const title = taskTitle(lesion);
  $('series-heading').textContent = TEXT.seriesHeading(lesion.lesion, lesion.site && tr(lesion.site.name));
  $('series-facts').textContent = TEXT.seriesFacts(title, checks.length, formatDay(checks[0].created),
    formatDay(checks.at(-1).created));
  $('series-changes').replaceChildren(...changesOf(lesion).sentences.map((text) => element('li', '', text)));
  $('series-checks').replaceChildren(...checks.map(checkCard));

  // Each model version once: which checks it made, what it was measured to do.
  const versions = new Map();
  for (const entry of checks) {
    if (!versions.has(entry.model_version)) versions.set(entry.model_version, []);
    versions.get(entry.model_version).push(entry);
  }
  const models = $('series-models');
  models.replaceChildren(element('h3', 'h6', TEXT.modelsHeading(versions.size)));
  for (const [version, made] of versions) {
    const last = made.at(-1);
    const block = element('div', 'series-model mb-2');
    block.append(element('p', 'fw-semibold mb-0', TEXT.modelLine(version,
      made.map((entry) => formatDay(entry.created)), taskVersions.get(lesion.task))));
    const facts = element('dl', 'series-model-facts mb-0');
    const trusted = made.filter((entry) => entry.risk?.trust).at(-1);
    if (trusted) savedText(fact(facts, TEXT.riskTrust), trusted, trusted.risk.trust);
    if (last.limits) savedText(fact(facts, TEXT.measured), last, last.limits);
    block.append(facts);
    models.append(block);
  }
}

// ---- which view -----------------------------------------------------------------------

function opened(kind) {
  const match = new RegExp(`^#${kind}=(.+)$`).exec(window.location.hash);
  return match ? decodeURIComponent(match[1]) : null;
}

function route() {
  const id = opened('entry');
  const entry = id && entries.find((item) => item.id === id);
  const key = opened('lesion');
  const lesion = key && series.find((item) => item.key === key);
  ui.entry.hidden = !entry;
  ui.series.hidden = !lesion;
  ui.listSection.hidden = Boolean(entry || lesion);
  if (entry) {
    renderEntry(entry);
    document.title = TEXT.entryTitle(taskTitle(entry), formatDate(entry.created));
  } else if (lesion) {
    renderSeries(lesion);
    document.title = TEXT.seriesTitle(lesion.lesion, lesion.entries.length);
  } else {
    document.title = TEXT.pageTitle;
    if (id) say(TEXT.gone);
    if (key) say(TEXT.seriesGone);
  }
}

async function refresh() {
  entries = await listEntries();
  series = lesionSeries(entries);
  await loadSeriousKinds(series.map((lesion) => lesion.task));
  fillSiteFilter();
  renderList();
  route();
}

// ---- actions -------------------------------------------------------------------------

async function attempt(work) {
  showError('');
  say(''); // an earlier action's message would read as this one's
  try {
    await work();
  } catch (error) {
    showError(translateMessage(error.message || String(error)));
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
  say(TEXT.exported(entries.length));
}

async function importFile(file) {
  if (file.size > MAX_IMPORT_BYTES) throw new Error(TEXT.tooLarge);
  let imported;
  try {
    imported = parseExport(await file.text());
    await checkImages(imported); // each one a picture, before anything is written
  } catch (error) {
    throw new Error(TEXT.unchangedHistory(error.message));
  }
  const known = new Set(entries.map((entry) => entry.id));
  const added = imported.filter((entry) => !known.has(entry.id)).length;
  try {
    await importEntries(imported);
  } catch (error) {
    throw new Error(TEXT.unchangedHistory(error.message));
  }
  await refresh();
  say(TEXT.imported(imported.length, file.name, added));
}

function backToList(event) {
  event.preventDefault();
  history.pushState(null, '', window.location.pathname);
  route();
}

function wire() {
  ui.filterTask.addEventListener('change', renderList);
  ui.filterSite.addEventListener('change', renderList);
  window.addEventListener('hashchange', () => { say(''); route(); });
  $('history-back').addEventListener('click', backToList);
  $('series-back').addEventListener('click', backToList);
  ui.exportButton.addEventListener('click', exportAll);
  ui.importInput.addEventListener('change', () => {
    const [file] = ui.importInput.files;
    ui.importInput.value = '';
    if (file) attempt(() => importFile(file));
  });
  ui.deleteAllButton.addEventListener('click', () => attempt(async () => {
    const n = entries.length;
    if (!await confirmWith(TEXT.confirmDeleteAll(n), TEXT.deleteAllAction)) return;
    await deleteAll();
    await refresh();
    say(TEXT.deletedAll(n));
  }));
  $('entry-delete').addEventListener('click', () => attempt(async () => {
    const id = opened('entry');
    if (!id || !await confirmWith(TEXT.confirmDelete, TEXT.deleteAction)) return;
    await deleteEntry(id);
    history.pushState(null, '', window.location.pathname);
    await refresh();
    say(TEXT.deleted);
  }));
  $('entry-print').addEventListener('click', () => window.print());
  $('series-print').addEventListener('click', () => window.print());
}

wire();
refresh().catch((error) => {
  showError(TEXT.unavailable(error.message));
  for (const control of [ui.exportButton, ui.importInput, ui.deleteAllButton]) control.disabled = true;
  ui.empty.hidden = true;
});
