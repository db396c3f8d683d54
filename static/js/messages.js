// Messages with {name} placeholders, filled in: msg() marks an English message made
// where no page is (the model's worker, the public API), so that `python -m
// webapp.messages update` puts it in the catalogues; the page shows it translated
// (static/js/i18n.js, translateMessage). No DOM here: the worker imports it.

/** `template` with each {name} replaced by `params[name]` (others left as they are). */
export function format(template, params = {}) {
  return template.replace(/\{(\w+)\}/g, (whole, name) => (name in params ? String(params[name]) : whole));
}

/** An English message for the catalogue, filled in; throw it, the page translates it. */
export function msg(english, params = {}) {
  return format(english, params);
}
