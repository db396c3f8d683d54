#!/usr/bin/env python
"""Latency of one task's model: native TensorFlow vs in-browser ``classify()``, and
the wait for a first result on a cold load of the screener page, online and offline.

    python scripts/benchmark.py --task TASK [--runs 30] [--cold-runs 3] [--out FILE]

Native: the Keras model the export came from (``--native-model``, by default the
release's ``runs/<task>/release/8-export/model.keras``, see ``training.release``),
batch 1, compiled with ``tf.function``, on a real test image, ``--runs`` times before
the browser's runs and again after (its median moves run to run; both blocks are
pooled, and each block's median printed; ``--native-only BLOCKS`` times it alone,
``--native-threads N`` holds it to N threads). Browser: the real
Flask app on a loopback port and Debian's Chromium; for each tfjs backend the
time to ``loadClassifier`` (cold, includes download and warm-up), the first
``classify`` and the median of ``--runs`` more (each: decoding on the page, the
pixels sent to the model's worker, the forward pass there and the answer back).

Cold first prediction, through the task's real screener page (``/screen/<task>``)
as a person meets it, ``--cold-runs`` times:

- *online*: a fresh browser context (empty caches, service workers allowed)
  opens the page; once the page's scripts are wired (DOMContentLoaded) the
  benchmark image is chosen with its file input (``set_input_files``), and the
  page classifies it as soon as its model is ready. Measured in the page, with
  ``performance.now()`` (0 = ``performance.timeOrigin``, the navigation start):
  DOMContentLoaded; "model ready" (the status line says so: TF.js, wasm and
  model fetched, graph built, warm-up done); when the choice reached the page;
  and the first result (the mutation that unhides ``#result``, one paint
  before a person sees it). That last figure is what a person waits on at a
  first visit when choosing at once.
- *offline*: the same context, once its service worker controls the page with
  a complete copy ("Ready to work offline", as tests/test_offline.py waits for),
  is taken offline (``set_offline``); its worker is stopped (CDP
  ``ServiceWorker.stopAllWorkers``, as the browser does with an idle worker)
  and every page closed; then a new page is opened and timed the same way:
  the page, TF.js, its wasm and the model all come from the worker's cache.
  Requests reaching the server meanwhile are counted; they should be 0.
  Target (median): first result ≤ 1 s.

During both, an init script (nothing in static/js is changed) records the
main thread's ``longtask`` entries (> 50 ms). The Long Tasks API sees only the
page's own thread: TF.js and the model run in a dedicated worker
(static/js/model-worker.js), whose work blocks nothing a person touches and is
not counted. The forward passes (once for the warm-up inside ``loadClassifier``,
once for the image) are read from the "model forward pass" User Timing entries
model-worker.js makes, in the worker (or on the page, where no worker could
start), and put on the page's clock. A long task that overlaps a forward pass
*on the page* is inference (warm-up or image); for each of the others the
``long-animation-frame`` entry it falls in names the script that ran longest.
Decoding the image and drawing the result are not inference.

Prints Markdown tables and writes ``docs/benchmarks/<task>.json`` (or ``--out``). Numbers
depend on the machine (and on whatever else runs on it); this script is not a test.
"""

from __future__ import annotations

import argparse
import json
import mimetypes
import os
import re
import statistics
import sys
import threading
import time
from contextlib import contextmanager
from pathlib import Path

from werkzeug.serving import WSGIRequestHandler, make_server

from training.inputs.data import PROJECT_ROOT

