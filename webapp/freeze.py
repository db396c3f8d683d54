"""Static export: the whole site as files, for any static host or CDN.

    python -m webapp.freeze build/static-site

writes every page (home, offline, and each task's screener, performance, data and
model-card pages), the service worker, the web app manifest, every script, style
and model file, and two files for hosts that read them (Netlify, Cloudflare Pages):

- ``_headers``: the security and cross-origin-isolation headers the app sends,
  each page's Content-Security-Policy, and ``Cache-Control: no-cache`` on /sw.js;
- ``_redirects``: what the app redirects (/screen to /), and the addresses without
  a task (/performance, …) to the featured task's page.

Pages are written as ``<address>.html`` (``/screen/<task>`` →
``screen/<task>.html``), which those hosts serve at the address without
``.html``; ``404.html`` is the friendly error page. Every page is also written in
each other language of LANGUAGES under ``<lang>/`` (``de/screen/<task>.html``,
``de/index.html``), since a static host ignores ``?lang=``: the service worker
downloads each language's pages from there, keeps them all, and shows each page in
the language asked for (``?lang=de``) or last chosen, offline included. Every file
is the very bytes the app serves (Frozen-Flask asks the app through its test
client), so the integrity hashes in the service worker's list hold; ``sw.js`` is
the app's, told where the other languages' pages are. The site must sit at the root
of its domain (its addresses are absolute). What is lost on a host that sends no
headers: docs/deploying.md.
"""

from __future__ import annotations

import argparse
import sys
import warnings
from pathlib import Path

from flask import url_for
from flask_frozen import Freezer, MissingURLGeneratorWarning

from webapp import create_app, i18n
from webapp.catalog import list_tasks

# Headers the app sets on some responses only, carried to _headers per address:
# each page's policy (the chart pages' differs). Not Cache-Control, which Flask
# sends on every file (no-cache) and a host sets by itself, except on the
# service worker (below).
PER_ADDRESS_HEADERS = ("Content-Security-Policy",)
REDIRECTS = (301, 302, 303, 307, 308)


class SiteFreezer(Freezer):
    """Frozen-Flask over every address of the app's routes: those without arguments,
    and those of a task for each task of index.json. An HTML answer is a page, written
    as ``<address>.html``; a redirect, and an address without a task (which the app
    answers with the featured task), go to ``redirects`` instead. No url_for logging:
    ``/performance`` and ``/performance/<task>`` cannot both be files."""

    def __init__(self, app):
        super().__init__(
            app, with_static_files=False, with_no_argument_rules=False, log_url_for=False
        )
        self.pages: set[str] = set()
        self.redirects: list[tuple[str, str, int]] = []
        self.register_generator(self.site_urls)

    def site_urls(self):
        from webapp.offline import _page_assets, precache_list

        client = self.app.test_client()
        tasks = [task["id"] for task in list_tasks()]
        featured = self.app.config.get("DEFAULT_TASK") or (tasks[0] if tasks else None)
        for rule in sorted(self.app.url_map.iter_rules(), key=lambda rule: rule.rule):
            if "GET" not in rule.methods or rule.arguments - {"task_id"}:
                continue  # files named in the address: below
            if "task_id" not in rule.arguments:
                urls = [url_for(rule.endpoint)]
            elif (rule.defaults or {}).get("task_id", "") is None:
                if featured:
                    self.redirects.append(
                        (rule.rule, url_for(rule.endpoint, task_id=featured), 302)
                    )
                continue
            else:
                urls = [url_for(rule.endpoint, task_id=task) for task in tasks]
            for url in urls:
                response = client.get(url)
                response.close()
                if response.status_code in REDIRECTS:
                    self.redirects.append((url, response.location, response.status_code))
                    continue
                if response.mimetype == "text/html":
                    self.pages.add(url)
                    yield from _page_assets(response.get_data())  # what it loads
                yield url
        # Everything the service worker keeps (models, every TF.js backend,
        # Bootstrap, the site's scripts, styles and icons)...
        for entries in precache_list()["caches"].values():
            for url, _ in entries:
                yield url
        # ...and every file of static/ (a script may load one by itself), except
        # the models, which come from MODELS_FOLDER (above).
        static = Path(self.app.static_folder)
        for path in sorted(static.rglob("*")):
            relative = path.relative_to(static).as_posix()
            if path.is_file() and not relative.startswith("tfjs_model/"):
                yield url_for("static", filename=relative)

    def urlpath_to_filepath(self, path):
        if path in self.pages and path != "/":
            return path[1:] + ".html"
        return super().urlpath_to_filepath(path)


