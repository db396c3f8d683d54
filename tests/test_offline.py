"""Offline use in Chromium: the service worker keeps the site, the page says so,
works without a network, offers a new version and then serves it; the threaded
WebAssembly backend runs; nothing a person enters is ever sent.

Each test opens a fresh browser context (service workers allowed, which is
Playwright's default), so no worker or cache carries over from another test.
"""

from __future__ import annotations

import json
import re
import shutil
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import expect

from conftest import BROWSER_TIMEOUT_MS, MODELS_DIR, READY, TEST_CONFIG, open_recorded_page, serve
from webapp import create_app
from webapp.config import Config

pytestmark = pytest.mark.browser

OFFLINE_READY = "Ready to work offline"
GERMAN_OFFLINE_READY = "Bereit für die Offline-Nutzung"


@pytest.fixture
def models_copy(tmp_path):
    """A copy of the site's models folder, for an app that serves it via MODELS_FOLDER."""
    folder = tmp_path / "models"
    shutil.copytree(MODELS_DIR, folder)
    return folder


def first_task(models) -> str:
    return json.loads((models / "index.json").read_text())["tasks"][0]["id"]


# The first task's screener (these tests enter the skin-lesion model's details).
SCREENER = f"/screen/{first_task(MODELS_DIR)}"


def open_site(browser, url, path=SCREENER, **context_options):
    """A recorded page of ``url + path`` once its model is ready."""
    recorded = open_recorded_page(browser, service_workers="allow", **context_options)
    recorded.page.goto(url + path)
    expect(recorded.page.get_by_role("status")).to_have_text(READY, timeout=BROWSER_TIMEOUT_MS)
    return recorded


def expect_offline_ready(page):
    """Wait until the service worker controls the page with its complete copy."""
    expect(page.get_by_text(OFFLINE_READY)).to_be_visible(timeout=BROWSER_TIMEOUT_MS)
    assert page.evaluate("() => navigator.serviceWorker.controller !== null")


def classify(page, path, n_labels):
    page.get_by_label("Choose an image").set_input_files(path)
    expect(page.get_by_text(f"Result for “{path.name}”")).to_be_visible()
    expect(page.get_by_role("meter")).to_have_count(n_labels)
    expect(page.get_by_role("alert")).to_be_hidden()


def test_works_offline_after_one_visit(browser, live_server, sample_paths, task_metadata):
    recorded = open_site(browser, live_server)
    page, context = recorded.page, recorded.page.context
    try:
        # The first visit downloaded the model: no claim that it came from the device.
        expect(page.get_by_role("status")).not_to_contain_text("this device")
        expect_offline_ready(page)
        # A chart page, which is not kept, says so.
        task = task_metadata["task"]
        page.goto(f"{live_server}/data/{task}")
        expect(
            page.get_by_text("The screener works offline; this page needs a connection")
        ).to_be_visible()

        context.set_offline(True)
        # The home page is kept too, and leads to the screener.
        page.goto(live_server + "/")
        page.get_by_role("article", name=task_metadata["title"]).get_by_role(
            "link", name="Open the screener"
        ).click()
        expect(page).to_have_url(live_server + SCREENER)
        status = page.get_by_role("status")
        expect(status).to_have_text(READY, timeout=BROWSER_TIMEOUT_MS)
        expect(status).to_contain_text("Loaded from this device’s cache")
        expect(page.get_by_text(OFFLINE_READY)).to_be_visible()
        assert page.evaluate("() => crossOriginIsolated") is True
        classify(page, sample_paths[1], len(task_metadata["labels"]))

        # Pages kept on the device open; the chart pages say they need a connection.
        page.goto(f"{live_server}/model-card/{task}")
        expect(page.get_by_role("heading", level=1)).to_be_visible()
        page.goto(f"{live_server}/performance/{task}")
        expect(page.get_by_role("heading", name="This page needs a connection")).to_be_visible()
        page.get_by_role("link", name="Back to the screeners").click()
        expect(page.get_by_role("heading", level=1)).to_have_text(
            "Screeners that run in your browser"
        )
        expect(page.get_by_role("article", name=task_metadata["title"])).to_be_visible()
        recorded.assert_clean()
    finally:
        context.close()


