"""Static export: the whole site as files, for any static host or CDN.

    python -m webapp.freeze build/static-site

writes every page (home, offline, and each task's screener, performance, data and
model-card pages), the service worker, the web app manifest, every script, style
and model file, and two files for hosts that read them (Netlify, Cloudflare Pages):

- ``_headers``: the security and cross-origin-isolation headers the app sends,
  each page's Content-Security-Policy, and ``Cache-Control: no-cache`` on /sw.js;
- ``_redirects``: the addresses without a task (/screen, /performance, …) to the
  featured task's page, as the app does.

Pages are written as ``<address>.html`` (``/screen/skin_lesion`` →
``screen/skin_lesion.html``), which those hosts serve at the address without
``.html``; ``404.html`` is the friendly error page. Every file is the very bytes
the app serves (Frozen-Flask asks the app through its test client), so the
integrity hashes in the service worker's list hold. The site must sit at the root
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

from webapp import create_app
from webapp.catalog import list_tasks

# Endpoints of pages; each is written as <address>.html.
PAGE_ENDPOINTS = {"screen.index", "screen.screen", "offline.offline_page",
                  "reports.performance", "reports.data", "reports.model_card"}
# Addresses without a task, which the app answers with the featured task.
TASKLESS = {"screen.screen_without_task": "/", "reports.performance": "/performance",
            "reports.data": "/data", "reports.model_card": "/model-card"}
# Headers the app sets on some responses only, carried to _headers per address:
# each page's policy (the chart pages' differs). Not Cache-Control, which Flask
# sends on every file (no-cache) and a host sets by itself, except on the
# service worker (below).
PER_ADDRESS_HEADERS = ("Content-Security-Policy",)


class SiteFreezer(Freezer):
    """Frozen-Flask with page files named ``<address>.html`` and only the listed URLs
    (no url_for logging: ``/performance`` and ``/performance/<task>`` cannot both be
    files)."""

    def __init__(self, app):
        super().__init__(app, with_static_files=False, with_no_argument_rules=False,
                         log_url_for=False)
        self.pages: set[str] = set()
        self.register_generator(self.site_urls)

    def site_urls(self):
        from webapp.offline import _page_assets, precache_list

        pages = [url_for("screen.index"), url_for("offline.offline_page")]
        for task in list_tasks():
            pages += [url_for(endpoint, task_id=task["id"]) for endpoint in
                      ("screen.screen", "reports.performance", "reports.data",
                       "reports.model_card")]
        self.pages.update(pages)
        yield from pages
        yield url_for("offline.service_worker")
        yield url_for("offline.manifest")
        # Everything the service worker keeps (models, every TF.js backend,
        # Bootstrap, the site's scripts, styles and icons)...
        for entries in precache_list()["caches"].values():
            for url, _ in entries:
                yield url
        # ...what any page loads (the chart pages' libraries)...
        client = self.app.test_client()
        for page in pages:
            response = client.get(page)
            yield from _page_assets(response.get_data())
            response.close()
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


def freeze(destination: Path, app=None) -> list[str]:
    """Write the site into ``destination`` (emptied of files of an earlier export);
    return the addresses written."""
    destination = Path(destination).resolve()
    if destination.is_dir() and any(destination.iterdir()) and not (
            destination / "_headers").is_file():
        raise SystemExit(f"{destination} holds files that are not an earlier export; "
                         "choose an empty or new folder")
    app = app or create_app()
    app.config["FREEZER_DESTINATION"] = str(destination)
    app.config["FREEZER_REMOVE_EXTRA_FILES"] = True
    freezer = SiteFreezer(app)
    with warnings.catch_warnings():
        # The addresses without a task go to _redirects instead.
        warnings.simplefilter("ignore", MissingURLGeneratorWarning)
        urls = sorted(freezer.freeze())
    root = Path(app.config["FREEZER_DESTINATION"])
    client = app.test_client()
    not_found = client.get("/404.html")
    (root / "404.html").write_bytes(not_found.get_data())
    (root / "_headers").write_text(headers_file(app, urls), encoding="utf-8")
    (root / "_redirects").write_text(redirects_file(app), encoding="utf-8")
    return urls


def headers_file(app, urls: list[str]) -> str:
    """``_headers`` (Netlify / Cloudflare Pages): the headers of every response under
    ``/*``, then those the app sets on some addresses only. A header is never
    repeated for one address (two policies would both apply)."""
    common = dict(app.config.get("RESPONSE_HEADERS") or {})
    lines = ["# Written by python -m webapp.freeze from the app's settings.", "/*"]
    lines += [f"  {name}: {value}" for name, value in common.items()]
    with app.test_request_context():
        worker = url_for("offline.service_worker")
    lines += [worker, "  Cache-Control: no-cache"]
    client = app.test_client()
    for url in urls:
        response = client.get(url)
        response.close()
        extra = [(name, response.headers[name]) for name in PER_ADDRESS_HEADERS
                 if name in response.headers and name not in common]
        if extra:
            lines.append(url)
            lines += [f"  {name}: {value}" for name, value in extra]
    return "\n".join(lines) + "\n"


def redirects_file(app) -> str:
    """``_redirects``: each address without a task to the featured task's page."""
    with app.test_request_context():
        tasks = list_tasks()
        featured = app.config.get("DEFAULT_TASK") or (tasks[0]["id"] if tasks else None)
        lines = ["# Written by python -m webapp.freeze: addresses without a task."]
        for endpoint, path in TASKLESS.items():
            if endpoint == "screen.screen_without_task":
                lines.append(f"/screen {url_for('screen.index')} 301")
            elif featured:
                lines.append(f"{path} {url_for(endpoint, task_id=featured)} 302")
    return "\n".join(lines) + "\n"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("destination", type=Path, help="folder to write (its old files are removed)")
    args = parser.parse_args(argv)
    urls = freeze(args.destination)
    print(f"{len(urls)} files written to {args.destination}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
