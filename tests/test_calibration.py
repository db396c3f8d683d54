"""Temperature scaling: recovers a known temperature, lowers ECE, and folds into the graph."""

import numpy as np
import pytest

from training.steps.calibration import (
    apply_temperature,
    fit_temperature,
    reliability,
    scale_output_layer,
    softmax,
)


def sample(temperature: float, n: int = 4000, k: int = 4, seed: int = 0):
    """Labels drawn from softmax(z); the 'model' reports softmax(z * temperature)."""
    rng = np.random.default_rng(seed)
    z = rng.normal(0, 2, (n, k))
    true_p = softmax(z)
    y = np.array([rng.choice(k, p=row) for row in true_p])
    return softmax(z * temperature), y


def test_recovers_the_temperature_of_an_overconfident_model():
    reported, y = sample(2.0)
    t = fit_temperature(reported, y)
    assert t == pytest.approx(2.0, rel=0.1)
    before, after = reliability(reported, y), reliability(apply_temperature(reported, t), y)
    assert after["ece"] < before["ece"] / 2
    assert after["nll"] < before["nll"]
    # Arg-max unchanged: accuracy does not move.
    assert (apply_temperature(reported, t).argmax(1) == reported.argmax(1)).all()


def test_a_calibrated_model_keeps_temperature_near_one_and_low_ece():
    reported, y = sample(1.0, seed=1)
    assert fit_temperature(reported, y) == pytest.approx(1.0, rel=0.1)
    diagram = reliability(reported, y)
    assert diagram["ece"] < 0.03
    assert sum(row["count"] for row in diagram["bins"]) == len(y)
    assert all(row["low"] <= row["confidence"] <= row["high"] for row in diagram["bins"])


def test_scaling_the_softmax_layer_equals_scaling_the_logits():
    from training.fitting.model import IMAGE_INPUT, ModelConfig, build_model
    from training.inputs.tasks import get_task

    model = build_model(get_task("chest_xray"), ModelConfig(image_size=(32, 32)))
    layer = model.get_layer("probabilities")
    kernel, bias = layer.get_weights()
    rng = np.random.default_rng(0)
    layer.set_weights(
        [
            rng.normal(0, 1, kernel.shape).astype("float32"),
            rng.normal(0, 1, bias.shape).astype("float32"),
        ]
    )
    images = rng.uniform(0, 255, (3, 40, 40, 3)).astype("float32")
    before = np.asarray(model({IMAGE_INPUT: images}, training=False), np.float64)
    scale_output_layer(model, 2.5)
    after = np.asarray(model({IMAGE_INPUT: images}, training=False), np.float64)
    np.testing.assert_allclose(after, apply_temperature(before, 2.5), atol=1e-5)
