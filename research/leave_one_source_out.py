"""Leave-one-source-out: how the model does on a collection it never saw.

    python -m research.leave_one_source_out --reference runs/TASK/cmp_sampling
    python -m research.leave_one_source_out --reference reports/TASK --print   # table only

HAM10000 was gathered from several collections (the ``dataset`` column of
``HAM10000_metadata_sources.csv``: different clinics, cameras and years). For
each source S this trains the reference run's recipe (its ``config.json``) with
S left out of training and validation (``python -m research.train --hold_out_source S``,
the row filter ``research.rows.hold_out_source``; run folder
``runs/<task>/loso_<S>``, or ``<name>_<S>`` with ``--name``; skipped when it already has a
model) and measures,
without metadata:

* on the test-split images of S: the held-out model against the reference
  model, which saw S's training images (same images, so the difference is the
  cost of never having seen that collection);
* on every image of S (the held-out model never saw any of them).

Balanced accuracy and macro AUC count only the labels S has. Writes
``reports/<task>/leave_one_source_out.json`` (read by the performance page; with ``--name``
another name, ``research/<task>/results/<name>.json``) and prints a Markdown table.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from training.inputs.data import PROJECT_ROOT
from webapp.report_shapes import write as write_report

ROOT = PROJECT_ROOT


def train_without(reference: Path, source: str, out: Path, epochs: int | None) -> None:
    """The reference's recipe (and its experiment's variation, if any) without ``source``."""
    import dataclasses

    from research.train import read_run_config, variation_arguments
    from training.fitting.runs import rerun

    config, variation = read_run_config(reference)
    rerun(
        dataclasses.replace(config, out=str(out), epochs=epochs or config.epochs),
        "loso",
        "research.train",
        variation_arguments(dataclasses.replace(variation, hold_out_source=source)),
    )


def metrics_on(model, task, images, y) -> dict:
    from sklearn.metrics import balanced_accuracy_score

    from training.fitting.evaluate import classification_metrics, predict_without_metadata

    p = predict_without_metadata(model, task, images)
    m = classification_metrics(y, p, task.label_ids)
    present = sorted(set(y.tolist()))
    return {
        "n": int(len(y)),
        "accuracy": m["accuracy"],
        "balanced_accuracy": float(balanced_accuracy_score(y, p.argmax(1))),
        "macro_auc": m["macro_auc"],
        "labels": [task.label_ids[i] for i in present],
        "sensitivity": {
            task.label_ids[i]: m["per_class"][task.label_ids[i]]["sensitivity"] for i in present
        },
    }


def print_table(results: dict) -> None:
    """The report as a Markdown table (BA / macro AUC, without metadata)."""
    print(
        "| left-out source | images | test images of it | labels | reference BA / AUC "
        "(saw it) | held-out BA / AUC (never saw it) | held-out BA / AUC, all its images |"
    )
    print("|---|---|---|---|---|---|---|")
    for source, r in results["sources"].items():
        ref, held, every = (
            r["test_split"]["reference"],
            r["test_split"]["held_out"],
            r["all_images_held_out"],
        )

        def pair(m):
            auc = f"{m['macro_auc']:.3f}" if m["macro_auc"] is not None else "–"
            return f"{m['balanced_accuracy']:.3f} / {auc}"

        print(
            f"| {source} | {r['n_images']} | {ref['n']} | {', '.join(ref['labels'])} | "
            f"{pair(ref)} | {pair(held)} | {pair(every)} |"
        )


def main(argv=None) -> int:
    import research.colour_constancy  # noqa: F401 (registers ShadesOfGray: loso_sog's runs)
    from research.train import read_run_config
    from training.fitting.model import load_model
    from training.inputs.data import load_data, load_images
    from training.inputs.tasks import get_task

    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--reference",
        required=True,
        type=Path,
        help="a run trained on every source (its recipe is repeated)",
    )
    parser.add_argument("--sources", nargs="*", default=None, help="default: every source")
    parser.add_argument("--epochs", type=int, default=None, help="default: the reference's")
    parser.add_argument(
        "--name",
        default="loso",
        help="run folders runs/<task>/<name>_<source> and the report "
        "research/<task>/results/<name>.json (default loso → "
        "reports/<task>/leave_one_source_out.json, the page's)",
    )
    parser.add_argument(
        "--print",
        dest="print_only",
        action="store_true",
        help="only print the table of the existing report",
    )
    args = parser.parse_args(argv)

    config, _ = read_run_config(args.reference)
    task = get_task(config.task)
    out = (
        ROOT / "reports" / task.id / "leave_one_source_out.json"
        if args.name == "loso"
        else ROOT / "research" / task.id / "results" / f"{args.name}.json"
    )
    if args.print_only:
        print_table(json.loads(out.read_text()))
        return 0
    table, split, parts = load_data(config, task)
    if table["source"].isna().all():
        raise SystemExit("this task's data has no 'source' column")
    sources = args.sources or sorted(table["source"].dropna().unique())
    test_rows = table[(split == "test").to_numpy()]
    reference = load_model(args.reference / "model.keras")
    size = config.model.image_size or task.image_size
    results = {
        "reference": args.reference.name,
        "epochs": args.epochs or config.epochs,
        "sources": {},
    }
    for source in sources:
        run = ROOT / "runs" / task.id / f"{args.name}_{source}"
        if not (run / "model.keras").is_file():
            train_without(args.reference, source, run, args.epochs)
        held_out = load_model(run / "model.keras")
        in_test = (test_rows["source"] == source).to_numpy()
        images, y = parts["test"][0][in_test], parts["test"][2][in_test]
        every = table[table["source"] == source]
        every_images = np.asarray(
            load_images(every["path"], size, cache_dir=config.cache_dir or None)
        )
        results["sources"][source] = {
            "n_images": int(len(every)),
            "test_split": {
                "reference": metrics_on(reference, task, images, y),
                "held_out": metrics_on(held_out, task, images, y),
            },
            "all_images_held_out": metrics_on(
                held_out, task, every_images, every["label_index"].to_numpy()
            ),
            "run": run.name,
        }
        print(f"[loso] {source}: done", flush=True)
    write_report("leave_one_source_out", results, out)
    print_table(results)
    print(f"[done] {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
