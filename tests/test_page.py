"""The screening page in Chromium, as a person uses it.

One page (one model load) is shared by the module; each test starts from
"details unknown" and waits for what a person would see: the result caption
naming the chosen file, the probability bars, or the alert.
"""
from __future__ import annotations

import base64
import re
from pathlib import Path

import pytest
from playwright.sync_api import expect

from conftest import BROWSER_TIMEOUT_MS, open_recorded_page

pytestmark = pytest.mark.browser

READY = re.compile(r"Model ready \((wasm|webgl|cpu)\)")
PERCENT = re.compile(r"^(<)?(\d+(?:\.\d+)?)%$")


# These tests enter the skin-lesion model's details (age, sex, body site).
SCREENER = "/screen/skin_lesion"


def open_screener(browser, live_server, **context_options):
    recorded = open_recorded_page(browser, **context_options)
    recorded.page.goto(live_server + SCREENER)
    expect(recorded.page.get_by_role("status")).to_have_text(READY, timeout=BROWSER_TIMEOUT_MS)
    return recorded


@pytest.fixture(scope="module")
def screener(browser, live_server):
    recorded = open_screener(browser, live_server, viewport={"width": 1280, "height": 900})
    yield recorded
    try:
        recorded.assert_clean()
    finally:
        recorded.page.context.close()


@pytest.fixture
def page(screener):
    """The shared screener page with every detail back to unknown."""
    page = screener.page
    page.get_by_label("Age (years)").fill("")
    for select in page.locator("select[data-field]").all():
        select.select_option("")
    return page


@pytest.fixture(scope="module")
def n_labels(task_metadata):
    return len(task_metadata["labels"])


def choose(page, path, control="Choose an image"):
    page.get_by_label(control).set_input_files(path)


def probability_rows(page) -> list[tuple[str, float, str]]:
    """(name, percentage shown, meter value) for each bar, top to bottom."""
    items = page.get_by_role("list", name="Probability of each kind").get_by_role("listitem")
    rows = []
    for item in items.all():
        name, shown = [part.strip() for part in item.inner_text().split("\n") if part.strip()]
        match = PERCENT.match(shown)
        assert match, shown
        meter = item.get_by_role("meter", name=name)
        expect(meter).to_have_attribute("aria-valuetext", shown)
        rows.append((name, 0.0 if match.group(1) else float(match.group(2)),
                     meter.get_attribute("aria-valuenow")))
    return rows


def expect_result(page, file_name, n_labels):
    """Wait for the result of `file_name`; check the bars; return their rows."""
    expect(page.get_by_text(f"Result for “{file_name}”")).to_be_visible()
    expect(page.get_by_role("meter")).to_have_count(n_labels)
    expect(page.get_by_role("alert")).to_be_hidden()
    rows = probability_rows(page)
    percentages = [shown for _, shown, _ in rows]
    assert sum(percentages) == pytest.approx(100, abs=0.5)
    assert percentages == sorted(percentages, reverse=True)
    for _, shown, value in rows:
        assert float(value) == pytest.approx(shown, abs=0.06)
    return rows


def expect_error(page, message):
    alert = page.get_by_role("alert")
    expect(alert).to_be_visible()
    expect(alert).to_contain_text(message)
    expect(page.get_by_role("meter")).to_have_count(0)


def test_page_tells_what_it_is_and_is_not(page):
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    expect(page.get_by_role("status")).to_have_text(READY)
    expect(page.get_by_text("This is not a diagnosis.")).to_be_visible()
    expect(page.get_by_text("If you have any concern, see a doctor")).to_be_visible()
    expect(page.get_by_text("Your image never leaves your device")).to_be_visible()
    expect(page.get_by_text("Choose an image to see the result.")).to_be_visible()


