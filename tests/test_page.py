"""The screening page in Chromium, as a person uses it.

One page (one model load) is shared by the module; each test starts from
"details unknown" and waits for what a person would see: the result caption
naming the chosen file, the probability bars, or the alert.
"""

from __future__ import annotations

import base64
import math
import re
from pathlib import Path

import numpy as np
import pytest
from playwright.sync_api import expect

from conftest import BROWSER_TIMEOUT_MS, READY, open_recorded_page

pytestmark = pytest.mark.browser

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
        rows.append(
            (
                name,
                0.0 if match.group(1) else float(match.group(2)),
                meter.get_attribute("aria-valuenow"),
            )
        )
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
    expect(page.locator("#wrong-kind-alert")).to_be_hidden()  # a real lesion image: no warning
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
    shown = page.get_by_role("status").get_attribute("title")  # "TensorFlow.js: wasm"
    assert shown == "TensorFlow.js: " + workers[0].evaluate("() => tf.getBackend()")


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


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("200", "Age (years) must be between 0 and 120 (got 200)"),
        ("-1", "Age (years) must be between 0 and 120 (got -1)"),
        ("1e", "Age (years) must be a number between 0 and 120"),
    ],
)
def test_bad_age_is_explained_and_fixing_it_reclassifies(
    page, sample_paths, n_labels, typed, message
):
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


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("not_image.txt", "“not_image.txt” is not an image"),
        ("empty.jpg", "The file is empty (0 bytes)"),
        ("corrupt.jpg", "could not be read as an image"),
        ("tiny.png", "The image is too small (20 × 20 pixels)"),
    ],
)
def test_bad_file_is_explained_and_the_next_image_works(
    page, odd_files, sample_paths, n_labels, name, message
):
    choose(page, sample_paths[3])
    expect_result(page, sample_paths[3].name, n_labels)
    choose(page, odd_files[name])
    expect_error(page, message.replace("“", '"').replace("”", '"'))
    expect(page.locator("#heatmap")).to_be_hidden()  # the last image's map is gone
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
    transfer = page.evaluate_handle(
        """([data, name]) => {
        const bytes = Uint8Array.from(atob(data), (c) => c.charCodeAt(0));
        const transfer = new DataTransfer();
        transfer.items.add(new File([bytes], name, { type: 'image/jpeg' }));
        return transfer;
    }""",
        [data, "dropped.jpg"],
    )
    zone = page.get_by_text("Drag and drop an image here")
    zone.dispatch_event("dragover", {"dataTransfer": transfer})
    zone.dispatch_event("drop", {"dataTransfer": transfer})
    expect_result(page, "dropped.jpg", n_labels)


def test_nothing_left_the_machine_and_no_errors(screener):
    pages_seen = {url for url in screener.requests if "/static/tfjs_model/" in url}
    assert any(url.endswith("model.json") for url in pages_seen)
    screener.assert_clean()


def test_phone_layout(browser, live_server, sample_paths, n_labels):
    recorded = open_screener(
        browser,
        live_server,
        viewport={"width": 390, "height": 844},
        device_scale_factor=2,
        is_mobile=True,
        has_touch=True,
    )
    page = recorded.page
    try:
        camera = page.get_by_text("Take a photo")
        expect(camera).to_be_visible()
        choose(page, sample_paths[2], control="Take a photo")
        expect_result(page, sample_paths[2].name, n_labels)
        expect(page.get_by_text("This is not a diagnosis.")).to_be_visible()
        overflow = page.evaluate(
            "() => document.documentElement.scrollWidth - document.documentElement.clientWidth"
        )
        assert overflow <= 0
        recorded.assert_clean()
    finally:
        page.context.close()


def test_an_image_of_another_kind_is_flagged(page, tmp_path, task_metadata, n_labels):
    """A blank picture and (where the data is here) a chest X-ray get the warning."""
    from PIL import Image

    from training.inputs.data import data_root

    if "wrong_kind" not in task_metadata:
        pytest.skip("this model has no in-kind check")
    blank = tmp_path / "blank.png"
    Image.new("RGB", (300, 200), (200, 190, 185)).save(blank)
    others = [blank, *sorted((data_root() / "chest_xray" / "train" / "NORMAL").glob("*.jpeg"))[:1]]
    for other in others:
        choose(page, other)
        expect_result(page, other.name, n_labels)
        warning = page.locator("#wrong-kind-alert")
        expect(warning).to_be_visible()
        expect(warning).to_contain_text("does not look like the kind of image")
        expect(warning).to_contain_text("wrongly warns on")
        expect(page.locator("#risk-summary")).to_be_hidden()
        # Neither the map nor "unsure" for an answer that is probably meaningless.
        expect(page.locator("#heatmap-panel")).to_be_hidden()
        expect(page.locator("#heatmap")).to_be_hidden()
        expect(page.locator("#unsure-alert")).to_be_hidden()
    real = sorted((Path(__file__).parent / "data" / "ham10000").glob("*.jpg"))[0]
    choose(page, real)
    expect_result(page, real.name, n_labels)
    expect(page.locator("#wrong-kind-alert")).to_be_hidden()


