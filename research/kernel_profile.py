"""Where a TF.js model's forward pass spends its time, kernel by kernel, and exports
compared in turns.

    python -m research.kernel_profile --task skin_lesion                # the installed model
    python -m research.kernel_profile --task skin_lesion --rounds 4 \
        --model OLD --model static/tfjs_model/skin_lesion               # two exports in turns

Each ``--model`` is a folder with ``model.json``, its weight shards and
``metadata.json`` (default: the installed ``static/tfjs_model/<task>/``). In headless
Chromium, on a page of the real app (cross-origin isolated, tfjs' WASM backend as the
site loads it), each model takes random pixels at its own size (``metadata.json`` →
``inputs.image.size``; the views stacked, if it takes them) and a blank metadata
vector, and runs:

- ``--runs`` forward passes with the synchronous ``execute``, as the model's worker
  runs them (``static/js/model-worker.js``), after three to warm up: the median, per
  model, in ``--rounds`` turns (a fresh page each);
- five passes under ``tf.profile``: each kernel's time (median over the five), summed
  by kernel and printed with the ten slowest kernel calls by input shape.

An old export to compare with, e.g. the skin model before its batch norms were folded:
``mkdir OLD; for f in model.json group1-shard1of1.bin metadata.json; do git show
5b27370:static/tfjs_model/skin_lesion/$f > OLD/$f; done``. Not part of the product
(docs/benchmarks.md, "Latency and cold loads").
"""

from __future__ import annotations

import argparse
import json
import statistics
import threading
from pathlib import Path

from werkzeug.serving import WSGIRequestHandler, make_server
from werkzeug.utils import safe_join
from werkzeug.wrappers import Response

from webapp import create_app

ROOT = Path(__file__).resolve().parent.parent

FORWARD = """
async ([base, runs, profiles]) => {
  const { loadTf, selectBackend } = await import('/static/js/tf-loader.js');
  const tf = await loadTf();
  await selectBackend(tf, 'wasm');
  const metadata = await (await fetch(`${base}/metadata.json`)).json();
  const model = await tf.loadGraphModel(`${base}/model.json`);
  const image = metadata.inputs.image;
  const [height, width] = image.size;
  const views = image.shape[0] || 1;
  const feed = { image: tf.randomUniform([views, height, width, 3], 0, 255, 'float32', 1) };
  if (metadata.inputs.metadata) feed.metadata = tf.zeros(metadata.inputs.metadata.shape);
  const once = async () => {
    const out = [].concat(model.execute(feed));
    await out[0].data();
    out.forEach((t) => t.dispose());
  };
  for (let i = 0; i < 3; i++) await once();
  const times = [];
  for (let i = 0; i < runs; i++) {
    const start = performance.now();
    await once();
    times.push(performance.now() - start);
  }
  const kernels = [];
  for (let p = 0; p < profiles; p++) {
    const info = await tf.profile(once);
    // tfjs lists a fused kernel twice (the op and its kernel, e.g. FusedConv2D and
    // fusedConv2d__op); only the registered kernels (no "__op") are counted.
    kernels.push(info.kernels.filter((k) => !k.name.includes('__op')).map((k) => ({
      name: k.name, shape: JSON.stringify(k.inputShapes[0] || []), ms: k.kernelTimeMs,
    })));
  }
  return { times, kernels, backend: tf.getBackend() };
}
"""


class _Quiet(WSGIRequestHandler):
    def log_request(self, *args, **kwargs):
        pass


def serve(models: list[Path]):
    """The app, plus each model folder under /models/<i>/."""
    app = create_app()

    def dispatch(environ, start_response):
        parts = environ.get("PATH_INFO", "").split("/")
        if len(parts) == 4 and parts[1] == "models" and parts[2].isdigit():
            path = safe_join(str(models[int(parts[2])]), parts[3])
            if path and Path(path).is_file():
                kind = "application/json" if path.endswith(".json") else "application/octet-stream"
                return Response(Path(path).read_bytes(), content_type=kind)(environ, start_response)
            return Response("not found", status=404)(environ, start_response)
        return app(environ, start_response)

    server = make_server("127.0.0.1", 0, dispatch, threaded=True, request_handler=_Quiet)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def kernel_table(kernels: list[list[dict]]) -> tuple[dict, list]:
    """Per kernel name, the median (over the profiles) of its summed time; and the
    slowest (name, input shape) calls, each the median of its summed time."""
    by_name, by_call = {}, {}
    for profile in kernels:
        names, calls = {}, {}
        for k in profile:
            names[k["name"]] = names.get(k["name"], 0) + k["ms"]
            key = (k["name"], k["shape"])
            calls[key] = calls.get(key, 0) + k["ms"]
        for key, ms in names.items():
            by_name.setdefault(key, []).append(ms)
        for key, ms in calls.items():
            by_call.setdefault(key, []).append(ms)
    names = {k: statistics.median(v) for k, v in by_name.items()}
    calls = sorted(((statistics.median(v), k) for k, v in by_call.items()), reverse=True)
    return dict(sorted(names.items(), key=lambda kv: -kv[1])), calls


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--task", default="skin_lesion")
    parser.add_argument("--model", type=Path, action="append", help="a model folder (repeat)")
    parser.add_argument("--rounds", type=int, default=3, help="turns of each model")
    parser.add_argument("--runs", type=int, default=30, help="timed forward passes per turn")
    parser.add_argument("--chromium", default="/usr/bin/chromium")
    args = parser.parse_args(argv)
    models = [m.resolve() for m in (args.model or [ROOT / "static" / "tfjs_model" / args.task])]

    from playwright.sync_api import sync_playwright

    server = serve(models)
    url = f"http://127.0.0.1:{server.server_port}"
    medians: dict[int, list[float]] = {i: [] for i in range(len(models))}
    kernels: dict[int, list] = {i: [] for i in range(len(models))}
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=args.chromium)
            for turn in range(args.rounds):
                for i in range(len(models)):
                    page = browser.new_context().new_page()
                    page.goto(url + "/kernel-profile")  # a 404 page: no script of its own
                    profiles = 5 if turn == 0 else 0
                    result = page.evaluate(FORWARD, [f"/models/{i}", args.runs, profiles])
                    page.context.close()
                    medians[i].append(statistics.median(result["times"]))
                    kernels[i] += result["kernels"]
                    print(f"{models[i]}: median {medians[i][-1]:.1f} ms", flush=True)
            browser.close()
    finally:
        server.shutdown()
    summary = {}
    for i, model in enumerate(models):
        names, calls = kernel_table(kernels[i])
        print(f"\n{model}")
        print(
            f"forward pass (execute), median of {args.runs} per turn: "
            f"{statistics.median(medians[i]):.1f} ms "
            f"(turns {', '.join(f'{m:.1f}' for m in medians[i])})"
        )
        print(f"kernels, median of 5 profiles: {sum(names.values()):.1f} ms in all")
        for name, ms in names.items():
            if ms >= 0.05:
                print(f"  {ms:6.2f} ms  {name}")
        print("slowest kernel calls (kernel, first input's shape):")
        for ms, (name, shape) in calls[:10]:
            print(f"  {ms:6.2f} ms  {name} {shape}")
        summary[str(model)] = {
            "median_ms_per_turn": medians[i],
            "kernel_ms": names,
        }
    print(json.dumps(summary, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
