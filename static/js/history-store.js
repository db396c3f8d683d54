// The private history: saved results kept in this browser's IndexedDB, never sent
// anywhere. Used by history-save.js (the "Save to history" button of a screener)
// and history-page.js (/history). The export file is this module's format:
//   { format: "screener-history", version: 1, exported: ISO date, entries: [entry, …] }
// and an entry is described by checkEntry below (docs/history.md says the same).
// Its error messages are English, marked with msg(); the pages show them translated.

import { msg } from './messages.js';

export const FORMAT = 'screener-history';
export const FORMAT_VERSION = 1;

const DB_NAME = 'screener-history';
const DB_VERSION = 1;
const STORE = 'entries';
// An export far larger than any real history is refused before it is parsed.
export const MAX_IMPORT_BYTES = 200 * 1024 * 1024;
// The longer side of an entry's image, in pixels (history-save.js makes it so).
export const MAX_IMAGE_SIDE = 256;

/** A readable Error for a failed IndexedDB call: unavailable, or the device's storage full. */
export function storageError(error) {
  if (error && error.name === 'QuotaExceededError') {
    const full = new Error(msg('This device’s storage for this site is full. Delete or export '
      + 'older entries on the History page, then try again.'));
    full.name = 'QuotaExceededError';
    return full;
  }
  const unavailable = new Error(error && error.message
    ? msg('The history cannot be used in this browser ({reason}): it may be in a private mode that '
      + 'keeps no data, or storage may be switched off for this site.', { reason: error.message })
    : msg('The history cannot be used in this browser: it may be in a private mode that keeps no '
      + 'data, or storage may be switched off for this site.'));
  unavailable.name = 'HistoryUnavailable';
  return unavailable;
}

let opening = null;

function openDb() {
  if (!opening) {
    opening = new Promise((resolve, reject) => {
      if (!globalThis.indexedDB) {
        reject(storageError(new Error(msg('IndexedDB is missing'))));
        return;
      }
      let request;
      try {
        request = indexedDB.open(DB_NAME, DB_VERSION);
      } catch (error) {
        reject(storageError(error));
        return;
      }
      request.onupgradeneeded = () => {
        const store = request.result.createObjectStore(STORE, { keyPath: 'id' });
        store.createIndex('created', 'created');
      };
      request.onsuccess = () => resolve(request.result);
      request.onerror = () => reject(storageError(request.error));
      request.onblocked = () => reject(storageError(new Error(msg('another tab holds an older version open'))));
    }).catch((error) => {
      opening = null; // try again next time
      throw error;
    });
  }
  return opening;
}

/** Run `work(store)` in one transaction; resolves with its result once committed, else rejects (nothing written). */
async function transact(mode, work) {
  const db = await openDb();
  return new Promise((resolve, reject) => {
    let result;
    let tx;
    try {
      tx = db.transaction(STORE, mode);
      result = work(tx.objectStore(STORE));
    } catch (error) {
      reject(storageError(error));
      return;
    }
    tx.oncomplete = () => resolve(typeof result === 'function' ? result() : result);
    tx.onerror = () => reject(storageError(tx.error));
    tx.onabort = () => reject(storageError(tx.error));
  });
}

export function newId() {
  if (globalThis.crypto?.randomUUID) return crypto.randomUUID();
  return `${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 10)}`;
}

export async function addEntry(entry) {
  const problem = checkEntry(entry);
  if (problem) throw new Error(msg('Not saved: {problem}.', { problem }));
  await transact('readwrite', (store) => store.add(entry));
  return entry;
}

/** Every entry, newest first. */
export async function listEntries() {
  let request;
  const entries = await transact('readonly', (store) => {
    request = store.getAll();
    return () => request.result;
  });
  return entries.sort((a, b) => (a.created < b.created ? 1 : a.created > b.created ? -1
    : a.id < b.id ? 1 : -1));
}

export function deleteEntry(id) {
  return transact('readwrite', (store) => store.delete(id));
}

export function deleteAll() {
  return transact('readwrite', (store) => store.clear());
}

/** Write every entry of a checked export in one transaction: all of them, or none. */
export async function importEntries(entries) {
  let before;
  await transact('readwrite', (store) => {
    before = store.count();
    for (const entry of entries) store.put(entry);
  });
  return { count: entries.length, before: before.result };
}

