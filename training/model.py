"""The network: raw pixels in, class probabilities out.

Everything between the decoded image and the backbone lives in the graph:
crop to the model's aspect ratio, resize, rescale to [-1, 1]. The browser and
Python hand the model the same thing, raw RGB 0-255 of any size.
"""
from __future__ import annotations

from dataclasses import dataclass

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


def build_model(task: Task, config: ModelConfig | None = None):
    import keras
    from keras import layers

    config = config or ModelConfig()
    height, width = config.image_size or task.image_size
    image = keras.Input(shape=(None, None, 3), name=IMAGE_INPUT, dtype="float32")
    x = layers.Resizing(height, width, crop_to_aspect_ratio=True, name="resize")(image)
    x = layers.Rescaling(1 / 127.5, offset=-1.0, name="rescale")(x)
    backbone = keras.applications.MobileNet(
        input_shape=(height, width, 3), alpha=config.alpha, include_top=False,
        weights=backbone_weights(config.weights), pooling="avg")
    features = backbone(x)
    inputs = {IMAGE_INPUT: image}
    if task.metadata_size:
        metadata = keras.Input(shape=(task.metadata_size,), name=METADATA_INPUT, dtype="float32")
        inputs[METADATA_INPUT] = metadata
        m = layers.Dense(config.metadata_units, activation="relu", name="metadata_dense")(metadata)
        features = layers.Concatenate(name="features")([features, m])
    features = layers.Dropout(config.dropout, name="dropout")(features)
    probabilities = layers.Dense(len(task.labels), activation="softmax",
                                 name="probabilities")(features)
    return keras.Model(inputs=inputs, outputs=probabilities, name=f"{task.id}_mobilenet")
