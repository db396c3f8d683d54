"""Export a trained run as the site's TF.js graph model, and check it in a browser.

    python -m training.exporting.convert --run RUN [--out DIR] [--reports DIR]

(``python -m training.release TASK`` runs it as its export step.) Writes
``--out`` (default ``static/tfjs_model/<task>/``: model.json, weight shards,
metadata.json), refreshes the ``index.json`` beside it, writes the run's reports that
the site reads into ``--reports`` (default ``reports/<task>/``; models and test
predictions stay in the run) and fails (exit 1) if the browser's predictions on real
test images differ from Keras beyond the tolerance in ``training/exporting/parity.py``.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

from training.exporting.export import QUANTIZATIONS
from training.inputs.data import PROJECT_ROOT, data_root


def run_split_file(task, run_dir: Path) -> Path:
    split_file = run_dir / "split.csv"
    return split_file if split_file.is_file() else PROJECT_ROOT / "reports" / task.id / "split.csv"


def parity_images_of(task, run_dir: Path, data_dir, n: int):
    """Up to ``n`` test-split images (path, recorded metadata), spread over the classes."""
    import pandas as pd

    from training.inputs.data import sample_per_label, split_rows

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


def convert(
    run: Path,
    *,
    model_file: Path | None = None,
    task_id: str | None = None,
    out: Path | None = None,
    reports: Path | None = None,
    quantization: str = "float32",
    parity_images: int = 140,
    backend: str = "wasm",
    data_dir: str | None = None,
) -> dict:
    """Export ``model_file`` (default ``run/model.keras``) as a TF.js graph model into
    ``out``, check it in the browser and return its ``metadata.json``.

    ``run`` is the run folder: its ``config.json`` says how the model was built (without
    one, ``task_id``'s default ``ModelConfig``); what else the release wrote there goes in
    if present (``wrong_kind.json``, ``risk.json``, ``unsure.json``, ``calibration.json``, the
    run's ``report.json`` and ``history.json`` for the model card); its reports are
    copied into ``reports`` only when it has a ``report.json``. Raises ``ValueError`` when
    the browser's answers differ from Keras beyond ``training.exporting.parity``'s limits."""
    from training.exporting import export, parity
    from training.exporting.fold import fold_for_inference
    from training.fitting.config import config_from_json
    from training.fitting.model import ModelConfig, browser_model, load_model, resize_mode
    from training.inputs.tasks import get_task

    config_file = run / "config.json"
    config = json.loads(config_file.read_text()) if config_file.is_file() else None
    if config is None and not task_id:
        raise ValueError(f"{run} has no config.json: name the model's task (--task)")
    task = get_task(task_id or config["task"])
    out = out or PROJECT_ROOT / "static" / "tfjs_model" / task.id
    reports = reports or PROJECT_ROOT / "reports" / task.id

    model = load_model(model_file or run / "model.keras")
    wrong_kind = None
    if (run / "wrong_kind.json").is_file():  # python -m training.steps.wrong_kind --run RUN
        wrong_kind = json.loads((run / "wrong_kind.json").read_text())
    else:
        print(
            f"[warning] no {run / 'wrong_kind.json'}: the model will not warn about images "
            "of the wrong kind (run python -m training.steps.wrong_kind --run RUN first)",
            flush=True,
        )
    # Without a config: the task's default network, at the size the model was built for.
    model_config = (
        config_from_json(config_file).model
        if config
        else ModelConfig(image_size=tuple(parity.model_image_size(model)))
    )
    head = wrong_kind["head"] if wrong_kind else None
    # The exported graph leaves the test-time mirrors (if any) to the JavaScript; the
    # parity check below compares it with the Keras model that mirrors inside.
    # Batch norms and paddings are folded into the convolutions (training.exporting.fold).
    graph = fold_for_inference(browser_model(model, task, model_config, head, mirrors_outside=True))
    model = browser_model(model, task, model_config, head)
    training, metrics = _model_card_facts(run, config, model_config)

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
            wrong_kind=wrong_kind,
            tta=model_config.tta,
            resize=resize_mode(graph),
        )
        # python -m training.steps.risk / training.steps.unsure / training.steps.calibration
        for name in ("risk", "unsure", "calibration"):
            path = run / f"{name}.json"
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

    metadata = write_export(out, quantization)
    images, given = parity_images_of(task, run, data_dir, parity_images)
    print(f"[parity] {len(images)} test images, Keras vs the browser ({backend}) …", flush=True)
    # The conversion is checked at full precision (strict tolerance); reduced precision is a
    # separate, measured cost (its figures go beside the check's in metadata.json).
    expected = parity.python_probabilities(model, task, images, given)  # Keras, once
    with tempfile.TemporaryDirectory() as tmp:
        checked = out
        if quantization != "float32":
            checked = Path(tmp) / task.id
            write_export(checked, "float32")
        summary = parity.check(
            model, task, checked, images, given, backend=backend, expected=expected
        )
    print(
        f"[parity] max |Δp| {summary['max_abs_diff']:.2e}, mean |Δp| "
        f"{summary['mean_abs_diff']:.2e}, top-1 disagreement "
        f"{summary['top1_disagreement']:.2%} (limits {parity.MAX_PROBABILITY_DIFF}, "
        f"{parity.MAX_TOP1_DISAGREEMENT:.0%}): OK",
        flush=True,
    )
    if quantization != "float32":
        k = len(task.labels)
        found, _ = parity.browser_probabilities(task, out, images, given, backend)
        effect = parity.compare(
            expected[:, :k], found[:, :k], max_top1_disagreement=1.0, max_probability_diff=1.0
        )
        summary["quantized"] = {
            "quantization": quantization,
            **{key: effect[key] for key in ("max_abs_diff", "mean_abs_diff", "top1_disagreement")},
        }
        print(
            f"[parity] {quantization} weights against Keras: max |Δp| "
            f"{effect['max_abs_diff']:.2e}, mean |Δp| {effect['mean_abs_diff']:.2e}, "
            f"top-1 disagreement {effect['top1_disagreement']:.2%}",
            flush=True,
        )
    metadata["parity"] = summary
    (out / "metadata.json").write_text(json.dumps(metadata, indent=1) + "\n")
    export.write_index(out.parent)
    copied = _write_reports(task, run, reports) if (run / "report.json").is_file() else []
    print(
        f"[done] {out} (version {metadata['version']}, "
        f"{metadata['weights']['bytes'] / 1e6:.2f} MB weights)"
        + (f"; reports: {', '.join(p.name for p in copied)}" if copied else "; no reports"),
        flush=True,
    )
    return metadata


def _model_card_facts(run: Path, config: dict | None, model_config):
    """The metadata's ``training`` and ``metrics`` from the run's config, history and report
    (None where the run has none of them: a model file converted on its own)."""
    report_file, history_file = run / "report.json", run / "history.json"
    if config is None or not report_file.is_file() or not history_file.is_file():
        return None, None
    from training.fitting.model import backbone_name

    report = json.loads(report_file.read_text())
    history = json.loads(history_file.read_text())
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
        "tta": config["model"].get("tta", "none"),
        "train_seconds": history["train_seconds"],
        "split": report["split"],
    }
    if history.get("members"):  # several networks averaged (training.fitting.train.train_members)
        training["members"] = len(history["members"])
        training["selected_epochs"] = [m["selected_epoch"] for m in history["members"]]
    keys = ("n", "accuracy", "balanced_accuracy", "macro_auc", "macro_f1", "per_class")
    metrics = {
        "test": {
            variant: {k: report[variant][k] for k in keys}
            for variant in ("with_metadata", "without_metadata")
            if variant in report
        }
    }
    return training, metrics


def _write_reports(task, run: Path, reports: Path) -> list[Path]:
    """The run's reports the site reads, and the test curves from its predictions."""
    from training.exporting import export
    from training.reporting.curves import from_predictions

    copied = export.copy_reports(run, reports)
    predictions_file = run / "test_predictions.json"
    if predictions_file.is_file():
        predictions = json.loads(predictions_file.read_text())
        (reports / "curves.json").write_text(
            json.dumps(from_predictions(predictions, task.label_ids)) + "\n"
        )
        copied.append(reports / "curves.json")
    else:  # e.g. a run folder made of an installed model and its reports (re-export)
        print(f"[warning] no {predictions_file}: curves.json not written", flush=True)
    return copied


def build_parser(prog: str | None = None) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=prog, description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--run",
        required=True,
        type=Path,
        help="training output folder (model.keras, config.json, reports)",
    )
    add_options(parser)
    return parser


def add_options(parser: argparse.ArgumentParser) -> None:
    """The options of ``convert`` (beside what names the model), for both commands."""
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


def options(args: argparse.Namespace) -> dict:
    """``convert``'s keyword arguments from ``add_options``' parsed flags."""
    return {
        "task_id": args.task,
        "out": args.out,
        "reports": args.reports,
        "quantization": args.quantization,
        "parity_images": args.parity_images,
        "backend": args.backend,
        "data_dir": args.data_dir,
    }


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    convert(args.run, **options(args))
    return 0


if __name__ == "__main__":
    sys.exit(main())
