"""Shades-of-Gray colour constancy inside the graph: numbers, saving, TF.js."""

import numpy as np
import pytest

from research.colour_constancy import ShadesOfGray, build_model
from research.tests.conftest import SAMPLES, TASK
from training.fitting.model import ModelConfig, load_model
from training.inputs.preprocess import decode_image


def reference(image: np.ndarray, p: float = 6.0) -> np.ndarray:
    """Shades of Gray written out with numpy, one image."""
    unit = image / 255.0
    light = np.mean(unit**p, axis=(0, 1)) ** (1 / p)
    light = light / np.sqrt(np.sum(light**2) / 3)
    return np.clip(unit / light, 0, 1) * 255


def test_grey_light_leaves_the_image_and_a_colour_cast_is_removed():
    image = decode_image(SAMPLES[0]).astype("float32")
    out = np.asarray(ShadesOfGray()(image[None]))[0]
    np.testing.assert_allclose(out, reference(image), atol=0.05)
    grey = np.repeat(np.linspace(20, 200, 64, dtype="float32")[:, None, None], 3, axis=2)
    grey = np.repeat(grey, 8, axis=1)
    np.testing.assert_allclose(np.asarray(ShadesOfGray()(grey[None]))[0], grey, atol=0.05)
    # The same picture under a warm light: after the layer both have the same colours
    # (up to overall brightness, which Shades of Gray leaves alone).
    warm = np.clip(image * np.array([1.0, 0.8, 0.6], np.float32), 0, 255)
    a, b = (np.asarray(ShadesOfGray()(x[None]))[0] for x in (image, warm))

    def colours(x):
        return x / x.mean()

    assert (
        np.abs(colours(a) - colours(b)).mean() < 0.1 * np.abs(colours(image) - colours(warm)).mean()
    )


@pytest.mark.browser
def test_a_model_with_it_saves_loads_and_converts_for_the_browser(tmp_path, browser):
    from training.exporting import export, parity

    model = build_model(TASK, ModelConfig(image_size=(64, 80)), "shades_of_gray")
    names = [layer.name for layer in model.layers]
    assert names.index("resize") + 1 == names.index("colour_constancy") < names.index("rescale")
    model.save(tmp_path / "model.keras")
    loaded = load_model(tmp_path / "model.keras")
    images = SAMPLES[:3]
    metadata = [{}] * len(images)
    expected = parity.python_probabilities(loaded, TASK, images, metadata)
    np.testing.assert_allclose(
        expected, parity.python_probabilities(model, TASK, images, metadata), atol=1e-6
    )
    out = tmp_path / "tfjs"
    signature = export.convert(loaded, out)
    (out / "metadata.json").write_text(
        __import__("json").dumps(
            export.build_metadata(TASK, signature, out, (64, 80), quantization="float32")
        )
    )
    actual, _ = parity.browser_probabilities(TASK, out, images, metadata, browser=browser)
    parity.compare(expected, actual)


def test_unknown_colour_constancy_is_refused():
    with pytest.raises(ValueError, match="colour_constancy"):
        build_model(TASK, ModelConfig(), "retinex")


def test_the_product_builds_no_colour_constancy():
    from training.fitting.model import build_model as product_build_model

    assert "colour_constancy" not in ModelConfig.__dataclass_fields__
    model = product_build_model(TASK, ModelConfig(image_size=(64, 80)))
    assert "colour_constancy" not in {layer.name for layer in model.layers}
