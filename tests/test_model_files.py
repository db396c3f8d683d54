"""A missing or damaged model file, in Chromium: the screener page says which file
and what is wrong with it, in words, instead of a TF.js stack trace or a wrong
answer. Each case serves a broken copy of the models folder (``MODELS_FOLDER``)."""

from __future__ import annotations

import json
import shutil

import pytest
from playwright.sync_api import expect

from conftest import BROWSER_TIMEOUT_MS, MODELS_DIR, TEST_CONFIG, open_recorded_page, serve
from webapp import create_app

pytestmark = pytest.mark.browser


def shard_of(folder):
    model = json.loads((folder / "model.json").read_text())
    return folder / model["weightsManifest"][0]["paths"][0]


def remove_shard(folder):
    shard_of(folder).unlink()
    return f"The model file {shard_of(folder).name} is missing from this site (HTTP 404)."


def remove_model_json(folder):
    (folder / "model.json").unlink()
    return "The model file model.json is missing from this site (HTTP 404)."


def truncate_shard(folder):
    shard = shard_of(folder)
    data = shard.read_bytes()
    shard.write_bytes(data[: len(data) // 2])
    return (
        f"The model file {shard.name} on this site is damaged: it is cut short "
        f"({len(data) // 2} of {len(data)} bytes)."
    )


def flip_shard_bytes(folder):
    """Same length, other content: only the content version can tell."""
    shard = shard_of(folder)
    data = bytearray(shard.read_bytes())
    data[len(data) // 2 : len(data) // 2 + 16] = bytes(16)
    shard.write_bytes(bytes(data))
    return "The model files on this site do not match the model's version"


def truncate_model_json(folder):
    text = (folder / "model.json").read_text()
    (folder / "model.json").write_text(text[: len(text) // 2])
    return "The model file model.json on this site is damaged: it is not valid JSON"


def model_json_not_a_model(folder):
    (folder / "model.json").write_text(json.dumps({"format": "graph-model"}))
    return "The model file model.json on this site is damaged: it does not describe a TF.js graph model."


@pytest.mark.parametrize(
    "damage",
    [
        remove_shard,
        remove_model_json,
        truncate_shard,
        flip_shard_bytes,
        truncate_model_json,
        model_json_not_a_model,
    ],
)
def test_broken_model_is_explained(browser, tmp_path, damage):
    models = tmp_path / "models"
    shutil.copytree(MODELS_DIR, models)
    task = json.loads((models / "index.json").read_text())["tasks"][0]["id"]
    message = damage(models / task)
    with serve(create_app({**TEST_CONFIG, "MODELS_FOLDER": str(models)})) as url:
        recorded = open_recorded_page(browser, service_workers="block")
        page = recorded.page
        try:
            page.goto(f"{url}/screen/{task}")
            alert = page.get_by_role("alert")
            expect(alert).to_be_visible(timeout=BROWSER_TIMEOUT_MS)
            expect(alert).to_contain_text(message)
            expect(alert).to_contain_text("Reload the page to try again.")
            expect(page.get_by_role("status")).to_have_text("The model could not be loaded.")
            expect(page.get_by_role("progressbar")).to_be_hidden()
            assert recorded.page_errors == []
            # A 404 is logged by the browser itself; nothing else may be.
            assert all("404" in error for error in recorded.console_errors), recorded.console_errors
        finally:
            page.context.close()


def test_weight_bytes_follow_the_manifest(page, live_server):
    """groupBytes: stored bytes per dtype, quantized weights in their stored dtype."""
    page.goto(live_server + "/offline")
    sizes = page.evaluate("""async () => {
      const { groupBytes } = await import('/static/js/model-files.js');
      const group = (weights) => groupBytes({ paths: ['x.bin'], weights });
      return [
        group([{ name: 'a', shape: [2, 3], dtype: 'float32' }, { name: 'b', shape: [], dtype: 'int32' }]),
        group([{ name: 'a', shape: [10], dtype: 'float32', quantization: { dtype: 'uint8' } }]),
        group([{ name: 'a', shape: [10], dtype: 'float32', quantization: { dtype: 'float16' } }]),
        group([{ name: 'a', shape: [4], dtype: 'bool' }]),
        group([{ name: 'a', shape: [2], dtype: 'string' }]),
      ];
    }""")
    assert sizes == [28, 10, 20, 4, None]
