"""The private history (static/js/history-*.js, /history) in Chromium: a result saved
on a screener is listed after a reload, exports, imports back after "Delete all", a
damaged or foreign file changes nothing, the list works offline, an opened entry
prints without the site around it, and the page fits a phone. Checks of one lesion
(one name, screener and body site) are listed in date order, what changed is said in
words, and the series prints on one page.

Each test opens its own browser context, so its IndexedDB starts empty.
"""

from __future__ import annotations

import base64
import io
import json
import re

import pytest
from PIL import Image
from playwright.sync_api import expect
from test_accessibility import AXE, run_axe
from test_screeners import samples_of

from conftest import BROWSER_TIMEOUT_MS, open_recorded_page

pytestmark = pytest.mark.browser

READY = re.compile(r"^Model ready\.")
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
        # The named entry is a lesion with one check so far; its series fits a phone too.
        lesion = page.get_by_role("list", name="Lesions followed over time").get_by_role("listitem")
        expect(lesion).to_have_count(1)
        expect(lesion).to_contain_text("1 check")
        lesion.get_by_role("link").click()
        expect(page.get_by_role("article")).to_contain_text("One check so far")
        expect(page.get_by_role("article")).to_contain_text(f"Most likely: {top}")
        assert page.evaluate(width) <= 0, "a lesion's series overflows a phone's width"
        page.get_by_role("link", name="Back to all saved results").click()
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


# ---- a lesion followed over time ------------------------------------------------------


def jpeg_data_url(path, side=96):
    image = Image.open(path).convert("RGB")
    image.thumbnail((side, side))
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=80)
    return "data:image/jpeg;base64," + base64.b64encode(buffer.getvalue()).decode()


def check_entry(metadata, sample, created, top, *, lesion, site, high, version=None):
    """A history entry as the skin screener saves it: ``top`` most likely, the risk
    sentence of metadata.json's rule (high or low)."""
    others = [label for label in metadata["labels"] if label["id"] != top]
    results = [{"id": top, "probability": 0.7}] + [
        {"id": label["id"], "probability": 0.3 / len(others)} for label in others
    ]
    names = {label["id"]: label["name"] for label in metadata["labels"]}
    site_value, site_name = site
    return {
        "id": f"{lesion}-{site_value}-{created}",
        "created": created,
        "task": metadata["task"],
        "task_title": metadata["title"],
        "model_version": version or metadata["version"],
        "file_name": sample.path.name,
        "image": jpeg_data_url(sample.path),
        "details": [
            {"name": "site", "label": "Body site", "value": site_value, "shown": site_name}
        ],
        "site": {"value": site_value, "name": site_name},
        "results": [{**item, "name": names[item["id"]]} for item in results],
        "risk": {
            "high": high,
            "message": metadata["risk"]["messages"]["high" if high else "low"],
            "trust": "On the test images it flagged 94% of the cancers (sensitivity) and "
            "passed 64% of the harmless lesions (specificity).",
        },
        "warnings": [],
        "limits": "Tested on 1431 images from two clinics.",
        **({"lesion": lesion} if lesion else {}),
    }


@pytest.fixture
def lesion_export(tmp_path, samples, task_metadata):
    """An export file: three checks of one mole on the back (the top kind moves from
    the most common harmless kind to the most serious one, and the risk sentence
    appears, at the third), a one-check lesion of the same name on the chest and an
    unnamed entry; saved out of date order, the name spelt in two ways."""
    labels = task_metadata["labels"]
    harmless = next(label for label in labels if not label["malignant"])
    serious = next(label for label in labels if label["id"] == task_metadata["risk"]["focus"])
    assert serious["malignant"]
    back, chest = ("back", "Back"), ("chest", "Chest")

    def entry(i, created, top, **options):
        return check_entry(task_metadata, samples[i], created, top, **options)

    checks = [
        entry(
            0,
            "2026-03-01T12:00:00Z",
            harmless["id"],
            lesion="Mole on the back",
            site=back,
            high=False,
        ),
        entry(
            1,
            "2026-04-02T12:00:00Z",
            harmless["id"],
            lesion=" mole on  the BACK",
            site=back,
            high=False,
        ),
        entry(
            2,
            "2026-05-03T12:00:00Z",
            serious["id"],
            lesion="Mole on the back",
            site=back,
            high=True,
        ),
    ]
    others = [
        entry(
            3,
            "2026-04-15T12:00:00Z",
            harmless["id"],
            lesion="Mole on the back",
            site=chest,
            high=False,
        ),
        entry(4, "2026-04-20T12:00:00Z", harmless["id"], lesion="", site=back, high=False),
    ]
    path = tmp_path / "lesions.json"
    document = {
        "format": "screener-history",
        "version": 1,
        "exported": "2026-05-04T00:00:00Z",
        "entries": [checks[2], others[0], checks[0], others[1], checks[1]],
    }
    path.write_text(json.dumps(document))
    return path, task_metadata, harmless, serious


