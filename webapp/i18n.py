"""Languages: the site's text in the visitor's language (Flask-Babel), and the browser's.

Every string a person reads is English in the code (templates, ``static/js``, the task
registry's labels, the report tables) and is looked up in the message catalogue of the
chosen language: ``webapp/translations/<lang>/LC_MESSAGES/messages.po`` (its msgids are
the English strings; ``python -m webapp.messages update`` extracts them, docs/languages.md).

The language: ``?lang=<code>`` (which also sets the remembered choice, a cookie), else
the cookie, else the best of the browser's Accept-Language, else English. The browser's
scripts read their strings from ``/i18n/<lang>.json`` (``static/js/i18n.js``): the
catalogue's entries used by the scripts and the models' metadata.json.

The .po files are the source; their compiled .mo files (what gettext reads) are made
here when the app starts, whenever one is missing or older than its .po, so a fresh
clone needs no build step.

Text that arrives already written (the labels and names of metadata.json, the titles and
values data.json records) is translated whole by :func:`translate_text`. The report tables
(``reports/<task>/tables.json``) hold no words: :mod:`webapp.report_words` words them.
"""

from __future__ import annotations

import functools
import json
import re
from pathlib import Path

from flask import Blueprint, abort, current_app, make_response, request
from flask_babel import Babel, get_locale, get_translations
from jinja2 import pass_context

TRANSLATIONS_DIR = Path(__file__).resolve().parent / "translations"
DOMAIN = "messages"
# The remembered choice of language.
COOKIE = "lang"
COOKIE_MAX_AGE = 365 * 24 * 3600
# Entries of the catalogue the browser's scripts need: those found in these places.
BROWSER_SOURCES = ("static/js/", "static/tfjs_model/")

bp = Blueprint("i18n", __name__)


def N_(text: str) -> str:
    """Marks ``text`` for the catalogue (``python -m webapp.messages update``), to be
    translated where it is shown."""
    return text


def init_app(app) -> None:
    compile_catalogues(app)
    Babel(
        app,
        locale_selector=select_language,
        default_locale="en",
        default_translation_directories=str(TRANSLATIONS_DIR),
    )
    # {% trans %} blocks spanning several lines are one line in the catalogue.
    app.jinja_env.policies["ext.i18n.trimmed"] = True
    app.jinja_env.filters["tr"] = translate_text
    app.jinja_env.filters["figures"] = figures
    _localise_placeholders(app.jinja_env)
    app.register_blueprint(bp)
    app.context_processor(_template_context)
    app.after_request(_remember_choice)


def localised(value):
    """A placeholder's value with its figures in the page's language, if it is a number or
    text of figures only ("1.45", "68.4%"); any other value as it is."""
    if isinstance(value, float):
        return localise_figures(str(value))
    if isinstance(value, str) and value and FIGURE.fullmatch(value):
        return localise_figures(value)
    return value


def gettext(string: str, **variables) -> str:
    """Flask-Babel's ``gettext`` with the placeholders' figures in the page's language
    (:func:`localised`), as the templates fill theirs."""
    from flask_babel import gettext as babel_gettext

    return babel_gettext(string, **{k: localised(v) for k, v in variables.items()})


def _localise_placeholders(env) -> None:
    """The templates' ``{% trans %}`` and ``_()`` fill their placeholders with figures
    written the way of the page's language ("T = 1,45", "68,4 %" in German): a value that
    is a number, or text of figures only, goes through :func:`localise_figures`."""

    for name in ("gettext", "ngettext", "pgettext", "npgettext"):
        inner = env.globals.get(name)
        if inner is None:
            continue

        @pass_context
        def call(context, *args, _inner=inner, **variables):
            return _inner(context, *args, **{k: localised(v) for k, v in variables.items()})

        env.globals[name] = call


def languages() -> dict:
    """``{code: {"name", "reviewed"}}`` of the LANGUAGES setting."""
    return current_app.config["LANGUAGES"]