def registrations(page) -> list[dict]:
    """This origin's service workers: each registration's script, and whether a new
    version is being installed or waits (once the browser has looked for one again)."""
    return page.evaluate("""async () => {
      const all = await navigator.serviceWorker.getRegistrations();
      await Promise.all(all.map((registration) => registration.update()));
      return all.map((registration) => ({
        script: (registration.active || registration.waiting || registration.installing).scriptURL,
        installing: Boolean(registration.installing),
        waiting: Boolean(registration.waiting),
      }));
    }""")


def version_caches(page) -> list[str]:
    """The caches of the site's files (not the one remembering the language)."""
    return [name for name in cache_names(page) if re.search(r"-(app|vendor)-", name)]


def test_changing_the_language_keeps_one_offline_copy(browser, live_server, task_metadata):
    """One worker keeps both languages' pages: switching the language is no update (no
    prompt, no new worker, the same caches), each page says it works offline, and
    offline each page comes in the language asked for, or else the one last chosen."""
    recorded = open_recorded_page(browser, service_workers="allow")
    page, context = recorded.page, recorded.page.context
    task = task_metadata["task"]
    try:
        page.goto(live_server + "/")
        expect_offline_ready(page)
        one_worker = [{"script": f"{live_server}/sw.js", "installing": False, "waiting": False}]
        assert registrations(page) == one_worker
        kept = version_caches(page)

        for link, lang, ready in [
            ("Deutsch", "de", GERMAN_OFFLINE_READY),
            ("English", "en", OFFLINE_READY),
            ("Deutsch", "de", GERMAN_OFFLINE_READY),
        ]:
            page.get_by_role("link", name=link, exact=True).click()
            expect(page.locator("html")).to_have_attribute("lang", lang)
            expect(page.get_by_text(ready)).to_be_visible(timeout=BROWSER_TIMEOUT_MS)
            page.wait_for_timeout(500)
            assert registrations(page) == one_worker, lang
            expect(page.locator("#update-prompt")).to_be_hidden()
            assert version_caches(page) == kept
            assert {c["name"]: c["value"] for c in context.cookies()}.get("lang") == lang

        # The choice is remembered for the pages fetched from the network too.
        page.goto(f"{live_server}/data/{task}")
        expect(page.locator("html")).to_have_attribute("lang", "de")
        expect(page.get_by_text("diese Seite braucht eine Verbindung")).to_be_visible()

        context.set_offline(True)
        page.goto(f"{live_server}/screen/{task}?lang=en")
        expect(page.locator("html")).to_have_attribute("lang", "en")
        expect(page.get_by_text(OFFLINE_READY)).to_be_visible(timeout=BROWSER_TIMEOUT_MS)
        page.goto(f"{live_server}/screen/{task}?lang=de")
        expect(page.locator("html")).to_have_attribute("lang", "de")
        expect(page.get_by_text(GERMAN_OFFLINE_READY)).to_be_visible(timeout=BROWSER_TIMEOUT_MS)
        expect(page.get_by_role("status")).to_contain_text(
            "Aus dem Speicher dieses Geräts geladen", timeout=BROWSER_TIMEOUT_MS
        )
        # Without ?lang=, the language last chosen (German).
        page.goto(f"{live_server}/model-card/{task}")
        expect(page.locator("html")).to_have_attribute("lang", "de")
        expect(page.get_by_text(GERMAN_OFFLINE_READY)).to_be_visible(timeout=BROWSER_TIMEOUT_MS)
        page.goto(f"{live_server}/performance/{task}")
        expect(page.locator("html")).to_have_attribute("lang", "de")
        expect(
            page.get_by_role("heading", name="Diese Seite braucht eine Verbindung")
        ).to_be_visible()
        page.get_by_role("link", name="English", exact=True).click()
        expect(page.get_by_role("heading", name="This page needs a connection")).to_be_visible()
        page.goto(live_server + "/")
        expect(page.locator("html")).to_have_attribute("lang", "en")
        expect(page.get_by_role("heading", level=1)).to_have_text(
            "Screeners that run in your browser"
        )
        recorded.assert_clean()
    finally:
        context.close()


