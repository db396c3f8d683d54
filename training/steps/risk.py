"""The risk summary: ``python -m training.steps.risk --run RUN``.

One plain sentence per result: "worth showing to a doctor soon" when the summed
probability of the task's labels marked ``malignant`` in the registry
reaches a threshold, otherwise the reassuring one (``Task.risk_messages``). The
threshold is the highest one that still catches ``Task.risk_sensitivity`` of
the ``Task.risk_focus`` images on the **validation** split without metadata,
and never above ``NEVER_ABOVE``; the test split then measures it: sensitivity for the
focus label and for all malignant labels, and specificity on the rest, with
and without metadata. Writes ``risk.json`` into the run folder; the exporter
puts it into ``metadata.json`` for the page.

For a task with ``risk_shifts`` (``training.inputs.tasks``; the X-ray screener) the target must hold
not only on the validation images as they are but on each of them processed as another
hospital's chain might (``training.inputs.shifts.HELD_OUT``: equalisation, CLAHE, sharpening,
JPEG, a tighter or wider field): the threshold is the lowest of the per-condition ones
(research/chest_xray/decision.md). ``risk.json`` → ``shifts`` records each condition's
threshold and the figures at the one chosen, on validation and (measured only) on test.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

# Never less cautious than the majority: malignant labels summing past one half
# always get the "worth showing" sentence, whatever the target allows.
NEVER_ABOVE = 0.5


def risk_scores(probabilities: np.ndarray, malignant: np.ndarray) -> np.ndarray:
    return np.asarray(probabilities)[:, malignant].sum(axis=1)


def threshold_for_sensitivity(scores: np.ndarray, positive: np.ndarray, target: float) -> float:
    """The highest threshold t with mean(scores[positive] >= t) >= target."""
    positives = np.sort(scores[positive])[::-1]
    if not len(positives):
        raise ValueError("no images of the focus label to set the threshold on")
    needed = int(np.ceil(target * len(positives)))
    return float(positives[max(needed, 1) - 1])


def measure(
    scores: np.ndarray, y: np.ndarray, threshold: float, malignant: np.ndarray, focus: int
) -> dict:
    flagged = scores >= threshold
    is_malignant = np.isin(y, np.flatnonzero(malignant))

    def rate(mask):
        return float(flagged[mask].mean()) if mask.any() else None

    return {
        "n": int(len(y)),
        "flagged": float(flagged.mean()),
        "focus_sensitivity": rate(y == focus),
        "sensitivity": rate(is_malignant),
        "specificity": (1 - rate(~is_malignant)) if (~is_malignant).any() else None,
        "n_focus": int((y == focus).sum()),
        "n_malignant": int(is_malignant.sum()),
    }


def summarise(
    task,
    val_probabilities,
    val_y,
    test_predictions: dict,
    val_shifted: dict | None = None,
    test_shifted: dict | None = None,
) -> dict:
    """``val_shifted`` / ``test_shifted``: {shift name: probabilities of the validation /
    test images under it}; with them the threshold holds the target on every shift too."""
    malignant = np.array([label.malignant for label in task.labels])
    focus = task.label_ids.index(task.risk_focus)

    def own_threshold(probabilities):
        return threshold_for_sensitivity(
            risk_scores(probabilities, malignant), val_y == focus, task.risk_sensitivity
        )

    per_condition = {"none": own_threshold(val_probabilities)}
    for name, probabilities in (val_shifted or {}).items():
        per_condition[name] = own_threshold(probabilities)
    threshold = min(NEVER_ABOVE, *per_condition.values())
    test_y = np.asarray(test_predictions["y_true"])
    result = {
        "labels": [label.id for label in task.labels if label.malignant],
        "focus": task.risk_focus,
        "target_focus_sensitivity": task.risk_sensitivity,
        "threshold": threshold,
        "rule": "sum of the probabilities of 'labels' >= threshold",
        "messages": {"high": task.risk_messages[0], "low": task.risk_messages[1]},
        "validation": measure(
            risk_scores(val_probabilities, malignant), val_y, threshold, malignant, focus
        ),
        "test": {},
    }
    for variant in ("without_metadata", "with_metadata"):
        if variant in test_predictions:
            result["test"][variant] = measure(
                risk_scores(np.asarray(test_predictions[variant]), malignant),
                test_y,
                threshold,
                malignant,
                focus,
            )
    if val_shifted:
        result["rule"] += "; set on validation unshifted and under every one of 'shifts.names'"
        result["shifts"] = {
            "names": list(val_shifted),
            "threshold_per_condition": per_condition,
            "validation": {
                name: measure(risk_scores(p, malignant), val_y, threshold, malignant, focus)
                for name, p in val_shifted.items()
            },
            "test": {
                name: measure(risk_scores(p, malignant), test_y, threshold, malignant, focus)
                for name, p in (test_shifted or {}).items()
            },
        }
    return result


def shifted_probabilities(model, task, images, shift_names) -> dict:
    """{shift name: the probabilities of ``images`` under it, given the image alone}."""
    from training.fitting.evaluate import predict_without_metadata
    from training.inputs.shifts import HELD_OUT, shifted

    return {
        name: predict_without_metadata(model, task, shifted(images, HELD_OUT[name]))
        for name in shift_names
    }


def main(argv=None) -> int:
    from training.fitting.runs import run_arguments

    set_risk(run_arguments(__doc__, argv))
    return 0


def set_risk(run: Path, data: tuple | None = None) -> dict:
    """Set and measure the risk threshold of ``run``'s model; writes ``risk.json``.
    ``data``: the run's images (``training.fitting.runs.load_run_data``), if already loaded."""
    from training.fitting.evaluate import predict_without_metadata
    from training.fitting.runs import load_run

    task, _, _, parts, model = load_run(run, data=data)
    images, _, y = parts["val"]
    shift_names = task.risk_shifts
    result = summarise(
        task,
        predict_without_metadata(model, task, images),
        y,
        json.loads((run / "test_predictions.json").read_text()),
        val_shifted=shifted_probabilities(model, task, images, shift_names),
        test_shifted=shifted_probabilities(model, task, parts["test"][0], shift_names),
    )
    (run / "risk.json").write_text(json.dumps(result, indent=1) + "\n")
    test = result["test"]["without_metadata"]
    print(
        f"[risk] threshold {result['threshold']:.4f} (validation {task.risk_focus} sensitivity "
        f"{result['validation']['focus_sensitivity']:.3f}); test without metadata: "
        f"{task.risk_focus} sensitivity {test['focus_sensitivity']:.3f}, malignant sensitivity "
        f"{test['sensitivity']:.3f}, specificity {test['specificity']:.3f}",
        flush=True,
    )
    for name, measured in result.get("shifts", {}).get("test", {}).items():
        print(
            f"[risk] test under {name}: {task.risk_focus} sensitivity "
            f"{measured['focus_sensitivity']:.3f}, specificity {measured['specificity']:.3f}",
            flush=True,
        )
    return result


if __name__ == "__main__":
    raise SystemExit(main())
