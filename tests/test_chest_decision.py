"""The X-ray screener's risk threshold (issue 33): it must hold under the held-out shifts
(training.inputs.shifts), and the performance page shows it there and beside the version before.
(The prior correction that was measured and not adopted: research/tests/test_chest_decision.py.)"""

import numpy as np
import pytest

from training.inputs.shifts import HELD_OUT, shifted
from training.inputs.tasks import TASKS, get_task
from training.steps.risk import NEVER_ABOVE, summarise

XRAY = get_task("chest_xray")


def test_only_the_xray_task_sets_its_risk_threshold_under_shifts():
    assert TASKS["chest_xray"].risk_shifts == tuple(HELD_OUT)
    assert not TASKS["skin_lesion"].risk_shifts and not TASKS["malaria"].risk_shifts


def test_held_out_shifts_keep_an_xray_an_8_bit_grey_image_of_its_size():
    rng = np.random.default_rng(3)
    grey = rng.integers(0, 256, (2, 48, 40, 1), dtype=np.uint8)
    images = np.repeat(grey, 3, axis=3)
    for name, function in HELD_OUT.items():
        out = shifted(images, function)
        assert out.shape == images.shape and out.dtype == np.uint8, name
        assert (out[..., 0] == out[..., 2]).all(), name
        assert not np.array_equal(out, images), name
        np.testing.assert_array_equal(out, shifted(images, function))  # seeded


def _xray_probabilities(p_pneumonia):
    p = np.asarray(p_pneumonia, np.float64)
    return np.stack([1 - p, p], axis=1)


def test_the_risk_threshold_holds_the_target_on_every_shift_and_never_exceeds_one_half():
    rng = np.random.default_rng(4)
    y = np.array([0] * 100 + [1] * 300)
    clean = np.where(y == 1, rng.uniform(0.3, 1.0, 400), rng.uniform(0.0, 0.2, 400))
    # A shift that lowers every score: pneumonia is caught at 0.95 only further down.
    darker = clean * 0.5
    test = {"y_true": y.tolist(), "without_metadata": _xray_probabilities(clean).tolist()}
    alone = summarise(XRAY, _xray_probabilities(clean), y, test)
    assert alone["threshold"] <= NEVER_ABOVE and "shifts" not in alone
    result = summarise(
        XRAY,
        _xray_probabilities(clean),
        y,
        test,
        val_shifted={"darker": _xray_probabilities(darker)},
        test_shifted={"darker": _xray_probabilities(darker)},
    )
    per = result["shifts"]["threshold_per_condition"]
    assert result["threshold"] == pytest.approx(min(NEVER_ABOVE, per["none"], per["darker"]))
    assert result["threshold"] < alone["threshold"]
    for measured in (result["validation"], result["shifts"]["validation"]["darker"]):
        assert measured["focus_sensitivity"] >= 0.95
    assert result["shifts"]["names"] == ["darker"]
    assert result["shifts"]["test"]["darker"]["n"] == 400
    # The normal recall it costs is measured, not assumed.
    assert 0 <= result["shifts"]["test"]["darker"]["specificity"] <= 1


def _risk_file(threshold, none, shifted, per_condition):
    """A risk.json as training.steps.risk writes it: (sensitivity, specificity) pairs."""

    def measured(pair):
        return {
            "n": 746,
            "flagged": 0.7,
            "focus_sensitivity": pair[0],
            "sensitivity": pair[0],
            "specificity": pair[1],
            "n_focus": 554,
            "n_malignant": 554,
        }

    found = {
        "labels": ["pneumonia"],
        "focus": "pneumonia",
        "target_focus_sensitivity": 0.95,
        "threshold": threshold,
        "messages": {"high": "Worth showing.", "low": "Nothing found."},
        "validation": measured(none),
        "test": {"without_metadata": measured(none)},
    }
    if shifted:
        found["shifts"] = {
            "names": list(shifted),
            "threshold_per_condition": per_condition,
            "validation": {name: measured(pair) for name, pair in shifted.items()},
            "test": {name: measured(pair) for name, pair in shifted.items()},
        }
    return found


def test_the_performance_tables_show_the_rule_under_shifts_and_before_and_now():
    from training.reporting import rule_tables as site_tables

    metadata = {
        "labels": [
            {"id": "normal", "name": "No pneumonia seen"},
            {"id": "pneumonia", "name": "Pneumonia"},
        ]
    }
    now = _risk_file(
        0.16,
        (0.99, 0.95),
        {"equalize": (0.93, 0.98), "sharpen": (1.0, 0.87)},
        {"none": 0.8, "equalize": 0.16, "sharpen": 0.77},
    )
    before = {
        **_risk_file(0.5, (0.97, 0.98), {"equalize": (0.85, 1.0), "sharpen": (0.99, 0.85)}, {}),
        "version": "39d29deebd7f",
    }
    facts, tables = site_tables.risk(now, metadata, before)
    assert facts["shifts"] == 2 and facts["set_by_shifts"] is True
    assert facts["previous_version"] == "39d29deebd7f" and facts["previous_threshold"] == "50.0%"
    by_id = {t["id"]: t for t in tables}
    shifts = by_id["risk-shifts"]
    assert [r["data"]["condition"] for r in shifts["rows"]] == [
        "none",
        "equalize",
        "sharpen",
        "mean",
        "worst",
    ]
    assert [c["text"] for c in shifts["rows"][-1]["cells"]] == ["93.0%", "87.0%"]
    change = by_id["risk-change"]
    assert [c["text"] for c in change["rows"][0]["cells"]] == ["97.0%", "98.0%", "99.0%", "95.0%"]
    assert [c["text"] for c in change["rows"][1]["cells"]] == ["92.0%", "92.5%", "96.5%", "92.5%"]
    # Without shifts (the skin and malaria models): the rule's table alone, as before.
    facts, tables = site_tables.risk(_risk_file(0.5, (0.97, 0.98), {}, {}), metadata, before)
    assert "shifts" not in facts and [t["id"] for t in tables] == ["risk"]
    # A threshold the cap set, not the shifts, is not said to be set by them.
    capped = _risk_file(
        0.5, (0.99, 0.95), {"equalize": (0.96, 0.98)}, {"none": 0.8, "equalize": 0.6}
    )
    assert site_tables.risk(capped, metadata)[0]["set_by_shifts"] is False