# Records, from before any page script runs, each value the model's progress bar shows.
RECORD_PROGRESS = """
window.progressSeen = [];
new MutationObserver((changes) => {
  for (const change of changes) {
    const bar = change.target;
    if (bar.id === 'model-progress') {
      window.progressSeen.push(bar.hidden ? 'hidden' : Number(bar.getAttribute('aria-valuenow')));
    }
  }
}).observe(document, { subtree: true, attributes: true,
                       attributeFilter: ['aria-valuenow', 'hidden'] });
"""


def test_download_progress_then_ready(browser, live_server):
    """On a slow connection (4 MB/s, emulated) the bar moves with the bytes received."""
    recorded = open_recorded_page(browser, service_workers="block")
    page = recorded.page
    try:
        cdp = page.context.new_cdp_session(page)
        cdp.send("Network.enable")
        cdp.send(
            "Network.emulateNetworkConditions",
            {
                "offline": False,
                "latency": 20,
                "downloadThroughput": 4_000_000,
                "uploadThroughput": 1_000_000,
            },
        )
        page.add_init_script(RECORD_PROGRESS)
        page.goto(live_server + SCREENER)
        expect(page.get_by_role("status")).to_have_text(READY, timeout=BROWSER_TIMEOUT_MS)
        expect(page.get_by_role("progressbar", name="Model download")).to_be_hidden()
        seen = page.evaluate("() => window.progressSeen")
        assert seen[-1] == "hidden", seen
        numbers = [value for value in seen if value != "hidden"]
        assert numbers[0] == 0 and numbers[-1] == 100, seen
        assert numbers == sorted(numbers), seen
        assert any(0 < value < 100 for value in numbers), seen
        recorded.assert_clean()
    finally:
        page.context.close()


def change_model_version(models, task_id: str) -> str:
    """Change the model's files (model.json re-serialised) and record the new content
    version in metadata.json and index.json, as an export would; return it."""
    from training.exporting.export import content_version

    folder = models / task_id
    model = json.loads((folder / "model.json").read_text())
    model["generatedBy"] = f"{model.get('generatedBy', '')} (re-exported)"
    (folder / "model.json").write_text(json.dumps(model))
    version = content_version(folder)
    metadata = json.loads((folder / "metadata.json").read_text())
    metadata["version"] = version
    (folder / "metadata.json").write_text(json.dumps(metadata))
    index = json.loads((models / "index.json").read_text())
    for task in index["tasks"]:
        if task["id"] == task_id:
            task["version"] = version
    (models / "index.json").write_text(json.dumps(index))
    return version


def cache_names(page) -> list[str]:
    return page.evaluate("async () => (await caches.keys()).sort()")


def fetch_for_a_while(page, urls, ms=2500, lanes=4):
    """Start fetching ``urls`` over and over in the page, ``lanes`` at a time, for ``ms``."""
    page.evaluate(
        """([urls, ms, lanes]) => {
      const until = performance.now() + ms;
      for (let lane = 0; lane < lanes; lane++) (async () => {
        for (let i = lane; performance.now() < until; i++) {
          await (await fetch(urls[i % urls.length])).text();
        }
      })();
    }""",
        [urls, ms, lanes],
    )


# Longer than the three reloads (4 s apart) with which the page once tried to
# un-park a waiting worker.
OTHER_TAB_BUSY_MS = 15_000


