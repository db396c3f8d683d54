"""The 'wrong kind of image' rule: images of other kinds, the fitted head, its threshold, the export."""

from pathlib import Path

import numpy as np
import pytest

from training.fitting.model import (
    CLASS_MAP_OUTPUT,
    IMAGE_INPUT,
    IN_KIND_OUTPUT,
    METADATA_INPUT,
    ModelConfig,
    browser_model,
    build_model,
)
from training.inputs.encoding import blank_metadata
from training.inputs.other_kinds import KIND_NAMES, blanks, documents, noise, other_kinds
from training.inputs.preprocess import decode_image
from training.inputs.tasks import get_task
from training.steps.wrong_kind import fit_head, head_scores, measure, threshold_for

TASK = get_task("skin_lesion")
SAMPLES = Path(__file__).parent / "data" / "ham10000"


def test_head_separates_two_feature_clouds_and_matches_its_dense_form():
    rng = np.random.default_rng(0)
    inside = rng.normal(1.0, 0.5, (200, 16))
    outside = rng.normal(-1.0, 0.5, (300, 16))
    head = fit_head(inside, outside)
    assert head_scores(head, inside).mean() > 0.9
    assert head_scores(head, outside).mean() < 0.1
    # The folded weights act on raw (unstandardised) features.
    z = inside @ np.asarray(head["weights"]) + head["bias"]
    np.testing.assert_allclose(head_scores(head, inside), 1 / (1 + np.exp(-z)))


def test_threshold_flags_the_target_share_of_in_kind_scores():
    scores = np.linspace(0, 1, 1001)
    threshold = threshold_for(scores, 0.05)
    result = measure(threshold, scores, {"noise": np.zeros(10), "photo": np.ones(10)})
    assert result["false_alarm_rate"] == pytest.approx(0.05, abs=0.002)
    assert result["detection_rate"] == {"noise": 1.0, "photo": 0.0}
    assert result["n_per_kind"] == {"noise": 10, "photo": 10}


def test_synthetic_other_kinds_have_the_task_size_and_vary():
    rng = np.random.default_rng(1)
    for make in (documents, blanks, noise):
        images = make(6, (40, 56), rng)
        assert images.shape == (6, 40, 56, 3) and images.dtype == np.uint8
        assert len({image.tobytes() for image in images}) == 6


def test_other_kinds_fit_and_test_parts_are_disjoint_and_named():
    size = (32, 32)
    fit = other_kinds(TASK, "fit", size, n=12)
    test = other_kinds(TASK, "test", size, n=12)
    assert set(fit) == set(test) == {"chest_xray", "malaria", "photo", "document", "blank", "noise"}
    assert all(kind in KIND_NAMES for kind in fit)
    for kind in fit:
        assert fit[kind].shape[1:] == (32, 32, 3) and len(fit[kind]) == 12
        shared = {a.tobytes() for a in fit[kind]} & {b.tobytes() for b in test[kind]}
        assert not shared, kind


def test_browser_model_keeps_the_probabilities_and_adds_the_score_and_class_map():
    config = ModelConfig(image_size=(64, 64))
    model = build_model(TASK, config)
    rng = np.random.default_rng(2)
    head = {"weights": rng.normal(0, 0.1, 256).tolist(), "bias": 0.3}
    combined = browser_model(model, TASK, config, head)
    image = decode_image(next(SAMPLES.glob("*.jpg"))).astype("float32")[None]
    feeds = {IMAGE_INPUT: image, METADATA_INPUT: blank_metadata(TASK)[None]}
    out = combined(feeds, training=False)
    np.testing.assert_allclose(
        np.asarray(out["probabilities"]), np.asarray(model(feeds, training=False)), atol=1e-6
    )
    from training.fitting.model import image_features

    expected = head_scores(head, image_features(model, image))
    np.testing.assert_allclose(np.asarray(out[IN_KIND_OUTPUT])[:, 0], expected, atol=1e-5)
    # The class map's mean over its places is each class's image logit: the
    # head's logits (log-probabilities up to a constant) minus the metadata part.
    maps = np.asarray(out[CLASS_MAP_OUTPUT])[0]
    assert maps.shape == (2, 2, len(TASK.labels))
    dense = model.get_layer("probabilities")
    kernel, bias = dense.get_weights()
    meta_part = np.asarray(model.get_layer("metadata_dense")(blank_metadata(TASK)[None]))[0]
    logits = maps.mean(axis=(0, 1)) + meta_part @ kernel[256:] + bias
    expected_p = np.exp(logits - logits.max()) / np.exp(logits - logits.max()).sum()
    np.testing.assert_allclose(expected_p, np.asarray(out["probabilities"])[0], atol=1e-5)


def test_the_boundary_is_used_while_it_catches_every_other_kind():
    """The head's own boundary (0.5) unless some held-out kind would slip past it too
    often; then the 1 % validation quantile, which catches more of them."""
    import numpy as np

    from training.steps.wrong_kind import (
        BOUNDARY_RULE,
        DETECTION_FLOOR,
        HEAD_THRESHOLD,
        QUANTILE_RULE,
        choose_threshold,
    )

    val = np.linspace(0.90, 1.0, 101)
    far = {"photo": np.full(100, 0.01), "noise": np.full(100, 0.2)}
    assert choose_threshold(val, far) == (HEAD_THRESHOLD, BOUNDARY_RULE)
    slipping = int(100 * (1 - DETECTION_FLOOR)) + 1  # one more than the floor allows
    near = {**far, "document": np.r_[np.full(100 - slipping, 0.1), np.full(slipping, 0.7)]}
    threshold, rule = choose_threshold(val, near)
    assert rule == QUANTILE_RULE and threshold == pytest.approx(np.quantile(val, 0.01))
    assert (near["document"] < threshold).all()  # all caught at the quantile
