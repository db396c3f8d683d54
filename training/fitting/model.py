"""The network: raw pixels in, class probabilities out.

Everything between the decoded image and the backbone lives in the graph:
crop to the model's aspect ratio and resize, or squash the whole image to the
model's size (the task's ``resize``), rescale to [-1, 1]. The browser and Python
hand the model the same thing, raw RGB 0-255 of any size.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from training.inputs.tasks import Task

IMAGE_INPUT = "image"
METADATA_INPUT = "metadata"


@dataclass
class ModelConfig:
    backbone: str = "mobilenet"  # "mobilenet" (MobileNet V1) or "mobilenet_v2" (BACKBONES)
    alpha: float = 0.25
    weights: str = "none"  # "none", "imagenet" (downloaded by Keras) or a .h5 path
    dropout: float = 0.2
    metadata_units: int = 32
    image_size: tuple[int, int] | None = None  # (height, width); default: the task's
    tta: str = "none"  # "none" or "mirrors": at inference, the mean of the image
    # and its 3 mirrors (training.fitting.layers.MirrorViews)
    batchnorm_momentum: float = 0.0  # > 0: every batch-norm layer of the backbone gets this
    # momentum (Keras builds V2 with 0.999, which lags far
    # behind in a short fine-tune; 0.9 works); 0: Keras' own
    members: int = 1  # > 1: that many networks (seeds) trained apart and averaged in one
    # graph (the mean of their logits; ``merge_members``)


BACKBONES = ("mobilenet", "mobilenet_v2")


def backbone_name(config: ModelConfig) -> str:
    """The backbone as people read it, e.g. 'MobileNet V1 α 0.75' (metadata, model card)."""
    version = {"mobilenet": "V1", "mobilenet_v2": "V2"}[config.backbone]
    name = f"MobileNet {version} α {config.alpha:g}"
    return f"{config.members} × {name}" if config.members > 1 else name


def make_backbone(config: ModelConfig, height: int, width: int, pooling):
    """The ImageNet backbone of ``config`` (inputs scaled to [-1, 1]), without its top."""
    import keras

    if config.backbone not in BACKBONES:
        raise ValueError(f"backbone must be one of {BACKBONES}, got {config.backbone!r}")
    build = {
        "mobilenet": keras.applications.MobileNet,
        "mobilenet_v2": keras.applications.MobileNetV2,
    }[config.backbone]
    backbone = build(
        input_shape=(height, width, 3),
        alpha=config.alpha,
        include_top=False,
        weights=backbone_weights(config.weights),
        pooling=pooling,
    )
    if config.batchnorm_momentum:
        for layer in backbone.layers:
            if isinstance(layer, keras.layers.BatchNormalization):
                layer.momentum = config.batchnorm_momentum
    return backbone


MEMBERS = "members"


def make_members(config: ModelConfig, height: int, width: int, pooling):
    """``config.members`` backbones side by side as one nested model named ``members``:
    the image in, their features (pooled or maps) concatenated out. Member k's layers are
    named ``m<k>_<name>`` (names are unique across the whole network: ``training.exporting.fold``
    finds layers by name). Built without ImageNet weights: its weights always come from
    trained members (``merge_members``)."""
    import dataclasses

    import keras
    from keras import layers

    plain = dataclasses.replace(config, weights="none", members=1)
    image = keras.Input((height, width, 3))
    outs = []
    for k in range(config.members):
        backbone = make_backbone(plain, height, width, pooling)
        for layer in backbone.layers:
            layer.name = f"m{k}_{layer.name}"
        member = keras.Model(backbone.input, backbone.output, name=f"member_{k}")
        outs.append(member(image))
    return keras.Model(image, layers.Concatenate(name="member_features")(outs), name=MEMBERS)


def merge_members(models, task: Task, config: ModelConfig):
    """One network of ``build_model(task, config)`` (``config.members == len(models)``)
    whose probabilities are the softmax of the mean of ``models``' logits: each member's
    backbone and metadata layer side by side, the heads stacked and divided by their number
    (the features are concatenated, so the one head sums the members' logits)."""
    if config.members != len(models):
        raise ValueError(f"config.members is {config.members}, given {len(models)} networks")
    merged = build_model(task, config)
    wrapper = merged.get_layer(MEMBERS)
    for k, model in enumerate(models):
        wrapper.get_layer(f"member_{k}").set_weights(backbone_of(model).get_weights())
    heads = [model.get_layer("probabilities").get_weights() for model in models]
    n_image = backbone_of(models[0]).output.shape[-1]
    rows = [np.concatenate([kernel[:n_image] for kernel, _ in heads])]
    if task.metadata_size:
        dense = [model.get_layer("metadata_dense").get_weights() for model in models]
        merged.get_layer("metadata_dense").set_weights(
            [np.concatenate([w for w, _ in dense], axis=1), np.concatenate([b for _, b in dense])]
        )
        rows.append(np.concatenate([kernel[n_image:] for kernel, _ in heads]))
    merged.get_layer("probabilities").set_weights(
        [np.concatenate(rows) / len(models), np.mean([bias for _, bias in heads], axis=0)]
    )
    return merged


TTA_MODES = ("none", "mirrors")


def load_model(path):
    """A saved ``.keras`` model of this project (its custom layers registered first)."""
    import keras

    from training.fitting.layers import MeanOfViews, MirrorViews

    return keras.models.load_model(
        path, compile=False, custom_objects={"MirrorViews": MirrorViews, "MeanOfViews": MeanOfViews}
    )


def backbone_weights(weights: str):
    """Keras' ``weights=`` argument for our setting; a path must exist."""
    from pathlib import Path

    if weights in ("none", "", None):
        return None
    if weights == "imagenet":
        return "imagenet"
    if not Path(weights).is_file():
        raise FileNotFoundError(
            f"backbone weights file not found: {weights} (give a .h5 path, 'imagenet' or 'none')"
        )
    return str(weights)


def resize_layer(task: Task, height: int, width: int):
    """The graph's first step on the image: ``task.resize`` "crop" keeps the centred crop
    at height:width and resizes it; "squash" resizes the whole image to height × width."""
    from keras import layers

    crop = {"crop": True, "squash": False}[task.resize]
    return layers.Resizing(height, width, crop_to_aspect_ratio=crop, name="resize")


def resize_mode(model) -> str:
    """What ``model``'s 'resize' layer does: "crop" or "squash" (``resize_layer``)."""
    return "crop" if model.get_layer("resize").crop_to_aspect_ratio else "squash"


IN_KIND_OUTPUT = "in_kind"
CLASS_MAP_OUTPUT = "class_map"
LUMA = (0.299, 0.587, 0.114)


def build_model(
    task: Task,
    config: ModelConfig | None = None,
    in_kind_head: bool = False,
    class_map: bool = False,
    mirrors_outside: bool = False,
):
    """The screening network.

    With ``config.tta == "mirrors"`` every inference (not training)
    runs the backbone on the image and its three mirrors and averages their
    features: the probabilities are the softmax of the views' mean logits, and
    the class activation map is the mean of the views' maps mirrored back. The
    mirrors are taken of the raw image, before the crop and resize, so that with
    ``mirrors_outside`` (the form exported to the browser, whose JavaScript mirrors
    the pixels: tfjs' WASM ``Reverse`` kernel is slow) the graph's image input is
    the ``MIRRORS`` views of one image, stacked, and everything after is the same.

    With ``in_kind_head`` or ``class_map`` it has named outputs: ``probabilities``,
    ``in_kind`` (a logistic score on the pooled image features: is this image of
    the task's kind? see ``training.steps.wrong_kind``) and ``class_map`` (the class
    activation map: the image part of the linear head applied at every place of
    the last feature map, before the average pooling; its mean over the places
    is each class's image logit, so it shows where the evidence lies). The
    weights are the same in every form (see ``browser_model``).
    """
    import keras
    from keras import layers

    config = config or ModelConfig()
    if config.tta not in TTA_MODES:
        raise ValueError(f"tta must be one of {TTA_MODES}, got {config.tta!r}")
    height, width = config.image_size or task.image_size
    image = keras.Input(shape=(None, None, 3), name=IMAGE_INPUT, dtype="float32")
    mirrors = config.tta == "mirrors"
    x = image
    if mirrors and not mirrors_outside:
        from training.fitting.layers import MirrorViews

        x = MirrorViews(name="views")(x)
    x = resize_layer(task, height, width)(x)
    x = layers.Rescaling(1 / 127.5, offset=-1.0, name="rescale")(x)
    gray = None
    if task.grayscale:
        # A fixed 1×1 convolution: each output channel = luma (BT.601). After the
        # rescaling (the same, as the weights sum to 1): before it, the TF.js
        # converter fuses the rescaling's offset into a bias tfjs cannot run.
        gray = layers.Conv2D(3, 1, use_bias=False, trainable=False, name="grayscale")
        x = gray(x)
    pooling = None if class_map else "avg"
    if config.members > 1:
        backbone = make_members(config, height, width, pooling)
    else:
        backbone = make_backbone(config, height, width, pooling)
    if mirrors:
        from training.fitting.layers import MeanOfViews
    # Per view: pooled features (and the class map, below); the views' means after. (Mean
    # over the places and the 1×1 head are linear: the same as pooling and mapping the
    # mean map, but the mirrors are undone on the few class channels, not on the
    # backbone's many: tfjs' WASM Reverse kernel is slow.)
    maps = backbone(x)  # feature maps; already pooled ("avg") when there is no class map
    pooled = layers.GlobalAveragePooling2D(name="pool")(maps) if class_map else maps
    if mirrors:
        pooled = MeanOfViews(name="view_mean")(pooled)
    features = pooled
    inputs = {IMAGE_INPUT: image}
    if task.metadata_size:
        metadata = keras.Input(shape=(task.metadata_size,), name=METADATA_INPUT, dtype="float32")
        inputs[METADATA_INPUT] = metadata
        m = layers.Dense(
            config.metadata_units * config.members, activation="relu", name="metadata_dense"
        )(metadata)
        features = layers.Concatenate(name="features")([features, m])
    features = layers.Dropout(config.dropout, name="dropout")(features)
    probabilities = layers.Dense(len(task.labels), activation="softmax", name="probabilities")(
        features
    )
    outputs = probabilities
    if in_kind_head or class_map:
        outputs = {"probabilities": probabilities}
    if in_kind_head:
        outputs[IN_KIND_OUTPUT] = layers.Dense(1, activation="sigmoid", name=IN_KIND_OUTPUT)(pooled)
    if class_map:
        class_maps = layers.Conv2D(len(task.labels), 1, use_bias=False, name=CLASS_MAP_OUTPUT)(maps)
        if mirrors:
            class_maps = MeanOfViews(spatial=True, name="class_map_view_mean")(class_maps)
        outputs[CLASS_MAP_OUTPUT] = class_maps
    model = keras.Model(inputs=inputs, outputs=outputs, name=f"{task.id}_mobilenet")
    if gray is not None:
        gray.set_weights([np.tile(np.array(LUMA, np.float32)[None, None, :, None], (1, 1, 1, 3))])
    return model


def copy_weights(source, target, skip: tuple[str, ...] = ()) -> None:
    """Give every layer of ``target`` that has weights (but those named in ``skip``) the
    weights of ``source``'s layer of the same name: one network in another form."""
    for layer in target.layers:
        if layer.name not in skip and layer.weights:
            layer.set_weights(source.get_layer(layer.name).get_weights())


def browser_model(
    model,
    task: Task,
    config: ModelConfig,
    in_kind: dict | None = None,
    mirrors_outside: bool = False,
):
    """The trained ``model`` with the outputs the browser uses: ``probabilities``,
    ``class_map`` and, given a fitted ``in_kind`` head (``{"weights", "bias"}``
    from ``training.steps.wrong_kind``), ``in_kind``. Same weights, same probabilities.
    ``mirrors_outside``: see ``build_model`` (what is exported; JavaScript mirrors)."""
    combined = build_model(
        task,
        config,
        in_kind_head=in_kind is not None,
        class_map=True,
        mirrors_outside=mirrors_outside,
    )
    copy_weights(model, combined, skip=(IN_KIND_OUTPUT, CLASS_MAP_OUTPUT))
    kernel = model.get_layer("probabilities").get_weights()[0]
    n_image = combined.get_layer(CLASS_MAP_OUTPUT).kernel.shape[2]
    combined.get_layer(CLASS_MAP_OUTPUT).set_weights([kernel[:n_image][None, None]])
    if in_kind is not None:
        combined.get_layer(IN_KIND_OUTPUT).set_weights(
            [
                np.asarray(in_kind["weights"], np.float32)[:, None],
                np.asarray([in_kind["bias"]], np.float32),
            ]
        )
    return combined


def normalized_class_map(class_map: np.ndarray, index: int) -> np.ndarray:
    """One class's map (rows, cols) scaled to 0-1 (min to max), as the page shows it."""
    values = np.asarray(class_map, np.float64)[..., index]
    low, high = values.min(), values.max()
    return (values - low) / (high - low) if high > low else np.zeros_like(values)


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
    steps = [
        layer
        for layer in model.layers[: model.layers.index(backbone)]
        if not isinstance(layer, keras.layers.InputLayer)
    ]
    names = [layer.name for layer in model.layers]
    after = [model.get_layer("view_mean")] if "view_mean" in names else []
    out = []
    for start in range(0, len(images), batch_size):
        x = np.asarray(images[start : start + batch_size], dtype=np.float32)
        for step in steps:
            x = step(x, training=False)
        x = backbone(x, training=False)
        for step in after:  # the mean of the test-time views
            x = step(x, training=False)
        if len(x.shape) == 4:  # a feature map (the browser form): pool it
            x = ops.mean(x, axis=(1, 2))
        out.append(ops.convert_to_numpy(x))
    return np.concatenate(out)
