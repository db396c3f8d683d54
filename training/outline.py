"""The lesion's outline: a small segmentation network for the task with lesion masks.

A MobileNet V1 encoder (the shared ImageNet weights) with a light U-Net-like decoder gives,
for raw RGB pixels 0-255 of any size, the chance that each pixel of a ``HEIGHT`` × ``WIDTH``
grid is lesion. The whole image is squashed to that grid (no crop: the outline must cover
the whole photo) and the browser stretches the mask back over the image it was given
(``static/js/outline.js`` turns it into the polygon and the measures).

Trained on the task's masks (``Task.masks_dir`` of ``training.tasks``: the dataset's own
segmentations, ``../shared/data/<dataset>/<masks_dir>/``) with the classifier's
lesion-grouped split (``reports/<task>/split.csv``), so no lesion of the classifier's
test part is seen here either. Its files go to ``static/tfjs_model/<task>/outline/``
(model.json, weights, its own metadata.json): one folder below the task, so the site's
task list (``training.export.write_index``) does not take it for a screener.

    python -m training.outline train     # → runs/<task>_outline/latest/model.keras
    python -m training.outline evaluate  # Dice of the Keras model on the test part (printed)
    python -m training.outline export    # → static/tfjs_model/<task>/outline/, checked
                                         #   in Chromium, and the task metadata.json's key
    python -m training.outline report    # → reports/<task>/outline.json, through the
                                         #   JS API (assess()) in Chromium
    python -m training.outline all       # train, export, report
    python -m training.outline time      # what the outline adds to assess(), in Chromium
    python -m training.outline pictures  # → static/img/outline-worst/: the report's worst
                                         #   test cases with both outlines, for the page
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import asdict, dataclass, fields
from pathlib import Path

import numpy as np

from training.data import PROJECT_ROOT, data_root
from training.tasks import TASKS

# The task whose dataset has lesion masks (training.tasks: masks_dir).
OUTLINED = next(task for task in TASKS.values() if task.masks_dir)
TASK = OUTLINED.id
IMAGE_INPUT = "image"
MASK_OUTPUT = "mask"
METADATA_FORMAT = 1
DEFAULT_RUN = PROJECT_ROOT / "runs" / f"{TASK}_outline" / "latest"
DEFAULT_TASK_DIR = PROJECT_ROOT / "static" / "tfjs_model" / TASK
REPORT_FILE = "outline.json"
DEFAULT_REPORT = PROJECT_ROOT / "reports" / TASK / REPORT_FILE
PICTURES_DIR = PROJECT_ROOT / "static" / "img" / "outline-worst"
PICTURES = 6  # the worst test cases the performance page shows
# The outlines' colours on those pictures (the page's legend says the same).
DRAWN_COLOUR, MODEL_COLOUR = (255, 255, 255), (255, 0, 255)
# encoder features joined by the decoder, finest first (MobileNet V1's layer names)
SKIPS = ("conv_pw_1_relu", "conv_pw_3_relu", "conv_pw_5_relu", "conv_pw_11_relu")
DEEPEST = "conv_pw_13_relu"


@dataclass
class OutlineConfig:
    data_dir: str = ""  # default: $SCREENER_DATA_DIR or ../shared/data
    split_file: str = str(PROJECT_ROOT / "reports" / TASK / "split.csv")
    out: str = str(DEFAULT_RUN)
    weights: str = str(
        PROJECT_ROOT.parent / "shared" / "data" / "weights" / "mobilenet_2_5_224_tf_no_top.h5"
    )
    alpha: float = 0.25
    height: int = 96
    width: int = 128
    decoder: tuple[int, ...] = (64, 32, 24, 16)  # channels after each upsampling, deep first
    epochs: int = 16
    batch_size: int = 32
    max_lr: float = 2e-3
    limit: int = 0  # only this many training images (smoke runs, tests)
    seed: int = 42
    threshold: float = 0.5  # the mask is lesion where the chance is at least this


def build_model(config: OutlineConfig, inference: bool = False, logit_bias: float = 0.0):
    """Raw pixels (any size) → squash to height × width → [-1, 1] → encoder → decoder →
    sigmoid mask (height × width, one channel). ``weights`` "none" builds it untrained."""
    import keras
    from keras import layers

    from training.model import backbone_weights

    image = keras.Input((None, None, 3), name=IMAGE_INPUT)
    x = layers.Resizing(config.height, config.width, name="resize")(image)
    x = layers.Rescaling(1 / 127.5, offset=-1, name="scale")(x)
    encoder = keras.applications.MobileNet(
        input_shape=(config.height, config.width, 3),
        alpha=config.alpha,
        include_top=False,
        weights=backbone_weights(config.weights),
    )
    taps = keras.Model(
        encoder.input,
        [encoder.get_layer(name).output for name in (*SKIPS, DEEPEST)],
        name="encoder",
    )
    *skips, x = taps(x)
    for i, (skip, units) in enumerate(zip(reversed(skips), config.decoder)):
        x = layers.UpSampling2D(2, interpolation="bilinear", name=f"up{i}")(x)
        x = layers.Concatenate(name=f"join{i}")([x, skip])
        if inference:  # the same, its batch norm folded in (``inference_model``)
            x = layers.DepthwiseConv2D(3, padding="same", use_bias=False, name=f"dec{i}_dw")(x)
            x = layers.Conv2D(units, 1, name=f"dec{i}")(x)
        else:
            x = layers.SeparableConv2D(units, 3, padding="same", use_bias=False, name=f"dec{i}")(x)
            x = layers.BatchNormalization(name=f"dec{i}_bn")(x)
        x = layers.ReLU(name=f"dec{i}_relu")(x)
    x = layers.Conv2D(1, 1, use_bias=not inference, name="logits")(x)
    x = layers.UpSampling2D(2, interpolation="bilinear", name="full")(x)
    if inference:  # the logits' bias, after the upsampling (the same: it is linear), where
        # the converter cannot fuse it into the convolution as a rank-4 bias TF.js refuses
        x = layers.Rescaling(1.0, offset=logit_bias, name="logits_bias")(x)
    mask = layers.Activation("sigmoid", name=MASK_OUTPUT, dtype="float32")(x)
    return keras.Model(image, mask, name="outline")


def inference_model(model, config: OutlineConfig):
    """``model`` with every batch norm folded into the convolution before it: the decoder's
    separable convolutions become a depthwise and a biased 1×1 convolution (TF.js cannot run
    what the converter makes of a separable convolution and a batch norm), then the
    encoder's are folded by ``training.fold``. The same answers, fewer ops."""
    from training.fold import fold_for_inference

    kernel, bias = model.get_layer("logits").get_weights()
    folded = build_model(
        OutlineConfig(**{**asdict(config), "weights": "none"}),
        inference=True,
        logit_bias=float(bias[0]),
    )
    for layer in folded.layers:
        if layer.name.startswith("dec") and layer.name.endswith("_dw"):
            depthwise, _ = model.get_layer(layer.name[:-3]).get_weights()
            layer.set_weights([depthwise])
        elif layer.name.startswith("dec") and not layer.name.endswith("_relu"):
            _, pointwise = model.get_layer(layer.name).get_weights()
            norm = model.get_layer(f"{layer.name}_bn")
            gamma, beta, mean, variance = norm.get_weights()
            scale = gamma / np.sqrt(variance + norm.epsilon)
            layer.set_weights([pointwise * scale, beta - mean * scale])
        elif layer.name == "logits":
            layer.set_weights([kernel])
        elif layer.weights:
            layer.set_weights(model.get_layer(layer.name).get_weights())
    return fold_for_inference(folded)


