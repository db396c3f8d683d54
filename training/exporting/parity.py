"""Check a converted TF.js model against its Keras original, in a real browser.

The browser side runs the site's own ``static/js/classifier.js`` (JavaScript
decoding of the image file, metadata encoding, resizing inside the graph); the
Python side decodes with Pillow (``training.inputs.preprocess``) and runs Keras.

Tolerance: the top-1 label may differ on at most ``MAX_TOP1_DISAGREEMENT`` of
the images, and no probability may differ by more than ``MAX_PROBABILITY_DIFF``.
"""

from __future__ import annotations

import mimetypes
import threading
from contextlib import contextmanager
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import numpy as np

from training.fitting.model import CLASS_MAP_OUTPUT, IN_KIND_OUTPUT
from training.inputs.data import PROJECT_ROOT

MAX_TOP1_DISAGREEMENT = 0.01
MAX_PROBABILITY_DIFF = 0.02


class ParityError(AssertionError):
    pass


def compare(
    python_probs: np.ndarray,
    browser_probs: np.ndarray,
    max_top1_disagreement: float = MAX_TOP1_DISAGREEMENT,
    max_probability_diff: float = MAX_PROBABILITY_DIFF,
    tie: float = MAX_PROBABILITY_DIFF,
) -> dict:
    """Summary of the differences; raises ParityError past the tolerance.

    A changed top answer counts only where Python's first answer leads its second by
    more than ``tie`` (by default the probability tolerance): a nearer tie may fall either
    way within that tolerance (an untrained network's near-equal answers)."""
    python_probs = np.asarray(python_probs, dtype=np.float64)
    browser_probs = np.asarray(browser_probs, dtype=np.float64)
    if python_probs.shape != browser_probs.shape:
        raise ParityError(f"shapes differ: {python_probs.shape} vs {browser_probs.shape}")
    diff = np.abs(python_probs - browser_probs)
    ranked = np.sort(python_probs, axis=1)
    margin = ranked[:, -1] - ranked[:, -2] if python_probs.shape[1] > 1 else np.ones(len(diff))
    disagree = (python_probs.argmax(1) != browser_probs.argmax(1)) & (margin > tie)
    summary = {
        "n_images": int(len(python_probs)),
        "max_abs_diff": float(diff.max()) if diff.size else 0.0,
        "mean_abs_diff": float(diff.mean()) if diff.size else 0.0,
        "top1_disagreement": float(disagree.mean()) if len(disagree) else 0.0,
        "tolerance": {
            "max_top1_disagreement": max_top1_disagreement,
            "max_probability_diff": max_probability_diff,
        },
    }
    problems = []
    if summary["top1_disagreement"] > max_top1_disagreement:
        problems.append(
            f"top-1 differs on {int(disagree.sum())}/{len(disagree)} images "
            f"({summary['top1_disagreement']:.1%} > {max_top1_disagreement:.1%})"
        )
    if summary["max_abs_diff"] > max_probability_diff:
        worst = np.unravel_index(diff.argmax(), diff.shape)
        problems.append(
            f"probability differs by {summary['max_abs_diff']:.4f} > "
            f"{max_probability_diff} (image {worst[0]}, class {worst[1]})"
        )
    if problems:
        raise ParityError("TF.js model does not match Keras: " + "; ".join(problems))
    return summary


def python_probabilities(model, task, images: list[Path], metadata: list[dict]) -> np.ndarray:
    from keras import ops

    from training.fitting.model import (
        CLASS_MAP_OUTPUT,
        IMAGE_INPUT,
        IN_KIND_OUTPUT,
        METADATA_INPUT,
        normalized_class_map,
    )
    from training.inputs.encoding import encode_metadata
    from training.inputs.preprocess import decode_image, max_side_for

    limit = max_side_for(model_image_size(model))
    out = []
    for path, values in zip(images, metadata):
        pixels = decode_image(path, max_side=limit).astype(np.float32)[None]
        feeds = {IMAGE_INPUT: pixels}
        if task.metadata_size:
            feeds[METADATA_INPUT] = encode_metadata(task, values)[None]
        output = model(feeds, training=False)
        if isinstance(output, dict):
            # probabilities, the in-kind score, the top class's scaled class map
            probabilities = ops.convert_to_numpy(output["probabilities"])[0]
            row = [probabilities]
            if IN_KIND_OUTPUT in output:
                row.append(ops.convert_to_numpy(output[IN_KIND_OUTPUT])[0])
            if CLASS_MAP_OUTPUT in output:
                row.append(
                    normalized_class_map(
                        ops.convert_to_numpy(output[CLASS_MAP_OUTPUT])[0],
                        int(probabilities.argmax()),
                    ).ravel()
                )
            row = np.concatenate(row)
        else:
            row = ops.convert_to_numpy(output)[0]
        out.append(row)
    return np.stack(out)


def model_image_size(model) -> tuple[int, int]:
    """(height, width) the model resizes to (its 'resize' layer)."""
    layer = model.get_layer("resize")
    return (layer.height, layer.width)


