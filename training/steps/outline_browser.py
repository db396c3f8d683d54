"""The outline network in Chromium, through the site's own JavaScript: its parity with
Keras (``parity``, checked at export), its Dice through ``assess()`` (``browser_evaluate``,
the report) and the time it adds to ``assess()`` (``timing``). Commands:
``python -m training.steps.outline`` (export, report, time)."""

from __future__ import annotations

import json
import statistics
import tempfile
from pathlib import Path

import numpy as np

from training.inputs.data import data_root
from training.steps.outline_net import (
    OUTLINED,
    TASK,
    OutlineConfig,
    dice_jaccard,
    image_ids,
    load,
    load_pairs,
    summary,
)

PARITY_SCRIPT = """
async ([count]) => {
  const { loadTf, selectBackend } = await import('/static/js/tf-loader.js');
  const { downloadModel } = await import('/static/js/model-files.js');
  const tf = await loadTf();
  await selectBackend(tf, 'wasm');
  const files = await downloadModel(new URL('/model/outline/', location.href));
  const model = await tf.loadGraphModel({ load: () => tf.io.getModelArtifactsForJSON(
    files.modelJson, async () => [files.weightSpecs, files.weightData]) });
  const rows = [];
  for (let i = 0; i < count; i++) {
    const bitmap = await createImageBitmap(await (await fetch(`/images/${i}`)).blob());
    const mask = tf.tidy(() => model.execute(
      tf.expandDims(tf.cast(tf.browser.fromPixels(bitmap, 3), 'float32'), 0)));
    rows.push(Array.from(await mask.data()));
    mask.dispose();
  }
  return rows;
}
"""

ASSESS_SCRIPT = """
async ([count]) => {
  const { loadClassifier } = await import('/static/js/classifier.js');
  const classifier = await loadClassifier('TASK', { modelUrl: '/model/', backend: 'wasm' });
  const rows = [];
  for (let i = 0; i < count; i++) {
    const blob = await (await fetch(`/images/${i}`)).blob();
    const { outline, outlineMessage } = await classifier.assess(blob);
    rows.push(outline ? { polygon: outline.polygon, width: outline.width, height: outline.height }
      : { polygon: null, message: outlineMessage });
  }
  return rows;
}
"""


def _in_browser(script: str, model_dir: Path, images: list[Path], extra=()):
    """Run ``script`` (given the image count, then ``extra``) on a page served by
    ``training.exporting.parity.serve``."""
    from playwright.sync_api import sync_playwright

    from training.exporting.browser import launch_chromium
    from training.exporting.parity import serve

    errors = []
    with sync_playwright() as p, serve(model_dir, images) as url:
        browser = launch_chromium(p)
        try:
            page = browser.new_page()
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.goto(url + "/")
            # the scripts name the task as TASK (the outlined task of the registry)
            result = page.evaluate(script.replace("'TASK'", repr(TASK)), [len(images), *extra])
        finally:
            browser.close()
    if errors:
        raise RuntimeError(f"errors in the browser: {errors}")
    return result


def image_paths(config: OutlineConfig, ids) -> list[Path]:
    root = data_root(config.data_dir or None) / OUTLINED.dataset_dir / "images"
    return [root / f"{image_id}.jpg" for image_id in ids]


MAX_CHANCE_DIFF = 0.05  # largest difference of a pixel's chance, Keras against the browser
MIN_PARITY_DICE = 0.98  # least Dice between the two thresholded masks, on every image


def parity(config: OutlineConfig, model_path: Path, task_dir: Path, count: int = 24) -> dict:
    """The converted outline model in Chromium (WASM) against Keras on ``count`` test images:
    the same chances within MAX_CHANCE_DIFF and the same mask (Dice ≥ MIN_PARITY_DICE)."""
    from PIL import Image

    ids = image_ids(config, "test")[:count]
    paths = image_paths(config, ids)
    model = load(model_path)
    pixels = np.stack([np.asarray(Image.open(p).convert("RGB"), np.float32) for p in paths])
    expected = model.predict(pixels, verbose=0)[..., 0].reshape(len(paths), -1)
    found = np.asarray(_in_browser(PARITY_SCRIPT, task_dir, paths), np.float64)
    diff = np.abs(found - expected)
    dice = [
        dice_jaccard(a >= config.threshold, b >= config.threshold)[0]
        for a, b in zip(expected, found)
    ]
    summary = {
        "images": len(paths),
        "backend": "wasm",
        "max_abs_diff": float(diff.max()),
        "mean_abs_diff": float(diff.mean()),
        "min_mask_dice": float(min(dice)),
    }
    if summary["max_abs_diff"] > MAX_CHANCE_DIFF or summary["min_mask_dice"] < MIN_PARITY_DICE:
        raise AssertionError(f"outline parity failed: {summary}")
    return summary


