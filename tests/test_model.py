"""The network: named inputs, raw pixels of any size, blank metadata, weights files."""

from pathlib import Path

import numpy as np
import pytest

from training.fitting.model import IMAGE_INPUT, METADATA_INPUT, ModelConfig, build_model
from training.inputs.data import data_root
from training.inputs.encoding import blank_metadata
from training.inputs.preprocess import decode_image
from training.inputs.tasks import get_task

TASK = get_task("skin_lesion")
SAMPLES = Path(__file__).parent / "data" / "ham10000"
WEIGHTS = data_root() / "weights" / "mobilenet_2_5_224_tf_no_top.h5"


@pytest.fixture(scope="module")
def model():
    return build_model(TASK, ModelConfig(image_size=(96, 128)))


def test_named_inputs_and_probability_output(model):
    assert sorted(model.input) == [IMAGE_INPUT, METADATA_INPUT]
    image = decode_image(next(SAMPLES.glob("*.jpg"))).astype("float32")[None]
    out = np.asarray(model({IMAGE_INPUT: image, METADATA_INPUT: blank_metadata(TASK)[None]}))
    assert out.shape == (1, 7)
    assert out.sum() == pytest.approx(1.0, abs=1e-5)


def test_any_image_size_is_accepted_and_cropped_to_the_model_aspect(model):
    meta = np.repeat(blank_metadata(TASK)[None], 2, axis=0)
    rng = np.random.default_rng(0)
    for height, width in [(150, 200), (300, 300), (40, 33)]:
        images = rng.uniform(0, 255, (2, height, width, 3)).astype("float32")
        out = np.asarray(model({IMAGE_INPUT: images, METADATA_INPUT: meta}))
        assert out.shape == (2, 7) and np.isfinite(out).all()


def test_metadata_changes_the_output(model):
    image = decode_image(next(SAMPLES.glob("*.jpg"))).astype("float32")[None]
    blank = np.asarray(model({IMAGE_INPUT: image, METADATA_INPUT: blank_metadata(TASK)[None]}))
    given = np.ones((1, TASK.metadata_size), "float32")
    other = np.asarray(model({IMAGE_INPUT: image, METADATA_INPUT: given}))
    assert not np.allclose(blank, other)


def test_pretrained_weights_load_from_a_file():
    if not WEIGHTS.is_file():
        pytest.skip(f"{WEIGHTS} not available")
    import h5py

    model = build_model(TASK, ModelConfig(weights=str(WEIGHTS), image_size=(64, 64)))
    with h5py.File(WEIGHTS) as f:
        expected = np.asarray(f["conv1"]["conv1"]["kernel:0"])
    backbone = next(layer for layer in model.layers if layer.name.startswith("mobilenet"))
    np.testing.assert_allclose(backbone.get_layer("conv1").kernel.numpy(), expected)


def test_a_missing_weights_file_is_a_clear_error(tmp_path):
    with pytest.raises(FileNotFoundError, match="weights file not found"):
        build_model(TASK, ModelConfig(weights=str(tmp_path / "nope.h5")))


def test_grayscale_tasks_see_colour_and_its_grey_version_alike():
    task = get_task("malaria")
    assert task.grayscale
    model = build_model(task, ModelConfig(image_size=(48, 48)))
    rng = np.random.default_rng(3)
    colour = rng.uniform(0, 255, (2, 50, 50, 3)).astype("float32")
    grey = np.repeat((colour @ np.array([0.299, 0.587, 0.114], "float32"))[..., None], 3, axis=-1)
    a = np.asarray(model({IMAGE_INPUT: colour}, training=False))
    b = np.asarray(model({IMAGE_INPUT: grey}, training=False))
    np.testing.assert_allclose(a, b, atol=1e-5)
    assert not model.get_layer("grayscale").trainable