def pdf_pages(pdf: bytes) -> int:
    return len(re.findall(rb"/Type\s*/Page(?![a-zA-Z])", pdf))


def test_lesion_series_in_date_order_with_changes_in_words(browser, live_server, lesion_export):
    export, metadata, harmless, serious = lesion_export
    recorded = open_recorded_page(
        browser, viewport={"width": 1280, "height": 900}, locale="en-US", timezone_id="UTC"
    )
    page = recorded.page
    page.add_init_script(path=str(AXE))
    try:
        page.goto(live_server + "/history")
        page.get_by_label("Import a file").set_input_files(export)
        expect(page.get_by_text("Imported 5 saved results")).to_be_visible()
        lesions = page.get_by_role("list", name="Lesions followed over time").get_by_role(
            "listitem"
        )
        expect(lesions).to_have_count(2)  # the same name on another body site is another lesion
        expect(lesions.first).to_contain_text("“Mole on the back”")
        expect(lesions.first).to_contain_text("Back · 3 checks, Mar 1, 2026 – May 3, 2026")
        expect(lesions.first).to_contain_text("The result changed between checks.")
        expect(lesions.nth(1)).to_contain_text("Chest · 1 check")
        expect(saved_list(page)).to_have_count(5)

        lesions.first.get_by_role("link").click()
        series = page.get_by_role("article")
        expect(series.get_by_role("heading", level=2)).to_have_text("“Mole on the back”, Back")
        checks = series.get_by_role("list", name="The checks, oldest first").get_by_role("listitem")
        expect(checks).to_have_count(3)
        expect(checks.get_by_role("heading")).to_have_text(
            [re.compile(r"^Mar 1, 2026"), re.compile(r"^Apr 2, 2026"), re.compile(r"^May 3, 2026")]
        )
        for check, kind in zip(checks.all(), [harmless, harmless, serious], strict=True):
            expect(check.get_by_role("img")).to_be_visible()
            expect(check).to_contain_text(f"Most likely: {kind['name']} (70.0%)")
            expect(check.get_by_role("row")).to_have_count(len(metadata["labels"]))
        expect(checks.nth(2)).to_contain_text(metadata["risk"]["messages"]["high"])

        changes = series.get_by_role("list", name="What changed").get_by_role("listitem")
        low = metadata["risk"]["messages"]["low"]
        expect(changes).to_have_text(
            [
                f"From Mar 1, 2026 to Apr 2, 2026, nothing changed: the most likely kind stayed "
                f"{harmless['name']} and the risk sentence stayed "
                f"“{low}”{'' if low.endswith('.') else '.'}",
                f"On May 3, 2026, the most likely kind moved from {harmless['name']} to "
                f"{serious['name']}, a serious kind.",
                f"The risk sentence “{metadata['risk']['messages']['high']}” appeared on May 3, "
                "2026.",
            ]
        )
        expect(series).to_contain_text("can change with the photo itself")
        expect(series).to_contain_text("a reason to show the lesion to a doctor, not a diagnosis")
        assert run_axe(page) == [], "a lesion's series"

        # The print view: the series alone, with the model's version and limits.
        page.emulate_media(media="print")
        expect(page.get_by_role("navigation", name="Site")).to_be_hidden()
        expect(page.get_by_role("button", name="Print or save as PDF")).to_be_hidden()
        expect(page.get_by_role("link", name="Back to all saved results")).to_be_hidden()
        expect(saved_list(page)).to_have_count(0)
        expect(checks).to_have_count(3)
        for check in checks.all():
            expect(check.get_by_role("img")).to_be_visible()
            expect(check.get_by_role("table")).to_be_visible()
        expect(changes.nth(1)).to_be_visible()
        expect(series).to_contain_text("This is not a diagnosis")
        expect(series).to_contain_text(f"Version {metadata['version']}, checks of Mar 1, 2026")
        expect(series.get_by_role("definition").last).to_have_text(
            "Tested on 1431 images from two clinics."
        )
        expect(series.get_by_role("term").last).to_have_text("Measured limits")
        expect(series).to_contain_text("(sensitivity)")
        top = [check.bounding_box()["y"] for check in checks.all()]
        assert max(top) - min(top) < 1, "the checks are not side by side on paper"
        assert pdf_pages(page.pdf(format="A4")) == 1, "the series does not print on one page"
        page.emulate_media(media="screen")

        # An opened check leads back to its series.
        checks.nth(2).get_by_role("link").click()
        entry = page.get_by_role("article")
        expect(entry).to_contain_text(serious["name"])
        entry.get_by_role("link", name="See all 3 checks of “Mole on the back”").click()
        expect(checks).to_have_count(3)

        # A phone: the checks stacked, nothing wider than the screen.
        page.set_viewport_size({"width": 390, "height": 844})
        lefts = [check.bounding_box()["x"] for check in checks.all()]
        assert max(lefts) - min(lefts) < 1, "the checks are not stacked on a phone"
        width = "() => document.documentElement.scrollWidth - document.documentElement.clientWidth"
        assert page.evaluate(width) <= 0, "a series overflows a phone's width"
        page.get_by_role("link", name="Back to all saved results").click()
        expect(lesions).to_have_count(2)
        assert page.evaluate(width) <= 0, "the list of lesions overflows a phone's width"
        recorded.assert_clean()
    finally:
        page.context.close()