def metadata_of_an_older_export(route):
    """metadata.json as models exported before the one names wrote it: the wrong-kind check
    under "doubt", the test-time mirrors as inputs.image.views."""
    metadata = route.fetch().json()
    metadata["doubt"] = metadata.pop("wrong_kind")
    metadata["inputs"]["image"]["views"] = metadata["inputs"]["image"].pop("tta")
    route.fulfill(json=metadata)


def test_an_older_exports_metadata_still_warns_and_mirrors(
    browser, live_server, tmp_path, task_metadata, n_labels
):
    """A model folder exported before ``wrong_kind`` and ``tta`` had those names still loads:
    its image is stacked with its mirrors (the graph takes four) and a blank picture gets
    the wrong-kind warning."""
    from PIL import Image

    if "wrong_kind" not in task_metadata or task_metadata["inputs"]["image"].get("tta") is None:
        pytest.skip("this model has no wrong-kind check or no test-time mirrors")
    blank = tmp_path / "blank.png"
    Image.new("RGB", (300, 200), (200, 190, 185)).save(blank)
    recorded = open_recorded_page(browser, service_workers="block")
    page = recorded.page
    page.route(f"**/tfjs_model/{task_metadata['task']}/metadata.json", metadata_of_an_older_export)
    try:
        page.goto(live_server + SCREENER)
        expect(page.get_by_role("status")).to_have_text(READY, timeout=BROWSER_TIMEOUT_MS)
        choose(page, blank)
        expect_result(page, blank.name, n_labels)
        expect(page.locator("#wrong-kind-alert")).to_contain_text(
            "does not look like the kind of image"
        )
        recorded.assert_clean()
    finally:
        page.context.close()


# ---- where the model looked (class activation map) and "the model is unsure" ---------------

HEATMAP = re.compile(r"^Where the model found evidence for ")


def crop_box(shown: dict, natural: tuple[int, int], aspect: float) -> dict:
    """Where the centred crop at ``aspect`` (width / height) of a natural-size picture
    lies in ``shown``, the picture's box on the page, when it is fitted whole (contain)."""
    scale = min(shown["width"] / natural[0], shown["height"] / natural[1])
    width, height = natural[0] * scale, natural[1] * scale
    crop_width = min(width, height * aspect)
    crop_height = crop_width / aspect
    return {
        "x": shown["x"] + (shown["width"] - crop_width) / 2,
        "y": shown["y"] + (shown["height"] - crop_height) / 2,
        "width": crop_width,
        "height": crop_height,
    }


def expect_box(actual: dict, expected: dict) -> None:
    for key in ("x", "y", "width", "height"):
        assert actual[key] == pytest.approx(expected[key], abs=1.5), (key, actual, expected)


def canvas_pixels(page) -> list[list[int]]:
    return page.evaluate("""() => {
        const canvas = document.getElementById('heatmap');
        const { data } = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height);
        const pixels = [];
        for (let i = 0; i < data.length; i += 4) pixels.push(Array.from(data.slice(i, i + 4)));
        return pixels;
    }""")


