"""Average the weights of finished runs of one recipe into a new run (a "model soup").

    python -m research.soup --runs runs/T/a runs/T/b [...] --out runs/T/soup

Networks fine-tuned from the same pretrained weights with different seeds (data
order, augmentation, head initialisation) can lie in one basin of the loss, and
then the average of their weights is better than each of them, at the cost of
one network (Wortsman et al., "Model soups", ICML 2022) — unlike an average of
their answers, which costs one network per member. Measured on the first
screener's recipe it was not so (the networks drift too far from the pretrained
weights: the soup was far worse than its members; skin_lesion/experiments.md, "Seeds,
and averaging the weights of runs").

The image path (backbone and the head's image part) is averaged; the metadata
branch's hidden units are not matched from one run to another, so by default it
and the head's metadata part are taken from the first run (``--metadata
average`` averages them too). Batch-norm statistics are averaged with the rest.

Each run's trained network is used as it came out of training
(``model_one_view.keras`` of a run given mirrors, else ``model.keras``); runs whose
only model is calibrated are refused. The new run folder has the first run's
config (with ``out`` changed), a history made of the first run's (its training
curves) with the members listed, ``soup.json`` (members and their validation
figures beside the average's) and a fresh test report; go on from it as from a
trained run (``training.steps.tta``, ``training.steps.calibration``, …).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import shutil
from pathlib import Path

import numpy as np

SAME = ("task", "split_file")
SAME_MODEL = ("backbone", "alpha", "metadata_units", "image_size")
SAME_VARIATION = ("colour_constancy",)


def trained_network(run: Path):
    """The run's network as training left it (before mirrors and calibration)."""
    import research.colour_constancy  # noqa: F401 (registers ShadesOfGray, for such runs)
    from training.fitting.model import load_model

    one_view = run / "model_one_view.keras"
    if one_view.is_file():
        return load_model(one_view)
    if (run / "calibration.json").is_file():
        raise SystemExit(
            f"{run}: model.keras is calibrated and there is no "
            "model_one_view.keras; average runs as they came out of training"
        )
    return load_model(run / "model.keras")


def check_alike(recipes: list, runs: list[Path]) -> None:
    """``recipes``: (TrainConfig, Variation) of each run (``research.train.read_run_config``)."""
    first, first_variation = recipes[0]
    for run, (config, variation) in zip(runs[1:], recipes[1:]):
        for field in SAME:
            if getattr(config, field) != getattr(first, field):
                raise SystemExit(f"{run}: {field} differs from {runs[0]}")
        for field in SAME_MODEL:
            if getattr(config.model, field) != getattr(first.model, field):
                raise SystemExit(f"{run}: model.{field} differs from {runs[0]}")
        for field in SAME_VARIATION:
            if getattr(variation, field) != getattr(first_variation, field):
                raise SystemExit(f"{run}: {field} differs from {runs[0]}")


def average_weights(models: list, task, config, metadata: str = "first", variation=None):
    """A one-view network whose every weight is the members' mean; with
    ``metadata="first"`` the metadata branch and the head's metadata rows are the
    first member's. ``config``: the members' ModelConfig; ``variation``: their
    ``research.train.Variation`` (colour constancy), if any."""
    from research.train import Variation, build_network

    soup = build_network(task, dataclasses.replace(config, tta="none"), variation or Variation())
    for layer in soup.layers:
        if not layer.weights:
            continue
        per_member = [m.get_layer(layer.name).get_weights() for m in models]
        if metadata == "first" and layer.name == "metadata_dense":
            layer.set_weights(per_member[0])
            continue
        mean = [np.mean([w[i] for w in per_member], axis=0) for i in range(len(per_member[0]))]
        if metadata == "first" and layer.name == "probabilities" and task.metadata_size:
            rows = config.metadata_units  # the head's input: [image features, metadata]
            mean[0][-rows:] = per_member[0][0][-rows:]
        layer.set_weights(mean)
    return soup


def main(argv=None) -> int:
    from research.train import VARIATION_FILE, read_run_config, rows_filter
    from training.fitting.evaluate import validation_figures
    from training.fitting.runs import write_test_report
    from training.inputs.data import load_data
    from training.inputs.tasks import get_task

    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runs", nargs="+", type=Path, required=True)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--metadata", choices=("first", "average"), default="first")
    args = parser.parse_args(argv)
    if len(args.runs) < 2:
        raise SystemExit("give at least two runs")
    if args.out.exists():
        raise SystemExit(f"{args.out} exists; give a new folder")
    recipes = [read_run_config(run) for run in args.runs]
    check_alike(recipes, args.runs)
    configs = [config for config, _ in recipes]
    config, variation = recipes[0]
    task = get_task(config.task)
    table, split, parts = load_data(config, task, rows=rows_filter(variation))
    models = [trained_network(run) for run in args.runs]
    soup = average_weights(models, task, config.model, args.metadata, variation)

    val_images, _, val_y = parts["val"]
    validation = validation_figures(
        {**{str(r): m for r, m in zip(args.runs, models)}, "average": soup},
        task,
        val_images,
        val_y,
        "soup",
    )

    args.out.mkdir(parents=True)
    saved = json.loads((args.runs[0] / "config.json").read_text())
    saved["out"] = str(args.out)
    saved["model"]["tta"] = "none"
    (args.out / "config.json").write_text(json.dumps(saved, indent=2))
    if (args.runs[0] / VARIATION_FILE).is_file():
        shutil.copy2(args.runs[0] / VARIATION_FILE, args.out / VARIATION_FILE)
    histories = [json.loads((run / "history.json").read_text()) for run in args.runs]
    members = [
        {
            "run": str(run),
            "seed": c.seed,
            "selected_epoch": h["selected_epoch"],
            "train_seconds": h["train_seconds"],
        }
        for run, c, h in zip(args.runs, configs, histories)
    ]
    train_seconds = round(sum(h["train_seconds"] for h in histories), 1)
    (args.out / "history.json").write_text(
        json.dumps(
            {**histories[0], "train_seconds": train_seconds, "averaged_weights_of": members},
            indent=1,
        )
    )
    if (args.runs[0] / "split.csv").is_file():
        shutil.copy2(args.runs[0] / "split.csv", args.out / "split.csv")
    (args.out / "soup.json").write_text(
        json.dumps(
            {
                "members": members,
                "metadata_branch": args.metadata,
                "validation_without_metadata": validation,
            },
            indent=1,
        )
        + "\n"
    )
    soup.save(args.out / "model.keras")
    write_test_report(
        soup,
        task,
        table,
        split,
        parts,
        args.out,
        {
            "selected_epoch": histories[0]["selected_epoch"],
            "epochs": config.epochs,
            "train_seconds": train_seconds,
            "validation": {
                "balanced_accuracy_without_metadata": validation["average"]["balanced_accuracy"]
            },
            "imbalance": config.imbalance,
            "averaged_weights_of": members,
        },
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
