"""The static export (python -m webapp.freeze): every file is what the app serves,
in both languages, _headers carries the app's headers, and the screener works from a
plain static file server (Python's http.server), with the headers applied as Netlify
or Cloudflare Pages would, or with none at all; offline too, in either language."""

from __future__ import annotations

import base64
import hashlib
import re
import threading
from contextlib import contextmanager
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from playwright.sync_api import expect

from conftest import BROWSER_TIMEOUT_MS, LOOPBACK, READY, ROOT, TEST_CONFIG, open_recorded_page
from webapp import create_app
from webapp.freeze import freeze

OFFLINE_READY = "Ready to work offline"
GERMAN_OFFLINE_READY = "Bereit für die Offline-Nutzung"


@pytest.fixture(scope="module")
def app():
    return create_app(TEST_CONFIG)


@pytest.fixture(scope="module")
def export(app, tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("static-site")
    freeze(folder, app)
    return folder


@pytest.fixture(scope="module")
def tasks(app) -> list[str]:
    from webapp.catalog import list_tasks

    with app.test_request_context():
        return [task["id"] for task in list_tasks()]


def parse_headers_file(text: str) -> dict[str, dict[str, str]]:
    """``_headers`` as {path pattern: {name: value}} (Netlify's format)."""
    rules: dict[str, dict[str, str]] = {}
    current = None
    for line in text.splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        if not line[0].isspace():
            current = rules.setdefault(line.strip(), {})
        else:
            name, value = line.strip().split(":", 1)
            current[name.strip()] = value.strip()
    return rules


def headers_for(rules, path: str) -> dict[str, str]:
    """The headers a host applies to ``path``: every matching rule's ("/*" or exact)."""
    found = {}
    for pattern, headers in rules.items():
        if pattern == path or (pattern.endswith("*") and path.startswith(pattern[:-1])):
            for name, value in headers.items():
                assert name not in found, f"{name} set twice for {path}"
                found[name] = value
    return found


def file_of(export: Path, url: str) -> Path:
    """The export's file for the app's address ``url`` (a page's ``?lang=de``: under de/)."""
    address, _, query = url.partition("?lang=")
    if query:
        return file_of(export / query, address)
    path = export / url.lstrip("/")
    if url == "/":
        return export / "index.html"
    return path if path.is_file() else path.with_name(path.name + ".html")


def without_page_prefixes(script: str) -> str:
    """The service worker's script but the line saying where the export keeps the
    other languages' pages."""
    return re.sub(r"^const PAGE_PREFIXES = .*$", "", script, flags=re.M)


# ---- the files --------------------------------------------------------------------


def test_every_page_and_file_is_what_the_app_serves(app, export, tasks):
    from webapp.offline import precache_list

    client = app.test_client()
    pages = ["/", "/offline"] + [
        f"/{kind}/{task}"
        for task in tasks
        for kind in ("screen", "performance", "data", "model-card")
    ]
    with app.test_request_context():
        kept = {
            url: integrity
            for entries in precache_list()["caches"].values()
            for url, integrity in entries
        }
    static = [
        f"/static/{path.relative_to(ROOT / 'static').as_posix()}"
        for path in (ROOT / "static").rglob("*")
        if path.is_file()
    ]
    german = [f"{page}?lang=de" for page in pages]
    # (Marked as the worker's downloads are: a ?lang= sets no cookie for the next.)
    for url in pages + german + ["/manifest.webmanifest", *kept, *static]:
        response = client.get(url, headers={"X-Offline-Copy": "1"})
        try:
            assert file_of(export, url).read_bytes() == response.get_data(), url
        finally:
            response.close()
    assert '<html lang="de"' in (export / "de" / "screen" / f"{tasks[0]}.html").read_text()
    # The worker is the app's, told where the German pages are.
    script = (export / "sw.js").read_text()
    assert 'const PAGE_PREFIXES = {"de": "/de"};' in script
    assert without_page_prefixes(script) == without_page_prefixes(client.get("/sw.js").text)
    # The service worker's list holds for the export: each file has its hash.
    for url, integrity in kept.items():
        digest = base64.b64encode(hashlib.sha256(file_of(export, url).read_bytes()).digest())
        assert integrity == f"sha256-{digest.decode()}", url
    assert "Page not found" in (export / "404.html").read_text()


def test_headers_file_carries_what_the_app_sends(app, export, tasks):
    rules = parse_headers_file((export / "_headers").read_text())
    client = app.test_client()
    urls = [
        "/",
        "/offline",
        "/sw.js",
        "/static/js/classifier.js",
        f"/static/tfjs_model/{tasks[0]}/model.json",
    ]
    urls += [
        f"/{kind}/{task}"
        for task in tasks
        for kind in ("screen", "performance", "data", "model-card")
    ]
    german = {f"/de{url}": f"{url}?lang=de" for url in urls if "." not in url}
    for url in [*urls, *german]:
        response = client.get(german.get(url, url), headers={"X-Offline-Copy": "1"})
        response.close()
        given = headers_for(rules, url)
        for name in [*app.config["RESPONSE_HEADERS"], "Content-Security-Policy"]:
            assert given.get(name) == response.headers.get(name), (url, name)
    assert headers_for(rules, "/sw.js")["Cache-Control"] == "no-cache"


def test_addresses_without_a_task_are_redirected(export, tasks):
    redirects = [
        line.split()
        for line in (export / "_redirects").read_text().splitlines()
        if line and not line.startswith("#")
    ]
    assert ["/screen", "/", "302"] in redirects
    assert ["/performance", f"/performance/{tasks[0]}", "302"] in redirects


def test_an_earlier_export_is_replaced_but_no_other_folder(app, tmp_path):
    other = tmp_path / "notes"
    other.mkdir()
    (other / "todo.txt").write_text("keep me")
    with pytest.raises(SystemExit, match="not an earlier export"):
        freeze(other, app)
    assert (other / "todo.txt").read_text() == "keep me"


# ---- in Chromium, from a static file server ----------------------------------------


class StaticHost(SimpleHTTPRequestHandler):
    """http.server as a static host: ``/a/b`` is served from ``a/b.html`` when there is
    no file ``a/b``, and ``rules`` (a parsed _headers, or None) are applied."""

    rules: dict | None = None

    def translate_path(self, path):
        local = super().translate_path(path)
        if not Path(local).exists() and Path(local + ".html").is_file():
            return local + ".html"
        return local

    def end_headers(self):
        if self.rules:
            for name, value in headers_for(self.rules, self.path.split("?")[0]).items():
                self.send_header(name, value)
        super().end_headers()

    def log_message(self, *args):
        pass


@contextmanager
def static_host(folder: Path, with_headers: bool):
    rules = parse_headers_file((folder / "_headers").read_text()) if with_headers else None
    handler = type("Host", (StaticHost,), {"rules": rules})
    server = ThreadingHTTPServer((LOOPBACK, 0), partial(handler, directory=str(folder)))
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, name="static-host", daemon=True)
    thread.start()
    try:
        yield f"http://{LOOPBACK}:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


