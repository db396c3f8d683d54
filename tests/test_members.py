"""Several networks averaged in one graph (``ModelConfig.members``): the merged network's
answer is the softmax of the members' mean logits, in every form the release makes."""

import dataclasses

import numpy as np
import pytest

from training.fitting.model import (
    IMAGE_INPUT,
    METADATA_INPUT,
    ModelConfig,
    backbone_name,
    browser_model,
    build_model,
    image_features,
    load_model,
    merge_members,
)
from training.inputs.encoding import blank_metadata
from training.inputs.tasks import get_task

TASK = get_task("skin_lesion")
SIZE = (48, 64)


def logits(model, inputs):
    """The members' logits: log of the softmax output (equal to logits up to a constant)."""
    return np.log(np.asarray(model(inputs, training=False), np.float64))


@pytest.fixture(scope="module")
def members():
    import keras

    single = ModelConfig(image_size=SIZE)
    models = []
    for seed in (1, 2, 3):
        keras.utils.set_random_seed(seed)
        model = build_model(TASK, single)
        head = model.get_layer("probabilities")
        kernel, bias = head.get_weights()
        rng = np.random.default_rng(seed)
        head.set_weights([kernel + rng.normal(0, 0.3, kernel.shape), rng.normal(0, 1, bias.shape)])
        models.append(model)
    config = dataclasses.replace(single, members=3)
    return models, config, merge_members(models, TASK, config)


@pytest.fixture(scope="module")
def inputs():
    rng = np.random.default_rng(0)
    meta = np.repeat(blank_metadata(TASK)[None], 4, axis=0)
    meta[1:, :3] = rng.uniform(0, 1, (3, 3))  # some details given
    return {
        IMAGE_INPUT: rng.uniform(0, 255, (4, 90, 120, 3)).astype("float32"),
        METADATA_INPUT: meta.astype("float32"),
    }


def softmax(z):
    z = z - z.max(axis=1, keepdims=True)
    return np.exp(z) / np.exp(z).sum(axis=1, keepdims=True)


def test_the_merged_network_answers_the_softmax_of_the_mean_logits(members, inputs):
    models, _, merged = members
    expected = softmax(np.mean([logits(m, inputs) for m in models], axis=0))
    got = np.asarray(merged(inputs, training=False))
    np.testing.assert_allclose(got, expected, atol=2e-5)
    # and it is not simply one member's answer
    assert not np.allclose(got, np.asarray(models[0](inputs, training=False)), atol=1e-3)


def test_the_merged_network_saves_and_loads(members, inputs, tmp_path):
    _, _, merged = members
    merged.save(tmp_path / "model.keras")
    again = load_model(tmp_path / "model.keras")
    np.testing.assert_allclose(
        np.asarray(again(inputs, training=False)),
        np.asarray(merged(inputs, training=False)),
        atol=1e-6,
    )


def test_the_browser_form_keeps_the_answers_and_the_features_are_every_members(members, inputs):
    _, config, merged = members
    width = 256  # MobileNet V1 α 0.25's pooled features, per member
    in_kind = {"weights": np.linspace(-1, 1, 3 * width).tolist(), "bias": 0.1}
    browser = browser_model(merged, TASK, config, in_kind)
    out = browser(inputs, training=False)
    np.testing.assert_allclose(
        np.asarray(out["probabilities"]), np.asarray(merged(inputs, training=False)), atol=1e-5
    )
    features = image_features(merged, inputs[IMAGE_INPUT])
    assert features.shape == (4, 3 * width)
    expected = 1 / (1 + np.exp(-(features @ np.asarray(in_kind["weights"]) + 0.1)))
    np.testing.assert_allclose(np.asarray(out["in_kind"])[:, 0], expected, atol=1e-4)


def test_mirrored_views_of_the_merged_network_average_over_views_and_members(members, inputs):
    from training.fitting.model import copy_weights

    _, config, merged = members
    mirrored = build_model(TASK, dataclasses.replace(config, tta="mirrors"))
    copy_weights(merged, mirrored)
    image = inputs[IMAGE_INPUT][:1]
    views = [image, image[:, ::-1], image[:, :, ::-1], image[:, ::-1, ::-1]]
    features = np.mean([image_features(merged, v) for v in views], axis=0)
    assert np.allclose(image_features(mirrored, image), features, atol=1e-4)


def test_members_must_match_the_networks_given(members):
    models, config, _ = members
    with pytest.raises(ValueError, match="members"):
        merge_members(models[:2], TASK, config)


def test_the_backbone_name_counts_the_members():
    assert backbone_name(ModelConfig(members=3)) == "3 × MobileNet V1 α 0.25"
    assert backbone_name(ModelConfig()) == "MobileNet V1 α 0.25"


def test_the_folded_export_form_keeps_every_members_answer(members, inputs):
    from training.exporting.fold import all_layers, fold_for_inference

    _, config, merged = members
    browser = browser_model(merged, TASK, config, mirrors_outside=True)
    names = [layer.name for layer in all_layers(browser)]
    assert len(names) == len(set(names))  # fold finds layers by name
    folded = fold_for_inference(browser)
    np.testing.assert_allclose(
        np.asarray(folded(inputs, training=False)["probabilities"]),
        np.asarray(browser(inputs, training=False)["probabilities"]),
        atol=1e-5,
    )


def test_the_pages_say_how_many_networks_answer():
    """A release of members: the performance page's training facts count them and list
    each one's kept epoch (the curves are the first network's)."""
    from training.reporting.site_tables import training

    history = {
        "epochs": {"loss": [1.0] * 10},
        "train_seconds": 1800,
        "selected_epoch": 9,
        "members": [{"selected_epoch": e} for e in (9, 10, 7)],
    }
    facts = training(history, {})
    assert facts["members"] == 3 and facts["selected_epochs"] == "9, 10, 7"
    assert "members" not in training({**history, "members": []}, {})
