"""The message catalogues: every English string a person reads, and each language's .po.

    python -m webapp.messages update     # extract the strings; add new ones to every .po
    python -m webapp.messages check      # list the strings a .po does not translate (exit 1)
    python -m webapp.messages compile    # .po → .mo (the site also does this when it starts)
    python -m webapp.messages add fr     # start the catalogue of another language

Where the strings come from (docs/languages.md):

- the templates (``{% trans %}…{% endtrans %}``, ``_("…")``) and the site's Python
  (``_``/``gettext``/``ngettext``/``N_``), in Babel's ``%(name)s`` format;
- the browser's scripts (``static/js/*.js``: ``t('…')`` for the page's text, ``msg('…')``
  for an error message made where no page is, such as the model's worker), with
  ``{name}`` placeholders;
- the text of the models' contracts (``<MODELS_FOLDER>/<task>/metadata.json``: titles,
  kinds, label names and descriptions, the details' names, the risk sentences), written
  by ``training/inputs/tasks.py``, the one place the English is kept.

The report files (``reports/<task>/``) hold figures, ids and keys, never words: the words
of the report pages are the site's (``webapp/report_words.py`` and the templates), so a new
release changes no catalogue.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
WEBAPP = ROOT / "webapp"
TEMPLATES = WEBAPP / "templates"
SCRIPTS = ROOT / "static" / "js"
MODELS = ROOT / "static" / "tfjs_model"

KEYWORDS = {
    "_": None,
    "gettext": None,
    "ngettext": (1, 2),
    "lazy_gettext": None,
    "N_": None,
    "t": None,
    "msg": None,
}
# The extractor's options per kind of file; the scripts' t('…') inside a template
# literal's ${…} too (parse_template_string).
OPTIONS = {
    "jinja2": {"trimmed": "true", "silent": "false", "newstyle_gettext": "true"},
    "javascript": {"parse_template_string": "true"},
}


def _source_files() -> list[tuple[str, Path]]:
    files = [("jinja2", path) for path in sorted(TEMPLATES.glob("*.html"))]
    files += [
        ("python", path)
        for path in sorted(WEBAPP.glob("*.py"))
        if path.name not in ("messages.py", "freeze.py")
    ]
    files += [("javascript", path) for path in sorted(SCRIPTS.glob("*.js"))]
    return files


def _relative(path: Path) -> str:
    return path.resolve().relative_to(ROOT).as_posix()


def _code_messages(add) -> None:
    from babel.messages.extract import extract_from_file

    methods = {"jinja2": "jinja2.ext:babel_extract", "python": "python", "javascript": "javascript"}
    for method, path in _source_files():
        options = OPTIONS.get(method, {})
        for lineno, message, comments, _context in extract_from_file(
            methods[method], str(path), keywords=KEYWORDS, options=options
        ):
            add(message, _relative(path), lineno, comments)


def _metadata_strings(metadata: dict) -> list[str]:
    texts = [metadata.get("title"), metadata.get("image_kind")]
    for label in metadata.get("labels") or []:
        texts += [label.get("name"), label.get("description")]
    for field in (metadata.get("metadata_encoding") or {}).get("fields") or []:
        # As the form names it, and without its unit as the pages' sentences do.
        texts += [field.get("label"), re.sub(r"\s*\(.*?\)", "", field.get("label") or "")]
        texts += list(field.get("value_names") or [])
    texts += list(((metadata.get("risk") or {}).get("messages") or {}).values())
    texts += list(((metadata.get("wrong_kind") or {}).get("kind_names") or {}).values())
    # As a table's row names them ("Document or screenshot").
    texts += [
        text[:1].upper() + text[1:]
        for text in ((metadata.get("wrong_kind") or {}).get("kind_names") or {}).values()
        if isinstance(text, str)
    ]
    for source in metadata.get("sources") or []:
        texts += [source.get("name"), source.get("where")]
    return [text for text in texts if isinstance(text, str) and text.strip()]


def _data_messages(add, models=MODELS) -> None:
    index = json.loads((models / "index.json").read_text(encoding="utf-8"))
    for task in index.get("tasks", []):
        add(task.get("title"), _relative(models / "index.json"), 0)
        path = models / task["id"] / "metadata.json"
        if path.exists():
            metadata = json.loads(path.read_text(encoding="utf-8"))
            for text in _metadata_strings(metadata):
                add(text, _relative(path), 0)


def extract():
    """A Babel catalogue of every English string, with where each is used."""
    from babel.messages.catalog import Catalog

    catalog = Catalog(project="in-browser-screener", charset="utf-8", fuzzy=False)

    def add(message, location: str, lineno: int, comments=()) -> None:
        if not message or (isinstance(message, str) and not message.strip()):
            return
        catalog.add(message, locations=[(location, lineno)], auto_comments=comments)

    _code_messages(add)
    _data_messages(add)
    return catalog


# ---- the .po files -------------------------------------------------------------------


def _read(path: Path):
    from babel.messages.pofile import read_po

    with path.open("rb") as handle:
        return read_po(handle)


def _write(catalog, path: Path) -> None:
    from babel.messages.pofile import write_po

    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as handle:
        write_po(handle, catalog, width=100, ignore_obsolete=True, include_previous=False)


def update(languages=None) -> list[Path]:
    """Extract; add the new strings to each language's .po and drop the ones gone."""
    from webapp.i18n import TRANSLATIONS_DIR, po_path

    template = extract()
    codes = languages or sorted(p.name for p in TRANSLATIONS_DIR.iterdir() if p.is_dir())
    written = []
    for code in codes:
        path = po_path(code)
        if path.exists():
            catalog = _read(path)
        else:
            from babel.messages.catalog import Catalog

            catalog = Catalog(locale=code, project="in-browser-screener", fuzzy=False)
        catalog.update(template, no_fuzzy_matching=True)
        _write(catalog, path)
        written.append(path)
    return written


def missing(code: str, template=None) -> list[str]:
    """The strings of the code and data that the .po of ``code`` does not translate."""
    from webapp.i18n import po_path

    template = template or extract()
    path = po_path(code)
    catalog = _read(path) if path.exists() else None
    gaps = []
    for message in template:
        if not message.id:
            continue
        found = catalog.get(message.id) if catalog else None
        strings = found.string if found else None
        if isinstance(strings, tuple):
            complete = all(strings)
        else:
            complete = bool(strings)
        if not found or found.fuzzy or not complete:
            gaps.append(message.id if isinstance(message.id, str) else message.id[0])
    return gaps


def main(argv=None) -> int:
    from webapp.i18n import TRANSLATIONS_DIR, compile_catalogues

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("command", choices=("update", "check", "compile", "add"))
    parser.add_argument("language", nargs="?", help="for add: the new language's code")
    args = parser.parse_args(argv)
    if args.command == "add":
        if not args.language:
            parser.error("add needs a language code, e.g. fr")
        print(*update([args.language]), sep="\n")
    elif args.command == "update":
        print(*update(), sep="\n")
    elif args.command == "compile":
        print(*compile_catalogues() or ["nothing to compile"], sep="\n")
    else:
        template = extract()
        failed = False
        for path in sorted(TRANSLATIONS_DIR.iterdir()):
            gaps = missing(path.name, template) if path.is_dir() else []
            for gap in gaps:
                print(f"{path.name}: not translated: {gap!r}")
            failed = failed or bool(gaps)
        return 1 if failed else 0
    return 0


if __name__ == "__main__":
    sys.exit(main())
