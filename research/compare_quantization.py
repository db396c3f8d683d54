"""Weight quantization of a trained run: size and test metrics of each TF.js variant.

    python -m research.compare_quantization --run runs/TASK/final [--limit N]

Converts the run's model as float32, float16 and uint8 graph models and runs
each one **in Chromium** (the shipped code path: static/js/classifier.js, WASM)
on the test split without metadata. Prints a table and writes
``research/<task>/results/quantization.json``; ``recommended`` is the smallest variant
whose balanced accuracy is within 0.5 point of float32's.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

from training.exporting.convert import run_split_file
from training.exporting.export import QUANTIZATIONS
from training.inputs.data import PROJECT_ROOT, data_root

MAX_BALANCED_ACCURACY_LOSS = 0.005


def main(argv=None) -> int:
    import numpy as np

    from training.exporting import export, parity
    from training.fitting.evaluate import classification_metrics
    from training.fitting.model import load_model
    from training.inputs.data import sample_per_label, split_rows
    from training.inputs.tasks import get_task

    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--run", required=True, type=Path)
    parser.add_argument(
        "--limit", type=int, default=0, help="only about N test images, balanced over the labels"
    )
    parser.add_argument("--backend", default="wasm")
    parser.add_argument("--data-dir", default=None)
    parser.add_argument(
        "--out", type=Path, default=None, help="default: research/<task>/results/quantization.json"
    )
    args = parser.parse_args(argv)

    config = json.loads((args.run / "config.json").read_text())
    task = get_task(config["task"])
    model = load_model(args.run / "model.keras")
    test = split_rows(task.load(data_root(args.data_dir)), run_split_file(task, args.run), "test")
    if args.limit:  # a quick look: the same number of images of each label
        test = sample_per_label(test, max(1, args.limit // len(task.labels)))
    images = [Path(p) for p in test["path"]]
    y_true = test["label_index"].to_numpy()

    results, outputs = {}, {}
    with tempfile.TemporaryDirectory() as tmp:
        for quantization in QUANTIZATIONS:
            out = Path(tmp) / quantization
            signature = export.convert(model, out, quantization)
            metadata = export.build_metadata(
                task, signature, out, parity.model_image_size(model), quantization=quantization
            )
            (out / "metadata.json").write_text(json.dumps(metadata))
            probabilities, backend = parity.browser_probabilities(
                task, out, images, [{}] * len(images), args.backend
            )
            metrics = classification_metrics(y_true, probabilities, task.label_ids)
            results[quantization] = {
                "weights_bytes": metadata["weights"]["bytes"],
                "accuracy": metrics["accuracy"],
                "balanced_accuracy": metrics["balanced_accuracy"],
                "macro_auc": metrics["macro_auc"],
                "backend": backend,
            }
            outputs[quantization] = probabilities
            print(
                f"[{quantization}] {metadata['weights']['bytes'] / 1e6:.2f} MB, balanced accuracy "
                f"{metrics['balanced_accuracy']:.4f}, macro AUC {metrics['macro_auc']:.4f}",
                flush=True,
            )

    reference = results["float32"]
    for name, r in results.items():
        r["max_abs_diff_vs_float32"] = float(np.abs(outputs[name] - outputs["float32"]).max())
    allowed = [
        name
        for name, r in results.items()
        if reference["balanced_accuracy"] - r["balanced_accuracy"] <= MAX_BALANCED_ACCURACY_LOSS
    ]
    recommended = min(allowed, key=lambda name: results[name]["weights_bytes"])
    summary = {
        "task": task.id,
        "n_images": len(images),
        "metadata": "none given",
        "max_balanced_accuracy_loss": MAX_BALANCED_ACCURACY_LOSS,
        "variants": results,
        "recommended": recommended,
    }

    print("\n| weights | MB | accuracy | balanced accuracy | macro AUC | max abs Δp vs float32 |")
    print("|---|---|---|---|---|---|")
    for name, r in results.items():
        print(
            f"| {name} | {r['weights_bytes'] / 1e6:.2f} | {r['accuracy']:.4f} | "
            f"{r['balanced_accuracy']:.4f} | {r['macro_auc']:.4f} | "
            f"{r['max_abs_diff_vs_float32']:.4f} |"
        )
    print(
        f"\nrecommended: {recommended} (smallest within "
        f"{MAX_BALANCED_ACCURACY_LOSS * 100:.1f} point of float32's balanced accuracy)"
    )
    out = args.out or PROJECT_ROOT / "research" / task.id / "results" / "quantization.json"
    out.write_text(json.dumps(summary, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
