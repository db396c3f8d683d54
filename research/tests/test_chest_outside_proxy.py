"""research.chest_xray.outside_proxy: the shifts do what they say on real X-rays, the
series parser reads real file names, the thresholds keep their floors, and compare's
bootstrap is paired."""

import csv
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from scipy import ndimage

from research.chest_xray import outside_proxy as proxy
from research.chest_xray.compare import bootstrap_difference

SAMPLES = Path(__file__).resolve().parents[2] / "tests" / "data" / "chest_xray"
FILES = sorted(SAMPLES.glob("*.jpeg"))


def load(path) -> np.ndarray:
    return np.asarray(Image.open(path).convert("RGB"))


@pytest.fixture(params=FILES, ids=lambda p: p.stem)
def xray(request) -> np.ndarray:
    return load(request.param)


def gray(image) -> np.ndarray:
    return np.asarray(image, np.float64)[:, :, 0]


def laplacian_variance(image) -> float:
    return float(ndimage.laplace(gray(image)).var())


def test_there_are_real_samples_of_both_classes():
    assert len(FILES) >= 2


@pytest.mark.parametrize("name", list(proxy.SHIFTS))
def test_every_shift_gives_a_grey_8_bit_image_of_the_same_size(xray, name):
    out = proxy.SHIFTS[name][0](xray, np.random.default_rng(0))
    assert out.shape == xray.shape and out.dtype == np.uint8
    assert (out[:, :, 0] == out[:, :, 1]).all() and (out[:, :, 0] == out[:, :, 2]).all()
    assert not np.array_equal(out, xray), f"{name} changed nothing"


def test_gamma_keeps_black_and_white_and_bends_the_midtones(xray):
    ramp = np.repeat(np.repeat(np.arange(256, dtype=np.uint8)[None, :, None], 4, 0), 3, 2)
    for g in (0.6, 1.6):
        out = proxy.gamma(ramp, g=g)[0, :, 0].astype(int)
        assert out[0] == 0 and out[255] == 255
        assert (np.diff(out) >= 0).all()  # monotone
    assert proxy.gamma(ramp, g=0.6)[0, 128, 0] > 128 > proxy.gamma(ramp, g=1.6)[0, 128, 0]
    assert (
        gray(proxy.gamma(xray, g=0.6)).mean()
        > gray(xray).mean()
        > gray(proxy.gamma(xray, g=1.6)).mean()
    )


def test_contrast_and_brightness_move_the_spread_and_the_level(xray):
    assert (
        gray(proxy.contrast(xray, c=0.7)).std()
        < gray(xray).std()
        < gray(proxy.contrast(xray, c=1.3)).std()
    )
    assert abs(gray(proxy.contrast(xray, c=0.7)).mean() - gray(xray).mean()) < 2
    assert gray(proxy.brightness(xray, offset=30)).mean() > gray(xray).mean() + 20
    assert gray(proxy.brightness(xray, offset=-30)).mean() < gray(xray).mean() - 20


def test_blur_lowers_and_sharpening_raises_the_laplacian_variance(xray):
    before = laplacian_variance(xray)
    assert laplacian_variance(proxy.blur(xray, sigma=1.0)) < 0.5 * before
    assert laplacian_variance(proxy.blur(xray, sigma=2.0)) < laplacian_variance(
        proxy.blur(xray, sigma=1.0)
    )
    assert laplacian_variance(proxy.sharpen(xray)) > 1.5 * before


def test_noise_has_its_sigma_and_is_reproducible(xray):
    a = proxy.noise(xray, np.random.default_rng(3), sigma=8.0)
    b = proxy.noise(xray, np.random.default_rng(3), sigma=8.0)
    assert np.array_equal(a, b)
    inside = (gray(xray) > 30) & (gray(xray) < 225)  # away from clipping
    assert 6.5 < (gray(a) - gray(xray))[inside].std() < 9.5


