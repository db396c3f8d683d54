"""Losses tried instead of the shipped cross-entropy (``python -m research.train``).

- **Focal loss** (Lin et al. 2017, ``--focal_gamma γ``): each image's cross-entropy times
  (1 - p_true)^γ, which down-weights the images the network already gets right.
- **Logit-adjusted loss** (Menon et al. 2021, ``--imbalance logit_adjusted [--logit_tau τ]``,
  with natural batches): cross-entropy of softmax(z + τ·log π), so that softmax(z) itself is
  the balanced predictor.

Both were measured on the skin-lesion task and not adopted (skin_lesion/experiments.md:
"Input resolution, CutMix, focal loss, peak learning rate" and "Logit-adjusted loss
instead of balanced sampling").
"""

from __future__ import annotations

import functools

import numpy as np


def focal_loss(gamma: float, label_smoothing: float = 0.0):
    if gamma < 0:
        raise ValueError(f"focal_gamma must be >= 0, got {gamma}")
    import keras

    return keras.losses.CategoricalFocalCrossentropy(
        alpha=1.0, gamma=gamma, label_smoothing=label_smoothing
    )


def logit_adjusted_loss(class_counts, tau: float = 1.0, label_smoothing: float = 0.0):
    """The logit-adjusted loss whose prior is the training labels' share per class."""
    if class_counts is None or min(class_counts) < 1:
        raise ValueError("the logit-adjusted loss needs every class in the training labels")
    counts = np.asarray(class_counts, float)
    return LogitAdjustedCrossentropy(counts / counts.sum(), tau, label_smoothing)


@functools.cache
def _logit_adjusted_class():
    import keras

    @keras.saving.register_keras_serializable(package="screener")
    class LogitAdjustedCrossentropy(keras.losses.Loss):
        """Cross-entropy of softmax(z + τ·log π) for a model whose output is softmax(z)
        (Menon et al. 2021, "Long-tail learning via logit adjustment"). Training on the
        natural class mix with this loss makes softmax(z) itself the balanced predictor:
        the arg-max that minimises the mean per-class error, with no offsets to fit
        afterwards. Computed from the probabilities: log p + τ·log π differs from
        z + τ·log π by a constant per image, which the softmax ignores."""

        def __init__(self, prior, tau=1.0, label_smoothing=0.0, name="logit_adjusted", **kw):
            super().__init__(name=name, **kw)
            self.prior = [float(v) for v in prior]
            self.tau = float(tau)
            self.label_smoothing = float(label_smoothing)
            self._shift = keras.ops.convert_to_tensor(
                self.tau * np.log(np.asarray(self.prior, np.float32)), "float32"
            )

        def call(self, y_true, y_pred):
            ops = keras.ops
            logits = ops.log(ops.clip(y_pred, 1e-7, 1.0)) + self._shift
            return keras.losses.categorical_crossentropy(
                y_true, logits, from_logits=True, label_smoothing=self.label_smoothing
            )

        def get_config(self):
            return {
                "prior": self.prior,
                "tau": self.tau,
                "label_smoothing": self.label_smoothing,
                "name": self.name,
            }

    return LogitAdjustedCrossentropy


def LogitAdjustedCrossentropy(prior, tau=1.0, label_smoothing=0.0):
    """See ``_logit_adjusted_class`` (built on first use: Keras is imported lazily)."""
    return _logit_adjusted_class()(prior, tau, label_smoothing)
