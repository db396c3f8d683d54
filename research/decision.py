"""A decision rule tuned for balanced accuracy: ``python -m research.decision --run RUN``.

Taking the class with the highest probability favours common classes; what
maximises balanced accuracy (every class counts the same) is the arg-max of
``log p + b`` for per-class offsets ``b``. Adding ``b`` to the bias of the
softmax layer does exactly that inside the graph (softmax(z + b) ∝ p · e^b),
so the browser needs nothing new. ``b`` is fitted on the **validation** split
(images without metadata, as most people will use the screener) by coordinate
ascent over a coarse grid, and kept only if it raises validation balanced
accuracy by at least ``MIN_GAIN``; the test split is then evaluated afresh.

The run's ``model.keras`` is replaced (the original is kept as
``model_argmax.keras``) and ``decision.json`` records the offsets and the
validation figures before and after.
"""

from __future__ import annotations

import json
import shutil

import numpy as np

GRID = np.round(np.arange(-2.0, 2.01, 0.25), 2)
ROUNDS = 3
MIN_GAIN = 0.01


def balanced_accuracy(y_true: np.ndarray, scores: np.ndarray) -> float:
    predicted = scores.argmax(axis=1)
    classes = np.unique(y_true)
    return float(np.mean([(predicted[y_true == c] == c).mean() for c in classes]))


def log_probabilities(probabilities: np.ndarray) -> np.ndarray:
    """log p, floored so that a probability of 0 stays finite (the scores offsets add to)."""
    return np.log(np.clip(probabilities, 1e-7, 1.0))


def fit_offsets(
    probabilities: np.ndarray, y_true: np.ndarray, grid: np.ndarray = GRID, rounds: int = ROUNDS
) -> tuple[np.ndarray, float]:
    """Offsets ``b`` maximising balanced accuracy of arg-max(log p + b); the first stays 0."""
    log_p = log_probabilities(probabilities)
    offsets = np.zeros(probabilities.shape[1])
    best = balanced_accuracy(y_true, log_p)
    for _ in range(rounds):
        improved = False
        for c in range(1, len(offsets)):  # offsets are relative: class 0 is the anchor
            for value in grid:
                trial = offsets.copy()
                trial[c] = value
                score = balanced_accuracy(y_true, log_p + trial)
                if score > best + 1e-9:
                    best, offsets, improved = score, trial, True
        if not improved:
            break
    return offsets, best


def add_output_bias(model, offsets: np.ndarray, layer_name: str = "probabilities") -> None:
    layer = model.get_layer(layer_name)
    kernel, bias = layer.get_weights()
    layer.set_weights([kernel, bias + offsets.astype(bias.dtype)])


def main(argv=None) -> int:
    from training.fitting.evaluate import predict_without_metadata
    from training.fitting.runs import load_run, rewrite_test_report, run_arguments

    run = run_arguments(__doc__, argv)
    if (run / "decision.json").is_file():
        raise SystemExit(f"{run} already has a tuned decision rule (decision.json)")
    task, table, split, parts, model = load_run(run)
    val_images, _, val_y = parts["val"]
    probabilities = predict_without_metadata(model, task, val_images)
    before = balanced_accuracy(val_y, probabilities)
    offsets, after = fit_offsets(probabilities, val_y)
    decision = {
        "rule": "argmax(log p + b), b fitted on validation without metadata",
        "offsets": dict(zip(task.label_ids, offsets.round(3).tolist())),
        "validation_balanced_accuracy": {"argmax": before, "tuned": after},
        "min_gain": MIN_GAIN,
        "applied": after - before >= MIN_GAIN,
    }
    print(
        f"[decision] validation balanced accuracy {before:.4f} → {after:.4f} with offsets "
        f"{decision['offsets']}: {'applied' if decision['applied'] else 'not applied'}"
    )
    if decision["applied"]:
        shutil.copy2(run / "model.keras", run / "model_argmax.keras")
        add_output_bias(model, offsets)
        model.save(run / "model.keras")
        rewrite_test_report(model, task, table, split, parts, run, decision_rule=decision)
    (run / "decision.json").write_text(json.dumps(decision, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
