"""When the model is unsure: ``python -m training.steps.unsure --run RUN``.

The page warns "the model is unsure about this image" when the top label's
(calibrated) probability is below a threshold. The threshold is the highest
one at which the model was still **wrong on at least 60 %** of the
validation images below it (without metadata): below it the top label is
more likely wrong than right, by a margin. The test split then measures the rule: the
share of images flagged, and the top-1 accuracy on flagged and on the other
images, with and without metadata. Writes ``unsure.json`` into the run folder;
the exporter puts it into ``metadata.json`` for the page.

Run after ``training.steps.calibration`` (the threshold is on the probabilities the
page shows).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

GRID = np.round(np.arange(0.30, 0.951, 0.01), 2)
MAX_ACCURACY_BELOW = 0.4
MIN_IMAGES_BELOW = 20


def threshold_for(top: np.ndarray, correct: np.ndarray) -> float | None:
    """The highest t on GRID with accuracy(top < t) <= MAX_ACCURACY_BELOW (and enough
    images below it to say so), or None when no such t exists."""
    found = None
    for t in GRID:
        below = top < t
        if below.sum() >= MIN_IMAGES_BELOW and correct[below].mean() <= MAX_ACCURACY_BELOW:
            found = float(t)
    return found


def measure(probabilities: np.ndarray, y: np.ndarray, threshold: float | None) -> dict:
    top, correct = probabilities.max(axis=1), probabilities.argmax(axis=1) == y
    flagged = top < threshold if threshold is not None else np.zeros(len(y), bool)

    def accuracy(mask):
        return float(correct[mask].mean()) if mask.any() else None

    return {
        "n": int(len(y)),
        "flagged": float(flagged.mean()),
        "n_flagged": int(flagged.sum()),
        "accuracy_flagged": accuracy(flagged),
        "accuracy_not_flagged": accuracy(~flagged),
        "accuracy_all": accuracy(np.ones(len(y), bool)),
    }


def summarise(val_probabilities: np.ndarray, val_y: np.ndarray, test_predictions: dict) -> dict:
    val_probabilities = np.asarray(val_probabilities)
    threshold = threshold_for(
        val_probabilities.max(axis=1), val_probabilities.argmax(axis=1) == val_y
    )
    test_y = np.asarray(test_predictions["y_true"])
    return {
        "threshold": threshold,
        "rule": "top probability < threshold",
        "chosen": f"highest threshold with top-1 accuracy <= {MAX_ACCURACY_BELOW} on the "
        f"validation images below it (at least {MIN_IMAGES_BELOW}), without metadata",
        "validation": measure(val_probabilities, val_y, threshold),
        "test": {
            variant: measure(np.asarray(test_predictions[variant]), test_y, threshold)
            for variant in ("without_metadata", "with_metadata")
            if variant in test_predictions
        },
    }


def main(argv=None) -> int:
    from training.fitting.runs import run_arguments

    set_unsure(run_arguments(__doc__, argv))
    return 0


def set_unsure(run: Path, data: tuple | None = None) -> dict:
    """Set and measure the threshold of ``run``'s model; writes ``unsure.json``.
    ``data``: the run's images (``training.fitting.runs.load_run_data``), if already loaded."""
    from training.fitting.evaluate import predict_without_metadata
    from training.fitting.runs import load_run

    task, _, _, parts, model = load_run(run, data=data)
    images, _, y = parts["val"]
    result = summarise(
        predict_without_metadata(model, task, images),
        y,
        json.loads((run / "test_predictions.json").read_text()),
    )
    (run / "unsure.json").write_text(json.dumps(result, indent=1) + "\n")
    test = result["test"]["without_metadata"]
    if result["threshold"] is None:
        print(
            "[unsure] no threshold: the model is right on most images at every confidence",
            flush=True,
        )
    else:
        print(
            f"[unsure] threshold {result['threshold']:.2f}; test without metadata: "
            f"{test['flagged']:.1%} flagged, accuracy {test['accuracy_flagged']:.3f} flagged vs "
            f"{test['accuracy_not_flagged']:.3f} not flagged",
            flush=True,
        )
    return result


if __name__ == "__main__":
    raise SystemExit(main())
