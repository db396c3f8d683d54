"""Custom Keras layers of the screening network (registered, so saved models load).

Import this module before loading a model that uses them;
``training.model.load_model`` does.
"""
from __future__ import annotations

import keras
from keras import ops


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
        light = ops.power(ops.mean(ops.power(unit, self.power), axis=(1, 2), keepdims=True)
                          + 1e-12, 1.0 / self.power)
        # A unit vector times √3: a grey light (equal channels) leaves the image unchanged.
        light = light / ops.sqrt(ops.sum(light * light, axis=-1, keepdims=True) / 3.0)
        return ops.clip(unit / (light + 1e-6), 0.0, 1.0) * 255.0

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "power": self.power}
