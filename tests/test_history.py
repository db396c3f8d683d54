"""The private history (static/js/history-*.js, /history) in Chromium: a result saved
on a screener is listed after a reload, exports, imports back after "Delete all", a
damaged or foreign file changes nothing, the list works offline, an opened entry
prints without the site around it, and the page fits a phone.

Each test opens its own browser context, so its IndexedDB starts empty.
"""

from __future__ import annotations

import json
import re

import pytest
from playwright.sync_api import expect
from test_accessibility import AXE, run_axe

from conftest import BROWSER_TIMEOUT_MS, open_recorded_page

pytestmark = pytest.mark.browser

READY = re.compile(r"Model ready \((wasm|webgl|cpu)\)")
SCREENER = "/screen/skin_lesion"
OFFLINE_READY = "Ready to work offline"


def test_history_page_is_served(client):
    html = client.get("/history").get_data(as_text=True)
    assert 'aria-current="page">History</a>' in html
    assert "/static/js/history-page.js" in html and "<script>" not in html
    assert 'href="/history"' in client.get(SCREENER).get_data(as_text=True)


def test_history_page_is_kept_for_offline_use(app):
    from webapp.offline import precache_list

    with app.test_request_context():
        kept = {url for entries in precache_list()["caches"].values() for url, _ in entries}
    assert {
        "/history",
        "/static/js/history-page.js",
        "/static/js/history-store.js",
        "/static/js/history-save.js",
        "/static/css/history.css",
    } <= kept


def open_screener(browser, live_server, **options):
    recorded = open_recorded_page(browser, **options)
    recorded.page.goto(live_server + SCREENER)
    expect(recorded.page.get_by_role("status")).to_have_text(READY, timeout=BROWSER_TIMEOUT_MS)
    return recorded


def classify_and_save(page, sample, lesion=""):
    """Classify ``sample`` with its details, save it; the name of the top kind shown."""
    page.get_by_label("Age (years)").fill(str(int(sample.age or 50)))
    page.get_by_label("Body site").select_option(sample.site)
    page.get_by_label("Choose an image").set_input_files(sample.path)
    expect(page.get_by_text(f"Result for “{sample.path.name}”")).to_contain_text(
        str(int(sample.age or 50))
    )
    top = page.locator(".probability-name").first.inner_text()
    if lesion:
        page.get_by_label("Name to group it by (optional)").fill(lesion)
    page.get_by_role("button", name="Save to history", exact=True).click()
    expect(page.get_by_text("Saved in this browser only")).to_be_visible()
    return top


def saved_list(page):
    return page.get_by_role("list", name="Saved results").get_by_role("listitem")


def site_sample(samples, exclude=()):
    return next(s for s in samples if s.site not in ("", "unknown", *exclude))