def test_equalisation_flattens_the_histogram_and_clahe_lifts_a_flat_image(xray):
    flat = proxy.contrast(xray, c=0.3)
    share = (
        np.bincount(proxy.equalize(flat)[:, :, 0].ravel() // 32, minlength=8) / flat[..., 0].size
    )
    assert share.min() > 0.05 and share.max() < 0.25  # eighths of the range: near 1/8 each
    assert (np.bincount(flat[:, :, 0].ravel() // 32, minlength=8) == 0).sum() >= 3  # were empty
    assert gray(proxy.clahe(flat)).std() > 1.5 * gray(flat).std()


def test_clahe_of_a_constant_image_stays_constant():
    image = np.full((64, 64, 3), 100, np.uint8)
    out = proxy.clahe(image)
    assert len(np.unique(out)) == 1


def test_jpeg_recompression_changes_little_but_something(xray):
    diff = np.abs(gray(proxy.jpeg(xray, quality=25)) - gray(xray))
    assert 0 < diff.mean() < 6


def test_crop_zooms_in_and_pad_adds_a_black_border(xray):
    padded = proxy.pad(xray, fraction=0.12)
    h = xray.shape[0]
    edge = round(h * 0.12 / 1.24) - 2  # the border after resizing back
    assert gray(padded)[:edge].max() <= 2 and gray(padded)[:, :edge].max() <= 2
    framed = xray.copy()
    framed[:15], framed[-15:], framed[:, :15], framed[:, -15:] = 255, 255, 255, 255
    cropped = proxy.crop(framed, fraction=0.10)  # 22 px cut: the frame goes
    assert (gray(cropped) == 255).mean() < 0.5 * (gray(framed) == 255).mean()
    assert not (gray(cropped)[0] == 255).all() and not (gray(cropped)[:, 0] == 255).all()


def test_shifted_is_reproducible_and_none_is_the_identity(xray):
    images = np.stack([xray, xray])
    assert np.array_equal(proxy.shifted(images, "none"), images)
    assert np.array_equal(proxy.shifted(images, "noise_8", 5), proxy.shifted(images, "noise_8", 5))
    assert not np.array_equal(
        proxy.shifted(images, "noise_8", 5)[0], proxy.shifted(images, "noise_8", 5)[1]
    )


def test_the_series_parser_names_the_series_of_real_file_names():
    with open(SAMPLES / "samples.csv") as f:
        samples = list(csv.DictReader(f))
    expected = {"normal": proxy.NORMAL_SERIES, "pneumonia": proxy.PNEUMONIA_SERIES}
    for row in samples:
        assert (SAMPLES / row["file"]).is_file()
        assert proxy.series_of(row["file"]) in expected[row["label"]]
    assert proxy.series_of("IM-0125-0001.jpeg") == "IM"
    assert proxy.series_of("NORMAL2-IM-0383-0001.jpeg") == "NORMAL2"
    assert proxy.series_of("person1014_bacteria_2945.jpeg") == "bacteria"
    assert proxy.series_of("person5_virus_11") == "virus"
    assert proxy.series_of(SAMPLES / "IM-0125-0001.jpeg") == "IM"
    assert proxy.series_of("ISIC_0024306.jpg") is None


def test_the_thresholds_keep_their_floors():
    rng = np.random.default_rng(0)
    p_pos, p_neg = rng.uniform(0.3, 1, 200), rng.uniform(0, 0.7, 100)
    t = proxy.highest_threshold_for_recall(p_pos, 0.95)
    assert (p_pos >= t).mean() >= 0.95
    assert (p_pos >= np.nextafter(t, 1)).mean() < 0.95  # and no higher one does
    t = proxy.lowest_threshold_for_negative_recall(p_neg, 0.9)
    assert (p_neg < t).mean() >= 0.9
    assert (p_neg < np.nextafter(t, 0)).mean() < 0.9
    y = np.r_[np.ones(200, int), np.zeros(100, int)]
    m = proxy.at_threshold(y, np.r_[p_pos, p_neg], 0.5)
    assert m["pneumonia_recall"] == (p_pos >= 0.5).mean()
    assert m["normal_recall"] == (p_neg < 0.5).mean()


def test_the_bootstrap_is_paired_over_patients():
    predictions = {
        "image_id": ["a", "b", "c", "d"],
        "group": ["g1", "g1", "g2", "g3"],
        "y": [0, 0, 0, 1],
        "p_pneumonia": {"x": [0.9, 0.1, 0.2, 0.8]},
    }
    same = bootstrap_difference(predictions, predictions, ["x"], resamples=200)
    assert same["difference"] == 0 and same["ci95"] == [0.0, 0.0] and same["patients"] == 2
    better = {**predictions, "p_pneumonia": {"x": [0.1, 0.1, 0.2, 0.8]}}
    up = bootstrap_difference(predictions, better, ["x"], resamples=200)
    assert up["difference"] == pytest.approx(1 / 3)
    assert up["ci95"][0] >= 0 and up["ci95"][1] > 0  # never worse, in any resample


def test_aspect_keeps_the_centre_square_of_the_unsquashed_image(xray):
    framed = xray.copy()
    framed[:20] = 255  # a white band at the top
    taller = proxy.aspect(framed, ratio=0.8)  # top and bottom cut away
    assert not (gray(taller)[:5] == 255).all()
    assert np.array_equal(
        gray(proxy.aspect(framed, ratio=1.3))[:10] == 255, np.ones((10, xray.shape[1]), bool)
    )  # wider: the top stays
    framed = xray.copy()
    framed[:, :20] = 255  # a white band at the left
    assert not (gray(proxy.aspect(framed, ratio=1.3))[:, :5] == 255).all()


def test_aspect_as_an_upload_is_the_stretched_image_which_a_crop_graph_crops_alike(xray):
    """``--aspect upload``: the X-ray at the original's shape (its short side kept); the
    crop graph's centre square of it is the 'cropped' condition, up to interpolation."""
    import keras

    h, w = xray.shape[:2]
    wide = proxy.aspect(xray, ratio=1.3, upload=True)
    tall = proxy.aspect(xray, ratio=0.8, upload=True)
    assert wide.shape == (h, round(w * 1.3), 3) and tall.shape == (round(h / 0.8), w, 3)
    assert wide.dtype == np.uint8 and (wide[..., 0] == wide[..., 2]).all()
    crop = keras.layers.Resizing(h, w, crop_to_aspect_ratio=True)
    for ratio, upload in ((1.3, wide), (0.8, tall)):
        seen = np.asarray(crop(upload[None].astype(np.float32)))[0]
        cropped = proxy.aspect(xray, ratio=ratio).astype(np.float32)
        assert np.abs(seen - cropped).mean() < 4  # grey levels
    stack = proxy.shifted(np.stack([xray, xray]), "aspect_0.8", aspect_input="upload")
    assert stack.shape == (2, *tall.shape)
    assert proxy.shifted(np.stack([xray]), "blur_1", aspect_input="upload").shape[1:] == xray.shape


def test_a_model_rebuilt_to_squash_keeps_every_weight_and_answers_alike_on_squares():
    from dataclasses import replace

    from training.fitting.model import IMAGE_INPUT, ModelConfig, build_model, resize_mode
    from training.inputs.tasks import get_task

    model = build_model(
        replace(get_task("chest_xray"), resize="crop"), ModelConfig(image_size=(32, 32))
    )
    squash = proxy.with_resize(model, "squash")
    assert resize_mode(model) == "crop" and resize_mode(squash) == "squash"
    assert proxy.with_resize(squash, "squash") is squash
    for a, b in zip(model.get_weights(), squash.get_weights()):
        np.testing.assert_array_equal(a, b)
    rng = np.random.default_rng(0)
    square = rng.uniform(0, 255, (2, 48, 48, 3)).astype(np.float32)
    np.testing.assert_allclose(
        np.asarray(model({IMAGE_INPUT: square}, training=False)),
        np.asarray(squash({IMAGE_INPUT: square}, training=False)),
        atol=1e-6,
    )


def test_the_resize_rule_checks_the_squares_and_judges_the_aspect_conditions():
    from research.chest_xray.compare import judge_resize

    def results(normal, pneumonia):
        conditions = {
            name: {
                "group": group,
                "auc": 0.99,
                "argmax": {"accuracy": 0.98, "normal_recall": n, "pneumonia_recall": p},
            }
            for name, group, n, p in (
                ("none", "none", 0.98, 0.98),
                ("clahe", "held-out", 0.95, 0.98),
                ("aspect_1.3", "added", *normal[:1], *pneumonia[:1]),
                ("aspect_0.8", "added", *normal[1:], *pneumonia[1:]),
            )
        }
        held = {"argmax": {"mean_normal_recall": 0.95}}
        return {"conditions": conditions, "summary": {"held_out": held}}

    def predictions(aspect_normal_p):
        same = [0.1] * 6 + [0.9]  # six NORMAL images of six patients, one pneumonia
        return {
            "image_id": list("abcdefg"),
            "group": [f"g{i}" for i in range(7)],
            "y": [0] * 6 + [1],
            "p_pneumonia": {
                "none": same,
                "clahe": same,
                "aspect_1.3": [aspect_normal_p] * 6 + [0.9],
                "aspect_0.8": [0.9] * 6 + [0.9],
            },
        }

    a, pa = results((0.5, 0.5), (0.95, 1.0)), predictions(0.9)
    b, pb = results((1.0, 0.6), (0.95, 1.0)), predictions(0.1)
    verdict = judge_resize(a, b, pa, pb)
    assert [c["pass"] for c in verdict["checks"].values()] == [True, True, True, True]
    assert verdict["adopted"]
    worse = results((1.0, 0.6), (0.8, 0.9))  # NORMAL recall bought with pneumonia recall
    assert not judge_resize(a, worse, pa, pb)["adopted"]
    moved = {**pb, "p_pneumonia": {**pb["p_pneumonia"], "clahe": [0.1] * 6 + [0.8]}}
    verdict = judge_resize(a, b, pa, moved)  # a square condition changed: a broken rebuild
    assert not verdict["checks"][next(iter(verdict["checks"]))]["pass"]
    assert not verdict["adopted"]


def test_the_candidates_augmentation_keeps_grey_8_bit_range_and_can_blur():
    import tensorflow as tf

    from research.chest_xray.train_robust import RadiographAugmentation

    images = tf.constant(np.stack([load(p) for p in FILES]).astype(np.float32))
    labels, weights = tf.one_hot([0, 1][: len(FILES)], 2), tf.ones([len(FILES)])
    x, y, w = RadiographAugmentation().batches()(images, labels, weights)
    x = x.numpy()
    assert x.shape == images.shape and x.min() >= 0 and x.max() <= 255
    assert np.abs(x[..., 0] - x[..., 1]).max() < 1e-3  # still grey
    assert np.array_equal(y.numpy(), labels.numpy()) and np.array_equal(w.numpy(), weights.numpy())
    only_blur = RadiographAugmentation(gamma=0.0, contrast=0.0, blur_p=1.0, noise_p=0.0)
    tf.random.set_seed(0)
    blurred = only_blur.batches()(images, labels, weights)[0].numpy()
    for before, after in zip(images.numpy(), blurred):
        assert laplacian_variance(after) <= laplacian_variance(before)


def test_the_candidates_augmentation_runs_inside_the_products_training_pipeline(tmp_path):
    """``training.fitting.train.make_dataset(batches=…)`` (the hook train() passes it to) yields a
    batch through it: no training, one batch drawn."""
    from research.chest_xray.train_robust import RadiographAugmentation, parse
    from training.fitting.train import make_dataset

    config, augmentation = parse(
        ["--out", str(tmp_path), "--batch_size", str(len(FILES)), "--noise_p", "1.0"]
    )
    assert config.task == "chest_xray" and config.epochs == 12 and config.imbalance == "weights"
    assert augmentation == RadiographAugmentation(noise_p=1.0)
    images = np.stack([load(p) for p in FILES])
    labels = np.arange(len(FILES)) % 2
    ds = make_dataset(
        images,
        np.zeros((len(FILES), 0), np.float32),
        labels,
        2,
        config,
        True,
        batches=augmentation.batches(),
    )
    inputs, y, sw = next(iter(ds.take(1)))
    x = inputs["image"].numpy()
    assert x.shape == images.shape and 0 <= x.min() and x.max() <= 255