SAMPLE_DIR = PROJECT_ROOT / "tests" / "data"
OFFLINE_READY = "Ready to work offline"  # static/js/offline.js
COLD_TIMEOUT_MS = 90_000  # a slow, busy machine; a number, not a test
FIRST_RESULT_TARGET_MS = 1000  # offline cold load to first prediction

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
  return { load_ms: loaded - t0, first_ms: first, times, backend: classifier.backend,
           threads: classifier.runtime.threads, worker: classifier.runtime.worker,
           isolated: crossOriginIsolated };
}
"""


# Runs before any script of each page: records long tasks and long animation frames,
# and notes when the page's DOM shows that the model is ready, that an image was
# chosen and that its result is shown.
PAGE_PROBE = """
(() => {
  const probe = { longtasks: [], frames: [], steps: {}, observers: [] };
  globalThis.benchmarkProbe = probe;
  const observe = (type, record) => {
    const observer = new PerformanceObserver((list) => list.getEntries().forEach(record));
    observer.observe({ type, buffered: true });
    probe.observers.push([observer, record]);
  };
  observe('longtask', (e) => probe.longtasks.push({ start: e.startTime, duration: e.duration }));
  observe('long-animation-frame', (e) => {
    const script = [...e.scripts].sort((a, b) => b.duration - a.duration)[0];
    probe.frames.push({ start: e.startTime, duration: e.duration, script: script && {
      url: script.sourceURL, fn: script.sourceFunctionName, invoker: script.invoker,
      invokerType: script.invokerType, duration: script.duration } });
  });
  const step = (name) => { if (!(name in probe.steps)) probe.steps[name] = performance.now(); };
  addEventListener('DOMContentLoaded', () => {
    const status = document.getElementById('model-status');
    const section = document.getElementById('result-section');
    const result = document.getElementById('result');
    if (!status || !section || !result) return;
    new MutationObserver(() => {
      if (status.dataset.phase === 'ready') step('model_ready');
      if (section.getAttribute('aria-busy') === 'true') step('chosen');
      if (!result.hidden) step('result');
    }).observe(document.body, { subtree: true, childList: true, attributes: true });
  });
})();
"""

# The forward passes static/js/model-worker.js timed where it runs (a worker or the page).
FORWARD_PASSES = """
() => ({ origin: performance.timeOrigin, forward: performance.getEntriesByName('model forward pass')
  .map((e) => ({ start: e.startTime, duration: e.duration })) })
"""

# Lets the last long task be reported, then collects what PAGE_PROBE saw.
READ_PROBE = """
async () => {
  await new Promise((resolve) => setTimeout(resolve, 200));
  const probe = globalThis.benchmarkProbe;
  for (const [observer, record] of probe.observers) observer.takeRecords().forEach(record);
  const navigation = performance.getEntriesByType('navigation')[0];
  return { longtasks: probe.longtasks, frames: probe.frames, steps: probe.steps,
           dom_ready: navigation.domContentLoadedEventEnd, tf_on_page: 'tf' in globalThis,
           status: document.getElementById('model-status').textContent };
}
"""

MODEL_WORKER = "/static/js/model-worker.js"


def native_timer(model_path: Path, image: Path):
    """A function ``runs -> [ms, …]`` timing the Keras model natively (loaded and warmed
    once), so that native blocks can be taken before and after the browser's."""
    import numpy as np
    import tensorflow as tf

    from training.fitting.model import IMAGE_INPUT, METADATA_INPUT, load_model
    from training.inputs.preprocess import decode_image

    model = load_model(model_path)
    feeds = {IMAGE_INPUT: tf.constant(decode_image(image).astype("float32")[None])}
    if METADATA_INPUT in model.input:
        feeds[METADATA_INPUT] = tf.zeros([1, model.input[METADATA_INPUT].shape[1]])
    predict = tf.function(lambda x: model(x, training=False))
    predict(feeds)

    def measure(runs: int) -> list[float]:
        times = []
        for _ in range(runs):
            start = time.perf_counter()
            np.asarray(predict(feeds))
            times.append((time.perf_counter() - start) * 1000)
        return times

    return measure


def native_summary(blocks: list[list[float]]) -> dict:
    import tensorflow as tf

    return {
        "median_ms": statistics.median([t for block in blocks for t in block]),
        "block_medians_ms": [statistics.median(block) for block in blocks],
        "threads": tf.config.threading.get_intra_op_parallelism_threads() or "default",
    }


class _QuietHandler(WSGIRequestHandler):
    def log_request(self, *args, **kwargs):
        pass


@contextmanager
def serve_site(image: Path):
    """(base URL, paths of the requests served) of the real app on a loopback port,
    with the benchmark image at ``/bench-image``."""
    from flask import send_file

    from webapp import create_app

    app = create_app()
    app.add_url_rule("/bench-image", "bench_image", lambda: send_file(Path(image).resolve()))
    served = []
    wsgi = app.wsgi_app

    def recorded(environ, start_response):
        served.append(environ["PATH_INFO"])
        return wsgi(environ, start_response)

    app.wsgi_app = recorded
    server = make_server("127.0.0.1", 0, app, threaded=True, request_handler=_QuietHandler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_port}", served
    finally:
        server.shutdown()
        server.server_close()


