"""The product's chest X-ray recipe with stronger radiograph augmentation:
``python -m research.chest_xray.train_robust [--gamma 0.5 …] [training.fitting.train flags, e.g.
--out runs/chest_xray/robust --epochs 12]``.

The recipe is ``training/recipes/chest_xray.json`` (its ``train`` fields become the flags of
``training.fitting.config.parse_config``; flags given here come after and win). On top of the
product's "standard" augmentation (small turns, zooms, shifts, brightness ±15 %, contrast
±20 %) every training image gets, in this order, the radiograph shifts a detector or a
processing chain of another hospital brings (``RadiographAugmentation``):

- a tone curve 255·(x/255)^g, log g ~ U(−gamma, gamma)             (default g in 0.61…1.65)
- a contrast change around the image's mean, c ~ U(1 − contrast, 1 + contrast)  (0.7…1.3)
- with chance ``blur_p`` a blur: the image blended with its Gaussian blur (σ = ``blur_sigma``)
  by a ~ U(0, 1)
- with chance ``noise_p`` grey Gaussian noise of σ ~ U(0, ``noise``) grey levels.

None of the proxy's held-out shifts (equalisation, CLAHE, sharpening, JPEG, crop, pad) is
drawn. The hook is ``training.fitting.train.train(batches=…)`` (a transform of each training batch
after the product's augmentation); nothing of the product is patched. The run folder gets
``research.json`` (the augmentation's settings) beside the product's files.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
from dataclasses import dataclass
from pathlib import Path

TASK_ID = "chest_xray"


@dataclass
class RadiographAugmentation:
    gamma: float = 0.5  # log-gamma range: g = exp(U(−gamma, gamma))
    contrast: float = 0.3  # c ~ U(1 − contrast, 1 + contrast)
    blur_p: float = 0.5  # chance of a blur
    blur_sigma: float = 2.0  # σ (pixels at the network's size) of the blur blended in
    noise_p: float = 0.5  # chance of noise
    noise: float = 10.0  # the largest noise σ (grey levels)

    def batches(self):
        """The batch transform for ``training.fitting.train.train(batches=…)``: images (N, H, W, 3)
        0-255 floats in, the same out; labels and sample weights untouched."""
        import tensorflow as tf

        radius = max(1, int(round(3 * self.blur_sigma)))
        taps = tf.exp(
            -0.5 * tf.square(tf.range(-radius, radius + 1, dtype=tf.float32) / self.blur_sigma)
        )
        taps = taps / tf.reduce_sum(taps)
        column = tf.tile(tf.reshape(taps, [-1, 1, 1, 1]), [1, 1, 3, 1])  # (k, 1, 3, 1)
        row = tf.tile(tf.reshape(taps, [1, -1, 1, 1]), [1, 1, 3, 1])  # (1, k, 3, 1)

        def blurred(x):
            x = tf.pad(x, [[0, 0], [radius, radius], [radius, radius], [0, 0]], "SYMMETRIC")
            x = tf.nn.depthwise_conv2d(x, column, [1, 1, 1, 1], "VALID")
            return tf.nn.depthwise_conv2d(x, row, [1, 1, 1, 1], "VALID")

        def transform(images, labels, weights):
            x = tf.clip_by_value(images, 0.0, 255.0)
            n = tf.shape(x)[0]
            per_image = [n, 1, 1, 1]
            g = tf.exp(tf.random.uniform(per_image, -self.gamma, self.gamma))
            x = 255.0 * tf.pow(x / 255.0 + 1e-7, g)
            c = tf.random.uniform(per_image, 1.0 - self.contrast, 1.0 + self.contrast)
            mean = tf.reduce_mean(x, axis=[1, 2, 3], keepdims=True)
            x = (x - mean) * c + mean
            a = tf.random.uniform(per_image) * tf.cast(
                tf.random.uniform(per_image) < self.blur_p, tf.float32
            )
            x = x + a * (blurred(x) - x)
            sigma = tf.random.uniform(per_image, 0.0, self.noise) * tf.cast(
                tf.random.uniform(per_image) < self.noise_p, tf.float32
            )
            grain = tf.random.normal(tf.concat([tf.shape(x)[:3], [1]], 0))
            x = x + sigma * grain  # the same on every channel: grey
            return tf.clip_by_value(x, 0.0, 255.0), labels, weights

        return transform


def recipe_flags(task_id: str = TASK_ID) -> list[str]:
    """The flags of the product's recipe (``training/recipes/TASK.json``'s ``train``)."""
    from training.release import read_recipe

    recipe = read_recipe(task_id)
    flags = ["--task", task_id]

    def add(prefix, fields):
        for key, value in fields.items():
            if isinstance(value, dict):
                add(f"{prefix}{key}.", value)
            elif isinstance(value, (list, tuple)):
                flags.extend([f"--{prefix}{key}", *map(str, value)])
            else:
                flags.extend([f"--{prefix}{key}", str(value)])

    add("", recipe["train"])
    return flags


def parse(argv=None):
    """(TrainConfig, RadiographAugmentation): the augmentation's flags, then the recipe's
    and the rest (``training.fitting.config.parse_config``; later flags win)."""
    from training.fitting.config import parse_config

    parser = argparse.ArgumentParser(add_help=False, allow_abbrev=False)
    for f in dataclasses.fields(RadiographAugmentation):
        parser.add_argument(f"--{f.name}", type=float, default=f.default)
    known, rest = parser.parse_known_args(argv)
    augmentation = RadiographAugmentation(**vars(known))
    config = parse_config(
        [*recipe_flags(), *rest],
        prog="python -m research.chest_xray.train_robust",
        description=__doc__,
    )
    if config.task != TASK_ID:
        raise SystemExit(f"this experiment is for {TASK_ID}, not {config.task}")
    return config, augmentation


def main(argv=None) -> int:
    from training.fitting.train import train

    config, augmentation = parse(argv)
    out = Path(config.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "research.json").write_text(
        json.dumps(
            {
                "radiograph_augmentation": dataclasses.asdict(augmentation),
                "hook": "training.fitting.train.train(batches=…)",
                "script": "research/chest_xray/train_robust.py",
            },
            indent=2,
        )
        + "\n"
    )
    print(
        f"[robust] {dataclasses.asdict(augmentation)}; epochs {config.epochs}, out {out}",
        flush=True,
    )
    train(config, batches=augmentation.batches())
    return 0


if __name__ == "__main__":
    sys.exit(main())