def language_prefix(lang: str) -> str:
    """Where the export keeps the pages of ``lang`` (not the first language): ``/de``."""
    return f"/{lang}"


def address_in(page: str, lang: str) -> str:
    """The export's address of ``page`` (an address of the app) in ``lang``."""
    return language_prefix(lang) + page


def file_in(page: str, lang: str) -> str:
    """The file, relative to the export, of ``page`` in ``lang``."""
    return address_in(page, lang)[1:] + ("index.html" if page == "/" else ".html")


def write_languages(app, destination: Path, pages) -> dict[str, str]:
    """Write every page in each language but the first (``de/screen/<task>.html``) and the
    service worker that knows where they are; return ``{address: the app's address}``."""
    client = app.test_client()
    with app.test_request_context():
        others = list(i18n.languages())[1:]
    written = {}
    for lang in others:
        for page in sorted(pages):
            source = f"{page}?lang={lang}"
            # Marked as the worker marks its downloads: the app sets no remembered choice.
            response = client.get(source, headers={"X-Offline-Copy": "1"})
            try:
                if response.status_code != 200:
                    raise SystemExit(f"{source} answers {response.status_code}")
                path = destination / file_in(page, lang)
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_bytes(response.get_data())
            finally:
                response.close()
            written[address_in(page, lang)] = source
    from webapp.offline import service_worker_script

    with app.test_request_context():
        worker = url_for("offline.service_worker")
        script = service_worker_script({lang: language_prefix(lang) for lang in others})
    (destination / worker.lstrip("/")).write_text(script, encoding="utf-8")
    return written


def freeze(destination: Path, app=None) -> list[str]:
    """Write the site into ``destination`` (emptied of files of an earlier export);
    return the addresses written."""
    destination = Path(destination).resolve()
    if (
        destination.is_dir()
        and any(destination.iterdir())
        and not (destination / "_headers").is_file()
    ):
        raise SystemExit(
            f"{destination} holds files that are not an earlier export; "
            "choose an empty or new folder"
        )
    app = app or create_app()
    app.config["FREEZER_DESTINATION"] = str(destination)
    app.config["FREEZER_REMOVE_EXTRA_FILES"] = True
    freezer = SiteFreezer(app)
    with warnings.catch_warnings():
        # The addresses without a task go to _redirects instead.
        warnings.simplefilter("ignore", MissingURLGeneratorWarning)
        urls = sorted(freezer.freeze())
    languages = write_languages(app, destination, freezer.pages)
    client = app.test_client()
    not_found = client.get("/404.html")
    (destination / "404.html").write_bytes(not_found.get_data())
    (destination / "_headers").write_text(headers_file(app, urls, languages), encoding="utf-8")
    lines = [
        "# Written by python -m webapp.freeze: what the app redirects, and the",
        "# addresses without a task (the app shows the featured task's page there).",
    ]
    lines += [f"{source} {target} {status}" for source, target, status in freezer.redirects]
    (destination / "_redirects").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return sorted(urls + list(languages))


def headers_file(app, urls: list[str], sources: dict[str, str] | None = None) -> str:
    """``_headers`` (Netlify / Cloudflare Pages): the headers of every response under
    ``/*``, then those the app sets on some addresses only (``sources``: an address of
    the export whose answer is the app's at another, ``/de/`` for ``/?lang=de``). A
    header is never repeated for one address (two policies would both apply)."""
    sources = sources or {}
    common = dict(app.config.get("RESPONSE_HEADERS") or {})
    lines = ["# Written by python -m webapp.freeze from the app's settings.", "/*"]
    lines += [f"  {name}: {value}" for name, value in common.items()]
    with app.test_request_context():
        worker = url_for("offline.service_worker")
    lines += [worker, "  Cache-Control: no-cache"]
    client = app.test_client()
    for url in [*urls, *sources]:
        response = client.get(sources.get(url, url), headers={"X-Offline-Copy": "1"})
        response.close()
        extra = [
            (name, response.headers[name])
            for name in PER_ADDRESS_HEADERS
            if name in response.headers and name not in common
        ]
        if extra:
            lines.append(url)
            lines += [f"  {name}: {value}" for name, value in extra]
    return "\n".join(lines) + "\n"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "destination", type=Path, help="folder to write (files of an earlier export are removed)"
    )
    args = parser.parse_args(argv)
    urls = freeze(args.destination)
    print(f"{len(urls)} files written to {args.destination}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