# -- data ---------------------------------------------------------------------------------


def image_ids(config: OutlineConfig, part: str) -> list[str]:
    import pandas as pd

    table = pd.read_csv(config.split_file)
    return table.loc[table["split"] == part, "image_id"].tolist()


def load_pairs(ids, config: OutlineConfig, size_hw: tuple[int, int]):
    """Images (N, H, W, 3) uint8 and masks (N, H, W) uint8 0/255, resized to ``size_hw``."""
    from PIL import Image

    root = data_root(config.data_dir or None) / OUTLINED.dataset_dir
    h, w = size_hw
    images = np.empty((len(ids), h, w, 3), np.uint8)
    masks = np.empty((len(ids), h, w), np.uint8)
    for i, image_id in enumerate(ids):
        with Image.open(root / "images" / f"{image_id}.jpg") as im:
            im = im.convert("RGB")
            images[i] = np.asarray(im if im.size == (w, h) else im.resize((w, h), Image.BILINEAR))
        with Image.open(root / OUTLINED.masks_dir / f"{image_id}.png") as m:
            m = m.convert("L")
            masks[i] = np.asarray(m if m.size == (w, h) else m.resize((w, h), Image.BILINEAR))
    return images, masks


def train_dataset(images, masks, config: OutlineConfig):
    """Shuffled, augmented batches: flips, a random crop of 70-100 % of each side (the
    aspect ratio changes too, as a tall photo squashed into the grid does), colour jitter."""
    import tensorflow as tf

    h, w = config.height, config.width
    n = len(images)

    def augment(image, mask):
        image = tf.cast(image, tf.float32)
        mask = tf.cast(mask[..., None], tf.float32) / 255.0
        both = tf.concat([image, mask], axis=-1)
        both = tf.image.random_flip_left_right(both)
        both = tf.image.random_flip_up_down(both)
        size = tf.shape(both)
        fh = tf.random.uniform([], 0.7, 1.0)
        fw = tf.random.uniform([], 0.7, 1.0)
        ch = tf.cast(tf.cast(size[0], tf.float32) * fh, tf.int32)
        cw = tf.cast(tf.cast(size[1], tf.float32) * fw, tf.int32)
        both = tf.image.random_crop(both, [ch, cw, 4])
        both = tf.image.resize(both, [h, w])
        image, mask = both[..., :3], both[..., 3:]
        image = image * tf.random.uniform([], 0.8, 1.2) + tf.random.uniform([], -20.0, 20.0)
        grey = tf.reduce_mean(image, axis=-1, keepdims=True)
        image = grey + (image - grey) * tf.random.uniform([], 0.7, 1.3)
        return tf.clip_by_value(image, 0, 255), mask

    data = tf.data.Dataset.from_tensor_slices((images, masks))
    data = data.shuffle(n, seed=config.seed, reshuffle_each_iteration=True)
    data = data.map(augment, num_parallel_calls=2)
    return data.batch(config.batch_size, drop_remainder=True).prefetch(2)


