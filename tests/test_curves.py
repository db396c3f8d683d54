"""ROC / precision-recall / reliability curves for the performance page."""

import numpy as np
import pytest

from training.reporting.curves import MAX_POINTS, curves, reliability


def test_reliability_of_a_calibrated_and_an_overconfident_model():
    rng = np.random.default_rng(0)
    n = 20000
    confidence = rng.uniform(0.5, 1.0, n)
    y_pred = np.zeros(n, int)
    right = rng.uniform(size=n) < confidence  # right as often as it claims
    y_true = np.where(right, 0, 1)
    probabilities = np.stack([confidence, 1 - confidence], axis=1)
    assert reliability(y_true, probabilities)["ece"] < 0.02
    overconfident = np.stack([np.full(n, 0.99), np.full(n, 0.01)], axis=1)
    result = reliability(y_true, overconfident)
    assert result["ece"] == pytest.approx(0.99 - right.mean(), abs=1e-6)
    assert sum(result["count"]) == n and y_pred.sum() == 0


def test_curves_per_class_are_thinned_and_match_the_auc():
    rng = np.random.default_rng(1)
    y_true = rng.integers(0, 3, 5000)
    logits = rng.normal(size=(5000, 3)) + 2 * np.eye(3)[y_true]
    probabilities = np.exp(logits) / np.exp(logits).sum(1, keepdims=True)
    result = curves(y_true, probabilities, ["a", "b", "c"])
    from sklearn.metrics import roc_auc_score

    for i, label in enumerate("abc"):
        roc = result["per_class"][label]["roc"]
        assert len(roc["fpr"]) <= MAX_POINTS and roc["fpr"][0] == 0 and roc["tpr"][-1] == 1
        assert roc["auc"] == pytest.approx(roc_auc_score(y_true == i, probabilities[:, i]))
        pr = result["per_class"][label]["pr"]
        assert pr["prevalence"] == pytest.approx((y_true == i).mean())


def test_a_class_without_test_images_has_no_curve():
    y_true = np.array([0, 0, 1, 1])
    probabilities = np.array([[0.9, 0.1, 0], [0.6, 0.4, 0], [0.2, 0.8, 0], [0.3, 0.7, 0]])
    assert curves(y_true, probabilities, ["a", "b", "c"])["per_class"]["c"] is None