def test_new_version_is_offered_and_then_served(browser, models_copy):
    task = first_task(models_copy)
    old = json.loads((models_copy / task / "metadata.json").read_text())["version"]
    with serve(create_app({**TEST_CONFIG, "MODELS_FOLDER": str(models_copy)})) as url:
        recorded = open_site(browser, url)
        page = recorded.page
        try:
            expect_offline_ready(page)
            before = cache_names(page)
            new = change_model_version(models_copy, task)
            assert new != old

            page.reload()  # the browser looks for a new worker on each visit
            prompt = page.get_by_role("button", name="Reload")
            expect(prompt).to_be_visible(timeout=BROWSER_TIMEOUT_MS)
            expect(page.get_by_text("Update available")).to_be_visible()
            # Until the person chooses, the page and its model stay the old version.
            expect(page.get_by_text(f"Model version {old}")).to_be_visible()
            page.get_by_role("button", name="Later").click()
            expect(prompt).to_be_hidden()
            page.reload()  # the new version still waits, and is offered again
            expect(prompt).to_be_visible(timeout=BROWSER_TIMEOUT_MS)
            expect(page.get_by_text(f"Model version {old}")).to_be_visible()

            # The person chooses while the page is busy fetching (loading its model,
            # say) and another tab of the site keeps the old worker busy for longer:
            # a request that reaches the old worker as it stops starts it again, and
            # Chromium then leaves the new worker waiting (5 min while Playwright is
            # attached to it) unless something asks again once the tab is quiet.
            files = [
                f"/static/tfjs_model/{task}/model.json",
                f"/static/tfjs_model/{task}/metadata.json",
            ]
            other = page.context.new_page()
            other.goto(url + "/")
            expect(other.get_by_text("Update available")).to_be_visible(timeout=BROWSER_TIMEOUT_MS)
            fetch_for_a_while(other, files, ms=OTHER_TAB_BUSY_MS, lanes=2)
            fetch_for_a_while(page, files)
            page.wait_for_timeout(300)
            prompt.click()
            expect(page.get_by_text(f"Model version {new}")).to_be_visible(
                timeout=BROWSER_TIMEOUT_MS
            )
            expect(page.get_by_role("status")).to_have_text(READY, timeout=BROWSER_TIMEOUT_MS)
            expect(page.get_by_text("Update available")).to_be_hidden()
            served = page.evaluate(
                "async (u) => (await (await fetch(u)).json()).version",
                f"/static/tfjs_model/{task}/metadata.json",
            )
            assert served == new
            after = cache_names(page)
            # The old app cache is gone; the libraries' cache, unchanged, was kept.
            assert len(after) == 2 and after != before
            assert [n for n in after if "-vendor-" in n] == [n for n in before if "-vendor-" in n]
            recorded.assert_clean()
        finally:
            page.context.close()


def test_take_over_address_answers_nothing(client):
    """What the page loads in a hidden frame while a new worker waits: a worker of
    this version answers it itself; the server's answer, for an older worker, is an
    empty 204 with no page (and no policy forbidding frames) in it."""
    response = client.get("/sw.js?take-over")
    assert response.status_code == 204
    assert response.get_data() == b""
    assert "Content-Security-Policy" not in response.headers


def test_install_with_a_missing_file_fails(browser, models_copy):
    task = first_task(models_copy)
    model = json.loads((models_copy / task / "model.json").read_text())
    (models_copy / task / model["weightsManifest"][0]["paths"][0]).unlink()
    with serve(create_app({**TEST_CONFIG, "MODELS_FOLDER": str(models_copy)})) as url:
        recorded = open_recorded_page(browser, service_workers="allow")
        page = recorded.page
        try:
            page.goto(url + "/")
            expect(page.get_by_text("could not be saved for offline use")).to_be_visible(
                timeout=BROWSER_TIMEOUT_MS
            )
            state = page.evaluate("""async () => {
              const registration = await navigator.serviceWorker.getRegistration();
              return { active: Boolean(registration && registration.active),
                       controlled: Boolean(navigator.serviceWorker.controller) };
            }""")
            assert state == {"active": False, "controlled": False}
            expect(page.get_by_text(OFFLINE_READY)).to_have_count(0)
        finally:
            page.context.close()


# Put before the model's worker script: that worker reports 4 logical cores. (CDP's
# Emulation.setHardwareConcurrencyOverride changes the page's navigator, not a worker's.)
FOUR_CORES = (
    "Object.defineProperty(WorkerNavigator.prototype, 'hardwareConcurrency', { get: () => 4 });\n"
)