# The larger ImageNet backbones in ../shared/data/weights: name in the file, first kernel.
BACKBONES = {
    "V1 α 0.75": (
        ModelConfig(
            alpha=0.75, weights=str(data_root() / "weights" / "mobilenet_7_5_224_tf_no_top.h5")
        ),
        "conv1",
        "MobileNet V1 α 0.75",
    ),
    "V2 α 1.0": (
        ModelConfig(
            backbone="mobilenet_v2",
            alpha=1.0,
            batchnorm_momentum=0.9,
            weights=str(
                data_root() / "weights" / "mobilenet_v2_weights_tf_"
                "dim_ordering_tf_kernels_1.0_224_no_top.h5"
            ),
        ),
        "Conv1",
        "MobileNet V2 α 1",
    ),
}


def _backbone_model(config):
    import dataclasses

    if not Path(config.weights).is_file():
        pytest.skip(f"{config.weights} not available")
    return build_model(TASK, dataclasses.replace(config, image_size=(64, 64)))


@pytest.mark.parametrize("name", BACKBONES)
def test_each_backbone_builds_and_loads_its_shared_weights(name):
    import h5py

    from training.fitting.model import backbone_name, backbone_of

    config, first, readable = BACKBONES[name]
    model = _backbone_model(config)
    with h5py.File(config.weights) as f:
        expected = np.asarray(f[first][first]["kernel:0"])
    backbone = backbone_of(model)
    np.testing.assert_allclose(backbone.get_layer(first).kernel.numpy(), expected)
    assert backbone_name(config) == readable
    momenta = {layer.momentum for layer in backbone.layers if hasattr(layer, "moving_mean")}
    assert momenta == ({0.9} if config.batchnorm_momentum else {0.99})


def test_an_unknown_backbone_is_a_clear_error():
    with pytest.raises(ValueError, match="backbone must be one of"):
        build_model(TASK, ModelConfig(backbone="resnet", image_size=(64, 64)))


@pytest.mark.browser
@pytest.mark.parametrize("name", BACKBONES)
def test_each_backbone_exports_and_matches_keras_in_the_browser(name, tmp_path, browser):
    """The browser form (probabilities, class map) converted to a TF.js graph model gives
    Keras' answers on real images (training.exporting.parity's tolerance)."""
    import json

    from training.exporting import export, parity
    from training.fitting.model import browser_model

    config, _, readable = BACKBONES[name]
    model = _backbone_model(config)
    import dataclasses

    small = dataclasses.replace(config, image_size=(64, 64))
    graph = browser_model(model, TASK, small)
    out = tmp_path / TASK.id
    signature = export.convert(graph, out)
    metadata = export.build_metadata(
        TASK,
        signature,
        out,
        parity.model_image_size(graph),
        quantization="float32",
        training={"backbone": readable},
    )
    (out / "metadata.json").write_text(json.dumps(metadata))
    images = sorted(SAMPLES.glob("*.jpg"))[:3]
    given = [{}] * len(images)
    k = len(TASK.labels)
    expected = parity.python_probabilities(graph, TASK, images, given)[:, :k]
    found, _ = parity.browser_probabilities(TASK, out, images, given, browser=browser)
    summary = parity.compare(expected, found[:, :k])  # raises past the tolerance
    assert summary["top1_disagreement"] == 0.0


# ---- the graph's resizing: crop (skin, malaria) or squash (chest X-ray) ------------------


def test_each_task_names_its_resize_mode():
    from dataclasses import replace

    from training.inputs.tasks import RESIZE_MODES, TASKS

    assert RESIZE_MODES == ("crop", "squash")
    assert {task.id: task.resize for task in TASKS.values()} == {
        "skin_lesion": "crop",
        "chest_xray": "squash",
        "malaria": "crop",
    }
    with pytest.raises(ValueError, match="resize must be one of"):
        replace(get_task("chest_xray"), resize="stretch")


