"""Lesion-grouped k-fold cross-validation of a training recipe: mean ± sd.

    python -m research.cross_validate --reference reports/TASK --epochs 4

The one test split gives one number per metric; with ~20 images in the rarest
classes it moves by several points from one split to another. This repeats the
reference run's recipe (its ``config.json``; ``--epochs`` overrides the length)
on ``--folds`` splits whose test parts are the folds of a lesion-grouped,
label-stratified k-fold (every image is tested exactly once; validation, for
choosing the epoch, is carved out of the other folds much as for the shipped
split). Run folders are ``runs/<task>/<name>_<fold>`` (a fold whose
folder already has a report is not trained again, so an interrupted run can be
continued); ``--only`` trains some folds now and the rest later, and ``--only``
with no fold trains none and summarizes the folds that are done.

Two recipes cross-validated on the same folds are compared fold by fold (paired
differences, mean ± sd), from their reports, without training anything:

    python -m research.cross_validate --compare A.json B.json

Writes ``<name>.json`` (per fold and mean ± sd, with and without metadata) into
``reports/<task>/`` for the name the performance page reads (``cv_final``, the default),
else into ``research/<task>/results/``, from the folds that are done and prints a Markdown table. Folds given
test-time views after training (``python -m training.steps.tta --run RUN``, as the
shipped model is) are summarized as they then answer, with their single-view
figures beside (``one_view``); a fold answering with other views than the recipe's (e.g.
one still being given them by another process) is left out, and said so. With two folds or
more it also measures a decision rule tuned for balanced accuracy on the other folds'
predictions (``decision_rule``).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
from pathlib import Path

import numpy as np

from training.inputs.data import PROJECT_ROOT
from webapp.report_files import REPORT_FILES
from webapp.report_shapes import write as write_report

ROOT = PROJECT_ROOT

METRICS = ("balanced_accuracy", "macro_auc", "accuracy", "macro_f1")
VARIANTS = ("without_metadata", "with_metadata")


def train_fold(
    config, table, fold: int, folds: int, run: Path, epochs: int | None, variation=None
) -> None:
    """Write fold ``fold``'s train/val/test assignment into ``run`` and train on it.

    A recipe with test-time views (the shipped one: ``reports/<task>/config.json``) is
    followed as it was made: trained and its epoch chosen from one view, then given the
    views (``training.steps.tta``), so that the fold answers as the site does. A recipe with an
    experiment's ``variation`` (``research.train``) is trained by ``research.train``."""
    from research.train import variation_arguments
    from training.fitting.runs import rerun
    from training.inputs.data import split_dataset, write_split
    from training.steps import tta as test_time_mirrors

    run.mkdir(parents=True, exist_ok=True)
    split_file = run / "fold_split.csv"
    write_split(
        table,
        split_dataset(table, seed=config.seed, test_fraction=1 / folds, fold=fold),
        split_file,
    )
    print(f"[cv] fold {fold + 1}/{folds}", flush=True)
    views = config.model.tta
    fold_config = dataclasses.replace(
        config,
        split_file=str(split_file),
        out=str(run),
        epochs=epochs or config.epochs,
        model=dataclasses.replace(config.model, tta="none"),
    )
    if variation is not None and variation.changes():
        rerun(fold_config, "cv", "research.train", variation_arguments(variation))
    else:
        rerun(fold_config, "cv")
    if views != "none":
        test_time_mirrors.main(["--run", str(run), "--tta", views])


