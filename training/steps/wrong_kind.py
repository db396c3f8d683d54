"""Say when an image is not of the kind a screener was made for.

    python -m training.steps.wrong_kind --run runs/TASK/NAME

A logistic-regression head on the backbone's pooled image features, fitted on
the task's training images (in kind) against other kinds of image
(``training.inputs.other_kinds``: the other tasks' images, everyday photos, documents
and screenshots, blank images, noise). It warns below its own decision boundary,
``HEAD_THRESHOLD`` (0.5: the head is fitted with balanced class weights), while that
still detects ``DETECTION_FLOOR`` of every held-out other kind; otherwise below the
score of the 1 % least in-kind validation images (the rule before, which for one
task told 30 % of other clinics' genuine images they were the wrong kind; see the
research log of its experiments). The choice between these two fixed rules is made on
the held-out other kinds, so their detection rates are not wholly unseen for the rule
chosen. False alarms are measured on the validation and test splits, detection on
held-out images of every other kind. The simplest rule, "top probability below a threshold" (set so that about
``FALSE_ALARM_TARGET`` of validation images are flagged), is measured beside it.

Writes ``wrong_kind.json`` into the run folder; ``training.exporting.convert`` puts
the head into the exported graph (output ``in_kind``) and the threshold and
measurements into ``metadata.json``.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np

HEAD_THRESHOLD = 0.5
FALSE_ALARM_TARGET = 0.01
DETECTION_FLOOR = 0.95  # of each held-out other kind, for the boundary to be used
BOUNDARY_RULE = "boundary"  # wrong_kind.json's threshold_rule: HEAD_THRESHOLD
QUANTILE_RULE = "quantile"  # FALSE_ALARM_TARGET of the validation images
FIT_IN_KIND_MAX = 3000  # in-kind training images used to fit the head
OTHER_KINDS_PER_KIND = 300


def fit_head(in_kind: np.ndarray, other: np.ndarray, seed: int = 0) -> dict:
    """Logistic regression on standardised features, folded back into one Dense layer."""
    from sklearn.linear_model import LogisticRegression

    x = np.concatenate([in_kind, other]).astype(np.float64)
    y = np.concatenate([np.ones(len(in_kind)), np.zeros(len(other))])
    mean, std = x.mean(0), x.std(0) + 1e-6
    classifier = LogisticRegression(
        C=0.1, class_weight="balanced", max_iter=5000, random_state=seed
    ).fit((x - mean) / std, y)
    weights = classifier.coef_[0] / std
    bias = float(classifier.intercept_[0] - (classifier.coef_[0] * mean / std).sum())
    return {"weights": weights.tolist(), "bias": bias}


def head_scores(head: dict, features: np.ndarray) -> np.ndarray:
    """P(in kind) as the exported sigmoid layer computes it."""
    z = features.astype(np.float64) @ np.asarray(head["weights"]) + head["bias"]
    return 1 / (1 + np.exp(-z))


def threshold_for(in_kind_scores: np.ndarray, false_alarm: float = FALSE_ALARM_TARGET) -> float:
    """The score below which about ``false_alarm`` of in-kind images fall."""
    return float(np.quantile(in_kind_scores, false_alarm))


def choose_threshold(
    val_scores: np.ndarray, other_scores: dict[str, np.ndarray]
) -> tuple[float, str]:
    """(threshold, rule): the head's boundary (``HEAD_THRESHOLD``) while it still detects at
    least ``DETECTION_FLOOR`` of every held-out other kind; else the 1 % validation
    quantile (the rule before, which catches more of them and trusts the training clinics'
    images more)."""
    caught = min(float((scores < HEAD_THRESHOLD).mean()) for scores in other_scores.values())
    if caught >= DETECTION_FLOOR:
        return HEAD_THRESHOLD, BOUNDARY_RULE
    return threshold_for(val_scores), QUANTILE_RULE


def measure(threshold: float, in_kind: np.ndarray, by_kind: dict[str, np.ndarray]) -> dict:
    """False-alarm rate on in-kind scores; detection rate (score < threshold) per other kind."""
    return {
        "threshold": threshold,
        "false_alarm_rate": float((in_kind < threshold).mean()),
        "n_in_kind": int(len(in_kind)),
        "detection_rate": {
            kind: float((scores < threshold).mean()) for kind, scores in by_kind.items()
        },
        "n_per_kind": {kind: int(len(scores)) for kind, scores in by_kind.items()},
    }


def run(
    run_dir: Path,
    data_dir: str | None = None,
    seed: int = 0,
    n_other: int = OTHER_KINDS_PER_KIND,
    data: tuple | None = None,
) -> dict:
    """Fit and measure the wrong-kind head of ``run_dir``'s model; writes ``wrong_kind.json``.
    ``data``: the run's images (``training.fitting.runs.load_run_data``), if already loaded."""
    from training.exporting.parity import model_image_size
    from training.fitting.config import config_from_json
    from training.fitting.evaluate import predict_without_metadata
    from training.fitting.model import image_features
    from training.fitting.runs import load_run
    from training.inputs.other_kinds import KIND_NAMES, other_kinds

    started = time.time()
    data_dir = data_dir or config_from_json(run_dir / "config.json").data_dir or None
    task, _, _, parts, model = load_run(run_dir, data_dir, data)
    size = model_image_size(model)
    rng = np.random.default_rng(seed)
    train_images = parts["train"][0]
    pick = np.sort(
        rng.choice(len(train_images), min(FIT_IN_KIND_MAX, len(train_images)), replace=False)
    )
    fit_other_kinds = other_kinds(task, "fit", size, data_dir, n_other, seed)
    test_other_kinds = other_kinds(task, "test", size, data_dir, n_other, seed)
    print(
        f"[wrong_kind] images ready in {time.time() - started:.0f}s; extracting features …",
        flush=True,
    )

    features = {name: image_features(model, parts[name][0]) for name in ("val", "test")}
    train_features = image_features(model, np.asarray(train_images[pick]))
    fit_other = np.concatenate(
        [image_features(model, images) for images in fit_other_kinds.values()]
    )
    test_other = {kind: image_features(model, images) for kind, images in test_other_kinds.items()}
    head = fit_head(train_features, fit_other, seed)

    def top_probability(images):
        return predict_without_metadata(model, task, images).max(1)

    val_scores = head_scores(head, features["val"])
    other_scores = {kind: head_scores(head, f) for kind, f in test_other.items()}
    head_threshold, rule = choose_threshold(val_scores, other_scores)
    val_top = top_probability(parts["val"][0])
    top_threshold = threshold_for(val_top)
    report = {
        "task": task.id,
        "method": "in_kind_head",
        "threshold_rule": rule,
        "false_alarm_target": FALSE_ALARM_TARGET,  # the max-probability rule's
        "kind_names": {kind: KIND_NAMES[kind] for kind in test_other_kinds},
        "in_kind_head": {
            "validation": measure(head_threshold, val_scores, {}),
            "test": measure(
                head_threshold,
                head_scores(head, features["test"]),
                other_scores,
            ),
        },
        "max_probability": {
            "validation": measure(top_threshold, val_top, {}),
            "test": measure(
                top_threshold,
                top_probability(parts["test"][0]),
                {kind: top_probability(images) for kind, images in test_other_kinds.items()},
            ),
        },
        "fit": {
            "in_kind": int(len(train_features)),
            "other": int(len(fit_other)),
            "other_kinds_per_kind": n_other,
        },
        "seconds": round(time.time() - started, 1),
    }
    (run_dir / "wrong_kind.json").write_text(json.dumps({**report, "head": head}, indent=1))
    for method in ("in_kind_head", "max_probability"):
        test = report[method]["test"]
        rates = ", ".join(f"{KIND_NAMES[k]} {v:.1%}" for k, v in test["detection_rate"].items())
        print(
            f"[wrong_kind {method}] threshold {test['threshold']:.4f}; false alarms on the test "
            f"split {test['false_alarm_rate']:.1%}; detected: {rates}",
            flush=True,
        )
    return report


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--run", type=Path, required=True)
    parser.add_argument("--data_dir", default=None)
    parser.add_argument(
        "--other-kinds",
        type=int,
        default=OTHER_KINDS_PER_KIND,
        help=f"images of each other kind, to fit and to test (default {OTHER_KINDS_PER_KIND})",
    )
    args = parser.parse_args(argv)
    run(args.run, args.data_dir, n_other=args.other_kinds)


if __name__ == "__main__":
    main()
