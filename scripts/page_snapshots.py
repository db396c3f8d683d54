"""The report pages as the committed reports and models make them, kept in tests/snapshots/.

    python scripts/page_snapshots.py           # write the snapshots again (after a release,
                                                # or a change of a page meant to show)
    python scripts/page_snapshots.py --check   # say which pages differ (exit 1), write nothing

Each task of ``static/tfjs_model/index.json`` has its performance page (image only and with
the details), data page and model card, in every language of the site, rendered by the app
from ``reports/<task>/`` and the installed models. A chart's figure (``data-figure``, a
Plotly figure of tens of kilobytes) is kept as its SHA-256, so a snapshot stays a page a
person can read and diff, and a changed chart still shows. tests/test_page_snapshots.py
renders the pages again and compares them with these files: a change of the words, the
tables or the figures of a page, wherever it comes from (a template, the catalogue,
``tables.json``, the charts' code), fails there until the snapshots are written again with
this command and the difference is reviewed in the commit.
"""

from __future__ import annotations

import argparse
import hashlib
import html
import json
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SNAPSHOTS = ROOT / "tests" / "snapshots"
MODELS = ROOT / "static" / "tfjs_model"
# The pages, per task: (file stem, address).
PAGES = (
    ("performance", "/performance/{task}"),
    ("performance-details", "/performance/{task}?details=given"),
    ("data", "/data/{task}"),
    ("model-card", "/model-card/{task}"),
)
FIGURE = re.compile(r'data-figure="([^"]*)"')


def normalised(page: str) -> str:
    """``page`` with each chart's figure replaced by the SHA-256 of its JSON."""

    def digest(match: re.Match) -> str:
        figure = html.unescape(match.group(1)).encode("utf-8")
        return f'data-figure="sha256:{hashlib.sha256(figure).hexdigest()}"'

    return FIGURE.sub(digest, page)


def pages() -> list[tuple[str, str]]:
    """(snapshot file name, address with its language) of every page kept."""
    from webapp.config import Config

    tasks = [task["id"] for task in json.loads((MODELS / "index.json").read_text())["tasks"]]
    return [
        (
            f"{task}.{stem}.{lang}.html",
            address.format(task=task) + ("&" if "?" in address else "?") + f"lang={lang}",
        )
        for task in tasks
        for stem, address in PAGES
        for lang in Config.LANGUAGES
    ]


def render() -> dict[str, str]:
    """{snapshot file name: the page as the app makes it now, normalised}."""
    from webapp import create_app

    app = create_app({"TESTING": True, "PAGE_CACHE_SIZE": 0})
    made = {}
    for name, address in pages():
        client = app.test_client()  # a new one each time: no remembered language
        response = client.get(address)
        if response.status_code != 200:
            raise RuntimeError(f"{address}: status {response.status_code}")
        made[name] = normalised(response.get_data(as_text=True))
    return made


def differing(made: dict[str, str]) -> list[str]:
    """The names of the pages whose snapshot is missing or other than ``made``."""
    return [
        name
        for name, page in made.items()
        if not (SNAPSHOTS / name).is_file()
        or (SNAPSHOTS / name).read_text(encoding="utf-8") != page
    ]


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="compare only; write nothing")
    args = parser.parse_args(argv)
    made = render()
    changed = differing(made)
    if args.check:
        print(*(f"differs: {name}" for name in changed), sep="\n")
        return 1 if changed else 0
    SNAPSHOTS.mkdir(parents=True, exist_ok=True)
    for stale in set(p.name for p in SNAPSHOTS.glob("*.html")) - set(made):
        (SNAPSHOTS / stale).unlink()
    for name in changed:
        (SNAPSHOTS / name).write_text(made[name], encoding="utf-8")
    print(f"{len(made)} pages in {SNAPSHOTS.relative_to(ROOT)}; {len(changed)} written")
    return 0


if __name__ == "__main__":
    sys.exit(main())