def summarize(reports: dict[int, dict], runs: dict[int, str] | None = None) -> dict:
    """Per-fold metrics and their mean and sample standard deviation (None where a metric
    was not measured; a variant only when every fold has it, e.g. no metadata → image only)."""
    variants = [v for v in VARIANTS if all(isinstance(r.get(v), dict) for r in reports.values())]
    out = {"folds": {}, "mean": {}, "sd": {}}
    one_view = {
        fold: (report.get("tta") or {}).get("test_one_view") for fold, report in reports.items()
    }
    if all(one_view.values()):
        # Folds given test-time views (training.steps.tta) keep their single-view figures.
        out["one_view"] = summarize(
            {
                fold: {
                    **figures,
                    "without_metadata": {
                        "n": reports[fold]["without_metadata"]["n"],
                        **figures["without_metadata"],
                    },
                }
                for fold, figures in one_view.items()
            }
        )
    for fold, report in sorted(reports.items()):
        out["folds"][fold] = {
            variant: {m: report[variant].get(m) for m in METRICS} for variant in variants
        }
        out["folds"][fold]["n_test"] = report["without_metadata"]["n"]
        out["folds"][fold]["selected_epoch"] = report.get("selected_epoch")
        if runs:
            out["folds"][fold]["run"] = runs[fold]
    for variant in variants:
        values = {
            m: [f[variant][m] for f in out["folds"].values() if f[variant][m] is not None]
            for m in METRICS
        }
        out["mean"][variant] = {m: float(np.mean(v)) if v else None for m, v in values.items()}
        out["sd"][variant] = {
            m: float(np.std(v, ddof=1)) if len(v) > 1 else None for m, v in values.items()
        }
    return out


def decision_rule(predictions: dict[int, dict]) -> dict:
    """Does a decision rule tuned for balanced accuracy help on images it was not tuned on?

    For each fold, per-class offsets (``research.decision.fit_offsets``: arg-max of
    log p + b) are fitted on the other folds' test predictions (image only) and applied to
    this fold's: far more images than one validation split, and never the fold's own.
    """
    from research.decision import balanced_accuracy, fit_offsets, log_probabilities

    folds = {}
    for fold, own in sorted(predictions.items()):
        others = [predictions[f] for f in predictions if f != fold]
        offsets, _ = fit_offsets(
            np.concatenate([o["p"] for o in others]), np.concatenate([o["y"] for o in others])
        )
        log_p = log_probabilities(own["p"])
        folds[fold] = {
            "argmax": balanced_accuracy(own["y"], log_p),
            "tuned": balanced_accuracy(own["y"], log_p + offsets),
            "offsets": offsets.round(3).tolist(),
        }
    gains = [f["tuned"] - f["argmax"] for f in folds.values()]
    return {
        "rule": "argmax(log p + b), b fitted on the other folds' test predictions "
        "(of the other folds' models) without metadata",
        "folds": folds,
        "mean_argmax": float(np.mean([f["argmax"] for f in folds.values()])),
        "mean_tuned": float(np.mean([f["tuned"] for f in folds.values()])),
        "mean_gain": float(np.mean(gains)),
        "sd_gain": float(np.std(gains, ddof=1)) if len(gains) > 1 else None,
    }


def decision_rule_for(shipped: dict, predictions: dict[int, dict]) -> dict:
    """The tuned rule for another model's test predictions (``shipped``: its
    test_predictions.json), fitted on every fold's predictions **except** its test images."""
    from research.decision import balanced_accuracy, fit_offsets, log_probabilities

    excluded = set(shipped["image_id"])
    p, y = [], []
    for own in predictions.values():
        keep = np.array([image_id not in excluded for image_id in own["image_id"]])
        p.append(own["p"][keep])
        y.append(own["y"][keep])
    offsets, _ = fit_offsets(np.concatenate(p), np.concatenate(y))
    log_p = log_probabilities(np.asarray(shipped["without_metadata"]))
    y_test = np.asarray(shipped["y_true"])
    return {
        "n_fitted_on": int(sum(len(part) for part in y)),
        "n_test": int(len(y_test)),
        "offsets": offsets.round(3).tolist(),
        "test_argmax": balanced_accuracy(y_test, log_p),
        "test_tuned": balanced_accuracy(y_test, log_p + offsets),
    }


