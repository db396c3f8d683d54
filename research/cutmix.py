"""CutMix (Yun et al. 2019): a training batch's images get a rectangle cut from
another image of the batch, and the labels are mixed in proportion to the area
(``python -m research.train --mix cutmix [--mix_probability 0.5] …``).

Balanced sampling shows each rare-class image many times per epoch; mixing makes
those repeats differ and keeps the network from growing sure of them (the
training balanced accuracy runs far ahead of validation otherwise). Measured on
the lesion task and not adopted: skin_lesion/experiments.md, "Input resolution, CutMix,
focal loss, peak learning rate".
"""

from __future__ import annotations

MIX_MODES = ("none", "cutmix")


def cutmix(images, labels, weights, probability: float = 0.5):
    """(images, labels, weights) with one random box pasted across the batch.

    With chance ``probability`` per batch: λ ~ U(0, 1) (Beta(1, 1)); a box of
    about (1 - λ) of the image, centred anywhere (clipped at the borders), is
    copied from a shuffled order of the same batch into every image. Labels and
    sample weights become the area-weighted mix of the two images' (the area
    actually pasted, after clipping). Images (N, H, W, C), labels (N, K) one-hot
    or soft, weights (N,).
    """
    import tensorflow as tf

    shape = tf.shape(images)
    n, h, w = shape[0], shape[1], shape[2]
    order = tf.random.shuffle(tf.range(n))
    cut = tf.sqrt(1.0 - tf.random.uniform([]))
    cut_h = tf.cast(tf.round(cut * tf.cast(h, tf.float32)), tf.int32)
    cut_w = tf.cast(tf.round(cut * tf.cast(w, tf.float32)), tf.int32)
    centre_y = tf.random.uniform([], 0, h, dtype=tf.int32)
    centre_x = tf.random.uniform([], 0, w, dtype=tf.int32)
    rows = tf.range(h)
    cols = tf.range(w)
    in_rows = (rows >= centre_y - cut_h // 2) & (rows < centre_y + cut_h - cut_h // 2)
    in_cols = (cols >= centre_x - cut_w // 2) & (cols < centre_x + cut_w - cut_w // 2)
    box = in_rows[:, None] & in_cols[None, :]
    box = box & (tf.random.uniform([]) < probability)
    area = tf.reduce_mean(tf.cast(box, tf.float32))
    mixed = tf.where(box[None, :, :, None], tf.gather(images, order), images)
    labels = (1.0 - area) * labels + area * tf.gather(labels, order)
    weights = (1.0 - area) * weights + area * tf.gather(weights, order)
    return mixed, labels, weights


def batches(probability: float = 0.5):
    """The batch transform for ``training.fitting.train.train(batches=…)``."""

    def mix(images, labels, weights):
        return cutmix(images, labels, weights, probability)

    return mix