# -- loss and scores ----------------------------------------------------------------------


def dice_loss(y_true, y_pred):
    """Binary cross-entropy plus (1 - soft Dice) of each image, averaged."""
    import keras
    from keras import ops

    bce = keras.losses.binary_crossentropy(y_true, y_pred)
    bce = ops.mean(bce, axis=(1, 2))
    inter = ops.sum(y_true * y_pred, axis=(1, 2, 3))
    total = ops.sum(y_true + y_pred, axis=(1, 2, 3))
    return bce + 1 - (2 * inter + 1) / (total + 1)


def dice_jaccard(pred: np.ndarray, true: np.ndarray) -> tuple[float, float]:
    """Dice and Jaccard of two boolean masks (both empty: 1, 1)."""
    inter = float(np.logical_and(pred, true).sum())
    total = float(pred.sum() + true.sum())
    union = total - inter
    if total == 0:
        return 1.0, 1.0
    return 2 * inter / total, inter / union


def largest_region(mask: np.ndarray) -> np.ndarray:
    """The largest 8-connected region of a boolean mask (as the browser keeps it)."""
    from scipy import ndimage

    labels, count = ndimage.label(mask, structure=np.ones((3, 3)))
    if count <= 1:
        return mask
    sizes = ndimage.sum(mask, labels, range(1, count + 1))
    return labels == (1 + int(np.argmax(sizes)))


