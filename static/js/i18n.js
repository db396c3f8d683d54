// The page's text in the page's language (<html lang>, chosen by the site: webapp/i18n.py,
// docs/languages.md). The English is in the code; other languages come from the site's
// catalogue for the browser (/i18n/<lang>.json, named by <html data-catalogue>, kept
// offline by the service worker), loaded once before any module importing this runs.
//
//   t('Date: {date}', { date })                 // the page's own text, with placeholders
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

// The language's decimal and group marks and what stands between a number and "%"
// (German: ",", ".", a no-break space), from the browser's Intl.
const marks = (() => {
  const part = (parts, type) => parts.find((p) => p.type === type)?.value;
  const number = new Intl.NumberFormat(language).formatToParts(12345.6);
  const percent = new Intl.NumberFormat(language, { style: 'percent' }).formatToParts(0.5);
  const beforePercent = percent[percent.findIndex((p) => p.type === 'percentSign') - 1];
  return {
    decimal: part(number, 'decimal') || '.',
    group: part(number, 'group') || ',',
    percent: beforePercent?.type === 'literal' ? beforePercent.value : '',
  };
})();

// Figures only ("63.1%", "1,431", "0.912 ± 0.01"), and a number written the English way
// inside them (the same rules as webapp/i18n.py's localise_figures).
const FIGURE = /^[\s\d.,:%+\-−–×±<>]*$/;
const ENGLISH_NUMBER = /(?<![\w.,:/])(\d{1,3}(?:,\d{3})+|\d+)(?:\.(\d+))?(?!\w|[.,]\d|\/)/g;

/** `text`'s numbers written the English way ("1,431", "63.1%") written the way of the
 * page's language ("1.431", "63,1 %" in German); words and other figures stay. */
export function localiseFigures(text) {
  if (language === 'en' || typeof text !== 'string') return text;
  const written = text.replace(ENGLISH_NUMBER, (_, whole, fraction) =>
    whole.replaceAll(',', marks.group) + (fraction === undefined ? '' : marks.decimal + fraction));
  return marks.percent ? written.replace(/(?<=\d)%/g, `${marks.percent}%`) : written;
}

/** A share (0.744) as a percentage with `digits` decimals, in the page's language:
 * "74.4%", German "74,4 %". */
export function formatPercent(fraction, digits = 1) {
  return new Intl.NumberFormat(language, {
    style: 'percent', minimumFractionDigits: digits, maximumFractionDigits: digits,
  }).format(fraction);
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
  if (FIGURE.test(text)) return localiseFigures(text);
  for (const { english, names, regex } of compiledPatterns()) {
    const match = regex.exec(text);
    if (match) {
      const params = Object.fromEntries(names.map((name, i) => [name, translateMessage(match[i + 1])]));
      return format(messages[english], params);
    }
  }
  return text;
}