def test_heatmap_lies_over_what_the_model_saw(
    page, sample_paths, task_metadata, n_labels, tmp_path
):
    from PIL import Image

    if "explanation" not in task_metadata:
        pytest.skip("this model has no class activation map")
    height, width = task_metadata["inputs"]["image"]["size"]
    aspect = width / height
    squash = task_metadata["inputs"]["image"].get("resize") == "squash"
    preview = page.get_by_role("img", name="The image you chose")
    heatmap = page.get_by_role("img", name=HEATMAP)
    # The sample as it is, and a square cut of it: the model sees only its centre.
    square = tmp_path / "square.png"
    with Image.open(sample_paths[1]) as photo:
        side = min(photo.size)
        photo.crop((0, 0, side, side)).save(square)
    for path in (sample_paths[1], square):
        choose(page, path)
        rows = expect_result(page, path.name, n_labels)
        expect(heatmap).to_be_visible()
        expect(heatmap).to_have_accessible_name(f"Where the model found evidence for {rows[0][0]}")
        expect(page.get_by_text("the regions that pushed the model towards")).to_contain_text(
            rows[0][0]
        )
        expect(page.get_by_text("not a diagnosis, and not a map of where")).to_be_visible()
        with Image.open(path) as image:
            natural = image.size
        seen = natural[0] / natural[1] if squash else aspect
        expect_box(heatmap.bounding_box(), crop_box(preview.bounding_box(), natural, seen))
        cropped = abs(natural[0] / natural[1] - seen) > 0.01
        expect(page.get_by_text("The model looks only at the outlined centre")).to_be_visible(
            visible=cropped
        )

    # Letterboxed by object-fit and resized: the map follows the picture inside the box.
    page.evaluate("""() => Object.assign(document.getElementById('preview-image').style,
                                         { width: '300px', height: '200px' })""")
    try:
        expect(preview).to_have_css("width", "300px")
        page.wait_for_timeout(100)  # the resize observer's callback
        box = preview.bounding_box()
        expect_box(heatmap.bounding_box(), crop_box(box, natural, seen))
        assert heatmap.bounding_box()["x"] > box["x"] + 40  # not simply the element's box
    finally:
        page.evaluate("() => document.getElementById('preview-image').removeAttribute('style')")

    # A real map: its pixels vary from clear to strongly coloured.
    alphas = [alpha for *_, alpha in canvas_pixels(page)]
    assert max(alphas) - min(alphas) > 128
    assert len({tuple(p) for p in canvas_pixels(page)}) > 50


def test_heatmap_switch_and_opacity_work_from_the_keyboard(
    page, sample_paths, n_labels, task_metadata
):
    if "explanation" not in task_metadata:
        pytest.skip("this model has no class activation map")
    choose(page, sample_paths[3])
    expect_result(page, sample_paths[3].name, n_labels)
    heatmap = page.get_by_role("img", name=HEATMAP)
    switch = page.get_by_role("switch", name="Show where the model looked")
    slider = page.get_by_role("slider", name="Heatmap opacity")
    expect(switch).to_be_checked()
    switch.focus()
    page.keyboard.press("Space")
    expect(heatmap).to_be_hidden()
    expect(slider).to_be_disabled()
    page.keyboard.press("Space")
    expect(heatmap).to_be_visible()
    slider.focus()
    page.keyboard.press("Home")
    expect(heatmap).to_have_css("opacity", "0")
    expect(slider).to_have_attribute("aria-valuetext", "0%")
    page.keyboard.press("End")
    expect(heatmap).to_have_css("opacity", "1")
    page.keyboard.press("ArrowLeft")
    expect(heatmap).to_have_css("opacity", "0.95")
    expect(slider).to_have_attribute("aria-valuetext", "95%")
    # The choice stays for the next image; the map is its own.
    choose(page, sample_paths[4])
    expect_result(page, sample_paths[4].name, n_labels)
    expect(heatmap).to_have_css("opacity", "0.95")


def test_heatmap_colour_map(page):
    colours, pixels = page.evaluate("""async () => {
        const { colour, heatmapPixels } = await import('/static/js/heatmap.js');
        const steps = Array.from({ length: 11 }, (_, i) => colour(i / 10));
        const map = { rows: 2, cols: 2, values: [0, 1, 0, 0] };
        return [steps, Array.from(heatmapPixels(map, 4, 4))];
    }""")
    low, high = colours[0], colours[-1]
    assert low[3] <= 10  # least evidence: (nearly) clear
    assert high[3] == 255  # most: opaque
    assert sum(abs(a - b) for a, b in zip(low[:3], high[:3])) > 200  # blue, not red
    assert high[0] > high[2] and low[2] > low[0]
    alphas = [c[3] for c in colours]
    assert alphas == sorted(alphas) and len(set(alphas)) == len(alphas)
    assert len(pixels) == 4 * 4 * 4
    top_right, bottom_left = (
        pixels[(0 * 4 + 3) * 4 : (0 * 4 + 3) * 4 + 4],
        pixels[12 * 4 : 12 * 4 + 4],
    )
    assert top_right == high and bottom_left == low  # each cell's value at its centre


