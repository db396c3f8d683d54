"""The lesion's outline: the segmentation model (training/steps/outline.py), its report, its
geometry in the browser (static/js/outline.js) and assess()'s ``outline`` on real photos
of any shape (wide, tall, EXIF-rotated), and the screener page that shows it."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from playwright.sync_api import expect
from test_classifier_api import open_host_page

from conftest import open_recorded_page
from training.steps.outline_browser import fill_polygon
from training.steps.outline_net import dice_jaccard, largest_region

ROOT = Path(__file__).resolve().parent.parent
SKIN = ROOT / "static" / "tfjs_model" / "skin_lesion"
REPORT = ROOT / "reports" / "skin_lesion" / "outline.json"
DICE_FLOOR = 0.85  # loose: the shipped model measured more (reports/skin_lesion/outline.json)


# ---- the model's files and its report -------------------------------------------------------


def test_dice_on_the_test_split_through_the_js_api():
    report = json.loads(REPORT.read_text())
    split = (ROOT / "reports" / "skin_lesion" / "split.csv").read_text().splitlines()
    n_test = sum(line.endswith(",test") for line in split)
    print(
        f"\noutline on {report['images']} test images through assess(): mean Dice "
        f"{report['dice']['mean']:.3f} (median {report['dice']['median']:.3f}), mean Jaccard "
        f"{report['jaccard']['mean']:.3f}; no outline on {report['no_outline']['count']}"
    )
    assert report["images"] == n_test
    assert report["dice"]["mean"] >= DICE_FLOOR
    assert report["jaccard"]["mean"] >= 0.75
    assert sum(report["dice_histogram"]["counts"]) == n_test
    assert len(report["worst"]) >= 5
    outline = json.loads((SKIN / "outline" / "metadata.json").read_text())
    assert report["model_version"] == outline["version"]


def test_outline_files_sit_beside_the_classifier_not_in_the_task_list():
    classifier = json.loads((SKIN / "metadata.json").read_text())
    outline = json.loads((SKIN / "outline" / "metadata.json").read_text())
    assert classifier["outline"] == {"folder": "outline/", "version": outline["version"]}
    assert outline["task"] == "skin_lesion" and outline["kind"] == "outline"
    assert outline["parity"]["max_abs_diff"] <= 0.05
    index = json.loads((SKIN.parent / "index.json").read_text())
    assert [task["id"] for task in index["tasks"]].count("skin_lesion") == 1
    total = sum(path.stat().st_size for path in SKIN.rglob("*") if path.is_file())
    print(f"\nskin model files together: {total / 1e6:.2f} MB")
    assert total <= 5_000_000


def test_the_offline_copy_keeps_the_outline_model(client):
    script = client.get("/sw.js").get_data(as_text=True)
    outline = json.loads((SKIN / "outline" / "model.json").read_text())
    for name in ["metadata.json", "model.json"] + [
        path for group in outline["weightsManifest"] for path in group["paths"]
    ]:
        assert f"skin_lesion/outline/{name}" in script


def test_scores_and_filling():
    square = [[2, 1], [6, 1], [6, 4], [2, 4]]
    filled = fill_polygon(square, 10, 8)
    assert filled.sum() == 4 * 3 and filled[1:4, 2:6].all()
    a = np.zeros((4, 4), bool)
    a[:2] = True
    b = np.zeros((4, 4), bool)
    b[1:3] = True
    assert dice_jaccard(a, b) == pytest.approx((0.5, 1 / 3))
    assert dice_jaccard(a & False, b & False) == (1.0, 1.0)
    two = np.zeros((6, 6), bool)
    two[0, 0] = True
    two[3:6, 3:6] = True
    assert largest_region(two).sum() == 9


def test_the_exported_form_gives_the_same_masks():
    """The decoder's batch norms folded for TF.js (inference_model) change no answer."""
    from training.steps.outline_net import OutlineConfig, build_model, inference_model

    config = OutlineConfig(weights="none", height=64, width=96)
    model = build_model(config)
    for layer in model.layers:  # batch norms with statistics of their own
        if layer.name.endswith("_bn"):
            gamma, beta, mean, variance = layer.get_weights()
            rng = np.random.default_rng(len(layer.name))
            layer.set_weights(
                [gamma * 1.5, beta + 0.1, mean + rng.normal(0, 0.1, mean.shape), variance * 2]
            )
    pixels = np.random.default_rng(0).uniform(0, 255, (2, 90, 120, 3)).astype("float32")
    folded = inference_model(model, config)
    assert np.abs(model.predict(pixels, verbose=0) - folded.predict(pixels, verbose=0)).max() < 1e-4


