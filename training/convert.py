"""Export a trained run as the site's TF.js graph model, and check it in a browser.

    python -m training.convert --run RUN [--out DIR] [--reports DIR]

(``python -m training.release TASK`` runs it as its export step.) Writes
``--out`` (default ``static/tfjs_model/<task>/``: model.json, weight shards,
metadata.json), refreshes the ``index.json`` beside it, writes the run's reports that
the site reads into ``--reports`` (default ``reports/<task>/``; models and test
predictions stay in the run) and fails (exit 1) if the browser's predictions on real
test images differ from Keras beyond the tolerance in ``training/parity.py``.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

from training.data import PROJECT_ROOT, data_root
from training.export import QUANTIZATIONS


def run_split_file(task, run_dir: Path) -> Path:
    split_file = run_dir / "split.csv"
    return split_file if split_file.is_file() else PROJECT_ROOT / "reports" / task.id / "split.csv"


def parity_images(task, run_dir: Path, data_dir, n: int):
    """Up to ``n`` test-split images (path, recorded metadata), spread over the classes."""
    import pandas as pd

    from training.data import sample_per_label, split_rows

    test = split_rows(task.load(data_root(data_dir)), run_split_file(task, run_dir), "test")
    picked = sample_per_label(test, max(1, n // len(task.labels)))
    picked = pd.concat(
        [
            picked,
            test.drop(picked.index).sample(max(0, min(n, len(test)) - len(picked)), random_state=0),
        ]
    ).head(n)
    names = [f.name for f in task.metadata_fields]
    metadata = []
    for i, row in enumerate(picked.to_dict("records")):
        # Every other image goes with its recorded metadata, the rest with none.
        given = {k: row[k] for k in names if i % 2 == 0 and str(row[k]) not in ("nan", "unknown")}
        metadata.append(given)
    return [Path(p) for p in picked["path"]], metadata


def main(argv=None) -> int:
    from training import export, parity
    from training.fold import fold_for_inference
    from training.model import backbone_name, browser_model, load_model, resize_mode
    from training.tasks import get_task
    from training.train import config_from_json

    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--run",
        required=True,
        type=Path,
        help="training output folder (model.keras, config.json, reports)",
    )
    parser.add_argument("--task", default=None, help="task id (default: from the run's config)")
    parser.add_argument("--out", type=Path, default=None, help="default: static/tfjs_model/<task>")
    parser.add_argument("--reports", type=Path, default=None, help="default: reports/<task>")
    parser.add_argument("--quantization", choices=list(QUANTIZATIONS), default="float32")
    parser.add_argument(
        "--parity-images",
        type=int,
        default=140,
        help="test images compared in the browser (default 140)",
    )
    parser.add_argument("--backend", default="wasm", help="tfjs backend for the check")
    parser.add_argument("--data-dir", default=None)
    args = parser.parse_args(argv)

    config = json.loads((args.run / "config.json").read_text())
    task = get_task(args.task or config["task"])
    out = args.out or PROJECT_ROOT / "static" / "tfjs_model" / task.id
    reports = args.reports or PROJECT_ROOT / "reports" / task.id

    model = load_model(args.run / "model.keras")
    doubt = None
    if (args.run / "doubt.json").is_file():  # python -m training.doubt --run RUN
        doubt = json.loads((args.run / "doubt.json").read_text())
    else:
        print(
            f"[warning] no {args.run / 'doubt.json'}: the model will not warn about images "
            "of the wrong kind (run python -m training.doubt --run RUN first)",
            flush=True,
        )
    model_config = config_from_json(args.run / "config.json").model
    head = doubt["head"] if doubt else None
    # The exported graph leaves the test-time mirrors (if any) to the JavaScript; the
    # parity check below compares it with the Keras model that mirrors inside.
    # Batch norms and paddings are folded into the convolutions (training.fold).
    graph = fold_for_inference(browser_model(model, task, model_config, head, views_outside=True))
    model = browser_model(model, task, model_config, head)
    report = json.loads((args.run / "report.json").read_text())
    history = json.loads((args.run / "history.json").read_text())
    training = {
        "backbone": backbone_name(model_config),
        "backbone_weights": Path(config["model"]["weights"]).name,
        "epochs": config["epochs"],
        "selected_epoch": history["selected_epoch"],
        "batch_size": config["batch_size"],
        "max_lr": config["max_lr"],
        "imbalance": config["imbalance"],
        "augment": config["augment"],
        "label_smoothing": config.get("label_smoothing", 0.0),
        "test_time_views": config["model"].get("test_time_views", "none"),
        "train_seconds": history["train_seconds"],
        "split": report["split"],
    }
    metrics = {
        "test": {
            variant: {
                k: report[variant][k]
                for k in (
                    "n",
                    "accuracy",
                    "balanced_accuracy",
                    "macro_auc",
                    "macro_f1",
                    "per_class",
                )
            }
            for variant in ("with_metadata", "without_metadata")
            if variant in report
        }
    }

    def write_export(folder: Path, quantization: str) -> dict:
        signature = export.convert(graph, folder, quantization)
        metadata = export.build_metadata(
            task,
            signature,
            folder,
            parity.model_image_size(model),
            quantization=quantization,
            training=training,
            metrics=metrics,
            doubt=doubt,
            views=model_config.test_time_views,
            resize=resize_mode(graph),
        )
        # python -m training.risk / training.unsure / training.calibration
        for name in ("risk", "unsure", "calibration"):
            path = args.run / f"{name}.json"
            if path.is_file():
                found = json.loads(path.read_text())
                metadata[name] = (
                    found
                    if name != "calibration"
                    else {
                        "temperature": found["temperature"],
                        "test_ece": {k: found["test"][k]["ece"] for k in ("before", "after")},
                    }
                )
            else:
                print(f"[warning] no {path}: metadata.json will have no {name}", flush=True)
        (folder / "metadata.json").write_text(json.dumps(metadata, indent=1) + "\n")
        return metadata

    metadata = write_export(out, args.quantization)
    images, given = parity_images(task, args.run, args.data_dir, args.parity_images)
    print(
        f"[parity] {len(images)} test images, Keras vs the browser ({args.backend}) …", flush=True
    )
    # The conversion is checked at full precision (strict tolerance); reduced precision is a
    # separate, measured cost (its figures go beside the check's in metadata.json).
    expected = parity.python_probabilities(model, task, images, given)  # Keras, once
    with tempfile.TemporaryDirectory() as tmp:
        checked = out
        if args.quantization != "float32":
            checked = Path(tmp) / task.id
            write_export(checked, "float32")
        summary = parity.check(
            model, task, checked, images, given, backend=args.backend, expected=expected
        )
    print(
        f"[parity] max |Δp| {summary['max_abs_diff']:.2e}, mean |Δp| "
        f"{summary['mean_abs_diff']:.2e}, top-1 disagreement "
        f"{summary['top1_disagreement']:.2%} (limits {parity.MAX_PROBABILITY_DIFF}, "
        f"{parity.MAX_TOP1_DISAGREEMENT:.0%}): OK",
        flush=True,
    )
    if args.quantization != "float32":
        k = len(task.labels)
        found, _ = parity.browser_probabilities(task, out, images, given, args.backend)
        effect = parity.compare(
            expected[:, :k], found[:, :k], max_top1_disagreement=1.0, max_probability_diff=1.0
        )
        summary["quantized"] = {
            "quantization": args.quantization,
            **{key: effect[key] for key in ("max_abs_diff", "mean_abs_diff", "top1_disagreement")},
        }
        print(
            f"[parity] {args.quantization} weights against Keras: max |Δp| "
            f"{effect['max_abs_diff']:.2e}, mean |Δp| {effect['mean_abs_diff']:.2e}, "
            f"top-1 disagreement {effect['top1_disagreement']:.2%}",
            flush=True,
        )
    metadata["parity"] = summary
    (out / "metadata.json").write_text(json.dumps(metadata, indent=1) + "\n")
    export.write_index(out.parent)
    copied = export.copy_reports(args.run, reports)
    from training.curves import from_predictions

    predictions_file = args.run / "test_predictions.json"
    if predictions_file.is_file():
        predictions = json.loads(predictions_file.read_text())
        (reports / "curves.json").write_text(
            json.dumps(from_predictions(predictions, task.label_ids)) + "\n"
        )
        copied.append(reports / "curves.json")
    else:  # e.g. a run folder made of an installed model and its reports (re-export)
        print(f"[warning] no {predictions_file}: curves.json not written", flush=True)
    print(
        f"[done] {out} (version {metadata['version']}, "
        f"{metadata['weights']['bytes'] / 1e6:.2f} MB weights); reports: "
        f"{', '.join(p.name for p in copied)}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