def select_language() -> str:
    offered = languages()
    chosen = request.args.get("lang")
    if chosen in offered:
        return chosen
    remembered = request.cookies.get(COOKIE)
    if remembered in offered:
        return remembered
    return request.accept_languages.best_match(list(offered), default=next(iter(offered)))


def current_language() -> str:
    return str(get_locale() or "en")


def _template_context() -> dict:
    def language_url(code: str) -> str:
        """This page in language ``code`` (``?lang=``, which remembers the choice)."""
        args = [(k, v) for k, v in request.args.items(multi=True) if k != "lang"]
        query = "&".join(f"{k}={v}" for k, v in args + [("lang", code)])
        return f"{request.path}?{query}"

    lang = current_language()
    return {
        "current_language": lang,
        "languages": languages(),
        "language_url": language_url,
        "translation_reviewed": languages().get(lang, {}).get("reviewed", True),
    }


def _remember_choice(response):
    """``?lang=`` on a page the person opened sets the remembered choice; the service
    worker's own downloads of pages (header X-Offline-Copy, templates/sw.js) do not. Not
    HttpOnly: the service worker reads it (a language, no secret)."""
    chosen = request.args.get("lang")
    if chosen in languages() and not request.headers.get("X-Offline-Copy"):
        response.set_cookie(COOKIE, chosen, max_age=COOKIE_MAX_AGE, samesite="Lax")
    if response.mimetype == "text/html":
        response.vary.add("Cookie")
        response.vary.add("Accept-Language")
    return response


# ---- the .po files ---------------------------------------------------------------------


def po_path(lang: str) -> Path:
    return TRANSLATIONS_DIR / lang / "LC_MESSAGES" / f"{DOMAIN}.po"


def compile_catalogues(app=None) -> list[Path]:
    """Compile each .po whose .mo is missing or older; return the .mo files written."""
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po

    written = []
    for po in sorted(TRANSLATIONS_DIR.glob(f"*/LC_MESSAGES/{DOMAIN}.po")):
        mo = po.with_suffix(".mo")
        if mo.exists() and mo.stat().st_mtime >= po.stat().st_mtime:
            continue
        with po.open("rb") as handle:
            catalog = read_po(handle)
        partial = mo.with_suffix(".mo.part")
        try:
            with partial.open("wb") as handle:
                write_mo(handle, catalog)
            partial.replace(mo)
        except OSError as error:  # a read-only deployment: its .mo files must be shipped
            if app is not None:
                app.logger.error("cannot compile %s: %s", po, error)
            continue
        written.append(mo)
    return written


@functools.cache
def _browser_messages(lang: str, mtime: float) -> dict:
    from babel.messages.pofile import read_po

    with po_path(lang).open("rb") as handle:
        catalog = read_po(handle)
    return {
        message.id: message.string
        for message in catalog
        if message.id
        and message.string
        and not message.fuzzy
        and any(str(place).startswith(BROWSER_SOURCES) for place, _ in message.locations)
    }


def browser_messages(lang: str) -> dict:
    """``{English: translation}`` of the entries the browser's scripts use."""
    path = po_path(lang)
    return _browser_messages(lang, path.stat().st_mtime) if path.exists() else {}


@bp.get("/i18n/<lang>.json")
def catalogue(lang: str):
    """The browser's catalogue for ``lang`` (``static/js/i18n.js`` loads it)."""
    if lang not in languages():
        abort(404, f"There is no catalogue for the language “{lang}”.")
    body = {"lang": lang, "messages": browser_messages(lang)}
    response = make_response(json.dumps(body, ensure_ascii=False, sort_keys=True))
    response.mimetype = "application/json"
    response.headers["Cache-Control"] = "no-cache"
    return response


# ---- text that arrives written ---------------------------------------------------------