def screener_path(task_id: str) -> str:
    """The task's screener page."""
    from flask import url_for

    from webapp import create_app

    app = create_app()
    with app.test_request_context():
        return url_for("screen.screen", task_id=task_id)


def tell_worker_cores(context, cores: int | None) -> None:
    """Make the model's worker (static/js/model-worker.js) see ``cores`` logical cores, so
    that tfjs' WASM backend runs ``cores / 2`` threads (it takes half of what it is told);
    None: the machine's own. The worker's script is rewritten as it is served (so only for
    ``browser_latency``: the service worker refuses a kept file whose hash is not the
    precache list's, so the cold loads cannot use it)."""
    if not cores:
        return

    def rewritten(route):
        response = route.fetch()
        override = (
            "Object.defineProperty(WorkerNavigator.prototype, 'hardwareConcurrency', "
            f"{{ get: () => {int(cores)} }});\n"
        )
        route.fulfill(response=response, body=override + response.text())

    context.route(f"**{MODEL_WORKER}", rewritten)


def browser_latency(
    browser, url: str, task_id: str, runs: int, backends: list[str], cores: int | None = None
) -> dict:
    results = {}
    for backend in backends:
        context = browser.new_context()  # a fresh context: cold caches
        tell_worker_cores(context, cores)
        page = context.new_page()
        page.goto(url + "/benchmark-blank")  # a 404 page: no screener script of its own
        try:
            r = page.evaluate(BROWSER_SCRIPT, [task_id, backend, runs])
        except Exception as error:  # noqa: BLE001 - a backend may not start here
            results[backend] = {"error": str(error).splitlines()[0]}
            continue
        finally:
            page.context.close()
        results[backend] = {
            "load_ms": r["load_ms"],
            "first_ms": r["first_ms"],
            "median_ms": statistics.median(r["times"]),
            "threads": r["threads"],
            "worker": r["worker"],
            "isolated": r["isolated"],
        }
    return results


def overlaps(a: dict, b: dict) -> bool:
    return a["start"] < b["start"] + b["duration"] and b["start"] < a["start"] + a["duration"]


def script_label(script: dict) -> str:
    """What a long-animation-frame script entry ran, with file names for URLs."""

    def short(text: str) -> str:
        return re.sub(r"[a-z]+://[^\s\"']*/", "", text)

    where = short(script["url"]) + (f":{script['fn']}" if script["fn"] else "")
    invoker = short(script["invoker"])
    if invoker == where:  # a script's own top-level code
        return f"{where} ({script['invokerType']})"
    return f"{where or '(source not given)'} ({script['invokerType']}: {invoker})"


def forward_passes(page, page_origin: float) -> tuple[list[dict], str]:
    """The model's forward passes on the page's clock, and where they ran ("worker",
    "page"; "none" if no forward pass was timed)."""
    for worker in page.workers:
        if worker.url.endswith(MODEL_WORKER):
            timed = worker.evaluate(FORWARD_PASSES)
            shift = timed["origin"] - page_origin
            return [
                {"start": f["start"] + shift, "duration": f["duration"]} for f in timed["forward"]
            ], "worker"
    timed = page.evaluate(FORWARD_PASSES)
    return timed["forward"], "page" if timed["forward"] else "none"


def long_tasks(probe: dict) -> dict:
    """The page's long tasks, split into those that ran a forward pass of the model on
    the page and the rest (named by the longest script of the long animation frame
    they fall in). A forward pass in the worker blocks no page task."""
    ready = probe["steps"].get("model_ready", float("inf"))
    on_page = probe["forward"] if probe["model_in"] == "page" else []
    tasks = []
    for task in probe["longtasks"]:
        forward = [f for f in on_page if overlaps(task, f)]
        entry = {"start_ms": round(task["start"]), "duration_ms": round(task["duration"])}
        if forward:  # the warm-up in loadClassifier, or the chosen image
            entry["inference"] = "warm-up" if forward[0]["start"] < ready else "image"
        else:
            scripts = [f["script"] for f in probe["frames"] if overlaps(task, f) and f["script"]]
            longest = max(scripts, key=lambda s: s["duration"], default=None)
            entry["script"] = script_label(longest) if longest else "unknown"
            if longest:  # how much of the task that script itself ran (the rest: other
                entry["script_ms"] = round(longest["duration"])  # work, or a busy CPU)
        tasks.append(entry)
    return {
        "forward_ms": [round(f["duration"], 1) for f in probe["forward"]],
        "model_in": probe["model_in"],
        "tasks": tasks,
    }


