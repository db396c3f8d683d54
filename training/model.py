"""The network: raw pixels in, class probabilities out.

Everything between the decoded image and the backbone lives in the graph:
crop to the model's aspect ratio, resize, rescale to [-1, 1]. The browser and
Python hand the model the same thing, raw RGB 0-255 of any size.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from training.tasks import Task

IMAGE_INPUT = "image"
METADATA_INPUT = "metadata"


@dataclass
class ModelConfig:
    alpha: float = 0.25
    weights: str = "none"          # "none", "imagenet" (downloaded by Keras) or a .h5 path
    dropout: float = 0.2
    metadata_units: int = 32
    image_size: tuple[int, int] | None = None   # (height, width); default: the task's


def backbone_weights(weights: str):
    """Keras' ``weights=`` argument for our setting; a path must exist."""
    from pathlib import Path
    if weights in ("none", "", None):
        return None
    if weights == "imagenet":
        return "imagenet"
    if not Path(weights).is_file():
        raise FileNotFoundError(f"backbone weights file not found: {weights} "
                                "(give a .h5 path, 'imagenet' or 'none')")
    return str(weights)


IN_KIND_OUTPUT = "in_kind"
LUMA = (0.299, 0.587, 0.114)


def build_model(task: Task, config: ModelConfig | None = None, in_kind_head: bool = False):
    """The screening network; with ``in_kind_head`` it has two named outputs,
    ``probabilities`` and ``in_kind`` (a logistic score on the pooled image
    features: is this image of the task's kind? see ``training.doubt``)."""
    import keras
    from keras import layers

    config = config or ModelConfig()
    height, width = config.image_size or task.image_size
    image = keras.Input(shape=(None, None, 3), name=IMAGE_INPUT, dtype="float32")
    x = layers.Resizing(height, width, crop_to_aspect_ratio=True, name="resize")(image)
    x = layers.Rescaling(1 / 127.5, offset=-1.0, name="rescale")(x)
    gray = None
    if task.grayscale:
        # A fixed 1×1 convolution: each output channel = luma (BT.601). After the
        # rescaling (the same, as the weights sum to 1): before it, the TF.js
        # converter fuses the rescaling's offset into a bias tfjs cannot run.
        gray = layers.Conv2D(3, 1, use_bias=False, trainable=False, name="grayscale")
        x = gray(x)
    backbone = keras.applications.MobileNet(
        input_shape=(height, width, 3), alpha=config.alpha, include_top=False,
        weights=backbone_weights(config.weights), pooling="avg")
    features = pooled = backbone(x)
    inputs = {IMAGE_INPUT: image}
    if task.metadata_size:
        metadata = keras.Input(shape=(task.metadata_size,), name=METADATA_INPUT, dtype="float32")
        inputs[METADATA_INPUT] = metadata
        m = layers.Dense(config.metadata_units, activation="relu", name="metadata_dense")(metadata)
        features = layers.Concatenate(name="features")([features, m])
    features = layers.Dropout(config.dropout, name="dropout")(features)
    probabilities = layers.Dense(len(task.labels), activation="softmax",
                                 name="probabilities")(features)
    outputs = probabilities
    if in_kind_head:
        in_kind = layers.Dense(1, activation="sigmoid", name=IN_KIND_OUTPUT)(pooled)
        outputs = {"probabilities": probabilities, IN_KIND_OUTPUT: in_kind}
    model = keras.Model(inputs=inputs, outputs=outputs, name=f"{task.id}_mobilenet")
    if gray is not None:
        gray.set_weights([np.tile(np.array(LUMA, np.float32)[None, None, :, None], (1, 1, 1, 3))])
    return model


def backbone_of(model):
    """The MobileNet inside ``model`` (a nested Keras model)."""
    import keras
    return next(layer for layer in model.layers if isinstance(layer, keras.Model))


def image_features(model, images, batch_size: int = 64):
    """The backbone's pooled features of raw 0-255 images (N, H, W, 3), as numpy.

    (Always ``training=False``: a nested backbone called without it runs its
    BatchNorm layers on batch statistics, also inside ``model(x)``.)
    """
    import keras
    from keras import ops
    backbone = backbone_of(model)
    # The steps before the backbone, in the graph's (topological) order.
    steps = [layer for layer in model.layers[:model.layers.index(backbone)]
             if not isinstance(layer, keras.layers.InputLayer)]
    out = []
    for start in range(0, len(images), batch_size):
        x = np.asarray(images[start:start + batch_size], dtype=np.float32)
        for step in steps:
            x = step(x)
        out.append(ops.convert_to_numpy(backbone(x, training=False)))
    return np.concatenate(out)
