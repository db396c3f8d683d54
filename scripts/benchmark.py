#!/usr/bin/env python
"""Latency of one task's model: native TensorFlow vs in-browser ``classify()``.

    python scripts/benchmark.py --task TASK [--runs 30]

Native: the Keras model the export came from (``reports/<task>/model.keras``),
batch 1, compiled with ``tf.function``, on a real test image. Browser: the real
Flask app on a loopback port and Debian's Chromium; for each tfjs backend the
time to ``loadClassifier`` (cold, includes download and warm-up), the first
``classify`` and the median of ``--runs`` more. Prints a Markdown table and
writes ``reports/<task>/benchmark.json``. Numbers depend on the machine; this
script is not a test.
"""
from __future__ import annotations

import argparse
import json
import statistics
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from training.data import PROJECT_ROOT  # noqa: E402

SAMPLE_DIR = PROJECT_ROOT / "tests" / "data"

BROWSER_SCRIPT = """
async ([task, backend, runs]) => {
  const t0 = performance.now();
  const { loadClassifier } = await import('/static/js/classifier.js');
  const classifier = await loadClassifier(task, { backend });
  const loaded = performance.now();
  const blob = await (await fetch('/bench-image')).blob();
  const bitmap = await createImageBitmap(blob);
  let start = performance.now();
  await classifier.classify(bitmap);
  const first = performance.now() - start;
  const times = [];
  for (let i = 0; i < runs; i++) {
    start = performance.now();
    await classifier.classify(bitmap);
    times.push(performance.now() - start);
  }
  const tf = globalThis.tf;
  return { load_ms: loaded - t0, first_ms: first, times, backend: classifier.backend,
           threads: classifier.backend === 'wasm' ? (tf.wasm?.getThreadsCount?.() ?? null) : null,
           isolated: crossOriginIsolated };
}
"""


def native_latency(model_path: Path, image: Path, runs: int) -> dict:
    import keras
    import numpy as np
    import tensorflow as tf

    from training.model import IMAGE_INPUT, METADATA_INPUT
    from training.preprocess import decode_image

    model = keras.models.load_model(model_path, compile=False)
    feeds = {IMAGE_INPUT: tf.constant(decode_image(image).astype("float32")[None])}
    if METADATA_INPUT in model.input:
        feeds[METADATA_INPUT] = tf.zeros([1, model.input[METADATA_INPUT].shape[1]])
    predict = tf.function(lambda x: model(x, training=False))
    predict(feeds)
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        np.asarray(predict(feeds))
        times.append((time.perf_counter() - start) * 1000)
    return {"median_ms": statistics.median(times), "threads": tf.config.threading.
            get_intra_op_parallelism_threads() or "default"}


def browser_latency(task_id: str, image: Path, runs: int, backends: list[str]) -> dict:
    from flask import send_file
    from playwright.sync_api import sync_playwright
    from werkzeug.serving import make_server

    from training.browser import launch_chromium
    from webapp import create_app

    app = create_app()
    app.add_url_rule("/bench-image", "bench_image", lambda: send_file(Path(image).resolve()))
    server = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_port}"
    results = {}
    try:
        with sync_playwright() as p:
            browser = launch_chromium(p)
            for backend in backends:
                page = browser.new_context().new_page()   # a fresh context: cold caches
                page.goto(url + "/benchmark-blank")   # a 404 page: no screener script of its own
                try:
                    r = page.evaluate(BROWSER_SCRIPT, [task_id, backend, runs])
                except Exception as error:  # noqa: BLE001 - a backend may not start here
                    results[backend] = {"error": str(error).splitlines()[0]}
                    continue
                finally:
                    page.context.close()
                results[backend] = {"load_ms": r["load_ms"], "first_ms": r["first_ms"],
                                    "median_ms": statistics.median(r["times"]),
                                    "threads": r["threads"], "isolated": r["isolated"]}
            browser.close()
    finally:
        server.shutdown()
    return results


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--task", required=True)
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--backends", default="wasm,webgl,cpu")
    parser.add_argument("--image", type=Path, default=None,
                        help="default: the first sample image under tests/data")
    args = parser.parse_args(argv)
    image = (args.image or sorted(SAMPLE_DIR.rglob("*.jpg"))[0]).resolve()
    reports = PROJECT_ROOT / "reports" / args.task
    native = native_latency(reports / "model.keras", image, args.runs)
    browser = browser_latency(args.task, image, args.runs, args.backends.split(","))

    print(f"| where | load (cold) ms | first classify ms | median classify ms ({args.runs} runs) |"
          f" × native |")
    print("|---|---|---|---|---|")
    print(f"| native TensorFlow (Keras, batch 1) | – | – | {native['median_ms']:.1f} | 1.00 |")
    for backend, r in browser.items():
        if "error" in r:
            print(f"| browser {backend} | failed: {r['error']} | | | |")
            continue
        where = f"browser {backend}" + (f", {r['threads']} thread(s)" if r["threads"] else "")
        print(f"| {where} | {r['load_ms']:.0f} | "
              f"{r['first_ms']:.1f} | {r['median_ms']:.1f} | "
              f"{r['median_ms'] / native['median_ms']:.2f} |")
    (reports / "benchmark.json").write_text(json.dumps(
        {"image": image.name, "runs": args.runs, "native": native, "browser": browser},
        indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
