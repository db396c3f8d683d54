"""The outside check (training.exporting.outside): the exported model on images from other clinics,
through the JavaScript API, scored with the model's own thresholds."""

from __future__ import annotations

import json

import numpy as np
import pytest

from training.exporting.outside import outside_check, outside_rows, scores, summary_line
from training.inputs.data import PROJECT_ROOT, data_root
from training.inputs.tasks import TASKS

SKIN = TASKS["skin_lesion"]
INSTALLED = PROJECT_ROOT / "static" / "tfjs_model" / "skin_lesion"


def metadata():
    return json.loads((INSTALLED / "metadata.json").read_text())


def test_figures_of_known_answers():
    """Three kinds present of seven: recall, balanced accuracy over the kinds present, the
    risk sentence at the model's threshold, the warnings' rates."""
    ids = SKIN.label_ids
    mel, nv, bcc = ids.index("mel"), ids.index("nv"), ids.index("bcc")
    y = np.array([mel, mel, nv, nv, nv, bcc])
    p = np.full((6, 7), 0.01)
    p[0, mel] = 0.9  # right
    p[1, nv] = 0.9  # a melanoma called a mole
    p[1, mel] = 0.5
    p[2, nv] = 0.9
    p[3, nv] = 0.9
    p[4, mel] = 0.9  # a mole called a melanoma
    p[5, bcc] = 0.05  # right, but unsure (0.45 after normalising)
    p /= p.sum(1, keepdims=True)
    found = scores(SKIN, metadata(), p, y, in_kind=np.array([1, 1, 1, 0.1, 1, 1]))
    assert found["recall"] == {"bcc": 1.0, "mel": 0.5, "nv": pytest.approx(2 / 3)}
    assert found["balanced_accuracy"] == pytest.approx((1 + 0.5 + 2 / 3) / 3)
    assert set(found["n_per_kind"]) == {"bcc", "mel", "nv"}  # akiec etc. absent: not scored
    assert found["risk"]["focus_sensitivity"] == 1.0  # both melanomas over the threshold
    assert found["risk"]["specificity"] == pytest.approx(2 / 3)  # one mole flagged
    assert found["wrong_kind"] == pytest.approx(1 / 6)
    assert found["unsure"] == pytest.approx(1 / 6)


def test_a_small_check_sees_every_source_and_kind():
    if not (data_root() / SKIN.outside_dir).is_dir():
        pytest.skip("outside check set not available")
    rows = outside_rows(SKIN, limit=12)
    assert len(rows) == 12
    assert set(rows["source"]) == {"derm7pt", "ph2"}
    assert set(rows["dx"]) == {"mel", "nv", "bkl", "bcc", "vasc", "df"}
    assert outside_rows(TASKS["malaria"]) is None  # a task without a check set


@pytest.mark.browser
def test_the_installed_model_through_the_browser(browser):
    if not (data_root() / SKIN.outside_dir).is_dir():
        pytest.skip("outside check set not available")
    found = outside_check(SKIN, INSTALLED, limit=12, browser=browser)
    assert found["model_version"] == metadata()["version"] and found["measured_only"]
    assert found["overall"]["n"] == 12
    assert set(found["sources"]) == {"derm7pt", "ph2"}
    assert sum(s["n"] for s in found["sources"].values()) == 12
    for group in (found["overall"], *found["sources"].values()):
        assert 0 <= group["balanced_accuracy"] <= 1 and 0 <= group["wrong_kind"] <= 1
    assert "balanced accuracy" in summary_line(found)