def summary(dice: np.ndarray, jaccard: np.ndarray, ids: list[str], worst: int = 12) -> dict:
    """Mean, median, quantiles, a histogram of Dice, and the worst images' ids."""
    order = np.argsort(dice)
    edges = np.linspace(0, 1, 11)
    return {
        "images": len(ids),
        "dice": _stats(dice),
        "jaccard": _stats(jaccard),
        "dice_histogram": {
            "edges": [round(float(e), 2) for e in edges],
            "counts": np.histogram(dice, bins=edges)[0].tolist(),
        },
        "share_dice_below": {
            str(t): round(float((dice < t).mean()), 4) for t in (0.5, 0.7, 0.8, 0.9)
        },
        "worst": [
            {
                "image_id": ids[i],
                "dice": round(float(dice[i]), 4),
                "jaccard": round(float(jaccard[i]), 4),
            }
            for i in order[:worst]
        ],
    }


def _stats(values: np.ndarray) -> dict:
    q = np.quantile(values, [0.05, 0.25, 0.5, 0.75, 0.95])
    return {
        "mean": round(float(values.mean()), 4),
        "median": round(float(q[2]), 4),
        "q05": round(float(q[0]), 4),
        "q25": round(float(q[1]), 4),
        "q75": round(float(q[3]), 4),
        "q95": round(float(q[4]), 4),
    }


# -- commands -----------------------------------------------------------------------------


