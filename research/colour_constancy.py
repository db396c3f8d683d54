"""Shades-of-Gray colour constancy inside the graph (``python -m research.train
--colour_constancy shades_of_gray …``).

Images taken under warmer or bluer light, or with another camera's white balance, are made
to look alike before the backbone. Measured on the lesion task (leave-one-source-out and on
the shipped split) and not adopted: skin_lesion/experiments.md, "Other collections:
leave-one-source-out, and Shades of Gray" (loso_sog.json in skin_lesion/results/).

Importing this module registers the layer, so saved networks that have it (runs made
with the old ``--model.colour_constancy shades_of_gray``) load with
``training.fitting.model.load_model``.
"""

from __future__ import annotations

import keras
from keras import ops

COLOUR_CONSTANCY = ("none", "shades_of_gray")


@keras.saving.register_keras_serializable(package="screener")
class ShadesOfGray(keras.layers.Layer):
    """Colour constancy by Shades of Gray (Finlayson & Trezzi, 2004), per image.

    The light's colour is estimated as the Minkowski p-norm mean of each channel
    (p = 1: grey world, p → ∞: white patch; p = 6 as in the ISIC 2018 winning
    entries) and divided out, so that images taken under warmer or bluer light,
    or with another camera's white balance, look alike. Raw RGB 0-255 in and
    out (clipped), inside the graph, so the browser needs nothing new.
    """

    def __init__(self, power: float = 6.0, **kwargs):
        super().__init__(**kwargs)
        self.power = float(power)

    def call(self, x):
        unit = ops.clip(x, 0.0, 255.0) / 255.0
        light = ops.power(
            ops.mean(ops.power(unit, self.power), axis=(1, 2), keepdims=True) + 1e-12,
            1.0 / self.power,
        )
        # A unit vector times √3: a grey light (equal channels) leaves the image unchanged.
        light = light / ops.sqrt(ops.sum(light * light, axis=-1, keepdims=True) / 3.0)
        return ops.clip(unit / (light + 1e-6), 0.0, 1.0) * 255.0

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "power": self.power}


def with_shades_of_gray(model):
    """``model`` (a network of ``training.fitting.model.build_model``) with a ``ShadesOfGray`` layer
    named ``colour_constancy`` right after its ``resize`` step, where the old
    ``--model.colour_constancy shades_of_gray`` put it; the other layers (and their
    weights) are the same objects."""

    def call(layer, *args, **kwargs):
        out = layer(*args, **kwargs)
        if layer.name == "resize":
            out = ShadesOfGray(name="colour_constancy")(out)
        return out

    return keras.models.clone_model(model, clone_function=lambda layer: layer, call_function=call)


def build_model(task, model_config, colour_constancy: str = "shades_of_gray", **kwargs):
    """``training.fitting.model.build_model`` with the given colour constancy ("none": unchanged)."""
    from training.fitting.model import build_model as product_build_model

    if colour_constancy not in COLOUR_CONSTANCY:
        raise ValueError(
            f"colour_constancy must be one of {COLOUR_CONSTANCY}, got {colour_constancy!r}"
        )
    model = product_build_model(task, model_config, **kwargs)
    return with_shades_of_gray(model) if colour_constancy == "shades_of_gray" else model
