"""Test-time mirrors inside the graph: the mean of four views, in Python and in the browser."""

import json
from pathlib import Path

import numpy as np
import pytest

from training.fitting.layers import MeanOfViews, MirrorViews
from training.fitting.model import (
    CLASS_MAP_OUTPUT,
    IMAGE_INPUT,
    METADATA_INPUT,
    ModelConfig,
    browser_model,
    build_model,
    image_features,
    load_model,
)
from training.inputs.data import data_root
from training.inputs.encoding import blank_metadata
from training.inputs.preprocess import decode_image
from training.inputs.tasks import get_task
from training.steps.tta import with_tta

TASK = get_task("skin_lesion")
SAMPLES = sorted((Path(__file__).parent / "data" / "ham10000").glob("*.jpg"))
SIZE = (64, 80)
WEIGHTS = data_root() / "weights" / "mobilenet_2_5_224_tf_no_top.h5"


def views_of(image: np.ndarray) -> list[np.ndarray]:
    """The four mirrors of one (H, W, 3) image, written out with numpy."""
    return [image, image[:, ::-1], image[::-1], image[::-1, ::-1]]


def softmax(z):
    e = np.exp(z - z.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


@pytest.fixture(scope="module")
def models():
    if not WEIGHTS.is_file():  # a random backbone answers nearly alike to every image
        pytest.skip(f"{WEIGHTS} not available")
    config = ModelConfig(image_size=SIZE, weights=str(WEIGHTS))
    one = build_model(TASK, config)
    return config, one, with_tta(one, TASK, config)


def feeds(images, metadata=None):
    images = np.asarray(images, np.float32)
    meta = blank_metadata(TASK)[None] if metadata is None else metadata
    return {IMAGE_INPUT: images, METADATA_INPUT: np.repeat(meta, len(images), axis=0)}


def test_views_give_the_softmax_of_the_mean_log_probability_of_the_four_mirrors(models):
    _, one, mirrored = models
    images = [decode_image(path).astype("float32") for path in SAMPLES[:2]]
    images = [image[:144, :180] for image in images]  # already at the model's aspect
    got = np.asarray(mirrored(feeds(images), training=False))
    for image, row in zip(images, got):
        per_view = np.asarray(one(feeds(views_of(image)), training=False))
        np.testing.assert_allclose(row, softmax(np.log(per_view).mean(axis=0)), atol=2e-5)
    # Any mirror of the image gives the same answer; the one-view model does not.
    for view in views_of(images[0])[1:]:
        np.testing.assert_allclose(
            np.asarray(mirrored(feeds([view]), training=False))[0], got[0], atol=2e-5
        )
    assert not np.allclose(
        np.asarray(one(feeds([images[0][:, ::-1]]), training=False)),
        np.asarray(one(feeds([images[0]]), training=False)),
        atol=1e-4,
    )


def test_in_training_the_mirrored_model_is_the_one_view_model():
    """``fit`` passes training=True down to the view layers: no mirrors while learning."""
    config = ModelConfig(image_size=SIZE, dropout=0.0)
    one = build_model(TASK, config)
    mirrored = with_tta(one, TASK, config)
    images = np.random.default_rng(4).uniform(0, 255, (3, 64, 80, 3)).astype("float32")
    np.testing.assert_allclose(
        np.asarray(mirrored(feeds(images), training=True)),
        np.asarray(one(feeds(images), training=True)),
        atol=1e-5,
    )
    labels = np.eye(len(TASK.labels), dtype="float32")[[0, 1, 2]]
    mirrored.compile(optimizer="sgd", loss="categorical_crossentropy")
    mirrored.fit(feeds(images), labels, epochs=1, batch_size=3, verbose=0)  # shapes agree


def test_in_training_the_batch_passes_unchanged():
    x = np.random.default_rng(0).uniform(0, 1, (3, 4, 5, 2)).astype("float32")
    np.testing.assert_array_equal(np.asarray(MirrorViews()(x, training=True)), x)
    np.testing.assert_array_equal(np.asarray(MeanOfViews()(x, training=True)), x)
    assert np.asarray(MirrorViews()(x, training=False)).shape == (12, 4, 5, 2)
    views = np.asarray(MirrorViews()(x, training=False))
    np.testing.assert_array_equal(views[3:6], x[:, :, ::-1])  # left-right
    np.testing.assert_array_equal(views[9:], x[:, ::-1, ::-1])  # turned
    folded = MeanOfViews(spatial=True)(views, training=False)
    np.testing.assert_allclose(np.asarray(folded), x, atol=1e-6)  # mirrored back, all alike


def test_the_browser_form_keeps_the_answers_and_its_heatmap_follows_the_image(models):
    config, _, mirrored = models
    from dataclasses import replace

    head = {"weights": np.random.default_rng(1).normal(0, 0.1, 256).tolist(), "bias": 0.2}
    combined = browser_model(mirrored, TASK, replace(config, tta="mirrors"), head)
    image = decode_image(SAMPLES[0]).astype("float32")[:144, :180]
    out = combined(feeds([image]), training=False)
    np.testing.assert_allclose(
        np.asarray(out["probabilities"]),
        np.asarray(mirrored(feeds([image]), training=False)),
        atol=1e-5,
    )
    from training.steps.wrong_kind import head_scores

    np.testing.assert_allclose(
        np.asarray(out["in_kind"])[:, 0],
        head_scores(head, image_features(mirrored, image[None])),
        atol=1e-5,
    )
    # The map of the mirrored image is the mirrored map.
    flipped = combined(feeds([image[:, ::-1]]), training=False)
    np.testing.assert_allclose(
        np.asarray(flipped[CLASS_MAP_OUTPUT])[0],
        np.asarray(out[CLASS_MAP_OUTPUT])[0][:, ::-1],
        atol=1e-4,
    )


def test_the_exported_form_takes_the_four_views_of_one_image(models):
    """``mirrors_outside``: what the browser runs, given the mirrors (tta.js makes them),
    answers as the model that mirrors inside; the mirrors are of the raw image."""
    from dataclasses import replace

    config, _, mirrored = models
    mirrored_config = replace(config, tta="mirrors")
    inside = browser_model(mirrored, TASK, mirrored_config)
    outside = browser_model(mirrored, TASK, mirrored_config, mirrors_outside=True)
    assert "views" not in [layer.name for layer in outside.layers]
    image = decode_image(SAMPLES[1]).astype("float32")  # 150 × 200, cropped to 64:80
    got = outside(
        {IMAGE_INPUT: np.asarray(views_of(image)), METADATA_INPUT: blank_metadata(TASK)[None]},
        training=False,
    )
    want = inside(feeds([image]), training=False)
    for name in ("probabilities", CLASS_MAP_OUTPUT):
        assert np.asarray(got[name]).shape[0] == 1
        np.testing.assert_allclose(np.asarray(got[name]), np.asarray(want[name]), atol=1e-5)
    with pytest.raises(ValueError, match="tta"):
        from training.exporting import export

        export.build_metadata(TASK, {}, Path("."), SIZE, quantization="float32", tta="turns")


def test_a_mirrored_model_saves_loads_and_matches_in_the_browser(models, tmp_path, browser):
    from dataclasses import replace

    from training.exporting import export, parity

    config, _, mirrored = models
    mirrored.save(tmp_path / "model.keras")
    loaded = load_model(tmp_path / "model.keras")
    mirrored_config = replace(config, tta="mirrors")
    combined = browser_model(loaded, TASK, mirrored_config)
    graph = browser_model(loaded, TASK, mirrored_config, mirrors_outside=True)
    # The samples (4:3) are cropped to 64:80 with an odd number of columns left over, so a
    # mirror taken after the crop would differ from one taken before it, as in the browser.
    images, metadata = SAMPLES[:3], [{}, {"age": 55, "sex": "male"}, {}]
    expected = parity.python_probabilities(combined, TASK, images, metadata)
    out = tmp_path / "tfjs"
    signature = export.convert(graph, out)
    contract = export.build_metadata(
        TASK, signature, out, SIZE, quantization="float32", tta="mirrors"
    )
    assert contract["inputs"]["image"]["tta"] == "mirrors"
    assert contract["inputs"]["image"]["shape"] == [4, None, None, 3]
    (out / "metadata.json").write_text(json.dumps(contract))
    actual, _ = parity.browser_probabilities(TASK, out, images, metadata, browser=browser)
    assert actual.shape == expected.shape and actual.shape[1] > len(TASK.labels)  # + heatmap
    parity.compare(expected[:, :7], actual[:, :7])
    np.testing.assert_allclose(actual[:, 7:], expected[:, 7:], atol=parity.MAX_PROBABILITY_DIFF)


def test_an_unknown_tta_is_refused():
    with pytest.raises(ValueError, match="tta"):
        build_model(TASK, ModelConfig(tta="rotations"))
