"""The balanced-accuracy decision rule (offsets on the softmax bias)."""

import numpy as np
import pytest

from research.decision import add_output_bias, balanced_accuracy, fit_offsets


def test_offsets_recover_a_rare_class_that_argmax_misses():
    rng = np.random.default_rng(0)
    y = np.array([0] * 900 + [1] * 100)
    # The rare class 1 scores higher on its own images, but never above class 0.
    p1 = np.where(y == 1, rng.uniform(0.3, 0.45, len(y)), rng.uniform(0.0, 0.2, len(y)))
    probabilities = np.stack([1 - p1, p1], axis=1)
    assert balanced_accuracy(y, probabilities) == pytest.approx(0.5)
    offsets, score = fit_offsets(probabilities, y)
    assert offsets[0] == 0 and offsets[1] > 0
    assert score > 0.95


def test_bias_offsets_shift_the_softmax_as_log_p_plus_b():
    import keras

    inputs = keras.Input((3,))
    model = keras.Model(
        inputs, keras.layers.Dense(2, activation="softmax", name="probabilities")(inputs)
    )
    x = np.random.default_rng(1).normal(size=(5, 3)).astype("float32")
    before = np.asarray(model(x))
    add_output_bias(model, np.array([0.0, 1.0]))
    after = np.asarray(model(x))
    expected = before * np.exp([0.0, 1.0])
    np.testing.assert_allclose(after, expected / expected.sum(1, keepdims=True), rtol=1e-5)