def test_save_reload_export_delete_import(browser, live_server, samples, tmp_path):
    recorded = open_screener(browser, live_server, viewport={"width": 1280, "height": 900})
    page = recorded.page
    try:
        first = site_sample(samples)
        second = site_sample([s for s in samples if s.path != first.path], exclude=(first.site,))
        top_first = classify_and_save(page, first, lesion="left shoulder")
        top_second = classify_and_save(page, second)

        page.goto(live_server + "/history")
        page.reload()
        items = saved_list(page)
        expect(items).to_have_count(2)
        # Newest first, each with its top kind.
        expect(items.nth(0)).to_contain_text(top_second)
        expect(items.nth(1)).to_contain_text(top_first)
        expect(items.nth(1)).to_contain_text("“left shoulder”")

        # Filter by body site.
        site_name = (
            page.get_by_label("Body site")
            .locator("option")
            .filter(has_text=re.compile(first.site, re.I))
            .first.inner_text()
        )
        page.get_by_label("Body site").select_option(label=site_name)
        expect(items).to_have_count(1)
        expect(items.first).to_contain_text(top_first)
        page.get_by_label("Body site").select_option("")
        expect(items).to_have_count(2)

        # Open one: image, every probability, details, model version.
        items.nth(1).get_by_role("link").click()
        entry = page.get_by_role("article")
        expect(entry.get_by_role("img")).to_be_visible()
        expect(entry.get_by_role("row")).to_have_count(1 + 7)
        expect(entry).to_contain_text(f"Age (years): {int(first.age or 50)}")
        expect(entry).to_contain_text("Model version")
        expect(entry).to_contain_text("This is not a diagnosis")
        assert page.evaluate("() => document.getElementById('entry-image').naturalWidth") <= 256
        page.get_by_role("link", name="Back to all saved results").click()

        # Export, delete all (confirmed), import: the same entries.
        listed = items.all_inner_texts()
        with page.expect_download() as download:
            page.get_by_role("button", name="Export all").click()
        exported = tmp_path / "export.json"
        download.value.save_as(exported)
        data = json.loads(exported.read_text())
        assert data["format"] == "screener-history" and data["version"] == 1
        assert len(data["entries"]) == 2
        saved = data["entries"][1]
        assert saved["task"] == "skin_lesion" and saved["lesion"] == "left shoulder"
        assert len(saved["results"]) == 7 and saved["results"][0]["name"] == top_first
        assert saved["model_version"] and saved["image"].startswith("data:image/jpeg;base64,")
        assert saved["site"]["value"] == first.site

        page.get_by_role("button", name="Delete all").click()
        page.get_by_role("dialog").get_by_role("button", name="Cancel").click()
        expect(items).to_have_count(2)
        page.get_by_role("button", name="Delete all").click()
        page.get_by_role("dialog").get_by_role("button", name="Delete all").click()
        expect(items).to_have_count(0)
        page.reload()
        expect(page.get_by_text("Nothing saved yet")).to_be_visible()

        page.get_by_label("Import a file").set_input_files(exported)
        expect(page.get_by_text("Imported 2 saved results")).to_be_visible()
        expect(items).to_have_count(2)
        assert items.all_inner_texts() == listed

        # A damaged or foreign file is refused, and nothing changes.
        broken = dict(data, entries=[data["entries"][0], {**data["entries"][1], "results": "x"}])
        cases = {
            "truncated.json": exported.read_text()[:5000],
            "foreign.json": json.dumps({"format": "something-else", "entries": []}),
            "future.json": json.dumps({**data, "version": 99}),
            "damaged.json": json.dumps(broken),
        }
        page.get_by_role("button", name="Delete all").click()
        page.get_by_role("dialog").get_by_role("button", name="Cancel").click()
        for name, text in cases.items():
            path = tmp_path / name
            path.write_text(text)
            page.get_by_label("Import a file").set_input_files(path)
            expect(page.get_by_role("alert")).to_contain_text("Nothing was imported")
            expect(items).to_have_count(2)
        expect(page.get_by_role("alert")).to_contain_text("entry 2")
        page.reload()
        expect(items).to_have_count(2)
        assert items.all_inner_texts() == listed

        # Delete one.
        items.first.get_by_role("link").click()
        page.get_by_role("button", name="Delete this entry").click()
        page.get_by_role("dialog").get_by_role("button", name="Delete").click()
        expect(items).to_have_count(1)
        expect(items.first).to_contain_text(top_first)
        recorded.assert_clean()
    finally:
        page.context.close()