def test_import_refuses_an_image_that_is_not_a_picture(browser, live_server, lesion_export):
    """An entry whose image does not decode, or is larger than a saved one, refuses the whole
    file (all or nothing), and the earlier import's message goes with the new error."""
    export, _, _, _ = lesion_export
    recorded = open_recorded_page(browser, viewport={"width": 1280, "height": 900})
    page = recorded.page
    try:
        page.goto(live_server + "/history")
        page.get_by_label("Import a file").set_input_files(export)
        success = page.get_by_text("Imported 5 saved results")
        expect(success).to_be_visible()
        items = saved_list(page)
        expect(items).to_have_count(5)
        listed = items.all_inner_texts()

        data = json.loads(export.read_text())
        new = [{**entry, "id": entry["id"] + "-copy"} for entry in data["entries"]]
        large = Image.new("RGB", (300, 200), "white")
        buffer = io.BytesIO()
        large.save(buffer, "PNG")
        cases = {
            "not-an-image.json": ("data:image/jpeg;base64,QUFBQUFB", "cannot be read as a picture"),
            "too-large.json": (
                "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode(),
                "300 × 200 pixels",
            ),
        }
        for name, (image, problem) in cases.items():
            entries = [new[0], {**new[1], "image": image}, *new[2:]]
            path = export.parent / name
            path.write_text(json.dumps({**data, "entries": entries}))
            page.get_by_label("Import a file").set_input_files(path)
            alert = page.get_by_role("alert")
            expect(alert).to_contain_text("entry 2")
            expect(alert).to_contain_text(problem)
            expect(alert).to_contain_text("Nothing was imported; your history is unchanged.")
            expect(success).to_be_hidden()
            expect(items).to_have_count(5)
        page.reload()
        expect(items).to_have_count(5)
        assert items.all_inner_texts() == listed
        for thumb in items.locator("img").all():
            assert thumb.evaluate("image => image.complete && image.naturalWidth > 0")
        recorded.assert_clean()
    finally:
        page.context.close()


# The width the placeholder of a text field needs and the width it has, in CSS pixels.
PLACEHOLDER_WIDTHS = """input => {
    const style = getComputedStyle(input);
    const context = document.createElement('canvas').getContext('2d');
    context.font = `${style.fontStyle} ${style.fontWeight} ${style.fontSize} ${style.fontFamily}`;
    const room = input.clientWidth - parseFloat(style.paddingLeft) - parseFloat(style.paddingRight);
    return [context.measureText(input.placeholder).width, room];
}"""