def kind(task: dict) -> str:
    return task.get("inference", "other")


def first_result(page, url: str, image: dict) -> dict:
    """Open ``url``, choose ``image`` as soon as the page is wired, wait for its result."""
    page.goto(url, wait_until="domcontentloaded")  # the page's module scripts have run
    page.locator("#photo-file").set_input_files(image)  # "Choose an image"
    page.wait_for_function("() => 'result' in benchmarkProbe.steps", polling=50)
    probe = page.evaluate(READ_PROBE)
    probe["forward"], probe["model_in"] = forward_passes(
        page, page.evaluate("() => performance.timeOrigin")
    )
    if probe["model_in"] == "worker" and probe["tf_on_page"]:
        raise RuntimeError("TF.js was loaded on the page although the model runs in a worker")
    steps = probe["steps"]
    return {
        "result_ms": steps["result"],
        "dom_ready_ms": probe["dom_ready"],
        "model_ready_ms": steps.get("model_ready"),
        "chosen_ms": steps.get("chosen"),
        "status": probe["status"],
        "long_tasks": long_tasks(probe),
    }


def cold_first_prediction(browser, url: str, served: list, image: Path, runs: int) -> dict:
    """``runs`` × (a first visit online, then the next visit offline) in a fresh context."""
    from playwright.sync_api import expect

    chosen = {
        "name": image.name,
        "mimeType": mimetypes.guess_type(image.name)[0] or "image/jpeg",
        "buffer": image.read_bytes(),
    }
    loads = {"online": [], "offline": []}
    for _ in range(runs):
        context = browser.new_context(service_workers="allow")
        context.set_default_timeout(COLD_TIMEOUT_MS)
        context.add_init_script(PAGE_PROBE)
        try:
            page = context.new_page()
            loads["online"].append(first_result(page, url, chosen))
            expect(page.get_by_text(OFFLINE_READY)).to_be_visible(timeout=COLD_TIMEOUT_MS)
            if not page.evaluate("() => navigator.serviceWorker.controller !== null"):
                raise RuntimeError("the service worker does not control the page")
            # Offline before the worker stops: Playwright's set_offline never returns
            # once the worker it knows has been stopped (1.65, Chromium 156).
            context.set_offline(True)
            cdp = context.new_cdp_session(page)  # the browser stops an idle worker too;
            # the next page starts it again (checked: stopped → starting → running)
            cdp.send("ServiceWorker.enable")
            cdp.send("ServiceWorker.stopAllWorkers")
            cdp.detach()
            for open_page in context.pages:
                open_page.close()
            before = len(served)
            offline = first_result(context.new_page(), url, chosen)
            offline["server_requests"] = served[before:]
            loads["offline"].append(offline)
        except Exception as error:  # noqa: BLE001 - a busy machine can time out; say so
            loads["online" if len(loads["online"]) == len(loads["offline"]) else "offline"].append(
                {"error": str(error).splitlines()[0]}
            )
        finally:
            context.close()
    return {way: summarize_loads(results) for way, results in loads.items()}