def test_heatmap_covers_the_crop_or_the_whole_image_as_metadata_says(page):
    """A crop model's map lies over the centred crop at the input's aspect (also when
    metadata.json says nothing: models exported before the setting); a squash model's
    over the whole picture, wherever object-fit puts it."""
    boxes = page.evaluate("""async () => {
        const { regionBox } = await import('/static/js/heatmap.js');
        const { explain } = await import('/static/js/classifier.js');
        const map = { rows: 1, cols: 1, classes: 1, values: [0.5] };
        const labels = [{ id: 'a', name: 'A' }];
        const natural = { width: 400, height: 200 };
        const box = { width: 300, height: 300 };
        const out = {};
        for (const [name, resize] of [['old', undefined], ['crop', 'crop'], ['squash', 'squash']]) {
          const explanation = explain(map, labels, 'a', [224, 224], resize);
          out[name] = { resize: explanation.resize, contain: regionBox(natural, box, explanation, 'contain'),
                        fill: regionBox(natural, box, explanation) };
        }
        return out;
    }""")
    # contain: the 400 × 200 picture is shown 300 × 150, from y = 75.
    whole = {"left": 0, "top": 75, "width": 300, "height": 150}
    centre = {"left": 75, "top": 75, "width": 150, "height": 150}
    assert boxes["old"] == boxes["crop"] and boxes["old"]["resize"] == "crop"
    assert boxes["crop"]["contain"] == pytest.approx(centre)
    assert boxes["squash"]["resize"] == "squash"
    assert boxes["squash"]["contain"] == pytest.approx(whole)
    assert boxes["squash"]["fill"] == pytest.approx(
        {"left": 0, "top": 0, "width": 300, "height": 300}
    )
    assert boxes["crop"]["fill"] == pytest.approx(
        {"left": 75, "top": 0, "width": 150, "height": 300}
    )


def metadata_with_resize(resize: str | None):
    """A route handler serving metadata.json with inputs.image.resize set (None: removed)."""

    def handle(route):
        metadata = route.fetch().json()
        if resize:
            metadata["inputs"]["image"]["resize"] = resize
        else:
            metadata["inputs"]["image"].pop("resize", None)
        route.fulfill(json=metadata)

    return handle