def assert_placeholder_fits(field, where):
    needed, room = field.evaluate(PLACEHOLDER_WIDTHS)
    assert needed <= room, f"the placeholder is cut {where} ({needed:.0f} px in {room:.0f})"


def test_group_name_is_for_one_image_and_its_placeholder_fits(browser, live_server, samples):
    recorded = open_screener(browser, live_server, viewport={"width": 390, "height": 844})
    page = recorded.page
    try:
        first = site_sample(samples)
        second = next(s for s in samples if s.path != first.path)  # the same body site stays chosen
        classify_and_save(page, first, lesion="mole on the back")
        name = page.get_by_label("Name to group it by (optional)")
        expect(name).to_have_value("")  # saved: the next image starts without it
        assert_placeholder_fits(name, "on a phone")
        page.set_viewport_size({"width": 1280, "height": 900})
        assert_placeholder_fits(name, "on a wide screen")

        # A name typed but not saved does not follow to another image either.
        name.fill("mole on the back")
        page.get_by_label("Choose an image").set_input_files(second.path)
        expect(page.get_by_text(f"Result for “{second.path.name}”")).to_be_visible()
        expect(name).to_have_value("")
        page.get_by_role("button", name="Save to history", exact=True).click()
        expect(page.get_by_text("Saved in this browser only")).to_be_visible()

        page.goto(live_server + "/history")
        expect(saved_list(page)).to_have_count(2)
        lesions = page.get_by_role("list", name="Lesions followed over time")
        expect(lesions.get_by_role("listitem")).to_have_count(1)
        expect(lesions.get_by_role("listitem")).to_contain_text("1 check")

        # German, on a phone: its longer placeholder fits too.
        page.set_viewport_size({"width": 390, "height": 844})
        page.goto(live_server + SCREENER + "?lang=de")
        page.get_by_label("Bild auswählen").set_input_files(first.path)
        name = page.get_by_label("Name zum Gruppieren (freiwillig)")
        expect(name).to_be_visible(timeout=BROWSER_TIMEOUT_MS)  # with the result
        assert_placeholder_fits(name, "in German on a phone")
        recorded.assert_clean()
    finally:
        page.context.close()


def test_a_fresh_result_prints_on_one_page(browser, live_server, samples, task_metadata):
    """A screener's result prints like a history entry: one A4 page with the date, the image,
    the answer, every probability, the risk sentence, the model version, its measured limits
    and the not-a-diagnosis statement; not the page's instructions or its table of test results."""
    recorded = open_screener(
        browser,
        live_server,
        viewport={"width": 390, "height": 844},
        locale="en-US",
        timezone_id="UTC",
    )
    page = recorded.page
    try:
        sample = site_sample(samples)
        page.get_by_label("Age (years)").fill(str(int(sample.age or 50)))
        page.get_by_label("Choose an image").set_input_files(sample.path)
        expect(page.get_by_text(f"Result for “{sample.path.name}”")).to_be_visible()
        top = page.locator(".probability-name").first.inner_text()
        date = page.get_by_text(re.compile(r"^Date: [A-Z][a-z]{2} \d{1,2}, \d{4}, \d{1,2}:\d\d"))
        expect(date).to_be_hidden()  # on paper only

        page.emulate_media(media="print")
        expect(date).to_be_visible()
        expect(page.get_by_role("img", name="The image you chose")).to_be_visible()
        expect(page.get_by_text("The closest match is")).to_contain_text(top)
        kinds = page.get_by_role("list", name="Probability of each kind").get_by_role("listitem")
        expect(kinds).to_have_count(len(task_metadata["labels"]))
        expect(kinds.first).to_be_visible()
        messages = task_metadata["risk"]["messages"].values()
        risk = "|".join(re.escape(message) for message in messages)
        expect(page.get_by_text(re.compile(f"^({risk})$"))).to_be_visible()
        expect(page.get_by_text("How far to trust this sentence")).to_be_visible()
        expect(page.get_by_text(re.compile(r"^Model version \w+"))).to_be_visible()
        expect(page.get_by_text(re.compile(r"^Tested on \d+ images"))).to_be_visible()
        expect(page.get_by_text("This is not a diagnosis.")).to_be_visible()
        # Not the page's instructions, controls or test table.
        expect(page.get_by_text("Your image never leaves your device")).to_be_hidden()
        expect(page.get_by_text("The model learned only from images of this kind")).to_be_hidden()
        expect(page.get_by_role("heading", name="Details (optional)")).to_be_hidden()
        expect(page.get_by_role("table")).to_be_hidden()
        expect(page.get_by_role("button", name="Save to history")).to_be_hidden()
        assert pdf_pages(page.pdf(format="A4")) == 1, "a skin result does not print on one page"

        # The other screeners' results too.
        for task in ("chest_xray", "malaria"):
            page.emulate_media(media="screen")
            page.goto(f"{live_server}/screen/{task}")
            path = samples_of(task)[0][0]
            page.get_by_label("Choose an image").set_input_files(path)
            expect(page.get_by_text(f"Result for “{path.name}”")).to_be_visible(
                timeout=BROWSER_TIMEOUT_MS
            )
            page.emulate_media(media="print")
            expect(date).to_be_visible()
            expect(page.get_by_text(re.compile(r"^Model version \w+"))).to_be_visible()
            assert pdf_pages(page.pdf(format="A4")) == 1, (
                f"a {task} result does not print on one page"
            )
        recorded.assert_clean()
    finally:
        page.context.close()