def summarize_loads(loads: list[dict]) -> dict:
    """Medians over the cold loads that finished; the worst long task of any of them."""
    done = [load for load in loads if "error" not in load]
    if not done:
        return {"error": loads[0]["error"] if loads else "not run", "loads": loads}

    def median(key):
        values = [load[key] for load in done if load[key] is not None]
        return statistics.median(values) if values else None

    tasks = [task for load in done for task in load["long_tasks"]["tasks"]]
    other, script_ms = {}, {}
    for task in tasks:
        if "script" in task and task["duration_ms"] > other.get(task["script"], 0):
            other[task["script"]] = task["duration_ms"]
            script_ms[task["script"]] = task.get("script_ms")
    counts = {
        name: [t["duration_ms"] for t in tasks if kind(t) == name]
        for name in ("warm-up", "image", "other")
    }
    return {
        "result_ms": median("result_ms"),
        "result_range_ms": [
            min(load["result_ms"] for load in done),
            max(load["result_ms"] for load in done),
        ],
        "dom_ready_ms": median("dom_ready_ms"),
        "model_ready_ms": median("model_ready_ms"),
        "chosen_ms": median("chosen_ms"),
        "loads_measured": len(done),
        "model_in": sorted({load["long_tasks"]["model_in"] for load in done}),
        "long_tasks": {
            name: {"count": len(ms), "longest_ms": max(ms, default=0)}
            for name, ms in counts.items()
        },
        "other_by_script_ms": dict(sorted(other.items(), key=lambda item: -item[1])),
        "other_script_ran_ms": script_ms,
        "forward_ms": [
            statistics.median(f) for f in zip(*(load["long_tasks"]["forward_ms"] for load in done))
        ],
        "loads": loads,
    }


