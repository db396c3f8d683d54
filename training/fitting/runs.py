"""A run folder after training: load it, evaluate it on the test split, train one afresh.

The post-training steps (``training.steps.tta``, ``calibration``, ``risk``, ``unsure``,
``wrong_kind``) are functions of the run folder and, optionally, its data already loaded
(``load_run_data``: the release loads it once for all of them); each has a command
that takes ``--run RUN`` (``run_arguments``). They read the run as it trained
(``load_run``) and, when they change its network, write its test report again
(``rewrite_test_report``) with the training facts kept.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

from training.fitting.config import TrainConfig, command_line, config_from_json
from training.inputs.data import PROJECT_ROOT, load_data
from training.inputs.tasks import get_task


def run_arguments(doc: str, argv=None) -> Path:
    """``--run RUN`` of the post-training commands (calibration, risk, tta …)."""
    parser = argparse.ArgumentParser(
        description=doc, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--run", required=True, type=Path)
    return parser.parse_args(argv).run


def load_run_data(run_dir: Path, data_dir: str | None = None) -> tuple:
    """(task, table, split, parts): the images a finished run trained and is measured on
    (read from ``data_dir`` if given, else where the run read it). The same for every
    step after training (they change the network, not its inputs)."""
    config = config_from_json(run_dir / "config.json")
    if data_dir:
        config.data_dir = data_dir
    task = get_task(config.task)
    table, split, parts = load_data(config, task)
    return task, table, split, parts


def load_run(run_dir: Path, data_dir: str | None = None, data: tuple | None = None):
    """(task, table, split, parts, model) of a finished run: ``data`` as
    ``load_run_data`` gave it, else loaded now; the run's current model."""
    from training.fitting.model import load_model

    task, table, split, parts = data or load_run_data(run_dir, data_dir)
    return task, table, split, parts, load_model(run_dir / "model.keras")


def write_test_report(model, task, table, split, parts, out: Path, extra: dict) -> dict:
    """Evaluate on the test split; write report.json and test_predictions.json into ``out``."""
    from training.fitting.evaluate import evaluate

    test_images, test_meta, test_y = parts["test"]
    report, predictions = evaluate(model, task, test_images, test_meta, test_y)
    report.update(
        {
            "task": task.id,
            "split": {
                s: {
                    label: int(((split == s) & (table["label"] == label)).sum())
                    for label in task.label_ids
                }
                for s in ("train", "val", "test")
            },
            **extra,
        }
    )
    predictions["image_id"] = table[split == "test"]["image_id"].tolist()
    (out / "report.json").write_text(json.dumps(report, indent=1))
    (out / "test_predictions.json").write_text(json.dumps(predictions))
    for variant in ("with_metadata", "without_metadata"):
        if variant in report:
            r = report[variant]
            print(
                f"[test {variant}] accuracy {r['accuracy']:.4f}, balanced accuracy "
                f"{r['balanced_accuracy']:.4f}, macro AUC {r['macro_auc']:.4f}",
                flush=True,
            )
    return report


def rewrite_test_report(model, task, table, split, parts, run_dir: Path, **added) -> dict:
    """Evaluate a changed model of a run afresh, keeping its report's training facts."""
    report = json.loads((run_dir / "report.json").read_text())
    extra = {
        k: v
        for k, v in report.items()
        if k not in ("labels", "with_metadata", "without_metadata", "task", "split")
    }
    return write_test_report(model, task, table, split, parts, run_dir, {**extra, **added})


def rerun(
    config: TrainConfig,
    tag: str,
    module: str = "training.fitting.train",
    extra: list[str] | tuple = (),
) -> None:
    """Train ``config`` in a fresh Python process (``python -m module *extra`` and its
    command line), printing that line. ``module`` and ``extra``: an experiment's trainer
    and its own flags (``research.train``)."""
    args = [sys.executable, "-m", module, *extra, *command_line(config)]
    print(f"[{tag}] " + " ".join(args[1:]), flush=True)
    subprocess.run(args, cwd=PROJECT_ROOT, check=True)