def test_a_squash_models_heatmap_lies_over_the_whole_x_ray(browser, live_server, tmp_path):
    """The X-ray page with metadata.json saying "squash" (as the released model's does): the
    map of a wide upload covers the whole picture and the "outlined centre" note stays
    hidden; with "crop", or no setting (older models: crop), it covers the centre square."""
    from PIL import Image

    xray = Path(__file__).parent / "data" / "chest_xray" / "IM-0125-0001.jpeg"
    wide = tmp_path / "wide.png"
    with Image.open(xray) as image:
        image.convert("RGB").resize((image.width * 3 // 2, image.height)).save(wide)
    with Image.open(wide) as image:
        natural = image.size
    for resize in ("squash", "crop", None):
        recorded = open_recorded_page(browser, service_workers="block")
        page = recorded.page

        page.route("**/tfjs_model/chest_xray/metadata.json", metadata_with_resize(resize))
        try:
            page.goto(live_server + "/screen/chest_xray")
            expect(page.get_by_role("status")).to_have_text(READY, timeout=BROWSER_TIMEOUT_MS)
            choose(page, wide)
            expect(page.get_by_text(f"Result for “{wide.name}”")).to_be_visible()
            heatmap = page.get_by_role("img", name=HEATMAP)
            expect(heatmap).to_be_visible()
            preview = page.get_by_role("img", name="The image you chose").bounding_box()
            aspect = natural[0] / natural[1] if resize == "squash" else 1.0
            expect_box(heatmap.bounding_box(), crop_box(preview, natural, aspect))
            note = page.get_by_text("The model looks only at the outlined centre")
            expect(note).to_be_visible(visible=resize != "squash")
            recorded.assert_clean()
        finally:
            page.context.close()


def catmull_rom_picture(values: np.ndarray, width: int, height: int) -> np.ndarray:
    """The map's values at each pixel centre of a width × height picture: Catmull-Rom
    between the cells' centres, edge cells repeated (what heatmap.js promises)."""

    def weights(count, n):
        u = np.clip((np.arange(count) + 0.5) / count * n - 0.5, 0, n - 1)
        i, t = np.floor(u).astype(int), u - np.floor(u)
        w = np.stack(
            [
                (-(t**3) + 2 * t**2 - t) / 2,
                (3 * t**3 - 5 * t**2 + 2) / 2,
                (-3 * t**3 + 4 * t**2 + t) / 2,
                (t**3 - t**2) / 2,
            ],
            axis=1,
        )
        matrix = np.zeros((count, n))
        for j in range(4):
            np.add.at(matrix, (np.arange(count), np.clip(i + j - 1, 0, n - 1)), w[:, j])
        return matrix

    rows, cols = values.shape
    return weights(height, rows) @ values @ weights(width, cols).T


def test_heatmap_pixels_are_the_interpolated_map_in_colour(page):
    """Every pixel of the drawn map is the colour of the bicubic value at its centre."""
    values = np.random.default_rng(0).random((3, 5))
    width, height = 40, 24
    pixels, palette = page.evaluate(
        """async ([values, rows, cols, width, height]) => {
        const { colour, heatmapPixels } = await import('/static/js/heatmap.js');
        const pixels = Array.from(heatmapPixels({ rows, cols, values }, width, height));
        return [pixels, Array.from({ length: 1001 }, (_, i) => colour(i / 1000))];
    }""",
        [values.ravel().tolist(), 3, 5, width, height],
    )
    drawn = np.array(pixels).reshape(height, width, 4)
    expected = np.clip(catmull_rom_picture(values, width, height), 0, 1)
    palette = np.array(palette)
    nearest = palette[np.rint(expected * 1000).astype(int)]
    assert np.abs(drawn - nearest).max() <= 2
    # Not flat: the picture spans most of the map's range of colours.
    assert drawn[..., 3].max() - drawn[..., 3].min() > 150


def test_unsure_warning_shows_the_measured_figures(page, sample_paths, task_metadata, n_labels):
    """The samples the page's own model is unsure about (top probability below the
    threshold) get the warning with the test figures; the others do not. Where the few
    samples under tests/data are all of one sort for the installed model, images of the
    test split (../shared/data, in its order) follow until both sorts were seen."""
    rule = task_metadata.get("unsure") or {}
    if rule.get("threshold") is None:
        pytest.skip("this model is never called unsure")
    measured = rule["test"]["without_metadata"]
    warning = page.locator("#unsure-alert")
    seen = {True: [], False: []}
    for path in [*sample_paths, *first_test_images(40)]:
        if seen[True] and seen[False] and path not in sample_paths:
            break
        choose(page, path)
        rows = expect_result(page, path.name, n_labels)
        top = float(rows[0][2])
        if abs(top - rule["threshold"] * 100) <= 0.05:
            continue  # the shown percentage is rounded: too close to tell
        unsure = top < rule["threshold"] * 100
        seen[unsure].append(path.name)
        expect(warning).to_be_visible(visible=unsure)
        if unsure:
            expect(warning).to_contain_text("The model is unsure about this image")
            expect(warning).to_contain_text(
                f"its top answer has only {rows[0][1]:.1f}% probability"
            )
            expect(warning).to_contain_text(
                f"right only {percent(measured['accuracy_flagged'])} of the time "
                f"(vs {percent(measured['accuracy_not_flagged'])} otherwise)"
            )
            expect(page.get_by_role("meter")).to_have_count(n_labels)  # nothing hidden
    assert seen[True] and seen[False], seen


def first_test_images(n: int) -> list[Path]:
    """The first ``n`` images of the task's test split (lesion-grouped, reports/…/split.csv)."""
    from training.inputs.data import PROJECT_ROOT, data_root, split_rows
    from training.inputs.tasks import get_task

    task = get_task("skin_lesion")
    rows = split_rows(
        task.load(data_root()), PROJECT_ROOT / "reports" / task.id / "split.csv", "test"
    )
    return [Path(p) for p in rows["path"].head(n)]


def percent(fraction: float) -> str:
    """As the page rounds a measured rate: 0.4625 → "46%"."""
    return f"{math.floor(fraction * 100 + 0.5)}%"


def test_page_made_for_another_model_reloads_once(browser, live_server, task_metadata):
    """A page whose figures describe another model version than the one it loads (a
    new version of the site took over while it loaded) reloads once, and only once."""
    recorded = open_recorded_page(browser, service_workers="block")
    page = recorded.page
    version = task_metadata["version"]
    try:

        def stale_page(route):
            response = route.fetch()
            body = response.text()
            assert f'data-model-version="{version}"' in body
            route.fulfill(
                response=response,
                body=body.replace(
                    f'data-model-version="{version}"', 'data-model-version="0123456789ab"'
                ),
            )

        page.route(live_server + SCREENER, stale_page)
        loads = []
        page.on("load", lambda: loads.append(page.url))
        page.goto(live_server + SCREENER)
        expect(page.get_by_role("status")).to_have_text(READY, timeout=BROWSER_TIMEOUT_MS)
        page.wait_for_timeout(500)  # a second reload would have started by now
        assert loads == [live_server + SCREENER] * 2
        assert page.evaluate("() => performance.getEntriesByType('navigation')[0].type") == "reload"
        recorded.assert_clean()
    finally:
        page.context.close()