def paired(base: dict, other: dict) -> dict:
    """``other`` minus ``base``, fold by fold, for two cross-validation summaries made on the
    same folds (same seed and number of folds: checked through the folds' test sizes)."""
    folds = sorted(set(base["folds"]) & set(other["folds"]), key=int)
    if not folds:
        raise ValueError("the two cross-validations have no fold in common")
    for fold in folds:
        if base["folds"][fold]["n_test"] != other["folds"][fold]["n_test"]:
            raise ValueError(
                f"fold {int(fold) + 1} has {base['folds'][fold]['n_test']} test "
                f"images in one and {other['folds'][fold]['n_test']} in the "
                "other: not the same folds"
            )
    out = {"folds": [int(f) + 1 for f in folds], "difference": {}}
    for variant in VARIANTS:
        for metric in ("balanced_accuracy", "macro_auc"):
            pairs = [
                (
                    base["folds"][f].get(variant, {}).get(metric),
                    other["folds"][f].get(variant, {}).get(metric),
                )
                for f in folds
            ]
            gains = [b - a for a, b in pairs if a is not None and b is not None]
            if gains:
                out["difference"][f"{variant}/{metric}"] = {
                    "per_fold": [round(g, 4) for g in gains],
                    "mean": float(np.mean(gains)),
                    "sd": float(np.std(gains, ddof=1)) if len(gains) > 1 else None,
                    "folds_better": int(sum(g > 0 for g in gains)),
                }
    return out


def table(summary: dict) -> str:
    lines = [
        "| fold | test images | BA (no meta) | AUC (no meta) | BA (meta) | AUC (meta) |",
        "|---|---|---|---|---|---|",
    ]
    columns = [(v, m) for v in VARIANTS for m in ("balanced_accuracy", "macro_auc")]

    def number(value):
        return "–" if value is None else f"{value:.3f}"

    for fold, f in summary["folds"].items():
        cells = [number((f.get(v) or {}).get(m)) for v, m in columns]
        lines.append(f"| {int(fold) + 1} | {f['n_test']} | " + " | ".join(cells) + " |")

    def spread(variant, metric):
        mean = (summary["mean"].get(variant) or {}).get(metric)
        sd = (summary["sd"].get(variant) or {}).get(metric)
        return number(mean) + (f" ± {sd:.3f}" if sd is not None else "")

    lines.append("| mean ± sd | | " + " | ".join(spread(v, m) for v, m in columns) + " |")
    return "\n".join(lines)


