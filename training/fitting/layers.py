"""Custom Keras layers of the screening network (registered, so saved models load).

Import this module before loading a model that uses them;
``training.fitting.model.load_model`` does.
"""

from __future__ import annotations

import keras
from keras import ops

MIRRORS = 4  # the image, its left-right and up-down mirrors, its 180° turn


def _mirrored(x, view: int, axes=(1, 2)):
    """View ``view`` of a batch (N, H, W, C); each view is its own inverse."""
    rows, cols = axes
    if view in (1, 3):
        x = ops.flip(x, axis=cols)
    if view in (2, 3):
        x = ops.flip(x, axis=rows)
    return x


@keras.saving.register_keras_serializable(package="screener")
class MirrorViews(keras.layers.Layer):
    """Test-time mirrors, part 1: at inference the batch (N raw images) becomes its
    ``MIRRORS`` views stacked (4N images: as given, left-right, up-down, both).
    (In the graph exported to the browser this layer is left out and the
    JavaScript hands the views: ``static/js/tta.js``.)
    In training the batch passes unchanged (the augmentation already flips).
    ``MeanOfViews`` after the backbone folds the views back into one answer.
    """

    def call(self, x, training=None):
        if training:
            return x
        return ops.concatenate([_mirrored(x, view) for view in range(MIRRORS)], axis=0)

    def compute_output_shape(self, input_shape):
        return input_shape


@keras.saving.register_keras_serializable(package="screener")
class MeanOfViews(keras.layers.Layer):
    """Test-time mirrors, part 2: the mean of each image's views (4N → N).

    On pooled features (N·4, C) a plain mean; on feature maps (N·4, h, w, C)
    (``spatial=True``) each view's map is mirrored back first, so the mean map
    lines up with the image as given (the class activation map) and its mean
    over the places equals the mean of the views' pooled features. A linear
    head on the mean features gives the mean of the views' logits, i.e. the
    softmax of the mean log-probability. Identity in training.
    """

    def __init__(self, spatial: bool = False, **kwargs):
        super().__init__(**kwargs)
        self.spatial = bool(spatial)

    def call(self, x, training=None):
        if training:
            return x
        views = ops.split(x, MIRRORS, axis=0)
        if self.spatial:
            views = [_mirrored(v, view) for view, v in enumerate(views)]
        return sum(views[1:], views[0]) / float(MIRRORS)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "spatial": self.spatial}
