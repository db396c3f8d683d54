"""Offline use: the service worker, the list of files it keeps, the web app manifest.

``/sw.js`` is rendered here, not served as a static file, because a browser
decides whether a site has a new version by fetching the worker script again
and comparing it byte for byte: the version has to be *inside* the script (a
fixed sw.js reading a /precache.json would never notice a retrained model). The
version and the cache names are hashes of the very bytes the browser will
download (every precached page as rendered, every file as served), so any
change (a new model, an edited template or script, a Bootstrap upgrade) makes a
new worker, and nothing else does. Each entry also carries its Subresource
Integrity hash, so the worker cannot store other bytes than the version it is
named after, even if files change on the server while it downloads.

Working out that list means rendering the pages and reading a few MB of files;
it is kept until a file under the folders that feed it changes (one ``stat``
each), so answering ``/sw.js`` is cheap. The worker itself is
``templates/sw.js``; the page side is ``static/js/offline.js``.
"""

from __future__ import annotations

import base64
import hashlib
import json
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urlsplit

from flask import Blueprint, current_app, make_response, render_template, request, url_for

from webapp import i18n
from webapp.catalog import list_tasks, models_dir
from webapp.report_pages import model_cards_dir
from webapp.reports import reports_dir

bp = Blueprint("offline", __name__)

# Every cache this site makes starts with this; a new worker deletes the old ones
# with it and nothing else the origin may hold.
CACHE_PREFIX = "screener-"
# Link relations whose target a page needs to show itself.
PAGE_ASSET_RELS = {"stylesheet", "icon", "manifest", "apple-touch-icon"}


@bp.get("/sw.js")
def service_worker():
    if "take-over" in request.args:
        # What the page loads in a hidden frame while a new version waits
        # (static/js/offline.js); the worker answers it itself, this is for a
        # worker older than that.
        response = make_response("", 204)
        del response.headers["Content-Type"]
        return response
    # One worker for every language (a ?lang= here, from a page of an older version,
    # changes nothing): changing the language is not a new version.
    response = make_response(service_worker_script())
    response.mimetype = "text/javascript"
    # Browsers revalidate worker scripts anyway; say so for proxies too.
    response.headers["Cache-Control"] = "no-cache"
    return response


def service_worker_script(page_prefixes: dict[str, str] | None = None) -> str:
    """The worker's script. ``page_prefixes`` (``{lang: "/de"}``, for a static export,
    webapp/freeze.py) says where a language's pages are downloaded from when the
    host cannot choose by ``?lang=``: ``/de/screen/<task>`` for ``/screen/<task>``."""
    return render_template("sw.js", **precache_list(), page_prefixes=page_prefixes or {})


@bp.get("/manifest.webmanifest")
def manifest():
    """The web app manifest: what an installed copy of the site is called and looks like."""
    config = current_app.config

    def icon(name: str, size: str, kind: str) -> dict:
        return {"src": url_for("static", filename=f"img/{name}"), "sizes": size, "type": kind}

    body = {
        "name": config["SITE_NAME"],
        "short_name": "Screener",
        "description": "Screens an image with a model that runs on this device; "
        "the image is never uploaded.",
        "start_url": url_for("screen.index"),
        "scope": url_for("screen.index"),
        "display": "standalone",
        "background_color": "#ffffff",
        "theme_color": config["THEME_COLOR"],
        "icons": [
            icon("icon.svg", "any", "image/svg+xml"),
            icon("icon-192.png", "192x192", "image/png"),
            icon("icon-512.png", "512x512", "image/png"),
        ],
    }
    response = make_response(json.dumps(body, indent=1))
    response.mimetype = "application/manifest+json"
    return response


@bp.get("/offline")
def offline_page():
    """What the worker shows for a page it does not keep when there is no network."""
    return render_template("offline.html")


# ---- the precache list ------------------------------------------------------------


def precache_list() -> dict:
    """``{"version", "prefix", "caches": {name: [[url, integrity], …]}, "pages",
    "languages", "language_cookie", "offline_page"}``.

    Two caches: ``vendor`` (third-party libraries, which rarely change) and
    ``app`` (pages, the site's scripts and styles, models, the browser's catalogues),
    each named after the hash of its own entries, so a new model does not download
    TF.js again. Every page is kept in every language of LANGUAGES: the first
    language's under the page's address, another's under its address with
    ``?lang=<code>`` (``/screen/<task>?lang=de``); each is downloaded from its
    address with ``?lang=<code>``, whatever the person's remembered choice. ``pages``
    lists the pages' addresses, and the worker answers each with the copy in the
    language the person chose (templates/sw.js).
    """
    key = _fingerprint()
    memo = current_app.extensions.get("offline_precache")
    if memo is None or memo[0] != key:
        memo = (key, _build_precache_list())
        current_app.extensions["offline_precache"] = memo
    return memo[1]


def page_in(url: str, lang: str) -> str:
    """The address under which the worker keeps page ``url`` in language ``lang``."""
    return url if lang == next(iter(i18n.languages())) else f"{url}?lang={lang}"