class _Handler(SimpleHTTPRequestHandler):
    """Serves /static/ from the project, /model/ from the converted model, /images/<i>."""

    def __init__(self, *args, model_dir: Path, images: list[Path], **kwargs):
        self.model_dir = model_dir
        self.images = images
        super().__init__(*args, directory=str(PROJECT_ROOT), **kwargs)

    def log_message(self, *args):
        pass

    def do_GET(self):  # noqa: N802 - http.server API
        path = self.path.split("?")[0]
        if path == "/":
            return self._send(b"<!doctype html><title>parity</title>", "text/html")
        if path.startswith("/images/"):
            file = self.images[int(path.rsplit("/", 1)[1])]
            return self._send(file.read_bytes(), mimetypes.guess_type(file.name)[0])
        if path.startswith("/model/"):
            file = self.model_dir / path[len("/model/") :]
            if file.is_file():
                return self._send(
                    file.read_bytes(),
                    mimetypes.guess_type(file.name)[0] or "application/octet-stream",
                )
            return self.send_error(404)
        if path.startswith("/static/"):
            return super().do_GET()
        return self.send_error(404)

    def _send(self, body: bytes, content_type: str | None):
        self.send_response(200)
        self.send_header("Content-Type", content_type or "application/octet-stream")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def guess_type(self, path):
        if str(path).endswith(".js"):
            return "text/javascript"
        if str(path).endswith(".wasm"):
            return "application/wasm"
        return super().guess_type(path)


@contextmanager
def serve(model_dir: Path, images: list[Path]):
    handler = partial(_Handler, model_dir=Path(model_dir), images=list(images))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


BROWSER_SCRIPT = """
async ([task, metadata, backend]) => {
  const { loadClassifier } = await import('/static/js/classifier.js');
  const classifier = await loadClassifier(task, { modelUrl: '/model/', backend });
  const ids = classifier.labels.map((l) => l.id);
  const rows = [];
  for (let i = 0; i < metadata.length; i++) {
    const blob = await (await fetch(`/images/${i}`)).blob();
    const { results, inKind, explanation } = await classifier.assess(blob, metadata[i]);
    const byId = Object.fromEntries(results.map((r) => [r.id, r.probability]));
    rows.push([...ids.map((id) => byId[id]), ...(inKind === null ? [] : [inKind]),
               ...(explanation ? explanation.values : [])]);
  }
  return { rows, backend: classifier.backend };
}
"""


def browser_probabilities(
    task,
    model_dir: Path,
    images: list[Path],
    metadata: list[dict],
    backend: str = "wasm",
    browser=None,
) -> tuple[np.ndarray, str]:
    """Rows of the browser's answers (probabilities, then in-kind score and heatmap if any).

    ``browser``: an already launched Playwright browser to use (a test session has one, and
    Playwright's sync API cannot be started twice in one thread); by default Chromium is
    launched for this call and closed after it.
    """
    if browser is None:
        from playwright.sync_api import sync_playwright

        from training.exporting.browser import launch_chromium

        with sync_playwright() as p:
            launched = launch_chromium(p)
            try:
                return browser_probabilities(task, model_dir, images, metadata, backend, launched)
            finally:
                launched.close()

    errors = []
    with serve(model_dir, images) as url:
        context = browser.new_context()
        try:
            page = context.new_page()
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.goto(url + "/")
            result = page.evaluate(BROWSER_SCRIPT, [task.id, metadata, backend])
        finally:
            context.close()
    if errors:
        raise RuntimeError(f"errors in the browser: {errors}")
    return np.asarray(result["rows"], dtype=np.float64), result["backend"]


def check(
    model,
    task,
    model_dir: Path,
    images: list[Path],
    metadata: list[dict],
    backend: str = "wasm",
    expected=None,
    **tolerance,
) -> dict:
    """Run both sides and compare; returns the summary (raises ParityError on failure).
    ``expected``: Keras' rows for these images (``python_probabilities``), if already made."""
    if expected is None:
        expected = python_probabilities(model, task, images, metadata)
    actual, used_backend = browser_probabilities(task, model_dir, images, metadata, backend)
    if expected.shape != actual.shape:
        raise ParityError(
            f"outputs differ in shape: Keras {expected.shape}, browser {actual.shape}"
        )
    k = len(task.labels)
    summary = compare(expected[:, :k], actual[:, :k], **tolerance)
    same_tolerance = {
        key: value for key, value in tolerance.items() if key == "max_probability_diff"
    }
    names = set(model.output) if isinstance(model.output, dict) else set()
    if IN_KIND_OUTPUT in names:  # the in-kind score: same tolerance as a probability
        in_kind = compare(
            expected[:, k : k + 1],
            actual[:, k : k + 1],
            max_top1_disagreement=1.0,
            **same_tolerance,
        )
        summary["in_kind_max_abs_diff"] = in_kind["max_abs_diff"]
        k += 1
    if CLASS_MAP_OUTPUT in names:
        # The heatmap of the top class (scaled 0-1), where both sides agree on that class.
        agree = expected[:, : len(task.labels)].argmax(1) == actual[:, : len(task.labels)].argmax(1)
        maps = compare(
            expected[agree, k:], actual[agree, k:], max_top1_disagreement=1.0, **same_tolerance
        )
        summary["class_map_max_abs_diff"] = maps["max_abs_diff"]
    summary["backend"] = used_backend
    return summary
