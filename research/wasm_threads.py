"""Does tfjs' WASM backend answer faster with more threads on this machine?

tfjs-backend-wasm 4.22 runs ``navigator.hardwareConcurrency / 2`` threads (one on a
2-core machine) and ``tf.wasm.setThreadsCount`` cannot raise that. This measures a
shipped model's forward pass on the page (cross-origin isolated, the threaded SIMD
binary) with the browser told it has twice, four times … the real cores, so tfjs takes
two, four … threads, in turns with the default, and prints the medians::

    python -m research.wasm_threads --task skin_lesion --rounds 3   # [--cores 4] [--runs 20]

Not shipped: on the 2-core build machine two threads were no faster than one
(docs/benchmarks.md, "Threads").
"""

from __future__ import annotations

import argparse
import json
import statistics
import threading
from pathlib import Path

from werkzeug.serving import make_server

from webapp import create_app

ROOT = Path(__file__).resolve().parent.parent

FORWARD = """
async ([task, runs]) => {
  const { loadTf, selectBackend } = await import('/static/js/tf-loader.js');
  const tf = await loadTf();
  await selectBackend(tf, 'wasm');
  const metadata = await (await fetch(`/static/tfjs_model/${task}/metadata.json`)).json();
  const model = await tf.loadGraphModel(`/static/tfjs_model/${task}/model.json`);
  const [height, width] = metadata.inputs.image.size;
  const image = metadata.inputs.image;
  const views = image.shape[0] || 1;  // 4: the image and its mirrors, stacked
  const feed = { image: tf.zeros([views, height, width, 3]) };
  if (metadata.inputs.metadata) feed.metadata = tf.zeros(metadata.inputs.metadata.shape);
  const once = async () => {
    const out = [].concat(await model.executeAsync(feed));
    await out[0].data();
    out.forEach((t) => t.dispose());
  };
  await once();
  const times = [];
  for (let i = 0; i < runs; i++) {
    const start = performance.now();
    await once();
    times.push(performance.now() - start);
  }
  return { threads: tf.wasm.getThreadsCount(), isolated: crossOriginIsolated, times };
}
"""

CORES = "Object.defineProperty(Navigator.prototype, 'hardwareConcurrency', { get: () => %d })"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--task", default="skin_lesion")
    parser.add_argument("--rounds", type=int, default=3, help="turns of each setting")
    parser.add_argument("--runs", type=int, default=20, help="timed forward passes per turn")
    parser.add_argument("--cores", type=int, nargs="+", default=[4], help="cores to pretend")
    parser.add_argument("--chromium", default="/usr/bin/chromium")
    args = parser.parse_args(argv)

    from playwright.sync_api import sync_playwright

    server = make_server("127.0.0.1", 0, create_app(), threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_port}"
    medians: dict[str, list[float]] = {}
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=args.chromium)
            for _ in range(args.rounds):
                for cores in [None, *args.cores]:
                    page = browser.new_context().new_page()
                    if cores:
                        page.add_init_script(CORES % cores)
                    page.goto(url + "/thread-check")  # a 404 page: no script of its own
                    result = page.evaluate(FORWARD, [args.task, args.runs])
                    page.context.close()
                    key = f"{result['threads']} thread(s)"
                    medians.setdefault(key, []).append(statistics.median(result["times"]))
                    print(key, f"median {medians[key][-1]:.1f} ms", flush=True)
            browser.close()
    finally:
        server.shutdown()
    print(json.dumps({"task": args.task, "median_ms_per_turn": medians}, indent=1))
    for key, values in medians.items():
        print(
            f"{key}: {statistics.median(values):.1f} ms (turns {min(values):.1f}–{max(values):.1f})"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
