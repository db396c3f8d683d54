"""Images per second of the product's training loop (issue 29, point 3).

Times ``training.fitting.train``'s own input pipeline and Keras ``fit`` steps (the shipped
network, balanced batches) for each augmentation and input size given, on decoded
training images in memory; the first steps (tracing, warm-up) are not counted. Run it
alone on the machine: another job on the two cores halves the figure.

    python -m research.skin_lesion.train_speed --augment standard crops --size 192 256 --size 150 200
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np

from training.fitting.config import TrainConfig
from training.fitting.model import ModelConfig, build_model
from training.fitting.train import class_balance, make_dataset, training_loss
from training.inputs.data import PROJECT_ROOT
from training.inputs.tasks import get_task

TASK = get_task("skin_lesion")

CROP_SIDE = (0.75, 1.0)  # "crops": each side of the random crop, as a fraction of the image's


def crops_augmentation():
    """The "crops" augmentation, measured and not shipped: a random crop of 75-100 % of
    each side (any place, so the lesion moves and its scale changes) resized back
    (bilinear), a horizontal and a vertical flip each with chance ½, and per-image
    brightness, contrast, saturation and hue; no free rotation. Given to
    ``training.fitting.train.make_dataset`` as its ``batches`` transform over augment "none"."""
    import keras
    import tensorflow as tf
    from keras import layers

    colour = keras.Sequential(
        [
            layers.RandomBrightness(0.15, value_range=(0, 255)),
            layers.RandomContrast(0.2, value_range=(0, 255)),
            layers.RandomSaturation((0.35, 0.65)),
            layers.RandomHue(0.04, value_range=(0, 255)),
        ],
        name="augment_colour",
    )

    def augment(x, y, sw):
        n = tf.shape(x)[0]
        h, w = x.shape[1], x.shape[2]
        side = tf.random.uniform((n, 2), *CROP_SIDE)
        start = tf.random.uniform((n, 2)) * (1.0 - side)
        boxes = tf.concat([start, start + side], axis=1)
        x = tf.image.crop_and_resize(x, boxes, tf.range(n), (h, w))
        flip = tf.random.uniform((n, 1, 1, 1)) < 0.5
        x = tf.where(flip, x[:, :, ::-1], x)
        flip = tf.random.uniform((n, 1, 1, 1)) < 0.5
        x = tf.where(flip, x[:, ::-1], x)
        return colour(x, training=True), y, sw

    return augment


OUT = PROJECT_ROOT / "research" / "skin_lesion" / "results" / "train_speed.json"


def images_per_second(augment: str, size: tuple[int, int], images, labels, steps: int) -> float:
    import keras

    crops = augment == "crops"  # research's own, as a batch transform (crops_augmentation)
    config = TrainConfig(
        task=TASK.id,
        augment="none" if crops else augment,
        imbalance="sampling",
        label_smoothing=0.1,
    )
    config.model = ModelConfig(
        image_size=size, weights="../shared/data/weights/mobilenet_2_5_224_tf_no_top.h5"
    )
    from training.fitting.model import (
        backbone_weights,  # noqa: F401 (resolves the path as train does)
    )

    k = len(TASK.labels)
    meta = np.zeros((len(labels), TASK.metadata_size), np.float32)
    _, sampling = class_balance("sampling", labels, k)
    batches = crops_augmentation() if crops else None
    ds = make_dataset(images, meta, labels, k, config, True, sampling=sampling, batches=batches)
    model = build_model(TASK, config.model)
    model.compile(optimizer=keras.optimizers.AdamW(1e-4), loss=training_loss(config))
    warm = 5
    it = iter(ds)
    for _ in range(warm):
        model.train_on_batch(*next(it))
    start = time.perf_counter()
    for _ in range(steps):
        model.train_on_batch(*next(it))
    return steps * config.batch_size / (time.perf_counter() - start)


def main(argv=None) -> dict:
    from training.inputs.data import data_root, load_images, read_split

    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--augment", nargs="+", default=["standard", "crops"])
    p.add_argument("--size", nargs=2, type=int, action="append", metavar=("HEIGHT", "WIDTH"))
    p.add_argument("--steps", type=int, default=40)
    p.add_argument("--images", type=int, default=2000, help="training images decoded")
    p.add_argument("--out", default=str(OUT))
    args = p.parse_args(argv)
    sizes = [tuple(s) for s in (args.size or [[192, 256], [150, 200]])]
    table = TASK.load(data_root())
    split = read_split(table, PROJECT_ROOT / "reports" / TASK.id / "split.csv")
    rows = table[(split == "train").to_numpy()].head(args.images)
    labels = rows["label_index"].to_numpy()
    result = {"steps": args.steps, "batch_size": TrainConfig().batch_size, "images_per_second": {}}
    for size in sizes:
        images = load_images(rows["path"], size)
        for augment in args.augment:
            speed = images_per_second(augment, size, images, labels, args.steps)
            key = f"{augment} {size[0]}x{size[1]}"
            result["images_per_second"][key] = round(speed, 1)
            print(f"{key}: {speed:.0f} images/s", flush=True)
    from pathlib import Path

    Path(args.out).write_text(json.dumps(result, indent=1) + "\n")
    return result


if __name__ == "__main__":
    main()
