"""Balanced accuracy and macro AUC of runs and of every average of their predictions.

    python -m research.evaluate_average runs/TASK/a runs/TASK/b [...]

For each non-empty subset of the runs, averages the models' probabilities on the
validation and test splits (images without metadata) and prints both metrics: an
experiment, not part of the product.
"""

from __future__ import annotations

import itertools
import sys
from pathlib import Path

import numpy as np


def main(argv=None) -> int:
    import research.colour_constancy  # noqa: F401 (registers ShadesOfGray, for such runs)
    from research.train import read_run_config
    from training.fitting.evaluate import classification_metrics, predict_without_metadata
    from training.fitting.model import load_model
    from training.inputs.data import load_data
    from training.inputs.tasks import get_task

    runs = [Path(r) for r in (sys.argv[1:] if argv is None else argv)]
    if not runs:
        print(__doc__, file=sys.stderr)
        return 2
    config, _ = read_run_config(runs[0])
    task = get_task(config.task)
    _, _, parts = load_data(config, task)
    probabilities = {}
    for run in runs:
        model = load_model(run / "model.keras")
        for split in ("val", "test"):
            probabilities[run, split] = predict_without_metadata(model, task, parts[split][0])
    print(
        "| runs averaged | val balanced acc. | val macro AUC | test balanced acc. | test macro AUC |"
    )
    print("|---|---|---|---|---|")
    for n in range(1, len(runs) + 1):
        for combo in itertools.combinations(runs, n):
            cells = []
            for split in ("val", "test"):
                mean = np.mean([probabilities[run, split] for run in combo], axis=0)
                m = classification_metrics(parts[split][2], mean, task.label_ids)
                cells += [f"{m['balanced_accuracy']:.3f}", f"{m['macro_auc']:.3f}"]
            print(f"| {' + '.join(run.name for run in combo)} | " + " | ".join(cells) + " |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
