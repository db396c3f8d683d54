"""The risk summary's threshold and its measurement."""

import numpy as np
import pytest

from training.inputs.tasks import get_task
from training.steps.risk import measure, risk_scores, summarise, threshold_for_sensitivity

TASK = get_task("skin_lesion")


def test_threshold_catches_the_target_share_of_positives():
    rng = np.random.default_rng(0)
    scores = rng.uniform(0, 1, 1000)
    positive = rng.uniform(0, 1, 1000) < 0.2
    t = threshold_for_sensitivity(scores, positive, 0.9)
    caught = (scores[positive] >= t).mean()
    assert caught >= 0.9
    assert caught - 0.9 < 1 / positive.sum() + 1e-9  # the highest such threshold


def test_scores_sum_the_malignant_labels_and_measure_counts_them():
    malignant = np.array([label.malignant for label in TASK.labels])
    assert [l for l, m in zip(TASK.label_ids, malignant) if m] == ["akiec", "bcc", "mel"]
    p = np.zeros((4, 7))
    p[0, TASK.label_ids.index("mel")] = 0.6  # melanoma, flagged
    p[1, TASK.label_ids.index("nv")] = 0.9  # mole, not flagged
    p[2, TASK.label_ids.index("bcc")] = 0.3  # bcc, missed at 0.5
    p[3, TASK.label_ids.index("akiec")] = 0.7  # a benign keratosis scored as akiec: false alarm
    scores = risk_scores(p, malignant)
    np.testing.assert_allclose(scores, [0.6, 0.0, 0.3, 0.7])
    y = np.array([TASK.label_ids.index(l) for l in ("mel", "nv", "bcc", "bkl")])
    m = measure(scores, y, 0.5, malignant, TASK.label_ids.index("mel"))
    assert m["focus_sensitivity"] == 1.0 and m["sensitivity"] == 0.5
    assert m["specificity"] == 0.5 and m["flagged"] == 0.5


def test_summary_sets_threshold_on_validation_and_reports_test_variants():
    rng = np.random.default_rng(1)
    val_y = rng.integers(0, 7, 500)
    val_p = rng.dirichlet(np.ones(7), 500)
    val_p[np.arange(500), val_y] += 1.0
    val_p /= val_p.sum(1, keepdims=True)
    test = {
        "y_true": val_y.tolist(),
        "without_metadata": val_p.tolist(),
        "with_metadata": val_p.tolist(),
    }
    result = summarise(TASK, val_p, val_y, test)
    assert result["validation"]["focus_sensitivity"] >= 0.9
    assert set(result["test"]) == {"without_metadata", "with_metadata"}
    assert result["messages"]["high"].startswith("Worth showing")
    assert result["test"]["without_metadata"]["focus_sensitivity"] == pytest.approx(
        result["validation"]["focus_sensitivity"]
    )
