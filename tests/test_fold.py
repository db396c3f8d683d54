"""The exported inference form (training.exporting.fold): batch norms and paddings folded into the
convolutions, the same answers, and the shipped skin graph in that form."""

import json
from collections import Counter
from pathlib import Path

import numpy as np
import pytest

from training.exporting.fold import all_layers, fold_for_inference
from training.fitting.model import IMAGE_INPUT, METADATA_INPUT, ModelConfig, build_model
from training.inputs.tasks import get_task

TASK = get_task("skin_lesion")
ROOT = Path(__file__).resolve().parent.parent


def _with_learned_statistics(model, seed=0):
    """Batch norms as after training (fresh ones are the identity: folding them proves
    nothing)."""
    import keras

    rng = np.random.default_rng(seed)
    for layer in all_layers(model):
        if isinstance(layer, keras.layers.BatchNormalization):
            gamma, beta, mean, variance = layer.get_weights()
            layer.set_weights(
                [
                    rng.uniform(0.5, 1.5, gamma.shape).astype("float32"),
                    rng.normal(0, 0.3, beta.shape).astype("float32"),
                    rng.normal(0, 0.5, mean.shape).astype("float32"),
                    rng.uniform(0.5, 2.0, variance.shape).astype("float32"),
                ]
            )
    return model


def _kinds(model):
    return Counter(type(layer).__name__ for layer in all_layers(model))


@pytest.mark.parametrize(
    "backbone, size, paddings_left",
    [
        ("mobilenet", (64, 96), 0),
        # 66 rows: the 33-row map's "same" padding would be (1, 1), not Keras' (0, 1)
        ("mobilenet", (66, 96), 1),
        ("mobilenet_v2", (64, 96), 0),
    ],
)
def test_the_folded_network_answers_as_the_trained_one(backbone, size, paddings_left):
    config = ModelConfig(
        backbone=backbone,
        alpha=0.35 if backbone == "mobilenet_v2" else 0.25,
        image_size=size,
        tta="mirrors",
    )
    model = _with_learned_statistics(
        build_model(TASK, config, in_kind_head=True, class_map=True, mirrors_outside=True)
    )
    folded = fold_for_inference(model)
    before, after = _kinds(model), _kinds(folded)
    assert before["BatchNormalization"] > 10 and after["BatchNormalization"] == 0
    assert after["ZeroPadding2D"] == paddings_left < before["ZeroPadding2D"]
    assert after["DepthwiseConv2D"] == before["DepthwiseConv2D"]
    rng = np.random.default_rng(1)
    feeds = {
        IMAGE_INPUT: rng.uniform(0, 255, (4, 150, 200, 3)).astype("float32"),
        METADATA_INPUT: rng.uniform(0, 1, (1, TASK.metadata_size)).astype("float32"),
    }
    want, got = model(feeds, training=False), folded(feeds, training=False)
    assert sorted(got) == sorted(want)
    for name in want:
        np.testing.assert_allclose(np.asarray(got[name]), np.asarray(want[name]), atol=2e-5)


def test_the_shipped_skin_graph_has_no_batch_norm_or_padding_ops_left():
    """What the browser runs: every depthwise convolution fused with its bias and
    activation, a padding copy only where no "same" padding can replace it (at the
    model's input size), the mirrors undone on the class maps only."""
    from training.exporting.fold import paddings_left
    from training.fitting.model import browser_model

    folder = ROOT / "static/tfjs_model/skin_lesion"
    nodes = json.loads((folder / "model.json").read_text())["modelTopology"]["node"]
    metadata = json.loads((folder / "metadata.json").read_text())
    views = metadata["inputs"]["image"].get("tta")
    ops = Counter(node["op"] for node in nodes)
    members = metadata["training"].get("members", 1)
    assert ops["FusedDepthwiseConv2dNative"] >= 13 * members  # MobileNet V1 has 13, V2 17
    assert not {"DepthwiseConv2dNative", "Relu6"} & set(ops)
    # The Keras form of the same network: which paddings the fold had to keep.
    config = ModelConfig(
        image_size=tuple(metadata["inputs"]["image"]["size"]),
        members=members,
        tta=views or "none",
    )
    kept = paddings_left(
        browser_model(build_model(TASK, config), TASK, config, mirrors_outside=True)
    )
    assert ops["Pad"] + ops["PadV2"] == len(kept)
    # …and on an input whose sides stay even at every stride, none
    even = ModelConfig(image_size=(96, 128))
    assert not paddings_left(
        browser_model(build_model(TASK, even), TASK, even, mirrors_outside=True)
    )
    by_name = {node["name"]: node for node in nodes}
    reversed_maps = 0
    for node in nodes:
        if node["op"] == "ReverseV2":  # fed (through the views' split) by the class map conv
            source = node
            while source["op"] in ("ReverseV2", "Split"):
                data = source["input"][0 if source["op"] == "ReverseV2" else 1]
                source = by_name[data.split(":")[0]]
            assert source["op"] == "Conv2D" and "class_map" in source["name"]
            reversed_maps += 1
    # left-right, up-down, and both for the 180° turn; none for a model of one view
    assert reversed_maps == (4 if views == "mirrors" else 0)


def test_a_batch_norm_after_an_activation_or_a_shared_output_stays():
    """Folding is exact only for a linear convolution whose output only the norm reads."""
    import keras

    image = keras.Input((16, 16, 3))
    activated = keras.layers.Conv2D(4, 3, activation="relu", name="activated")(image)
    kept = keras.layers.BatchNormalization(name="after_relu")(activated)
    shared = keras.layers.Conv2D(4, 1, name="shared")(kept)
    normed = keras.layers.BatchNormalization(name="after_shared")(shared)
    out = keras.layers.Add()([normed, shared])
    model = _with_learned_statistics(keras.Model(image, out))
    folded = fold_for_inference(model)
    assert _kinds(folded)["BatchNormalization"] == 2
    x = np.random.default_rng(2).normal(size=(2, 16, 16, 3)).astype("float32")
    np.testing.assert_allclose(folded(x), model(x, training=False), atol=1e-5)
