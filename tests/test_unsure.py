"""The 'model is unsure' rule: a top-probability threshold set on validation."""

import numpy as np

from training.steps.unsure import MAX_ACCURACY_BELOW, measure, summarise, threshold_for


def test_threshold_is_where_the_model_is_mostly_wrong_below():
    rng = np.random.default_rng(0)
    top = rng.uniform(0.3, 1.0, 2000)
    correct = rng.uniform(size=2000) < top**3  # less confident, more often wrong
    t = threshold_for(top, correct)
    assert t is not None and 0.3 < t < 1.0
    assert correct[top < t].mean() <= MAX_ACCURACY_BELOW
    # One step higher, the images below it are right more often than the rule allows.
    assert correct[top < t + 0.01].mean() > MAX_ACCURACY_BELOW or t + 0.01 > 0.95


def test_no_threshold_when_the_model_is_right_at_every_confidence():
    top = np.linspace(0.3, 1.0, 500)
    assert threshold_for(top, np.ones(500, bool)) is None


def test_summary_measures_the_test_split_with_the_validation_threshold():
    # Three classes; validation: unsure images (top 0.4) are wrong, confident ones right.
    val_p = np.array([[0.4, 0.35, 0.25]] * 30 + [[0.6, 0.2, 0.2]] * 70)
    val_y = np.array([1] * 30 + [0] * 70)
    test = {
        "y_true": [0, 1, 0, 0],
        "without_metadata": [[0.4, 0.3, 0.3], [0.45, 0.3, 0.25], [0.8, 0.1, 0.1], [0.2, 0.7, 0.1]],
    }
    result = summarise(val_p, val_y, test)
    assert result["threshold"] == 0.6
    m = result["test"]["without_metadata"]
    assert m["n_flagged"] == 2 and m["flagged"] == 0.5
    assert m["accuracy_flagged"] == 0.5 and m["accuracy_not_flagged"] == 0.5
    assert (
        measure(np.asarray(test["without_metadata"]), np.asarray(test["y_true"]), None)["n_flagged"]
        == 0
    )