export function exportDocument(entries) {
  return { format: FORMAT, version: FORMAT_VERSION, exported: new Date().toISOString(), entries };
}

// ---- checking an entry (a saved one, or one of an imported file) ---------------------

const isString = (value) => typeof value === 'string';
const isObject = (value) => value !== null && typeof value === 'object' && !Array.isArray(value);

function checkString(entry, key, { optional = false, max = 10_000 } = {}) {
  const value = entry[key];
  if (value === undefined && optional) return null;
  if (!isString(value)) return msg('“{key}” must be text', { key });
  if (value.length > max) return msg('“{key}” is too long', { key });
  return null;
}

/** What is wrong with `entry` as a history entry, or null if nothing. */
export function checkEntry(entry) {
  if (!isObject(entry)) return msg('it is not an object');
  for (const key of ['id', 'created', 'task', 'task_title', 'model_version', 'file_name', 'limits']) {
    const problem = checkString(entry, key);
    if (problem) return problem;
  }
  if (!entry.id) return msg('“{key}” is empty', { key: 'id' });
  if (Number.isNaN(Date.parse(entry.created))) return msg('“{key}” is not a date', { key: 'created' });
  if (!entry.task) return msg('“{key}” is empty', { key: 'task' });
  const lesion = checkString(entry, 'lesion', { optional: true, max: 200 });
  if (lesion) return lesion;
  const lang = checkString(entry, 'lang', { optional: true, max: 35 });
  if (lang) return lang;
  if (!isString(entry.image) || !/^data:image\/(jpeg|png|webp);base64,[A-Za-z0-9+/=]+$/.test(entry.image)) {
    return msg('“image” must be a JPEG, PNG or WebP data URL');
  }
  if (!Array.isArray(entry.results) || entry.results.length === 0) return msg('“results” must be a non-empty list');
  for (const [i, item] of entry.results.entries()) {
    if (!isObject(item) || !isString(item.id) || !isString(item.name)) {
      return msg('results[{i}] must have a text “id” and “name”', { i });
    }
    if (typeof item.probability !== 'number' || !(item.probability >= 0 && item.probability <= 1)) {
      return msg('results[{i}].probability must be a number from 0 to 1', { i });
    }
  }
  if (!Array.isArray(entry.details)) return msg('“details” must be a list');
  for (const [i, item] of entry.details.entries()) {
    if (!isObject(item) || !['name', 'label', 'value', 'shown'].every((key) => isString(item[key]))) {
      return msg('details[{i}] must have text “name”, “label”, “value” and “shown”', { i });
    }
  }
  if (entry.site !== null && !(isObject(entry.site) && isString(entry.site.value) && isString(entry.site.name))) {
    return msg('“site” must be null or have a text “value” and “name”');
  }
  if (entry.risk !== null && !(isObject(entry.risk) && typeof entry.risk.high === 'boolean'
      && isString(entry.risk.message) && isString(entry.risk.trust))) {
    return msg('“risk” must be null or have “high” (true/false), “message” and “trust”');
  }
  if (!Array.isArray(entry.warnings) || !entry.warnings.every(isString)) return msg('“warnings” must be a list of texts');
  return checkOutline(entry.outline);
}

const OUTLINE_COLOURS = ['white', 'red', 'light_brown', 'dark_brown', 'blue_grey', 'black'];
const isNumber = (value, low = 0, high = Infinity) => typeof value === 'number' && value >= low && value <= high;

/** What is wrong with an entry's `outline` (optional: absent in results saved before it, or
 * null), or null if nothing: the polygon and measures history-save.js keeps (outline-view.js). */
function checkOutline(outline) {
  if (outline === undefined || outline === null) return null;
  const bad = msg('“outline” must be null or an outline: polygon, width, height and its measures');
  if (!isObject(outline) || !isNumber(outline.width, 1, 100_000) || !isNumber(outline.height, 1, 100_000)) return bad;
  if (!Array.isArray(outline.polygon) || outline.polygon.length < 3 || outline.polygon.length > 5000
      || !outline.polygon.every((point) => Array.isArray(point) && point.length === 2
        && isNumber(point[0], 0, outline.width) && isNumber(point[1], 0, outline.height))) return bad;
  if (!isNumber(outline.areaFraction, 0, 1) || !isNumber(outline.diameterFraction, 0, 2)
      || !isNumber(outline.compactness, 0, 1) || !isObject(outline.asymmetry)
      || !isNumber(outline.asymmetry.major, 0, 1) || !isNumber(outline.asymmetry.minor, 0, 1)) return bad;
  if (!Array.isArray(outline.colours) || !outline.colours.every((id) => OUTLINE_COLOURS.includes(id))) return bad;
  return null;
}

