"""Curves for the performance page, from a run's test predictions.

    python -m training.reporting.curves reports/<task>      # reads test_predictions.json, writes curves.json

Per class (one-vs-rest): ROC curve and AUC, precision–recall curve and average
precision; overall: a reliability diagram (confidence of the top class vs how
often it was right, in 10 bins) and the expected calibration error. Computed
for each variant in the predictions (with / without metadata). Curves are
thinned to at most ``MAX_POINTS`` points so the site stays light.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np

MAX_POINTS = 200
BINS = 10


def _thin(*arrays):
    n = len(arrays[0])
    if n <= MAX_POINTS:
        return [np.round(a, 4).tolist() for a in arrays]
    keep = np.unique(np.linspace(0, n - 1, MAX_POINTS).round().astype(int))
    return [np.round(a[keep], 4).tolist() for a in arrays]


def reliability(y_true: np.ndarray, probabilities: np.ndarray, bins: int = BINS) -> dict:
    confidence = probabilities.max(axis=1)
    correct = (probabilities.argmax(axis=1) == y_true).astype(float)
    edges = np.linspace(0, 1, bins + 1)
    which = np.clip(np.digitize(confidence, edges[1:-1]), 0, bins - 1)
    rows = {
        "bin_lower": edges[:-1].round(2).tolist(),
        "bin_upper": edges[1:].round(2).tolist(),
        "count": [],
        "confidence": [],
        "accuracy": [],
    }
    ece = 0.0
    for b in range(bins):
        mask = which == b
        rows["count"].append(int(mask.sum()))
        if mask.any():
            conf, acc = float(confidence[mask].mean()), float(correct[mask].mean())
            ece += mask.mean() * abs(conf - acc)
        else:
            conf = acc = None
        rows["confidence"].append(conf)
        rows["accuracy"].append(acc)
    rows["ece"] = float(ece)
    return rows


def curves(y_true: np.ndarray, probabilities: np.ndarray, labels: list[str]) -> dict:
    from sklearn.metrics import auc, average_precision_score, precision_recall_curve, roc_curve

    per_class = {}
    for i, label in enumerate(labels):
        positives = y_true == i
        if not 0 < positives.sum() < len(y_true):
            per_class[label] = None
            continue
        fpr, tpr, _ = roc_curve(positives, probabilities[:, i])
        precision, recall, _ = precision_recall_curve(positives, probabilities[:, i])
        fpr_t, tpr_t = _thin(fpr, tpr)
        recall_t, precision_t = _thin(recall[::-1], precision[::-1])
        per_class[label] = {
            "roc": {"fpr": fpr_t, "tpr": tpr_t, "auc": float(auc(fpr, tpr))},
            "pr": {
                "recall": recall_t,
                "precision": precision_t,
                "average_precision": float(average_precision_score(positives, probabilities[:, i])),
                "prevalence": float(positives.mean()),
            },
        }
    return {"per_class": per_class, "reliability": reliability(y_true, probabilities)}


def from_predictions(predictions: dict, labels: list[str]) -> dict:
    y_true = np.asarray(predictions["y_true"])
    out = {"labels": labels, "n": int(len(y_true))}
    for variant in ("with_metadata", "without_metadata"):
        if variant in predictions:
            out[variant] = curves(y_true, np.asarray(predictions[variant]), labels)
    return out


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if len(argv) != 1:
        print(__doc__, file=sys.stderr)
        return 2
    folder = Path(argv[0])
    predictions = json.loads((folder / "test_predictions.json").read_text())
    labels = json.loads((folder / "report.json").read_text())["labels"]
    (folder / "curves.json").write_text(json.dumps(from_predictions(predictions, labels)) + "\n")
    print(f"wrote {folder / 'curves.json'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
