"""Test-time views and averages of models, on validation and test (no metadata).

    python -m research.evaluate_framings runs/TASK/a [runs/TASK/b ...]

For every run, the probabilities of each view of each image: as given, mirrored
left-right, up-down, both (turned 180°), and a **centre-square crop** (how a
person who frames a photo square hands it over; the model then crops it again
to its own aspect ratio). They are cached beside the run (``framings.npz``).
Prints balanced accuracy and macro AUC for each run and for the average of all
runs: plain, mean of the four mirror views (test-time augmentation), mean of two
(the image and its left-right mirror: half the work) and the centre-square crop.
An experiment, not part of the product. A run with test-time mirrors
(``training.steps.tta``) is measured on its single-view network, with the mirrors of
the centre-square crop too; its ``--report`` then gives, as the site answers, "as given" and the centre-square
crop as the mean of their 4 mirrors, and "one view" (the image alone) beside them.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from training.steps.calibration import logit_mean
from training.steps.tta import MIRROR_NAMES as MIRRORS
from training.steps.tta import mirrored
from webapp.report_shapes import write as write_report

SQUARE_MIRRORS = ("square", "square_left_right", "square_up_down", "square_turned")


def centre_square(images: np.ndarray) -> np.ndarray:
    h, w = images.shape[1:3]
    side = min(h, w)
    top, left = (h - side) // 2, (w - side) // 2
    return images[:, top : top + side, left : left + side]


def view(images: np.ndarray, name: str) -> np.ndarray:
    if name.startswith("square"):
        return view(centre_square(images), name.removeprefix("square").lstrip("_") or "plain")
    return mirrored(images, name)


def has_mirrors(run: Path) -> bool:
    """Whether the run answers with test-time mirrors (``python -m training.steps.tta``, or
    trained with ``--model.tta mirrors``)."""
    config = json.loads((run / "config.json").read_text())
    return config["model"].get("tta", "none") == "mirrors"


def one_view_model(run: Path, task):
    """The run's network (as calibrated, if it is) answering from one view: its mirrors,
    if any, taken out, so that the mean of its 4 mirrors is exactly the run's answer."""
    import research.colour_constancy  # noqa: F401 (registers ShadesOfGray, for such runs)
    from research.train import read_run_config
    from training.fitting.model import load_model
    from training.steps.tta import with_tta

    model = load_model(run / "model.keras")
    if not has_mirrors(run):
        return model
    return with_tta(model, task, read_run_config(run)[0].model, "none")


def run_views(run: Path, task, parts) -> dict:
    """{(split, view): probabilities}, computed once and cached in the run folder."""
    from training.fitting.evaluate import predict_without_metadata

    cache = run / "framings.npz"
    model_file = run / "model.keras"
    names = MIRRORS + (SQUARE_MIRRORS if has_mirrors(run) else ("square",))
    if cache.is_file() and cache.stat().st_mtime > model_file.stat().st_mtime:
        stored = np.load(cache)
        if {f"{s}/{v}" for s in ("val", "test") for v in names} <= set(stored.files):
            return {tuple(key.split("/")): stored[key] for key in stored.files}
    model = one_view_model(run, task)
    found = {}
    for split in ("val", "test"):
        images = parts[split][0]
        for name in names:
            found[split, name] = predict_without_metadata(
                model, task, np.ascontiguousarray(view(images, name))
            )
            print(f"[framings] {run.name} {split} {name}", flush=True)
    np.savez_compressed(cache, **{f"{s}/{v}": p for (s, v), p in found.items()})
    return found


def main(argv=None) -> int:
    from research.train import read_run_config
    from training.fitting.evaluate import classification_metrics
    from training.inputs.data import load_data
    from training.inputs.tasks import get_task

    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("runs", nargs="+", type=Path)
    parser.add_argument(
        "--report",
        type=Path,
        default=None,
        help="also write the first run's figures as JSON (e.g. "
        "reports/<task>/framings.json, read by the performance page)",
    )
    args = parser.parse_args(argv)
    if len({(run / "split.csv").read_bytes() for run in args.runs}) > 1:
        parser.error(
            "the runs were trained on different splits (their split.csv differ): "
            "one split's test images would be another run's training images; "
            "evaluate such runs one at a time"
        )
    config, _ = read_run_config(args.runs[0])
    task = get_task(config.task)
    _, _, parts = load_data(config, task)
    views = {run: run_views(run, task, parts) for run in args.runs}

    def cells(pick) -> list[str]:
        out = []
        for split in ("val", "test"):
            m = classification_metrics(parts[split][2], pick(split), task.label_ids)
            out += [f"{m['balanced_accuracy']:.3f}", f"{m['macro_auc']:.3f}"]
        return out

    rows = []
    groups = [(run.name, [run]) for run in args.runs]
    if len(args.runs) > 1:
        groups.append(("mean of " + " + ".join(run.name for run in args.runs), args.runs))
    for name, members in groups:
        rows.append(
            (name, "as given", cells(lambda s: logit_mean([views[r][s, "plain"] for r in members])))
        )
        rows.append(
            (
                name,
                "mean of 4 mirrors",
                cells(lambda s: logit_mean([views[r][s, v] for r in members for v in MIRRORS])),
            )
        )
        rows.append(
            (
                name,
                "mean of 2 (as given, left-right)",
                cells(lambda s: logit_mean([views[r][s, v] for r in members for v in MIRRORS[:2]])),
            )
        )
        rows.append(
            (
                name,
                "centre-square crop",
                cells(lambda s: logit_mean([views[r][s, "square"] for r in members])),
            )
        )
        if all(has_mirrors(r) for r in members):
            rows.append(
                (
                    name,
                    "centre-square crop, mean of 4 mirrors",
                    cells(
                        lambda s: logit_mean(
                            [views[r][s, v] for r in members for v in SQUARE_MIRRORS]
                        )
                    ),
                )
            )
    if args.report:
        first = views[args.runs[0]]
        mirrored = has_mirrors(args.runs[0])
        if mirrored:  # what the site does is the mean of the mirrors
            picks = {
                "as_given": lambda s: logit_mean([first[s, v] for v in MIRRORS]),
                "one_view": lambda s: first[s, "plain"],
                "centre_square_crop": lambda s: logit_mean([first[s, v] for v in SQUARE_MIRRORS]),
            }
        else:
            picks = {
                "as_given": lambda s: first[s, "plain"],
                "mean_of_4_mirrors": lambda s: logit_mean([first[s, v] for v in MIRRORS]),
                "centre_square_crop": lambda s: first[s, "square"],
            }
        report = {
            "run": args.runs[0].name,
            "metadata": "none",
            "tta": "mirrors" if mirrored else "none",
            "framings": {
                name: {
                    split: {
                        key: m[key] for key in ("n", "accuracy", "balanced_accuracy", "macro_auc")
                    }
                    for split in ("val", "test")
                    for m in [classification_metrics(parts[split][2], pick(split), task.label_ids)]
                }
                for name, pick in picks.items()
            },
        }
        write_report("framings", report, args.report)
    print(
        "| model | view | val balanced acc. | val macro AUC | test balanced acc. | test macro AUC |"
    )
    print("|---|---|---|---|---|---|")
    for name, how, values in rows:
        print(f"| {name} | {how} | " + " | ".join(values) + " |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