/**
 * The entries of an export file's text; throws an Error saying, in words, why the
 * file is not one (nothing is written then).
 */
export function parseExport(text) {
  let data;
  try {
    data = JSON.parse(text);
  } catch (error) {
    throw new Error(msg('This file is not a history export: it is not valid JSON (it may be damaged).'));
  }
  if (!isObject(data) || data.format !== FORMAT) {
    throw new Error(msg('This file is not a history export of this site (its “format” is not '
      + '“{format}”).', { format: FORMAT }));
  }
  if (data.version !== FORMAT_VERSION) {
    throw new Error(msg('This history export has version {version}; this site reads version '
      + '{supported} only.', { version: JSON.stringify(data.version), supported: FORMAT_VERSION }));
  }
  if (!Array.isArray(data.entries)) throw new Error(msg('This history export is damaged: it has no list of entries.'));
  const ids = new Set();
  for (const [i, entry] of data.entries.entries()) {
    const problem = checkEntry(entry);
    if (problem) throw new Error(msg('This history export is damaged: entry {n}: {problem}.', { n: i + 1, problem }));
    if (ids.has(entry.id)) throw new Error(msg('This history export is damaged: entry {n} repeats an id.', { n: i + 1 }));
    ids.add(entry.id);
  }
  return data.entries;
}

/**
 * What is wrong with the picture of the data URL `url`, or null if nothing: it must decode
 * as an image, its longer side at most MAX_IMAGE_SIDE pixels. Needs a page (an <img>).
 */
export async function checkImage(url) {
  const image = new Image();
  image.src = url;
  try {
    await image.decode();
  } catch (error) {
    return msg('“image” cannot be read as a picture (it may be damaged)');
  }
  const [width, height] = [image.naturalWidth, image.naturalHeight];
  if (!width || !height) return msg('“image” cannot be read as a picture (it may be damaged)');
  if (Math.max(width, height) > MAX_IMAGE_SIDE) {
    return msg('“image” is {width} × {height} pixels; its longer side must be at most {max}',
      { width, height, max: MAX_IMAGE_SIDE });
  }
  return null;
}

/**
 * Check every entry's image of a parsed export (parseExport) before anything is written;
 * throws an Error naming the first entry whose image is not a picture of the right size.
 */
export async function checkImages(entries) {
  const problems = await Promise.all(entries.map((entry) => checkImage(entry.image)));
  const i = problems.findIndex(Boolean);
  if (i >= 0) {
    throw new Error(msg('This history export is damaged: entry {n}: {problem}.', { n: i + 1, problem: problems[i] }));
  }
}

// ---- the same lesion: entries with one name, screener and body site ------------------

const oldestFirst = (a, b) => (a.created < b.created ? -1 : a.created > b.created ? 1
  : a.id < b.id ? -1 : 1);

/**
 * The series `entry` belongs to: its screener, body site and name (the name compared
 * without case or repeated spaces), or null for an entry saved without a name.
 */
export function lesionKey(entry) {
  const name = entry.lesion?.replace(/\s+/g, ' ').trim().toLocaleLowerCase();
  if (!name) return null;
  return `${entry.task}/${entry.site ? entry.site.value : ''}/${name}`;
}

/**
 * The series among `entries` (one lesion each: see lesionKey), the most recently checked
 * first: [{key, task, task_title, lesion, site, entries}], `entries` oldest first and the
 * other fields as the newest entry has them.
 */
export function lesionSeries(entries) {
  const groups = new Map();
  for (const entry of entries) {
    const key = lesionKey(entry);
    if (!key) continue;
    if (!groups.has(key)) groups.set(key, []);
    groups.get(key).push(entry);
  }
  return [...groups].map(([key, members]) => {
    members.sort(oldestFirst);
    const { task, task_title: taskTitle, lesion, site } = members.at(-1);
    return { key, task, task_title: taskTitle, lesion, site, entries: members };
  }).sort((a, b) => -oldestFirst(a.entries.at(-1), b.entries.at(-1)));
}