def main(argv=None) -> int:
    from research.train import read_run_config
    from training.inputs.data import data_root
    from training.inputs.tasks import get_task

    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--compare",
        nargs=2,
        type=Path,
        metavar=("BASE", "OTHER"),
        help="two cross-validation reports made on the same folds: print "
        "OTHER minus BASE fold by fold, and train nothing",
    )
    parser.add_argument(
        "--reference",
        type=Path,
        help="a folder with the recipe's config.json (a run, or reports/<task>)",
    )
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument(
        "--only",
        type=int,
        nargs="*",
        default=None,
        help="train only these folds (1-based) now; default: all; with no "
        "fold: train none, summarize the folds that are done",
    )
    parser.add_argument("--epochs", type=int, default=None, help="default: the reference's")
    page_file = Path(REPORT_FILES["cross_validation"]).stem
    parser.add_argument(
        "--name",
        default=page_file,
        help=f"the summary <name>.json, the folds' runs runs/<task>/<name>_<k>; "
        f"the performance page shows reports/<task>/{page_file}.json, the "
        "cross-validation of the installed recipe (default); other names "
        "go to research/<task>/results/",
    )
    parser.add_argument(
        "--decision_for",
        type=Path,
        default=None,
        help="a folder with another model's test_predictions.json (e.g. "
        "reports/<task>): measure the tuned decision rule on its test "
        "images, fitted on the folds' predictions of all other images",
    )
    args = parser.parse_args(argv)
    if args.compare:
        base, other = (json.loads(path.read_text()) for path in args.compare)
        comparison = paired(base, other)
        print(f"{args.compare[1].name} minus {args.compare[0].name}, folds {comparison['folds']}:")
        for key, d in comparison["difference"].items():
            spread = "" if d["sd"] is None else f" ± {d['sd']:.3f}"
            print(
                f"  {key}: {d['mean']:+.3f}{spread} (per fold "
                + ", ".join(f"{g:+.3f}" for g in d["per_fold"])
                + f"; better on {d['folds_better']} of {len(d['per_fold'])})"
            )
        return 0
    if args.reference is None:
        parser.error("--reference is required (or --compare)")
    if args.folds < 2:
        parser.error("--folds must be at least 2")

    config, variation = read_run_config(args.reference)
    task = get_task(config.task)
    if any(not 1 <= f <= args.folds for f in args.only or ()):
        parser.error(f"--only takes folds from 1 to {args.folds}")
    wanted = list(range(args.folds)) if args.only is None else [f - 1 for f in args.only]
    runs = {fold: ROOT / "runs" / task.id / f"{args.name}_{fold + 1}" for fold in range(args.folds)}
    dataset = None  # the dataset table, read once if any fold is to be trained
    for fold in wanted:
        if not (runs[fold] / "report.json").is_file():
            if dataset is None:
                dataset = task.load(data_root(config.data_dir or None))
            train_fold(config, dataset, fold, args.folds, runs[fold], args.epochs, variation)
    # Only now read the folds: another process may have finished some while this one trained.
    recipe_views = config.model.tta
    reports, predictions, epochs = {}, {}, set()
    for fold, run in runs.items():
        if not (run / "report.json").is_file():
            continue
        fold_config, _ = read_run_config(run)
        if fold_config.model.tta != recipe_views:
            print(
                f"[cv] fold {fold + 1} answers with test-time views "
                f"{fold_config.model.tta!r}, the recipe with {recipe_views!r}: "
                f"left out (python -m training.steps.tta --run {run}, unless it is being given "
                "them now)",
                flush=True,
            )
            continue
        reports[fold] = json.loads((run / "report.json").read_text())
        epochs.add(fold_config.epochs)
        saved = json.loads((run / "test_predictions.json").read_text())
        predictions[fold] = {
            "y": np.asarray(saved["y_true"]),
            "image_id": saved["image_id"],
            "p": np.asarray(saved["without_metadata"]),
        }
    if not reports:
        raise SystemExit("no fold has a report yet")
    if len(epochs) > 1:
        raise SystemExit(f"the folds were trained for different numbers of epochs: {epochs}")
    summary = {
        "reference": str(args.reference.name),
        "folds_total": args.folds,
        "epochs": epochs.pop(),
        "tta": recipe_views,
        **summarize(reports, {fold: runs[fold].name for fold in reports}),
    }
    if len(predictions) > 1:
        summary["decision_rule"] = rule = decision_rule(predictions)
        print(
            f"[cv] decision rule tuned on the other folds: balanced accuracy "
            f"{rule['mean_argmax']:.3f} → {rule['mean_tuned']:.3f} "
            f"(gain {rule['mean_gain']:+.3f} ± {rule['sd_gain']:.3f})"
        )
        if args.decision_for:
            shipped = json.loads((args.decision_for / "test_predictions.json").read_text())
            rule["applied_to"] = {
                "predictions": str(args.decision_for),
                **decision_rule_for(shipped, predictions),
            }
            print(
                f"[cv] that rule on {args.decision_for}'s test images: balanced accuracy "
                f"{rule['applied_to']['test_argmax']:.3f} → "
                f"{rule['applied_to']['test_tuned']:.3f}"
            )
    out = (
        ROOT / "reports" / task.id
        if args.name == page_file
        else ROOT / "research" / task.id / "results"
    ) / f"{args.name}.json"
    write_report("cross_validation", summary, out)
    print(table(summary))
    if "one_view" in summary:
        print(
            f"[cv] the figures above answer with test-time views ({summary['tta']}); from one view:"
        )
        print(table(summary["one_view"]))
    print(f"[done] {out} ({len(reports)} of {args.folds} folds)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