def test_print_view_and_phone_width(browser, live_server, samples):
    recorded = open_screener(browser, live_server, viewport={"width": 390, "height": 844})
    page = recorded.page
    try:
        top = classify_and_save(page, site_sample(samples), lesion="a long name " * 8)
        # A fresh result prints too: the result without the site's controls around it.
        page.emulate_media(media="print")
        expect(page.get_by_role("navigation", name="Site")).to_be_hidden()
        expect(page.get_by_role("button", name="Print or save as PDF")).to_be_hidden()
        expect(page.get_by_text("Drag and drop an image here")).to_be_hidden()
        expect(page.get_by_role("img", name="The image you chose")).to_be_visible()
        expect(page.get_by_role("list", name="Probability of each kind")).to_contain_text(top)
        expect(page.get_by_text("This is not a diagnosis.").first).to_be_visible()
        page.emulate_media(media="screen")
        expect(page.get_by_role("button", name="Print or save as PDF")).to_be_visible()

        page.add_init_script(path=str(AXE))
        page.goto(live_server + "/history")
        expect(saved_list(page)).to_have_count(1)
        assert run_axe(page) == [], "the list of saved results"
        width = "() => document.documentElement.scrollWidth - document.documentElement.clientWidth"
        assert page.evaluate(width) <= 0, "the list overflows a phone's width"
        saved_list(page).first.get_by_role("link").click()
        entry = page.get_by_role("article")
        expect(entry).to_contain_text(top)
        assert page.evaluate(width) <= 0, "an entry overflows a phone's width"
        assert run_axe(page) == [], "an opened entry"
        page.get_by_role("button", name="Delete this entry").click()
        expect(page.get_by_role("dialog")).to_be_visible()
        assert run_axe(page) == [], "the confirmation"
        page.get_by_role("dialog").get_by_role("button", name="Cancel").click()
        expect(page.get_by_role("dialog")).to_be_hidden()

        page.emulate_media(media="print")
        nav = page.get_by_role("navigation", name="Site")
        expect(nav).to_be_hidden()
        expect(page.get_by_role("button", name="Print or save as PDF")).to_be_hidden()
        expect(entry.get_by_role("img")).to_be_visible()
        expect(entry.get_by_role("table")).to_be_visible()
        expect(entry.get_by_role("row").nth(1)).to_contain_text(top)
        expect(entry).to_contain_text("sensitivity")  # the risk sentence's measured rates
        expect(entry).to_contain_text("This is not a diagnosis")
        expect(entry).to_contain_text("Tested on")  # the model's measured limits
        page.emulate_media(media="screen")
        expect(nav).to_be_visible()
        recorded.assert_clean()
    finally:
        page.context.close()


def test_history_works_offline(browser, live_server, samples):
    recorded = open_screener(browser, live_server, service_workers="allow")
    page, context = recorded.page, recorded.page.context
    try:
        expect(page.get_by_text(OFFLINE_READY)).to_be_visible(timeout=BROWSER_TIMEOUT_MS)
        top = classify_and_save(page, site_sample(samples))
        context.set_offline(True)
        page.goto(live_server + "/history")
        expect(page.get_by_role("heading", level=1)).to_have_text("History")
        expect(saved_list(page)).to_have_count(1)
        expect(saved_list(page).first).to_contain_text(top)
        recorded.assert_clean()
    finally:
        context.close()


def test_without_indexeddb_the_screener_still_works(browser, live_server, samples):
    recorded = open_recorded_page(browser)
    page = recorded.page
    page.add_init_script(script="Object.defineProperty(window, 'indexedDB', {value: undefined})")
    try:
        page.goto(live_server + SCREENER)
        expect(page.get_by_role("status")).to_have_text(READY, timeout=BROWSER_TIMEOUT_MS)
        sample = site_sample(samples)
        page.get_by_label("Choose an image").set_input_files(sample.path)
        expect(page.get_by_role("meter")).to_have_count(7)
        page.get_by_role("button", name="Save to history", exact=True).click()
        expect(
            page.get_by_text("Not saved. The history cannot be used in this browser")
        ).to_be_visible()
        expect(page.get_by_role("meter")).to_have_count(7)
        page.goto(live_server + "/history")
        expect(page.get_by_role("alert")).to_contain_text("The screeners still work")
        recorded.assert_clean()
    finally:
        page.context.close()


def test_storage_full_says_so(browser, live_server, samples):
    """A quota error while saving: a clear message, nothing saved, the result stays."""
    recorded = open_screener(browser, live_server)
    page = recorded.page
    page.add_init_script(
        script="IDBObjectStore.prototype.add = function () {"
        " throw new DOMException('full', 'QuotaExceededError'); };"
    )
    try:
        page.reload()
        expect(page.get_by_role("status")).to_have_text(READY, timeout=BROWSER_TIMEOUT_MS)
        page.get_by_label("Choose an image").set_input_files(site_sample(samples).path)
        expect(page.get_by_role("meter")).to_have_count(7)
        page.get_by_role("button", name="Save to history", exact=True).click()
        expect(page.get_by_text("storage for this site is full")).to_be_visible()
        expect(page.get_by_role("button", name="Save to history", exact=True)).to_be_enabled()
        expect(page.get_by_role("meter")).to_have_count(7)
        page.goto(live_server + "/history")
        expect(page.get_by_text("Nothing saved yet")).to_be_visible()
        recorded.assert_clean()
    finally:
        page.context.close()
