"""The inference form of a trained network, for export: the same answers, fewer ops.

``fold_for_inference(model)`` returns a copy of a Keras model in which

- every ``BatchNormalization`` that follows a ``Conv2D`` or ``DepthwiseConv2D``
  without activation (its only consumer, on the channel axis) is folded into that convolution's
  kernel and bias;
- every ``ZeroPadding2D`` in front of a ``"valid"`` strided convolution (its only
  consumer) that pads exactly as ``"same"`` would for its fixed input size (MobileNet's
  ``((0, 1), (0, 1))`` before a stride-2 3×3 on an even size) becomes that
  convolution's ``"same"`` padding.

The TF.js converter already folds a batch norm into a ``Conv2D``, but not into a
depthwise convolution: there each batch norm stays a ``Multiply`` and an ``Add``
over the whole feature map, each padding a ``PadV2`` copy, and the ``Relu6`` a kernel
of its own. Folded, the converter fuses convolution, bias and activation into one
kernel (``FusedDepthwiseConv2dNative``). ``python -m training.exporting.convert`` exports the
folded form and its parity check compares it with the unfolded Keras model.
"""

from __future__ import annotations

import numpy as np


def _producer(layer):
    """The layer whose output is ``layer``'s only input, or None."""
    nodes = layer._inbound_nodes
    if len(nodes) != 1 or len(nodes[0].parent_nodes) != 1:
        return None
    return nodes[0].parent_nodes[0].operation


def _single_consumer(layer) -> bool:
    return len(layer._inbound_nodes) == 1 and len(layer._outbound_nodes) == 1


def _same_padding(size: int, kernel: int, stride: int) -> tuple[int, int]:
    """The (before, after) padding TensorFlow's ``"same"`` gives one axis."""
    out = -(-size // stride)
    total = max((out - 1) * stride + kernel - size, 0)
    return total // 2, total - total // 2


def _plan(model) -> tuple[dict, dict, set]:
    """Names to fold, found in ``model`` and its nested models: {conv: batch norm},
    {conv: "same"} and the layers the copy skips (folded batch norms and paddings)."""
    import keras

    convolutions = (keras.layers.Conv2D, keras.layers.DepthwiseConv2D)
    norms, paddings, skipped = {}, {}, set()
    for layer in all_layers(model):
        if isinstance(layer, keras.layers.BatchNormalization):
            conv = _producer(layer)
            if (
                isinstance(conv, convolutions)
                and _single_consumer(conv)
                and conv.get_config()["activation"] == "linear"
                and layer.axis in (-1, 3)
                and conv.data_format == "channels_last"
            ):
                norms[conv.name] = layer
                skipped.add(layer.name)
        if isinstance(layer, convolutions) and layer.padding == "valid":
            pad = _producer(layer)
            if not isinstance(pad, keras.layers.ZeroPadding2D) or not _single_consumer(pad):
                continue
            shape = pad.input.shape  # (batch, rows, cols, channels)
            if layer.data_format != "channels_last" or None in shape[1:3]:
                continue
            wanted = tuple(
                _same_padding(shape[axis], layer.kernel_size[i], layer.strides[i])
                for i, axis in enumerate((1, 2))
            )
            if tuple(tuple(p) for p in pad.padding) == wanted and layer.dilation_rate == (1, 1):
                paddings[layer.name] = "same"
                skipped.add(pad.name)
    return norms, paddings, skipped


def paddings_left(model) -> list[str]:
    """The names of ``model``'s ``ZeroPadding2D`` layers that the fold keeps: those whose
    padding no ``"same"`` can give (e.g. MobileNet's ``((0, 1), (0, 1))`` on an odd side:
    at an input of 150 × 200 every stride-2 padding of V1 meets one)."""
    import keras

    _, _, skipped = _plan(model)
    return [
        layer.name
        for layer in all_layers(model)
        if isinstance(layer, keras.layers.ZeroPadding2D) and layer.name not in skipped
    ]


def _folded_weights(conv, norm, depthwise: bool) -> list[np.ndarray]:
    """Kernel and bias of ``conv`` followed by ``norm`` (inference statistics)."""
    kernel, *bias = conv.get_weights()
    gamma = np.asarray(norm.gamma) if norm.scale else 1.0
    beta = np.asarray(norm.beta) if norm.center else 0.0
    scale = gamma / np.sqrt(np.asarray(norm.moving_variance) + norm.epsilon)  # per channel
    shift = beta - np.asarray(norm.moving_mean) * scale
    if depthwise:
        # (rows, cols, in channels, multiplier): output channel c·multiplier + m
        kernel = kernel * scale.reshape(kernel.shape[2], kernel.shape[3])
    else:
        kernel = kernel * scale
    bias = bias[0] * scale + shift if bias else shift
    return [kernel.astype(np.float32), bias.astype(np.float32)]


def all_layers(model):
    """Every layer of a Keras model, those of its nested models too (depth first)."""
    import keras

    for layer in model.layers:
        yield layer
        if isinstance(layer, keras.Model):
            yield from all_layers(layer)


def fold_for_inference(model):
    """A copy of ``model`` (Keras, functional, possibly nested) with its batch norms
    and paddings folded as the module says; every other layer and weight the same."""
    import keras

    norms, paddings, skipped = _plan(model)

    def clone(layer):
        config = layer.get_config()
        if layer.name in norms:
            config["use_bias"] = True
        if layer.name in paddings:
            config["padding"] = paddings[layer.name]
        return layer.__class__.from_config(config)

    def call(layer, *args, **kwargs):
        if layer.name in skipped:
            return args[0]
        return layer(*args, **kwargs)

    folded = keras.models.clone_model(
        model, clone_function=clone, call_function=call, recursive=True
    )
    originals = {layer.name: layer for layer in all_layers(model)}
    for layer in all_layers(folded):
        if isinstance(layer, keras.Model) or not layer.weights:
            continue
        source = originals[layer.name]
        if layer.name in norms:
            depthwise = isinstance(source, keras.layers.DepthwiseConv2D)
            layer.set_weights(_folded_weights(source, norms[layer.name], depthwise))
        else:
            layer.set_weights(source.get_weights())
    return folded