def test_classify_a_real_image(page, sample_paths, task_metadata, n_labels):
    sample = sample_paths[0]
    choose(page, sample)
    rows = expect_result(page, sample.name, n_labels)
    assert sorted(name for name, _, _ in rows) == sorted(l["name"] for l in task_metadata["labels"])
    best = next(label for label in task_metadata["labels"] if label["name"] == rows[0][0])
    expect(page.get_by_text("The closest match is")).to_contain_text(best["name"])
    expect(page.get_by_text(best["description"], exact=True).first).to_be_visible()
    serious = page.get_by_text("This kind can be serious")
    risk = task_metadata.get("risk")
    # With a risk summary, its sentence says what to do instead.
    expect(serious).to_have_count(1 if best.get("malignant") and not risk else 0)
    if risk:
        summary = page.locator("#risk-summary")
        expect(summary).to_be_visible()
        sentence = summary.locator("p").first.inner_text()
        assert sentence in (risk["messages"]["high"], risk["messages"]["low"])
        expect(summary).to_contain_text("sensitivity")
        expect(summary).to_contain_text("specificity")
    expect(page.locator("#doubt-alert")).to_be_hidden()   # a real lesion image: no warning
    expect(page.get_by_role("img", name="The image you chose")).to_be_visible()
    expect(page.get_by_text("This is not a diagnosis.")).to_be_visible()


def test_the_model_runs_in_a_worker(page, sample_paths, n_labels):
    """TF.js and the model live in a dedicated worker: the page never evaluates TF.js,
    whose loading and WebAssembly set-up would otherwise block it."""
    choose(page, sample_paths[1])
    expect_result(page, sample_paths[1].name, n_labels)
    assert page.evaluate("() => typeof globalThis.tf") == "undefined"
    workers = [w for w in page.workers if w.url.endswith("/static/js/model-worker.js")]
    assert len(workers) == 1
    shown = READY.search(page.get_by_role("status").inner_text()).group(1)
    assert workers[0].evaluate("() => tf.getBackend()") == shown


def test_details_are_used_and_changes_reclassify(page, samples, n_labels):
    sample = next(s for s in samples if s.sex == "male")
    page.get_by_label("Sex").select_option(sample.sex)
    page.get_by_label("Body site").select_option(sample.site)
    choose(page, sample.path)
    expect_result(page, sample.path.name, n_labels)
    caption = page.get_by_text(f"Result for “{sample.path.name}”")
    expect(caption).to_contain_text(f"(Male · {sample.site.capitalize()})")
    page.wait_for_timeout(600)  # nothing typed is still pending (typing waits 400 ms)

    page.get_by_label("Sex").select_option("female")
    expect(caption).to_contain_text(f"(Female · {sample.site.capitalize()})")
    expect_result(page, sample.path.name, n_labels)

    page.get_by_label("Age (years)").press_sequentially(str(int(sample.age)))
    expect(caption).to_contain_text(f"(Age (years): {int(sample.age)} · Female")
    expect_result(page, sample.path.name, n_labels)

    page.get_by_label("Age (years)").fill("")
    expect(caption).to_contain_text("(Female · ")
    expect_result(page, sample.path.name, n_labels)


def test_enter_in_a_detail_does_not_leave_the_page(page, sample_paths, n_labels):
    choose(page, sample_paths[1])
    expect_result(page, sample_paths[1].name, n_labels)
    url = page.url
    page.get_by_label("Age (years)").fill("50")
    page.get_by_label("Age (years)").press("Enter")
    expect(page.get_by_text("Age (years): 50")).to_be_visible()
    assert page.url == url
    expect_result(page, sample_paths[1].name, n_labels)


@pytest.mark.parametrize(("typed", "message"), [
    ("200", "Age (years) must be between 0 and 120 (got 200)"),
    ("-1", "Age (years) must be between 0 and 120 (got -1)"),
    ("1e", "Age (years) must be a number between 0 and 120"),
])
def test_bad_age_is_explained_and_fixing_it_reclassifies(page, sample_paths, n_labels,
                                                         typed, message):
    sample = sample_paths[2]
    choose(page, sample)
    expect_result(page, sample.name, n_labels)
    age = page.get_by_label("Age (years)")
    age.fill("")
    age.press_sequentially(typed)
    expect_error(page, message)
    expect(age).to_have_attribute("aria-invalid", "true")
    age.fill("")
    age.press_sequentially("64")
    expect(page.get_by_text("Age (years): 64")).to_be_visible()
    expect_result(page, sample.name, n_labels)
    expect(age).not_to_have_attribute("aria-invalid", "true")


