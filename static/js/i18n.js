// The page's text in the page's language (<html lang>, chosen by the site: webapp/i18n.py,
// docs/languages.md). The English is in the code; other languages come from the site's
// catalogue for the browser (/i18n/<lang>.json, named by <html data-catalogue>, kept
// offline by the service worker), loaded once before any module importing this runs.
//
//   t('Model ready ({backend}).', { backend })  // the page's own text, with placeholders
//   tr(label.name)                              // text that arrived written (metadata.json)
//   translateMessage(error.message)             // an English message from msg() (messages.js)

import { format } from './messages.js';

const root = document.documentElement;
export const language = root.lang || 'en';

async function loadCatalogue() {
  if (language === 'en' || !root.dataset.catalogue) return {};
  try {
    const response = await fetch(root.dataset.catalogue);
    if (!response.ok) return {};
    return (await response.json()).messages || {};
  } catch {
    return {}; // offline without a copy: the English, rather than nothing
  }
}

const messages = await loadCatalogue();

/** The page's text `english` in the page's language, its {name} placeholders filled in. */
export function t(english, params = {}) {
  return format(messages[english] || english, params);
}

/** Text that arrived written (a label's name, a risk sentence): translated when the
 * catalogue has it, else as it is. */
export function tr(text) {
  return (typeof text === 'string' && messages[text]) || text;
}

let patterns = null;

function compiledPatterns() {
  if (!patterns) {
    const escape = (text) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    patterns = Object.keys(messages).filter((english) => /\{\w+\}/.test(english)).map((english) => {
      const names = [];
      const source = english.split(/\{(\w+)\}/).map((part, i) => {
        if (i % 2 === 0) return escape(part);
        names.push(part);
        return '([\\s\\S]+?)';
      }).join('');
      return { english, names, regex: new RegExp(`^${source}$`) };
    });
  }
  return patterns;
}

/** An English message made by msg() (or any text of the catalogue), in the page's
 * language: the catalogue's message whose pattern it matches, filled in with its parts
 * (each translated where the catalogue has it). A message it cannot match stays English. */
export function translateMessage(text) {
  if (language === 'en' || typeof text !== 'string') return text;
  if (messages[text]) return messages[text];
  for (const { english, names, regex } of compiledPatterns()) {
    const match = regex.exec(text);
    if (match) {
      const params = Object.fromEntries(names.map((name, i) => [name, translateMessage(match[i + 1])]));
      return format(messages[english], params);
    }
  }
  return text;
}