def train(config: OutlineConfig) -> Path:
    """Train, keeping the weights of the epoch with the best validation Dice."""
    import keras

    keras.utils.set_random_seed(config.seed)
    out = Path(config.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "config.json").write_text(json.dumps(asdict(config), indent=1) + "\n")
    # the training images a bit larger than the grid, so that a random crop keeps detail
    store = (round(config.height * 1.25), round(config.width * 1.25))
    ids = image_ids(config, "train")
    if config.limit:
        ids = ids[: config.limit]
    started = time.time()
    images, masks = load_pairs(ids, config, store)
    val_ids = image_ids(config, "val")[: config.limit or None]
    val_images, val_masks = load_pairs(val_ids, config, (config.height, config.width))
    print(f"loaded {len(ids)} + {len(val_ids)} images in {time.time() - started:.0f} s", flush=True)

    model = build_model(config)
    steps = max(1, len(ids) // config.batch_size)
    total = steps * config.epochs
    schedule = keras.optimizers.schedules.CosineDecay(
        config.max_lr / 10,
        total,
        alpha=0.02,
        warmup_target=config.max_lr,
        warmup_steps=max(1, steps // 2),
    )
    model.compile(keras.optimizers.Adam(schedule), loss=dice_loss)
    val_target = (val_masks[..., None] / 255.0).astype(np.float32)
    best, history = -1.0, []
    for epoch in range(config.epochs):
        started = time.time()
        fit = model.fit(train_dataset(images, masks, config), epochs=1, verbose=0)
        pred = model.predict(val_images.astype(np.float32), batch_size=64, verbose=0)
        scores = [
            dice_jaccard(p[..., 0] >= config.threshold, t[..., 0] >= 0.5)[0]
            for p, t in zip(pred, val_target)
        ]
        val_dice = float(np.mean(scores))
        history.append(
            {
                "epoch": epoch + 1,
                "loss": float(fit.history["loss"][-1]),
                "val_dice": round(val_dice, 4),
                "seconds": round(time.time() - started),
            }
        )
        print(json.dumps(history[-1]), flush=True)
        (out / "history.json").write_text(json.dumps(history, indent=1) + "\n")
        if val_dice > best:
            best = val_dice
            model.save(out / "model.keras")
    return out / "model.keras"


def load(path) -> object:
    import keras

    return keras.models.load_model(path, compile=False)


def predict_masks(model, images: np.ndarray, threshold: float, size_hw) -> np.ndarray:
    """The masks the browser keeps: chance ≥ threshold after stretching to ``size_hw``
    (bilinear, as the browser scales the mask), largest region only."""
    import tensorflow as tf

    chances = model.predict(images.astype(np.float32), batch_size=64, verbose=0)
    chances = tf.image.resize(chances, size_hw, method="bilinear").numpy()[..., 0]
    return np.stack([largest_region(c >= threshold) for c in chances])


def edge(mask: np.ndarray, width: int = 1) -> np.ndarray:
    """The pixels of ``mask`` next to its outside, ``width`` pixels thick."""
    from scipy import ndimage

    return mask & ~ndimage.binary_erosion(mask, iterations=width, border_value=0)


def pictures(config: OutlineConfig, model_path: Path, report_file: Path, out: Path) -> list:
    """The report's ``PICTURES`` worst test cases at the images' own size (200 × 150), the
    drawn outline in ``DRAWN_COLOUR`` and the model's (Keras, as ``evaluate`` makes it) in
    ``MODEL_COLOUR``, as JPEG files in ``out``; returns [{image_id, dice, file}]."""
    from PIL import Image

    worst = json.loads(report_file.read_text())["worst"][:PICTURES]
    ids = [w["image_id"] for w in worst]
    images, masks = load_pairs(ids, config, (150, 200))
    small, _ = load_pairs(ids, config, (config.height, config.width))
    predicted = predict_masks(load(model_path), small, config.threshold, (150, 200))
    out.mkdir(parents=True, exist_ok=True)
    for old in out.glob("*.jpg"):
        old.unlink()
    shown = []
    for found, image, true, guess in zip(worst, images, masks, predicted, strict=True):
        picture = image.copy()
        picture[edge(true >= 128, 2)] = DRAWN_COLOUR
        picture[edge(guess, 2)] = MODEL_COLOUR
        name = f"{found['image_id']}.jpg"
        Image.fromarray(picture).save(out / name, quality=85)
        shown.append({"image_id": found["image_id"], "dice": found["dice"], "file": name})
    return shown


def evaluate(config: OutlineConfig, model_path: Path, part: str = "test") -> dict:
    """Dice and Jaccard of the Python model on ``part``, at the images' own size (200×150)."""
    model = load(model_path)
    ids = image_ids(config, part)
    if config.limit:
        ids = ids[: config.limit]
    images, masks = load_pairs(ids, config, (150, 200))
    pred = predict_masks(model, images, config.threshold, (150, 200))
    scores = np.array([dice_jaccard(p, t >= 128) for p, t in zip(pred, masks)])
    return summary(scores[:, 0], scores[:, 1], ids)


def export(
    config: OutlineConfig, model_path: Path, task_dir: Path, quantization: str = "float16"
) -> dict:
    """The TF.js graph model in ``<task_dir>/outline/`` with its metadata.json, checked in
    the browser (``parity``), and the classifier's metadata.json told where it is."""
    from training.export import OUTLINE_FOLDER, content_version, convert, outline_contract

    out_dir = Path(task_dir) / OUTLINE_FOLDER
    model = inference_model(load(model_path), config)
    signature = convert(model, out_dir, quantization)
    outputs = [key.split(":")[0] for key in signature.get("outputs", {})]
    inputs = [key.split(":")[0] for key in signature.get("inputs", {})]
    if inputs != [IMAGE_INPUT] or len(outputs) != 1:
        raise RuntimeError(f"converted outline model has inputs {inputs}, outputs {outputs}")
    files = sorted(out_dir.glob("group*-shard*of*.bin"))
    metadata = {
        "format": METADATA_FORMAT,
        "task": TASK,
        "kind": "outline",
        "version": content_version(out_dir),
        "exported": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "input": {
            "name": IMAGE_INPUT,
            "pixels": "RGB 0-255, any size; the model squashes the whole image to its size",
            "resize": "squash",
            "height": config.height,
            "width": config.width,
        },
        "output": {
            "name": outputs[0],
            "height": config.height,
            "width": config.width,
            "meaning": "the chance that each cell of the squashed image is lesion",
        },
        "threshold": config.threshold,
        "backbone": f"MobileNet V1 α {config.alpha:g} (ImageNet) and a light decoder",
        "weights": {
            "quantization": quantization,
            "bytes": sum(p.stat().st_size for p in files),
            "files": ["model.json", *(p.name for p in files)],
        },
        "trained_on": "HAM10000 lesion masks (Tschandl et al., CC BY-NC-SA 4.0), the "
        f"lesion-grouped training part of reports/{TASK}/split.csv",
    }
    (out_dir / "metadata.json").write_text(json.dumps(metadata, indent=1) + "\n")
    metadata["parity"] = parity(config, model_path, Path(task_dir))
    (out_dir / "metadata.json").write_text(json.dumps(metadata, indent=1) + "\n")
    classifier = Path(task_dir) / "metadata.json"
    if classifier.is_file():
        found = json.loads(classifier.read_text())
        found.update(outline_contract(Path(task_dir)))
        classifier.write_text(json.dumps(found, indent=1) + "\n")
    return metadata


PARITY_SCRIPT = """
async ([count]) => {
  const { loadTf, selectBackend } = await import('/static/js/tf-loader.js');
  const { downloadModel } = await import('/static/js/model-files.js');
  const tf = await loadTf();
  await selectBackend(tf, 'wasm');
  const files = await downloadModel(new URL('/model/outline/', location.href));
  const model = await tf.loadGraphModel({ load: () => tf.io.getModelArtifactsForJSON(
    files.modelJson, async () => [files.weightSpecs, files.weightData]) });
  const rows = [];
  for (let i = 0; i < count; i++) {
    const bitmap = await createImageBitmap(await (await fetch(`/images/${i}`)).blob());
    const mask = tf.tidy(() => model.execute(
      tf.expandDims(tf.cast(tf.browser.fromPixels(bitmap, 3), 'float32'), 0)));
    rows.push(Array.from(await mask.data()));
    mask.dispose();
  }
  return rows;
}
"""

ASSESS_SCRIPT = """
async ([count]) => {
  const { loadClassifier } = await import('/static/js/classifier.js');
  const classifier = await loadClassifier('TASK', { modelUrl: '/model/', backend: 'wasm' });
  const rows = [];
  for (let i = 0; i < count; i++) {
    const blob = await (await fetch(`/images/${i}`)).blob();
    const { outline, outlineMessage } = await classifier.assess(blob);
    rows.push(outline ? { polygon: outline.polygon, width: outline.width, height: outline.height }
      : { polygon: null, message: outlineMessage });
  }
  return rows;
}
"""


def _in_browser(script: str, model_dir: Path, images: list[Path], extra=()):
    """Run ``script`` (given the image count, then ``extra``) on a page served by
    ``training.parity.serve``."""
    from playwright.sync_api import sync_playwright

    from training.browser import launch_chromium
    from training.parity import serve

    errors = []
    with sync_playwright() as p, serve(model_dir, images) as url:
        browser = launch_chromium(p)
        try:
            page = browser.new_page()
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.goto(url + "/")
            # the scripts name the task as TASK (the outlined task of the registry)
            result = page.evaluate(script.replace("'TASK'", repr(TASK)), [len(images), *extra])
        finally:
            browser.close()
    if errors:
        raise RuntimeError(f"errors in the browser: {errors}")
    return result


def image_paths(config: OutlineConfig, ids) -> list[Path]:
    root = data_root(config.data_dir or None) / OUTLINED.dataset_dir / "images"
    return [root / f"{image_id}.jpg" for image_id in ids]


MAX_CHANCE_DIFF = 0.05  # largest difference of a pixel's chance, Keras against the browser
MIN_PARITY_DICE = 0.98  # least Dice between the two thresholded masks, on every image


def parity(config: OutlineConfig, model_path: Path, task_dir: Path, count: int = 24) -> dict:
    """The converted outline model in Chromium (WASM) against Keras on ``count`` test images:
    the same chances within MAX_CHANCE_DIFF and the same mask (Dice ≥ MIN_PARITY_DICE)."""
    from PIL import Image

    ids = image_ids(config, "test")[:count]
    paths = image_paths(config, ids)
    model = load(model_path)
    pixels = np.stack([np.asarray(Image.open(p).convert("RGB"), np.float32) for p in paths])
    expected = model.predict(pixels, verbose=0)[..., 0].reshape(len(paths), -1)
    found = np.asarray(_in_browser(PARITY_SCRIPT, task_dir, paths), np.float64)
    diff = np.abs(found - expected)
    dice = [
        dice_jaccard(a >= config.threshold, b >= config.threshold)[0]
        for a, b in zip(expected, found)
    ]
    summary = {
        "images": len(paths),
        "backend": "wasm",
        "max_abs_diff": float(diff.max()),
        "mean_abs_diff": float(diff.mean()),
        "min_mask_dice": float(min(dice)),
    }
    if summary["max_abs_diff"] > MAX_CHANCE_DIFF or summary["min_mask_dice"] < MIN_PARITY_DICE:
        raise AssertionError(f"outline parity failed: {summary}")
    return summary


def fill_polygon(polygon, width: int, height: int) -> np.ndarray:
    """The polygon filled at width × height: the pixels whose centre lies inside (even-odd
    rule, row by row, as ``fill`` in static/js/outline.js)."""
    out = np.zeros((height, width), bool)
    if not polygon:
        return out
    points = np.asarray(polygon, np.float64)
    x1, y1 = points[:, 0], points[:, 1]
    x2, y2 = np.roll(x1, 1), np.roll(y1, 1)
    centres = np.arange(width) + 0.5
    for row in range(height):
        y = row + 0.5
        crossing = ((y1 <= y) & (y2 > y)) | ((y2 <= y) & (y1 > y))
        xs = np.sort(
            x1[crossing]
            + (y - y1[crossing]) / (y2[crossing] - y1[crossing]) * (x2[crossing] - x1[crossing])
        )
        for a, b in zip(xs[0::2], xs[1::2]):
            out[row] |= (centres >= a) & (centres <= b)
    return out


def browser_evaluate(config: OutlineConfig, task_dir: Path, part: str = "test") -> dict:
    """Dice and Jaccard through the JS API: each image of ``part`` given to ``assess()``,
    its outline's polygon filled at the image's own size against the true mask."""
    ids = image_ids(config, part)
    if config.limit:
        ids = ids[: config.limit]
    _, masks = load_pairs(ids, config, (150, 200))
    rows = _in_browser(ASSESS_SCRIPT, task_dir, image_paths(config, ids))
    scores, missing = [], []
    for image_id, row, true in zip(ids, rows, masks):
        if row["polygon"] is None:
            missing.append(image_id)
        pred = fill_polygon(row["polygon"], true.shape[1], true.shape[0])
        scores.append(dice_jaccard(pred, true >= 128))
    scores = np.asarray(scores)
    report = summary(scores[:, 0], scores[:, 1], ids)
    report["no_outline"] = {"count": len(missing), "image_ids": missing[:20]}
    return report


TIMING_SCRIPT = """
async ([count, runs]) => {
  const { loadClassifier } = await import('/static/js/classifier.js');
  const without = await loadClassifier('TASK', { modelUrl: '/model/without/', backend: 'wasm' });
  const outlined = await loadClassifier('TASK', { modelUrl: '/model/with/', backend: 'wasm' });
  const blob = await (await fetch('/images/0')).blob();
  const times = { without: [], with: [] };
  for (let i = 0; i < 5; i++) { await without.assess(blob); await outlined.assess(blob); }
  for (let i = 0; i < runs; i++) { // alternating, so both meet the same load of the machine
    const pair = [['with', outlined], ['without', without]];
    const order = i % 2 ? pair.reverse() : pair;
    for (const [name, classifier] of order) {
      const started = performance.now();
      await classifier.assess(blob);
      times[name].push(performance.now() - started);
    }
  }
  return times;
}
"""


def timing(task_dir: Path, image: Path, runs: int = 60) -> dict:
    """What the outline adds to ``assess()``: the task's model with and without its outline
    model, loaded side by side in one Chromium page (WASM), ``runs`` calls each on ``image``,
    alternating. Medians in ms (scripts/benchmark.py times the page and its cold loads)."""
    import shutil
    import statistics
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        shutil.copytree(task_dir, Path(tmp) / "with")
        shutil.copytree(task_dir, Path(tmp) / "without", ignore=shutil.ignore_patterns("outline"))
        plain = Path(tmp) / "without" / "metadata.json"
        metadata = json.loads(plain.read_text())
        metadata.pop("outline", None)
        plain.write_text(json.dumps(metadata))
        times = _in_browser(TIMING_SCRIPT, Path(tmp), [image], extra=[runs])
    medians = {name: round(statistics.median(values), 1) for name, values in times.items()}
    return {
        "runs": runs,
        "backend": "wasm",
        "median_ms": medians,
        "added_ms": round(medians["with"] - medians["without"], 1),
    }


def parse(argv) -> tuple[str, OutlineConfig, argparse.Namespace]:
    parser = argparse.ArgumentParser(
        prog="python -m training.outline",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "command", choices=("train", "evaluate", "export", "report", "all", "time", "pictures")
    )
    parser.add_argument("--task-dir", default=str(DEFAULT_TASK_DIR))
    parser.add_argument("--report", default=str(DEFAULT_REPORT))
    parser.add_argument("--quantization", default="float16")
    for f in fields(OutlineConfig):
        kind = f.type if isinstance(f.type, str) else f.type.__name__
        if kind.startswith("tuple"):
            parser.add_argument(f"--{f.name.replace('_', '-')}", type=int, nargs="+")
        else:
            cast = {"int": int, "float": float, "str": str}[kind]
            parser.add_argument(f"--{f.name.replace('_', '-')}", type=cast)
    args = parser.parse_args(argv)
    values = {
        f.name: getattr(args, f.name)
        for f in fields(OutlineConfig)
        if getattr(args, f.name) is not None
    }
    if "decoder" in values:
        values["decoder"] = tuple(values["decoder"])
    return args.command, OutlineConfig(**values), args


def write_report(config: OutlineConfig, task_dir: Path, path: Path) -> dict:
    """``browser_evaluate`` of the outline model in ``task_dir``, with what it measured, as
    ``path`` (``reports/<task>/outline.json``; the release's export step writes it too)."""
    report = browser_evaluate(config, task_dir)
    meta = json.loads((Path(task_dir) / "outline" / "metadata.json").read_text())
    report = {
        "what": "Dice and Jaccard of the outline through the JS API (assess()'s polygon, "
        "filled at the image's own size, 200 × 150) against the HAM10000 mask, on the "
        "lesion-grouped test part",
        "command": "python -m training.outline report",
        "model_version": meta["version"],
        **report,
        "model": {
            "backbone": meta["backbone"],
            "input": [meta["input"]["height"], meta["input"]["width"]],
            "bytes": meta["weights"]["bytes"],
        },
    }
    if (Path(config.out) / "history.json").is_file():
        report["training"] = json.loads((Path(config.out) / "history.json").read_text())
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(report, indent=1) + "\n")
    return report


def main(argv=None) -> int:
    command, config, args = parse(sys.argv[1:] if argv is None else argv)
    model_path = Path(config.out) / "model.keras"
    task_dir = Path(args.task_dir)
    if command in ("train", "all"):
        model_path = train(config)
    if command == "evaluate":
        report = evaluate(config, model_path)
        print(json.dumps({k: report[k] for k in ("images", "dice", "jaccard")}, indent=1))
        (Path(config.out) / "python_test.json").write_text(json.dumps(report, indent=1) + "\n")
    if command in ("export", "all"):
        metadata = export(config, model_path, task_dir, args.quantization)
        print(json.dumps(metadata, indent=1))
    if command in ("report", "all"):
        report = write_report(config, task_dir, Path(args.report))
        print(json.dumps({k: report[k] for k in ("images", "dice", "jaccard", "no_outline")}))
    if command in ("pictures", "all"):
        shown = pictures(config, model_path, Path(args.report), PICTURES_DIR)
        report = json.loads(Path(args.report).read_text())
        report["pictures"] = {"folder": "img/outline-worst/", "images": shown}
        Path(args.report).write_text(json.dumps(report, indent=1) + "\n")
        print(json.dumps(shown))
    if command == "time":
        image = PROJECT_ROOT / "tests" / "data" / "ham10000" / "ISIC_0025661.jpg"
        print(json.dumps(timing(task_dir, image)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