def fill_polygon(polygon, width: int, height: int) -> np.ndarray:
    """The polygon filled at width × height: the pixels whose centre lies inside (even-odd
    rule, row by row, as ``fill`` in static/js/outline.js)."""
    out = np.zeros((height, width), bool)
    if not polygon:
        return out
    points = np.asarray(polygon, np.float64)
    x1, y1 = points[:, 0], points[:, 1]
    x2, y2 = np.roll(x1, 1), np.roll(y1, 1)
    centres = np.arange(width) + 0.5
    for row in range(height):
        y = row + 0.5
        crossing = ((y1 <= y) & (y2 > y)) | ((y2 <= y) & (y1 > y))
        xs = np.sort(
            x1[crossing]
            + (y - y1[crossing]) / (y2[crossing] - y1[crossing]) * (x2[crossing] - x1[crossing])
        )
        for a, b in zip(xs[0::2], xs[1::2]):
            out[row] |= (centres >= a) & (centres <= b)
    return out


def browser_evaluate(config: OutlineConfig, task_dir: Path, part: str = "test") -> dict:
    """Dice and Jaccard through the JS API: each image of ``part`` given to ``assess()``,
    its outline's polygon filled at the image's own size against the true mask."""
    ids = image_ids(config, part)
    if config.limit:
        ids = ids[: config.limit]
    _, masks = load_pairs(ids, config, (150, 200))
    rows = _in_browser(ASSESS_SCRIPT, task_dir, image_paths(config, ids))
    scores, missing = [], []
    for image_id, row, true in zip(ids, rows, masks):
        if row["polygon"] is None:
            missing.append(image_id)
        pred = fill_polygon(row["polygon"], true.shape[1], true.shape[0])
        scores.append(dice_jaccard(pred, true >= 128))
    scores = np.asarray(scores)
    report = summary(scores[:, 0], scores[:, 1], ids)
    report["no_outline"] = {"count": len(missing), "image_ids": missing[:20]}
    return report


TIMING_SCRIPT = """
async ([count, runs]) => {
  const { loadClassifier } = await import('/static/js/classifier.js');
  const without = await loadClassifier('TASK', { modelUrl: '/model/without/', backend: 'wasm' });
  const outlined = await loadClassifier('TASK', { modelUrl: '/model/with/', backend: 'wasm' });
  const blob = await (await fetch('/images/0')).blob();
  const times = { without: [], with: [] };
  for (let i = 0; i < 5; i++) { await without.assess(blob); await outlined.assess(blob); }
  for (let i = 0; i < runs; i++) { // alternating, so both meet the same load of the machine
    const pair = [['with', outlined], ['without', without]];
    const order = i % 2 ? pair.reverse() : pair;
    for (const [name, classifier] of order) {
      const started = performance.now();
      await classifier.assess(blob);
      times[name].push(performance.now() - started);
    }
  }
  return times;
}
"""


def timing(task_dir: Path, image: Path, runs: int = 60) -> dict:
    """What the outline adds to ``assess()``: the task's model with and without its outline
    model, loaded side by side in one Chromium page (WASM), ``runs`` calls each on ``image``,
    alternating. Medians in ms (scripts/benchmark.py times the page and its cold loads)."""
    import shutil

    with tempfile.TemporaryDirectory() as tmp:
        shutil.copytree(task_dir, Path(tmp) / "with")
        shutil.copytree(task_dir, Path(tmp) / "without", ignore=shutil.ignore_patterns("outline"))
        plain = Path(tmp) / "without" / "metadata.json"
        metadata = json.loads(plain.read_text())
        metadata.pop("outline", None)
        plain.write_text(json.dumps(metadata))
        times = _in_browser(TIMING_SCRIPT, Path(tmp), [image], extra=[runs])
    medians = {name: round(statistics.median(values), 1) for name, values in times.items()}
    return {
        "runs": runs,
        "backend": "wasm",
        "median_ms": medians,
        "added_ms": round(medians["with"] - medians["without"], 1),
    }