def print_cold(cold: dict, path: str, runs: int) -> None:
    names = {
        "online": "online, first visit (empty caches)",
        "offline": "offline, next visit (service worker cache)",
    }
    print(
        f"\n| cold load of `{path}` to first result (median of {runs}) | DOMContentLoaded ms |"
        f" model ready ms | image chosen ms | first result ms (min–max) |"
        f" forward pass ms (warm-up, image) |"
    )
    print("|---|---|---|---|---|---|")
    for way, r in cold.items():
        if "error" in r:
            print(f"| {names[way]} | failed: {r['error']} | | | | |")
            continue
        if r["loads_measured"] < runs:
            names[way] += f" ({r['loads_measured']} of {runs} loads)"
        low, high = r["result_range_ms"]
        forward = ", ".join(f"{ms:.0f}" for ms in r["forward_ms"]) or "–"
        target = ""
        if way == "offline":
            met = "met" if r["result_ms"] <= FIRST_RESULT_TARGET_MS else "NOT met"
            target = f" — target ≤ {FIRST_RESULT_TARGET_MS} ms: {met}"
        print(
            f"| {names[way]} | {r['dom_ready_ms']:.0f} | {r['model_ready_ms']:.0f} | "
            f"{r['chosen_ms']:.0f} | **{r['result_ms']:.0f}** ({low:.0f}–{high:.0f}){target} | "
            f"{forward} |"
        )

    print(
        f"\n| main-thread long tasks (> 50 ms) in those {runs} loads | model ran in |"
        " all: count, longest ms | warm-up inference | image inference | not inference |"
    )
    print("|---|---|---|---|---|---|")
    for way, r in cold.items():
        if "error" in r:
            continue
        parts = r["long_tasks"]
        every = sum(part["count"] for part in parts.values())
        longest = max(part["longest_ms"] for part in parts.values())
        cells = " | ".join(
            f"{part['count']}, {part['longest_ms']}" if part["count"] else "0"
            for part in parts.values()
        )
        print(f"| {names[way]} | {', '.join(r['model_in'])} | {every}, {longest} | {cells} |")
    for way, r in cold.items():
        if "error" in r:
            continue
        ran = r["other_script_ran_ms"]
        print(
            f"\nLong tasks not inference, {way} (longest of each kind; how long its script ran): "
            + (
                "; ".join(
                    f"{ms} ms {script}"
                    + (f" (ran {ran[script]} ms)" if ran[script] is not None else "")
                    for script, ms in r["other_by_script_ms"].items()
                )
                or "none"
            )
        )
        if way == "offline":
            sent = [p for load in r["loads"] for p in load.get("server_requests", [])]
            print(
                f"Requests reaching the server during the offline loads: {len(sent)}"
                + (f" ({', '.join(sorted(set(sent)))})" if sent else "")
            )


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--task", required=True)
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--backends", default="wasm,webgl,cpu")
    parser.add_argument(
        "--cold-runs",
        type=int,
        default=3,
        help="cold loads of the page to first result, online and offline",
    )
    parser.add_argument(
        "--image", type=Path, default=None, help="default: the first sample image under tests/data"
    )
    parser.add_argument(
        "--out",
        type=Path,
        default=None,
        help="the JSON written (default: docs/benchmarks/<task>.json)",
    )
    parser.add_argument(
        "--native-model",
        type=Path,
        default=None,
        help="the exported model in Keras form (default: runs/<task>/release/8-export/model.keras)",
    )
    parser.add_argument(
        "--worker-cores",
        type=int,
        default=None,
        help="tell the model's worker it has N cores: tfjs' WASM backend then runs N/2 threads "
        "(default: the machine's own, halved); the cold loads are then not run",
    )
    parser.add_argument(
        "--native-only",
        type=int,
        default=None,
        metavar="BLOCKS",
        help="time native alone, BLOCKS blocks of --runs in a row, print each block's median "
        "and stop (writes nothing)",
    )
    parser.add_argument(
        "--native-threads",
        type=int,
        default=None,
        help="hold native TensorFlow to N threads (default: its own choice, every core)",
    )
    args = parser.parse_args(argv)
    if args.native_threads:  # read when TensorFlow starts (imported below, not before)
        os.environ["TF_NUM_INTRAOP_THREADS"] = str(args.native_threads)
        os.environ["TF_NUM_INTEROP_THREADS"] = "1"
    image = (args.image or sorted(SAMPLE_DIR.rglob("*.jpg"))[0]).resolve()
    native_model = args.native_model or (
        PROJECT_ROOT / "runs" / args.task / "release" / "8-export" / "model.keras"
    )
    if not native_model.is_file():
        parser.error(
            f"no {native_model}: make it with python -m training.release {args.task} "
            "or give --native-model"
        )
    # Native's median moves from run to run (docs/benchmarks.md): one block of runs before
    # the browser's and one after, pooled.
    native_times = native_timer(native_model, image)
    if args.native_only:
        medians = [statistics.median(native_times(args.runs)) for _ in range(args.native_only)]
        threads = args.native_threads or "TensorFlow's default"
        print(
            f"native, {args.native_only} blocks of {args.runs} runs ({threads} threads): block "
            f"medians {', '.join(f'{m:.1f}' for m in medians)} ms; "
            f"{min(medians):.1f}–{max(medians):.1f}"
        )
        return 0
    native_blocks = [native_times(args.runs)]
    path = screener_path(args.task)
    from playwright.sync_api import sync_playwright

    from training.exporting.browser import launch_chromium

    with serve_site(image) as (url, served), sync_playwright() as p:
        chromium = launch_chromium(p)
        try:
            browser = browser_latency(
                chromium, url, args.task, args.runs, args.backends.split(","), args.worker_cores
            )
            # The cold loads run the site as it is (see tell_worker_cores).
            cold = (
                None
                if args.worker_cores
                else cold_first_prediction(chromium, url + path, served, image, args.cold_runs)
            )
        finally:
            chromium.close()
    native_blocks.append(native_times(args.runs))
    native = native_summary(native_blocks)

    print(
        f"| where | load (cold) ms | first classify ms | median classify ms ({args.runs} runs) |"
        f" × native |"
    )
    print("|---|---|---|---|---|")
    before, after = native["block_medians_ms"]
    print(
        f"| native TensorFlow (Keras, batch 1; 2 × {args.runs} runs, before the browser's "
        f"{before:.1f}, after {after:.1f}) | – | – | {native['median_ms']:.1f} | 1.00 |"
    )
    for backend, r in browser.items():
        if "error" in r:
            print(f"| browser {backend} | failed: {r['error']} | | | |")
            continue
        where = (
            f"browser {backend}"
            + (f", {r['threads']} thread(s)" if r["threads"] else "")
            + (", in a worker" if r["worker"] else ", on the page")
        )
        print(
            f"| {where} | {r['load_ms']:.0f} | "
            f"{r['first_ms']:.1f} | {r['median_ms']:.1f} | "
            f"{r['median_ms'] / native['median_ms']:.2f} |"
        )
    if cold is not None:
        print_cold(cold, path, args.cold_runs)
    (args.out or PROJECT_ROOT / "docs" / "benchmarks" / f"{args.task}.json").write_text(
        json.dumps(
            {
                "image": image.name,
                "runs": args.runs,
                "worker_cores": args.worker_cores,
                "native": native,
                "browser": browser,
                "cold_first_prediction": None
                if cold is None
                else {
                    "page": path,
                    "runs": args.cold_runs,
                    "target_offline_ms": FIRST_RESULT_TARGET_MS,
                    **cold,
                },
            },
            indent=1,
        )
        + "\n"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