@pytest.mark.parametrize(("name", "message"), [
    ("not_image.txt", "“not_image.txt” is not an image"),
    ("empty.jpg", "The file is empty (0 bytes)"),
    ("corrupt.jpg", "could not be read as an image"),
    ("tiny.png", "The image is too small (20 × 20 pixels)"),
])
def test_bad_file_is_explained_and_the_next_image_works(page, odd_files, sample_paths,
                                                        n_labels, name, message):
    choose(page, sample_paths[3])
    expect_result(page, sample_paths[3].name, n_labels)
    choose(page, odd_files[name])
    expect_error(page, message.replace("“", '"').replace("”", '"'))
    choose(page, sample_paths[4])
    expect_result(page, sample_paths[4].name, n_labels)


@pytest.mark.parametrize("name", ["alpha.png", "grayscale.jpg", "exif_rotated.jpg"])
def test_unusual_images_classify(page, odd_files, n_labels, name):
    choose(page, odd_files[name])
    expect_result(page, name, n_labels)


def test_phone_photo_is_shown_upright(page, odd_files, n_labels):
    choose(page, odd_files["exif_rotated.jpg"])
    expect_result(page, "exif_rotated.jpg", n_labels)
    box = page.get_by_role("img", name="The image you chose").bounding_box()
    assert box["width"] > box["height"]  # stored sideways (portrait), shown landscape


def test_huge_image_classifies(page, huge_image, n_labels):
    choose(page, huge_image)
    expect_result(page, huge_image.name, n_labels)


def test_quick_second_choice_wins(page, sample_paths, n_labels):
    choose(page, sample_paths[5])
    choose(page, sample_paths[6])
    expect_result(page, sample_paths[6].name, n_labels)
    expect(page.get_by_text(f"Result for “{sample_paths[5].name}”")).to_have_count(0)


def test_drag_and_drop(page, sample_paths, n_labels):
    sample = sample_paths[0]
    data = base64.b64encode(sample.read_bytes()).decode()
    transfer = page.evaluate_handle("""([data, name]) => {
        const bytes = Uint8Array.from(atob(data), (c) => c.charCodeAt(0));
        const transfer = new DataTransfer();
        transfer.items.add(new File([bytes], name, { type: 'image/jpeg' }));
        return transfer;
    }""", [data, "dropped.jpg"])
    zone = page.get_by_text("Drag and drop an image here")
    zone.dispatch_event("dragover", {"dataTransfer": transfer})
    zone.dispatch_event("drop", {"dataTransfer": transfer})
    expect_result(page, "dropped.jpg", n_labels)


def test_nothing_left_the_machine_and_no_errors(screener):
    pages_seen = {url for url in screener.requests if "/static/tfjs_model/" in url}
    assert any(url.endswith("model.json") for url in pages_seen)
    screener.assert_clean()


def test_phone_layout(browser, live_server, sample_paths, n_labels):
    recorded = open_screener(browser, live_server, viewport={"width": 390, "height": 844},
                             device_scale_factor=2, is_mobile=True, has_touch=True)
    page = recorded.page
    try:
        camera = page.get_by_text("Take a photo")
        expect(camera).to_be_visible()
        choose(page, sample_paths[2], control="Take a photo")
        expect_result(page, sample_paths[2].name, n_labels)
        expect(page.get_by_text("This is not a diagnosis.")).to_be_visible()
        overflow = page.evaluate(
            "() => document.documentElement.scrollWidth - document.documentElement.clientWidth")
        assert overflow <= 0
        recorded.assert_clean()
    finally:
        page.context.close()


def test_an_image_of_another_kind_is_flagged(page, tmp_path, task_metadata, n_labels):
    """A blank picture and (where the data is here) a chest X-ray get the warning."""
    from PIL import Image

    from training.data import data_root
    if "doubt" not in task_metadata:
        pytest.skip("this model has no in-kind check")
    blank = tmp_path / "blank.png"
    Image.new("RGB", (300, 200), (200, 190, 185)).save(blank)
    others = [blank, *sorted((data_root() / "chest_xray" / "train" / "NORMAL").glob("*.jpeg"))[:1]]
    for other in others:
        choose(page, other)
        expect_result(page, other.name, n_labels)
        warning = page.locator("#doubt-alert")
        expect(warning).to_be_visible()
        expect(warning).to_contain_text("does not look like the kind of image")
        expect(warning).to_contain_text("wrongly warns on")
        expect(page.locator("#risk-summary")).to_be_hidden()
    real = sorted((Path(__file__).parent / "data" / "ham10000").glob("*.jpg"))[0]
    choose(page, real)
    expect_result(page, real.name, n_labels)
    expect(page.locator("#doubt-alert")).to_be_hidden()