def test_cross_origin_isolated_and_wasm_threads(browser, live_server):
    """COOP/COEP make the page, and the worker the model runs in, cross-origin
    isolated, so tfjs picks its threaded SIMD build; with 4 cores (emulated: tfjs uses
    half the cores, and this machine may have 2) it runs 2 threads, whose workers the
    Content-Security-Policy lets start."""
    recorded = open_recorded_page(browser, service_workers="block")
    page = recorded.page
    try:

        def four_cores(route):
            response = route.fetch()
            route.fulfill(response=response, body=FOUR_CORES + response.text())

        page.route(f"{live_server}/static/js/model-worker.js", four_cores)
        warnings = []
        page.on(
            "console",
            lambda message: message.type == "warning"
            and "worker" in message.text
            and warnings.append(message.text),
        )
        page.goto(live_server + SCREENER)
        status = page.get_by_role("status")
        expect(status).to_have_text(READY, timeout=BROWSER_TIMEOUT_MS)
        expect(status).to_have_attribute("title", "TensorFlow.js: wasm")
        assert page.evaluate("() => crossOriginIsolated") is True
        # TF.js runs in the model's worker (static/js/model-worker.js), not on the page.
        worker = next(w for w in page.workers if w.url.endswith("/model-worker.js"))
        facts = worker.evaluate("""async () => ({
          isolated: crossOriginIsolated,
          multithread: await tf.env().getAsync('WASM_HAS_MULTITHREAD_SUPPORT'),
          simd: await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT'),
          threads: tf.wasm.getThreadsCount(),
        })""")
        assert facts == {"isolated": True, "multithread": True, "simd": True, "threads": 2}
        assert any(u.endswith("/tfjs-backend-wasm-threaded-simd.wasm") for u in recorded.requests)
        assert warnings == []
        recorded.assert_clean()
    finally:
        page.context.close()


def precached_paths() -> set[str]:
    from webapp.offline import precache_list

    app = create_app(TEST_CONFIG)
    with app.test_request_context():
        caches = precache_list()["caches"]
    return {url for entries in caches.values() for url, _ in entries}


def test_nothing_a_person_enters_is_sent(browser, live_server, samples, task_metadata):
    """Every request of the page and of its service worker is a GET without a body
    or a query (but the worker's ?lang= of the pages it keeps in each language), for a
    file the service worker keeps (or the worker itself); once the model is ready,
    choosing an image and entering details makes no request."""
    recorded = open_recorded_page(browser, service_workers="allow")
    page, context = recorded.page, recorded.page.context
    sent = []
    context.on(
        "request",
        lambda request: sent.append((request.method, request.url, request.post_data_buffer)),
    )
    try:
        page.goto(live_server + SCREENER)
        expect(page.get_by_role("status")).to_have_text(READY, timeout=BROWSER_TIMEOUT_MS)
        expect_offline_ready(page)
        loaded = len(sent)

        sample = next(s for s in samples if s.sex in ("male", "female"))
        page.get_by_label("Age (years)").fill("47")
        page.get_by_label("Sex").select_option(sample.sex)
        page.get_by_label("Body site").select_option(sample.site)
        classify(page, sample.path, len(task_metadata["labels"]))
        expect(page.get_by_text(f"Result for “{sample.path.name}”")).to_contain_text("47")
        page.wait_for_timeout(500)

        assert loaded > 0, "no request was recorded at all"
        assert [(m, u) for m, u, body in sent if m != "GET" or body] == [], "a request sent data"
        allowed = {urlsplit(url).path for url in precached_paths()} | {"/sw.js"}
        languages = {f"lang={code}" for code in Config.LANGUAGES}
        for _, url, _ in sent:
            parts = urlsplit(url)
            if parts.scheme in ("blob", "data"):
                continue  # made in the page, never leave it
            assert parts.query in {"", *languages} and parts.path in allowed, url
        after = [url for _, url, _ in sent[loaded:] if urlsplit(url).scheme not in ("blob", "data")]
        assert after == [], "requests after the model was ready"
        recorded.assert_clean()
    finally:
        context.close()