def classify(page, sample, n_labels):
    page.get_by_label("Choose an image").set_input_files(sample)
    expect(page.get_by_text(f"Result for “{sample.name}”")).to_be_visible()
    expect(page.get_by_role("meter")).to_have_count(n_labels)
    expect(page.get_by_role("alert")).to_be_hidden()


@pytest.mark.browser
@pytest.mark.parametrize("with_headers", [True, False], ids=["_headers", "no headers"])
def test_screener_works_from_a_static_host_and_offline(
    browser, export, with_headers, sample_paths, task_metadata
):
    """With the headers the page is cross-origin isolated (WebAssembly threads);
    without, it is not, and the screener still works, offline included."""
    screener = f"/screen/{task_metadata['task']}"
    n_labels = len(task_metadata["labels"])
    with static_host(export, with_headers) as url:
        recorded = open_recorded_page(browser, service_workers="allow")
        page, context = recorded.page, recorded.page.context
        try:
            response = page.goto(url + screener)
            assert ("content-security-policy" in response.headers) == with_headers
            expect(page.get_by_role("status")).to_have_text(READY, timeout=BROWSER_TIMEOUT_MS)
            assert page.evaluate("() => crossOriginIsolated") is with_headers
            classify(page, sample_paths[0], n_labels)
            expect(page.get_by_text(OFFLINE_READY)).to_be_visible(timeout=BROWSER_TIMEOUT_MS)

            context.set_offline(True)
            page.goto(url + "/")
            page.get_by_role("article", name=task_metadata["title"]).get_by_role(
                "link", name="Open the screener"
            ).click()
            status = page.get_by_role("status")
            expect(status).to_have_text(READY, timeout=BROWSER_TIMEOUT_MS)
            expect(status).to_contain_text("Loaded from this device’s cache")
            classify(page, sample_paths[1], n_labels)
            recorded.assert_clean()
        finally:
            context.close()


@pytest.mark.browser
def test_a_static_host_serves_both_languages_offline_too(browser, export, task_metadata):
    """A static host ignores ?lang=: the German pages are files of their own (/de/…),
    and the service worker, once it keeps the site, shows each page in the language
    asked for or last chosen; changing the language is no update; offline too."""
    task = task_metadata["task"]
    with static_host(export, True) as url:
        recorded = open_recorded_page(browser, service_workers="allow")
        page, context = recorded.page, recorded.page.context
        try:
            page.goto(f"{url}/de/screen/{task}")
            expect(page.locator("html")).to_have_attribute("lang", "de")
            page.goto(url + "/")
            expect(page.get_by_text(OFFLINE_READY)).to_be_visible(timeout=BROWSER_TIMEOUT_MS)
            page.get_by_role("link", name="Deutsch", exact=True).click()
            expect(page.locator("html")).to_have_attribute("lang", "de")
            expect(page.get_by_text(GERMAN_OFFLINE_READY)).to_be_visible(timeout=BROWSER_TIMEOUT_MS)
            page.wait_for_timeout(500)
            expect(page.locator("#update-prompt")).to_be_hidden()
            # A page without ?lang=: the language chosen.
            page.goto(f"{url}/screen/{task}")
            expect(page.locator("html")).to_have_attribute("lang", "de")

            context.set_offline(True)
            page.goto(f"{url}/screen/{task}?lang=de")
            expect(page.locator("html")).to_have_attribute("lang", "de")
            status = page.get_by_role("status")
            expect(status).to_contain_text(
                "Aus dem Speicher dieses Geräts geladen", timeout=BROWSER_TIMEOUT_MS
            )
            expect(page.get_by_text(GERMAN_OFFLINE_READY)).to_be_visible()
            page.goto(f"{url}/model-card/{task}")
            expect(page.locator("html")).to_have_attribute("lang", "de")
            page.goto(f"{url}/performance/{task}")
            expect(
                page.get_by_role("heading", name="Diese Seite braucht eine Verbindung")
            ).to_be_visible()
            page.goto(f"{url}/?lang=en")
            expect(page.locator("html")).to_have_attribute("lang", "en")
            expect(page.get_by_text(OFFLINE_READY)).to_be_visible(timeout=BROWSER_TIMEOUT_MS)
            recorded.assert_clean()
        finally:
            context.close()