# ---- the geometry (static/js/outline.js), in a page --------------------------------------------

GEOMETRY = """
async () => {
  const o = await import('/static/js/outline.js');
  const rows = 96, cols = 128;
  const field = (f) => {
    const values = new Float32Array(rows * cols);
    for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) values[r * cols + c] = f(r, c);
    return { rows, cols, values };
  };
  const disc = field((r, c) => 1 / (1 + Math.exp((Math.hypot(r - 40, c - 60) - 20) * 2)));
  const half = field((r, c) => (Math.hypot(r - 48, c - 64) < 30 && c < 64 ? 1 : 0));
  const brown = { width: 64, height: 48, data: new Uint8Array(64 * 48 * 4).map(
    (_, i) => [95, 55, 40, 255][i % 4]) };
  return {
    disc: o.outlineOf(disc, { size: [1280, 960], pixels: brown }),
    half: o.outlineOf(half, { size: [128, 96] }),
    full: o.outlineOf(field(() => 1), { size: [200, 150] }),
    empty: o.outlineOf(field(() => 0), { size: [200, 150] }),
    faint: o.outlineOf(field((r, c) => (Math.hypot(r - 48, c - 64) < 20 ? 0.55 : 0)), { size: [200, 150] }),
  };
}
"""


@pytest.mark.browser
def test_outline_geometry(page_record, live_server):
    page = page_record.page
    page.goto(live_server + "/")
    found = page.evaluate(GEOMETRY)
    disc = found["disc"]
    # a circle of radius 20 cells = 200 px in a 1280 × 960 image
    assert disc["areaFraction"] == pytest.approx(np.pi * 200**2 / (1280 * 960), rel=0.03)
    assert disc["compactness"] > 0.97
    assert disc["asymmetry"]["major"] < 0.03 and disc["asymmetry"]["minor"] < 0.03
    assert disc["diameter"] == pytest.approx(400, rel=0.03)
    assert disc["diameterFraction"] == pytest.approx(400 / 1280, rel=0.03)
    assert disc["colours"] == ["dark_brown"]
    xs, ys = zip(*disc["polygon"])
    assert (min(xs) + max(xs)) / 2 == pytest.approx(605, abs=6)  # cell 60's centre: 60.5 × 10
    assert (min(ys) + max(ys)) / 2 == pytest.approx(405, abs=6)
    # a half disc: symmetric about one principal axis, not about the other
    asym = found["half"]["asymmetry"]
    assert max(asym.values()) > 0.15 and min(asym.values()) < 0.02
    # a lesion filling the frame: its outline runs along the image's edges
    full = np.asarray(found["full"]["polygon"])
    assert full[:, 0].min() == 0 and full[:, 0].max() == 200 and full[:, 1].max() == 150
    assert found["full"]["areaFraction"] > 0.99
    assert found["empty"] == {"polygon": None, "reason": "none"}
    assert found["faint"] == {"polygon": None, "reason": "unsure"}


# ---- assess() on real photos of any shape ------------------------------------------------------

ASSESS = """
async (names) => {
  const out = {};
  for (const name of names) {
    const { outline, outlineMessage } = await classifier.assess(await fetchBlob(name));
    out[name] = { outline, outlineMessage };
  }
  return out;
}
"""


@pytest.fixture(scope="module")
def shaped_photos(tmp_path_factory, sample_paths, odd_files):
    """The first sample stretched wide (4 ×) and tall (3 × its height), a blank skin photo,
    and the EXIF-rotated and upright copies of the odd files."""
    from PIL import Image

    folder = tmp_path_factory.mktemp("outline_photos")
    with Image.open(sample_paths[0]) as source:
        photo = source.convert("RGB")
    files = {"photo.jpg": folder / "photo.jpg"}
    photo.save(files["photo.jpg"], quality=98)
    for name, size in {"wide.jpg": (800, 150), "tall.jpg": (200, 450)}.items():
        files[name] = folder / name
        photo.resize(size, Image.BICUBIC).save(files[name], quality=98)
    files["blank.jpg"] = folder / "blank.jpg"
    Image.new("RGB", (400, 300), (214, 170, 150)).save(files["blank.jpg"], quality=95)
    for name in ("upright.jpg", "exif_rotated.jpg"):
        files[name] = odd_files[name]
    return files


def _mask(outline):
    return fill_polygon(outline["polygon"], outline["width"], outline["height"])


