"""The backbone comparison of the skin screener: one row per run, as measured.

    python -m research.skin_lesion.compare_backbones RUN [RUN …] [--out reports/skin_lesion/backbones.json]

A RUN is a training folder (``training.fitting.train``'s output, or a release's ``1-train``) or a
release step folder after ``2-tta`` (then the test-time mirrors' validation figures are
read too). The α 0.25 rows whose run folders no longer exist are the figures recorded in
``research/skin_lesion/experiments.md`` (same split, same recipe, same code), and the α 0.75
run at 4 epochs is the one reported in issue 21 (the same command, run by the maintainers); each
recorded row is marked with its source.
Selection is on validation (balanced accuracy without metadata); test figures are shown
for reference. Sizes are the backbone's and head's parameters × 4 bytes (float32) or × 2
(float16); the site's exported model is measured in ``metadata.json``.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from training.inputs.data import PROJECT_ROOT
from webapp.report_shapes import write as write_report

# Recorded in research/skin_lesion/experiments.md (the runs were not kept).
RECORDED = [
    {
        "run": "cmp_smooth",
        "backbone": "MobileNet V1 α 0.25",
        "parameters": 221_239,
        "epochs": 4,
        "selected_epoch": 4,
        "minutes": 20,
        "val_balanced_accuracy": 0.687,
        "val_macro_auc": 0.934,
        "val_balanced_accuracy_mirrors": None,
        "test_balanced_accuracy": 0.637,
        "test_macro_auc": None,
        "source": "experiments.md",
    },
    {
        "run": "smooth_8",
        "backbone": "MobileNet V1 α 0.25",
        "parameters": 221_239,
        "epochs": 8,
        "selected_epoch": 7,
        "minutes": 40,
        "val_balanced_accuracy": 0.712,
        "val_macro_auc": 0.941,
        "val_balanced_accuracy_mirrors": 0.730,
        "test_balanced_accuracy": 0.647,
        "test_macro_auc": 0.932,
        "source": "experiments.md",
    },
    {
        "run": "smooth_12 (shipped)",
        "backbone": "MobileNet V1 α 0.25",
        "parameters": 221_239,
        "epochs": 12,
        "selected_epoch": 11,
        "minutes": 46,
        "val_balanced_accuracy": 0.681,
        "val_macro_auc": 0.944,
        "val_balanced_accuracy_mirrors": 0.701,
        "test_balanced_accuracy": 0.678,
        "test_macro_auc": 0.937,
        "source": "experiments.md",
    },
    {
        "run": "a075_4 (issue 21)",
        "backbone": "MobileNet V1 α 0.75",
        "parameters": 1_839_255,
        "epochs": 4,
        "selected_epoch": 4,
        "minutes": 23,
        "val_balanced_accuracy": 0.732,
        "val_macro_auc": 0.943,
        "val_balanced_accuracy_mirrors": None,
        "test_balanced_accuracy": 0.654,
        "test_macro_auc": 0.933,
        "source": "issue 21: the maintainers' run of this repository's command",
    },
]


def measured_row(run: Path) -> dict:
    """One run's row, from its config.json, history.json and report.json."""
    from training.fitting.config import config_from_json
    from training.fitting.model import backbone_name, build_model
    from training.inputs.tasks import get_task

    config = config_from_json(run / "config.json")
    history = json.loads((run / "history.json").read_text())
    report = json.loads((run / "report.json").read_text())
    epochs = history["epochs"]
    selected = history["selected_epoch"]
    views = report.get("tta", {})
    one_view_test = views.get("test_one_view", {}).get(
        "without_metadata", report["without_metadata"]
    )
    mirrors = views.get("validation", {}).get("mirrors", {})
    model_config = config.model
    parameters = build_model(get_task(config.task), model_config).count_params()
    return {
        "run": run.name if run.name[0].isalpha() else run.parent.name,  # a release step: its run
        "backbone": backbone_name(model_config),
        "parameters": int(parameters),
        "epochs": config.epochs,
        "selected_epoch": selected,
        "minutes": round(history["train_seconds"] / 60),
        "val_balanced_accuracy": round(
            epochs["val_balanced_accuracy_no_metadata"][selected - 1], 3
        ),
        "val_macro_auc": round(epochs["val_macro_auc_no_metadata"][selected - 1], 3),
        "val_balanced_accuracy_mirrors": (
            round(mirrors["balanced_accuracy"], 3) if mirrors else None
        ),
        "test_balanced_accuracy": round(one_view_test["balanced_accuracy"], 3),
        "test_macro_auc": round(one_view_test["macro_auc"], 3),
        "source": "run",
    }


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("runs", nargs="+", type=Path)
    parser.add_argument(
        "--out", type=Path, default=PROJECT_ROOT / "reports" / "skin_lesion" / "backbones.json"
    )
    args = parser.parse_args(argv)
    rows = RECORDED + [measured_row(run) for run in args.runs]
    for row in rows:
        row["float32_mb"] = round(row["parameters"] * 4 / 1e6, 2)
        row["float16_mb"] = round(row["parameters"] * 2 / 1e6, 2)
    print(
        "| run | backbone | epochs | val BA (one view / mirrors) | val AUC | test BA (one view) "
        "| MB f32 / f16 | minutes |"
    )
    print("|---|---|---|---|---|---|---|---|")
    for r in rows:
        mirrors = (
            f"{r['val_balanced_accuracy_mirrors']:.3f}"
            if r["val_balanced_accuracy_mirrors"] is not None
            else "–"
        )
        print(
            f"| {r['run']} | {r['backbone']} | {r['epochs']} | "
            f"{r['val_balanced_accuracy']:.3f} / {mirrors} | {r['val_macro_auc']:.3f} | "
            f"{r['test_balanced_accuracy']:.3f} | {r['float32_mb']} / {r['float16_mb']} | "
            f"{r['minutes']} |"
        )
    write_report(
        "backbones",
        {
            "what": "the skin screener's backbones compared on the lesion-grouped split, "
            "without metadata (python -m research.skin_lesion.compare_backbones)",
            "selection": "validation balanced accuracy; test for reference only",
            "rows": rows,
        },
        args.out,
    )
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