def _first_step(task, size=(32, 32)):
    """A model of ``task`` and the output of its 'resize' layer (what the backbone gets)."""
    import keras

    from training.fitting.model import resize_mode

    model = build_model(task, ModelConfig(image_size=size))
    assert resize_mode(model) == task.resize
    return model, keras.Model(model.input, model.get_layer("resize").output)


def test_a_squash_graph_keeps_the_sides_of_a_wide_image_and_a_crop_graph_loses_them():
    """An image twice as wide as tall whose outer quarters are white and centre half black:
    squashed to a square, a quarter of the columns on each side stay white; cropped to the
    centre square, only the black centre is left."""
    from dataclasses import replace

    chest = get_task("chest_xray")
    wide = np.zeros((1, 64, 128, 3), np.float32)
    wide[:, :, :32] = wide[:, :, 96:] = 255.0
    tall = np.transpose(wide, (0, 2, 1, 3))  # white top and bottom quarters
    for mode in ("squash", "crop"):
        _, step = _first_step(replace(chest, resize=mode))
        seen_wide = np.asarray(step({IMAGE_INPUT: wide}))[0, ..., 0]
        seen_tall = np.asarray(step({IMAGE_INPUT: tall}))[0, ..., 0]
        assert seen_wide.shape == seen_tall.shape == (32, 32)
        columns, rows = seen_wide.mean(axis=0), seen_tall.mean(axis=1)
        if mode == "squash":  # the whole image: 8 white columns (rows) on each side
            for profile in (columns, rows):
                assert (profile[:7] > 250).all() and (profile[-7:] > 250).all()
                assert (profile[9:-9] < 5).all()
        else:  # the centre square: all black
            assert seen_wide.max() < 1 and seen_tall.max() < 1


def test_crop_and_squash_see_a_square_image_alike():
    """A square image is neither cropped nor distorted: both graphs hand the backbone the
    same pixels (so the same network answers alike), and different ones of a wide image."""
    from dataclasses import replace

    chest = get_task("chest_xray")
    _, squash = _first_step(replace(chest, resize="squash"), (64, 64))
    _, crop = _first_step(replace(chest, resize="crop"), (64, 64))
    rng = np.random.default_rng(5)
    square = rng.uniform(0, 255, (2, 100, 100, 3)).astype("float32")
    wide = rng.uniform(0, 255, (2, 100, 160, 3)).astype("float32")
    same = [np.asarray(step({IMAGE_INPUT: square})) for step in (squash, crop)]
    np.testing.assert_allclose(same[0], same[1], atol=1e-4)
    other = [np.asarray(step({IMAGE_INPUT: wide})) for step in (squash, crop)]
    assert np.abs(other[0] - other[1]).mean() > 10


@pytest.mark.parametrize("mode", ["crop", "squash"])
def test_metadata_json_records_the_resize_mode(mode, tmp_path):
    from dataclasses import replace

    from training.exporting import export

    task = replace(get_task("chest_xray"), resize=mode)
    (tmp_path / "model.json").write_text("{}")
    dims = [{"size": "-1"}, {"size": "7"}, {"size": "7"}, {"size": "2"}]
    signature = {
        "inputs": {"image:0": {}},
        "outputs": {"probabilities:0": {}, "class_map:0": {"tensorShape": {"dim": dims}}},
    }
    metadata = export.build_metadata(task, signature, tmp_path, (224, 224), quantization="float32")
    image = metadata["inputs"]["image"]
    assert image["resize"] == mode
    assert ("crops" in image["pixels"]) == (mode == "crop")
    assert ("whole image" in metadata["explanation"]["region"]) == (mode == "squash")
    # The graph's own mode wins over the task's (training.exporting.convert passes resize_mode(graph)).
    other = {"crop": "squash", "squash": "crop"}[mode]
    again = export.build_metadata(
        task, signature, tmp_path, (224, 224), quantization="float32", resize=other
    )
    assert again["inputs"]["image"]["resize"] == other