@pytest.mark.browser
def test_outline_is_placed_on_the_image_given(browser, live_server, shaped_photos):
    recorded = open_host_page(browser, live_server, {p.name: p for p in shaped_photos.values()})
    try:
        found = recorded.page.evaluate(ASSESS, list(shaped_photos))
        recorded.assert_clean()
    finally:
        recorded.page.context.close()
    photo = found["photo.jpg"]["outline"]
    assert photo and (photo["width"], photo["height"]) == (200, 150)
    base = _mask(photo)
    assert 0.01 < photo["areaFraction"] < 0.99
    assert set(photo) >= {
        "polygon",
        "areaFraction",
        "asymmetry",
        "compactness",
        "colours",
        "diameter",
        "diameterFraction",
    }
    assert set(photo["colours"]) <= {
        "white",
        "red",
        "light_brown",
        "dark_brown",
        "blue_grey",
        "black",
    }
    # stretched: the model sees the same squashed picture; the outline stretches with it
    for name, (width, height) in {"wide.jpg": (800, 150), "tall.jpg": (200, 450)}.items():
        outline = found[name]["outline"]
        assert (outline["width"], outline["height"]) == (width, height)
        xs, ys = np.asarray(outline["polygon"]).T
        assert xs.max() <= width and ys.max() <= height
        back = [[x * 200 / width, y * 150 / height] for x, y in outline["polygon"]]
        dice, _ = dice_jaccard(fill_polygon(back, 200, 150), base)
        assert dice > 0.9, name
    # EXIF orientation 6: the outline is on the picture as shown, upright
    upright, turned = found["upright.jpg"]["outline"], found["exif_rotated.jpg"]["outline"]
    assert (turned["width"], turned["height"]) == (upright["width"], upright["height"])
    dice, _ = dice_jaccard(_mask(turned), _mask(upright))
    assert dice > 0.9
    # a blank patch of skin: no outline, and why
    assert found["blank.jpg"]["outline"] is None
    assert found["blank.jpg"]["outlineMessage"].startswith("No outline")


# ---- the screener page -----------------------------------------------------------------------


@pytest.mark.browser
def test_the_screener_draws_the_outline_and_says_what_it_measures(
    browser, live_server, sample_paths
):
    recorded = open_recorded_page(browser, viewport={"width": 390, "height": 844})  # a phone
    page = recorded.page
    try:
        page.goto(live_server + "/screen/skin_lesion")
        page.get_by_label("Choose an image").set_input_files(sample_paths[0])
        panel = page.locator("#outline-panel")
        expect(panel).to_be_visible()
        overlay = page.get_by_role("img", name="The lesion’s outline, as a model drew it")
        expect(overlay).to_be_visible()
        expect(overlay.locator("path")).to_have_count(2)
        for term in ("Size in the photo", "Asymmetry", "Border", "Colours"):
            expect(panel.get_by_text(term, exact=True)).to_be_visible()
        expect(panel).to_contain_text("not a diagnosis")
        expect(panel).to_contain_text("distance, angle and light")
        # over the picture, inside it
        image = page.locator("#preview-image").bounding_box()
        box = overlay.bounding_box()
        assert (
            box["x"] >= image["x"] - 1
            and box["x"] + box["width"] <= image["x"] + image["width"] + 1
        )
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
        page.get_by_label("Show the outline on the image").uncheck()
        expect(overlay).to_be_hidden()
        page.get_by_label("Show the outline on the image").check()
        expect(overlay).to_be_visible()
        recorded.assert_clean()
    finally:
        page.context.close()


@pytest.mark.browser
def test_the_german_screener_names_the_measures(browser, live_server, sample_paths):
    catalogue = (
        ROOT / "webapp" / "translations" / "de" / "LC_MESSAGES" / "messages.po"
    ).read_text()
    if 'msgid "Size in the photo"' not in catalogue:
        pytest.skip("the outline's German words are not merged into the catalogue yet")
    recorded = open_recorded_page(browser)
    page = recorded.page
    try:
        page.goto(live_server + "/screen/skin_lesion?lang=de")
        page.locator("#photo-file").set_input_files(sample_paths[0])
        panel = page.locator("#outline-panel")
        expect(panel).to_be_visible()
        for term in ("Größe im Foto", "Asymmetrie", "Rand", "Farben"):
            expect(panel.get_by_text(term, exact=True)).to_be_visible()
        expect(panel).not_to_contain_text("Asymmetry")
        recorded.assert_clean()
    finally:
        page.context.close()