# How many lines the text of an element takes on screen.
LINES = """node => {
    const range = document.createRange();
    range.selectNodeContents(node);
    return new Set([...range.getClientRects()].map((rect) => Math.round(rect.bottom))).size;
}"""


def test_history_on_a_phone_says_each_thing_once(browser, live_server, samples, task_metadata):
    """Two checks of one lesion on one day, opened on a phone: the day said once, the body
    site once, and the table's column header on one line."""
    entries = [
        check_entry(
            task_metadata,
            samples[i],
            f"2026-12-07T{9 + i:02d}:00:00Z",
            "nv",
            lesion="Mole on the back",
            site=("back", "Back"),
            high=False,
        )
        for i in range(2)
    ]
    for entry in entries:
        entry["details"].insert(
            0, {"name": "age", "label": "Age (years)", "value": "45", "shown": "45"}
        )
    document = {"format": "screener-history", "version": 1, "exported": "2026-12-08T00:00:00Z"}
    recorded = open_recorded_page(
        browser, viewport={"width": 390, "height": 844}, locale="en-US", timezone_id="UTC"
    )
    page = recorded.page
    try:
        page.goto(live_server + "/history")
        page.get_by_label("Import a file").set_input_files(
            files=[
                {
                    "name": "one-day.json",
                    "mimeType": "application/json",
                    "buffer": json.dumps({**document, "entries": entries}).encode(),
                }
            ]
        )
        expect(page.get_by_text("Imported 2 saved results")).to_be_visible()
        lesion = page.get_by_role("list", name="Lesions followed over time").get_by_role("listitem")
        expect(lesion).to_contain_text("Skin lesion screener · Back · 2 checks, Dec 7, 2026")
        expect(lesion).not_to_contain_text("–")

        lesion.get_by_role("link").click()
        series = page.get_by_role("article")
        expect(
            series.get_by_text("Skin lesion screener · 2 checks, on Dec 7, 2026")
        ).to_be_visible()
        changes = series.get_by_role("list", name="What changed").get_by_role("listitem")
        expect(changes).to_contain_text(["From Dec 7, 2026, 9:00 AM to Dec 7, 2026, 10:00 AM"])

        series.get_by_role("list", name="The checks, oldest first").get_by_role(
            "link"
        ).first.click()
        entry = page.get_by_role("article")
        facts = entry.get_by_role("definition")
        expect(facts.filter(has_text=re.compile(r"\bBack\b"))).to_have_count(
            1
        )  # the body site, once
        expect(facts.filter(has_text="Age (years): 45")).to_have_text(["Age (years): 45"])
        header = entry.get_by_role("columnheader", name="Probability")
        expect(header).to_be_visible()
        assert header.evaluate(LINES) == 1, "the column header breaks inside its word"
        for kind in entry.get_by_role("rowheader").all():
            words = kind.inner_text().split()
            assert kind.evaluate(LINES) <= len(words), f"“{kind.inner_text()}” breaks in a word"
        width = "() => document.documentElement.scrollWidth - document.documentElement.clientWidth"
        assert page.evaluate(width) <= 0, "an entry overflows a phone's width"
        recorded.assert_clean()
    finally:
        page.context.close()
