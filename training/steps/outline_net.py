"""The outline network itself: a MobileNet V1 encoder with a light U-Net-like decoder,
its data (the task's lesion masks on the classifier's lesion-grouped split), training and
Dice on the Keras side. ``training.steps.outline`` is the command (train, export, report …) and
the module docstring there says what the network does; ``training.steps.outline_browser`` runs
the exported network in Chromium."""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from training.inputs.data import PROJECT_ROOT, data_root
from training.inputs.tasks import TASKS
from webapp.report_files import REPORT_FILES

# The task whose dataset has lesion masks (training.inputs.tasks: masks_dir).
OUTLINED = next(task for task in TASKS.values() if task.masks_dir)
TASK = OUTLINED.id
IMAGE_INPUT = "image"
MASK_OUTPUT = "mask"
METADATA_FORMAT = 1
DEFAULT_RUN = PROJECT_ROOT / "runs" / f"{TASK}_outline" / "latest"
DEFAULT_TASK_DIR = PROJECT_ROOT / "static" / "tfjs_model" / TASK
REPORT_FILE = REPORT_FILES["outline"]
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

    from training.fitting.model import backbone_weights

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
    encoder's are folded by ``training.exporting.fold``. The same answers, fewer ops."""
    from training.exporting.fold import fold_for_inference

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