def _build_precache_list() -> dict:
    pages = [url_for("screen.index"), url_for("offline.offline_page"), url_for("screen.history")]
    for task in list_tasks():
        pages += [
            url_for(endpoint, task_id=task["id"])
            for endpoint in current_app.config.get("OFFLINE_PAGES", ())
        ]
    pages = list(dict.fromkeys(pages))
    languages = list(i18n.languages())
    client = current_app.test_client()
    # Marked as the worker marks its own downloads (no remembered choice is set).
    bodies = {
        page_in(url, lang): _get(client, f"{url}?lang={lang}", headers={"X-Offline-Copy": "1"})
        for url in pages
        for lang in languages
    }

    assets = []
    for body in list(bodies.values()):
        assets += _page_assets(body or b"")
    static = Path(current_app.static_folder)
    assets += [
        url_for("static", filename=f"js/{path.name}")
        for path in sorted((static / "js").glob("*.js"))
    ]
    assets += [
        url_for("static", filename=f"img/{path.name}")
        for path in sorted((static / "img").glob("*"))
        if path.is_file()
    ]
    # tf-loader.js loads these at run time; which .wasm depends on the browser.
    assets += [
        url_for("static", filename=f"vendor/tfjs/{path.name}")
        for path in sorted((static / "vendor" / "tfjs").iterdir())
        if path.suffix in (".js", ".wasm")
    ]
    assets += _model_urls()
    # static/js/i18n.js loads its language's catalogue (none for English, but a page
    # names it, and it is small).
    assets += [url_for("i18n.catalogue", lang=lang) for lang in languages]
    for url in dict.fromkeys(assets):
        if url not in bodies:
            bodies[url] = _get(client, url)

    vendor_prefixes = (
        url_for("static", filename="vendor/"),
        url_for("bootstrap.static", filename="_")[:-1],
        url_for("reports.plotly_js"),
    )
    groups: dict[str, list[list[str]]] = {"vendor": [], "app": []}
    for url, body in bodies.items():
        group = "vendor" if url.startswith(vendor_prefixes) else "app"
        # A file the server cannot give stays on the list without a hash: the
        # worker's install then fails on it, as it must, rather than go offline
        # without it.
        groups[group].append([url, _integrity(body) if body is not None else ""])

    caches = {
        f"{CACHE_PREFIX}{group}-{_digest(entries)}": entries
        for group, entries in groups.items()
        if entries
    }
    return {
        "version": _digest(sorted(caches)),
        "prefix": CACHE_PREFIX,
        "caches": caches,
        "pages": pages,
        "languages": languages,
        "language_cookie": i18n.COOKIE,
        "offline_page": url_for("offline.offline_page"),
    }


def _model_urls() -> list[str]:
    """index.json, and each listed task's metadata.json, model.json and weight files; and
    those of a model that runs beside it (its metadata.json's ``outline``: the lesion's
    outline, a folder inside the task's)."""

    def model_url(name: str) -> str:
        return url_for("screen.model_file", filename=name)

    def graph_urls(folder: str) -> list[str]:
        urls = [model_url(f"{folder}/metadata.json"), model_url(f"{folder}/model.json")]
        try:
            model = json.loads((models_dir() / folder / "model.json").read_text("utf-8"))
            urls += [
                model_url(f"{folder}/{path}")
                for group in model["weightsManifest"]
                for path in group["paths"]
            ]
        except (OSError, ValueError, KeyError, TypeError) as error:
            current_app.logger.warning(
                "offline copy of %s: no weight files listed: %s", folder, error
            )
        return urls

    urls = [model_url("index.json")]
    for task in list_tasks():
        task_id = task["id"]
        urls += graph_urls(task_id)
        try:
            meta = json.loads((models_dir() / task_id / "metadata.json").read_text("utf-8"))
            beside = meta.get("outline", {}).get("folder", "").strip("/")
        except (OSError, ValueError, AttributeError):
            beside = ""
        if beside and "/" not in beside and beside not in (".", ".."):
            urls += graph_urls(f"{task_id}/{beside}")
    return urls


def _get(client, url: str, headers: dict | None = None) -> bytes | None:
    """The body the browser would get for ``url``, or None (with a warning) if not a 200.

    Asked in an application context of its own: the test client's request would
    otherwise share the current one's ``g``, where Flask-Babel keeps the language it
    chose (every page would be in the language of the first)."""
    with current_app.app_context():
        response = client.get(url, headers=headers)
    try:
        if response.status_code != 200:
            current_app.logger.warning("offline copy: %s answers %s", url, response.status_code)
            return None
        return response.get_data()
    finally:
        response.close()


class _AssetParser(HTMLParser):
    def __init__(self):
        super().__init__()
        self.urls: list[str] = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag in ("script", "img") and attrs.get("src"):
            self.urls.append(attrs["src"])
        elif (
            tag == "link"
            and attrs.get("href")
            and PAGE_ASSET_RELS & set((attrs.get("rel") or "").split())
        ):
            self.urls.append(attrs["href"])


def _page_assets(html: bytes) -> list[str]:
    """Paths on this site of the scripts, styles, icons and images a page loads."""
    parser = _AssetParser()
    parser.feed(html.decode("utf-8", "replace"))
    local = []
    for url in parser.urls:
        parts = urlsplit(url)
        if not parts.scheme and not parts.netloc and parts.path.startswith("/"):
            local.append(parts.path + (f"?{parts.query}" if parts.query else ""))
    return local


def _integrity(body: bytes) -> str:
    return "sha256-" + base64.b64encode(hashlib.sha256(body).digest()).decode()


def _digest(value) -> str:
    return hashlib.sha256(json.dumps(value).encode()).hexdigest()[:12]


def _fingerprint() -> tuple:
    """Size, modification time and inode (a file replaced by a deploy is a new one) of
    every file that can change what is precached."""
    folders = {
        Path(current_app.static_folder),
        models_dir(),
        reports_dir(),
        model_cards_dir(),
        Path(current_app.root_path) / (current_app.template_folder or "templates"),
        i18n.TRANSLATIONS_DIR,
    }
    stats = []
    for folder in sorted(folders):
        for path in sorted(folder.rglob("*")):
            try:
                stat = path.stat()
            except OSError:
                continue
            stats.append((str(path), stat.st_mtime_ns, stat.st_size, stat.st_ino))
    return tuple(stats)
