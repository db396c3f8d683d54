"""Every shipped screener on its own page, in Chromium: its own kind of image is
classified as labelled, without a warning; another screener's kind of image is flagged."""

from __future__ import annotations

import csv
import json
import re
from pathlib import Path

import pytest
from playwright.sync_api import expect

from conftest import BROWSER_TIMEOUT_MS, MODELS_DIR, open_recorded_page

pytestmark = pytest.mark.browser

READY = re.compile(r"^Model ready\.")
DATA = Path(__file__).parent / "data"
TASKS = [task["id"] for task in json.loads((MODELS_DIR / "index.json").read_text())["tasks"]]


def samples_of(task: str) -> list[tuple[Path, str]]:
    """(image, label id) of the committed sample images of ``task``."""
    folder = DATA / ("ham10000" if task == "skin_lesion" else task)
    with open(folder / "samples.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    if task == "skin_lesion":
        return [(folder / f"{row['image_id']}.jpg", row["dx"]) for row in rows]
    return [(folder / row["file"], row["label"]) for row in rows]


def foreign_sample(task: str) -> Path:
    """An image of another screener's kind."""
    other = next(t for t in ("chest_xray", "skin_lesion") if t != task)
    return samples_of(other)[0][0]


@pytest.fixture(scope="module", params=TASKS)
def screener(request, browser, live_server):
    task = request.param
    metadata = json.loads((MODELS_DIR / task / "metadata.json").read_text())
    recorded = open_recorded_page(browser, service_workers="block")
    recorded.page.goto(f"{live_server}/screen/{task}")
    expect(recorded.page.get_by_role("status")).to_have_text(READY, timeout=BROWSER_TIMEOUT_MS)
    yield task, metadata, recorded.page
    try:
        recorded.assert_clean()
    finally:
        recorded.page.context.close()


def choose(page, path: Path, n_labels: int) -> None:
    page.get_by_label("Choose an image").set_input_files(path)
    expect(page.get_by_text(f"Result for “{path.name}”")).to_be_visible()
    expect(page.get_by_role("meter")).to_have_count(n_labels)
    expect(page.get_by_role("alert")).to_be_hidden()


def test_own_kind_is_classified_as_labelled(screener):
    task, metadata, page = screener
    names = {label["id"]: label["name"] for label in metadata["labels"]}
    samples = samples_of(task)
    if task == "skin_lesion":  # the skin model misses some kinds; its clearest cases
        samples = [s for s in samples if s[1] in ("nv", "vasc", "bcc")]
    for path, label in samples:
        choose(page, path, len(names))
        expect(page.get_by_text("The closest match is")).to_contain_text(names[label])
        expect(page.locator("#wrong-kind-alert")).to_be_hidden()
        # Where it looked, for models that say (over what they saw of the image).
        heatmap = page.get_by_role("img", name=f"Where the model found evidence for {names[label]}")
        expect(heatmap).to_be_visible(visible="explanation" in metadata)
        if (metadata.get("unsure") or {"threshold": None})["threshold"] is None:
            expect(page.locator("#unsure-alert")).to_be_hidden()
        if "risk" in metadata:
            sentence = page.locator("#risk-summary p").first
            expect(sentence).to_be_visible()
            assert sentence.inner_text() in metadata["risk"]["messages"].values()
            if len(metadata["risk"]["labels"]) == 1:  # its one serious kind, named once
                expect(page.locator("#risk-summary")).not_to_contain_text(" of all ")


def test_the_status_says_ready_in_plain_words(screener):
    """No backend name in the sentence people read; it stays in the tooltip."""
    _, _, page = screener
    status = page.get_by_role("status")
    expect(status).to_have_text(re.compile(r"^Model ready\.( Loaded from this device’s cache\.)?$"))
    expect(status).to_have_attribute("title", re.compile(r"^TensorFlow\.js: (wasm|webgl|cpu)$"))


def test_another_kind_of_image_is_flagged(screener):
    task, metadata, page = screener
    if "wrong_kind" not in metadata:
        pytest.skip("this model has no in-kind check")
    choose(page, foreign_sample(task), len(metadata["labels"]))
    warning = page.locator("#wrong-kind-alert")
    expect(warning).to_be_visible()
    expect(warning).to_contain_text(metadata["image_kind"])
    # No confident risk sentence, map or "unsure" about an image the model was not made for.
    expect(page.locator("#risk-summary")).to_be_hidden()
    expect(page.locator("#heatmap")).to_be_hidden()
    expect(page.locator("#unsure-alert")).to_be_hidden()