# Numbers, percentages and figures ("63.1%", "1,431", "0.912", "−2.4"): the same words in
# any language, written with the language's decimal and group marks (localise_figures).
FIGURE = re.compile(r"[\s\d.,:%+\-−–×±<>]*")
# A number written the English way ("1,431", "0.664", "12", "1,234.5") that is not part of
# a word, of a longer dotted figure or of an address ("4.22.0", "ISIC_0024306", "v2" and
# "doi:10.1038/…" stay as they are).
ENGLISH_NUMBER = re.compile(r"(?<![\w.,:/])(\d{1,3}(?:,\d{3})+|\d+)(?:\.(\d+))?(?!\w|[.,]\d|/)")


@functools.cache
def number_marks(lang: str) -> tuple[str, str, str]:
    """(decimal mark, group mark, what stands between a number and "%") of ``lang``, from
    the CLDR data Babel carries: German ``(",", ".", "\u00a0")``, English ``(".", ",", "")``."""
    from babel.numbers import format_percent, get_decimal_symbol, get_group_symbol

    percent = format_percent(0.5, locale=lang)
    return get_decimal_symbol(lang), get_group_symbol(lang), percent[len("50") : -len("%")]


class LocalisedText(str):
    """Text whose figures are already written the way of its language: never again
    ("1.431" is German for 1431, and as English would become "1,431")."""


def localise_figures(text, lang: str | None = None):
    """``text``'s numbers, written the English way ("1,431", "63.1%"), written the way of the
    page's language: "1.431", "63,1 %" in German. Words and other figures stay as they are."""
    lang = lang or current_language()
    if not isinstance(text, str) or isinstance(text, LocalisedText) or lang == "en":
        return text
    decimal, group, before_percent = number_marks(lang)

    def written(match: re.Match) -> str:
        whole, fraction = match.group(1).replace(",", group), match.group(2)
        return whole + (decimal + fraction if fraction is not None else "")

    text = ENGLISH_NUMBER.sub(written, text)
    if before_percent:
        text = re.sub(r"(?<=\d)%", before_percent + "%", text)
    return LocalisedText(text)


def measured(value: float, digits: int = 2, percent: bool = False) -> str:
    """A measured share written with ``digits`` decimals, the English way: 0.9412 → "0.94";
    as a percentage with ``percent`` (0.744 → "74.4%" with one digit).

    Never rounded to a perfect score nor to nothing: a share that is not exactly 1 or 0 gets
    more decimals while it would read as one ("1.00" → 0.996 is "0.996", 0.9995 is
    "0.9995"), and at most 6 it is written as just below or above ("0.999999")."""
    scale, suffix = (100, "%") if percent else (1, "")
    top = scale * 1.0
    for places in range(digits, 7):
        text = f"{value * scale:.{places}f}"
        if value in (0, 1) or float(text) not in (0.0, top):
            return text + suffix
    step = 10.0**-6
    inside = top - step if float(text) == top else step
    return f"{inside:.6f}{suffix}"


def figures(value, digits: int | None = None, percent: bool = False):
    """The templates' ``figures`` filter: ``value``'s figures in the page's language.

    A number with ``digits`` is a measured share, written by :func:`measured` (never
    rounded to a perfect score): ``{{ auc|figures(2) }}``, ``{{ accuracy|figures(1,
    percent=true) }}``. Text ("1,431", "63.1%") goes through :func:`localise_figures`."""
    if digits is not None and isinstance(value, (int, float)) and not isinstance(value, bool):
        value = measured(value, digits, percent)
    return localise_figures(value)


def translate_text(text, lang: str | None = None):
    """``text`` (English) in the page's language: see the module's docstring. Text the
    catalogue does not know comes back as it is."""
    if not isinstance(text, str) or (lang or current_language()) == "en":
        return text
    return _translate(text)[0]


def _translate(text: str) -> tuple[str, bool]:
    """(``text`` translated, whether the catalogue knew it): the whole string, or a text of
    figures only, written the way of the page's language."""
    if not text or FIGURE.fullmatch(text):
        return localise_figures(text), True
    translations = get_translations()
    if text in getattr(translations, "_catalog", {}):
        return translations.gettext(text), True
    return text, False
