"""Lesion-centred crop from the outline network, against the whole image (issue 29).

The issue's quick loop (MobileNet V1 α 0.25, 128×128, a few epochs, balanced batches,
decoded images in memory, the lesion-grouped split), two variants:

- A: the whole image squashed to a square (training jitter: a random crop of 85-100 %
  of each side);
- B: a square around the lesion with a 15 % margin (``crop_box``): in training from the
  true masks (jittered), at evaluation from the outline network's predicted mask
  (``training.steps.outline``), the whole image when it finds none.

Trained on the split's *train* part only, the last epoch kept; validation, test and the
outside set (``training.exporting.outside``, Derm7pt + PH2) are only measured, the outside set never
trained or tuned on. Rule and results: ``research/skin_lesion/experiments.md``.

    python -m research.skin_lesion.lesion_crop --seeds 0 1 2 --epochs 5
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import numpy as np

from training.inputs.data import PROJECT_ROOT, data_root, read_split
from training.inputs.tasks import get_task

TASK = get_task("skin_lesion")
MARGIN = 0.15  # of the box's longer side, on each side
DEFAULT_OUT = PROJECT_ROOT / "research" / "skin_lesion" / "results" / "lesion_crop.json"
DEFAULT_OUTLINE = PROJECT_ROOT / "runs" / "skin_lesion_outline" / "latest" / "model.keras"
DEFAULT_WEIGHTS = PROJECT_ROOT.parent / "shared" / "data" / "weights"
WEIGHTS_FILE = "mobilenet_2_5_224_tf_no_top.h5"
VARIANTS = ("A", "B")


# -- the crop box ---------------------------------------------------------------------------


def mask_box(mask: np.ndarray):
    """(top, left, bottom, right) in pixels of a boolean mask's bounding box (bottom and
    right exclusive), or None if the mask is empty."""
    rows = np.flatnonzero(mask.any(axis=1))
    cols = np.flatnonzero(mask.any(axis=0))
    if rows.size == 0:
        return None
    return int(rows[0]), int(cols[0]), int(rows[-1]) + 1, int(cols[-1]) + 1


def crop_box(box, height: int, width: int, margin: float = MARGIN, shift=(0.0, 0.0)):
    """The normalised (y1, x1, y2, x2) of a square around ``box`` (pixels, as ``mask_box``):
    side = the box's longer side × (1 + 2 margin), centred on the box (moved by ``shift``
    × side), moved inside the image, and cut to the image where it is larger. No box: the
    whole image."""
    if box is None:
        return np.array([0.0, 0.0, 1.0, 1.0], np.float32)
    top, left, bottom, right = box
    side = max(bottom - top, right - left) * (1 + 2 * margin)
    cy = (top + bottom) / 2 + shift[0] * side
    cx = (left + right) / 2 + shift[1] * side

    def place(centre, size):
        size_here = min(side, size)
        start = min(max(centre - size_here / 2, 0.0), size - size_here)
        return start / size, (start + size_here) / size

    y1, y2 = place(cy, height)
    x1, x2 = place(cx, width)
    return np.array([y1, x1, y2, x2], np.float32)


def jittered_boxes(boxes, height, width, rng):
    """Variant B's training boxes: margin 5-25 % per side, centre moved by up to 10 %."""
    out = np.empty((len(boxes), 4), np.float32)
    for i, box in enumerate(boxes):
        out[i] = crop_box(
            box, height, width, rng.uniform(0.05, 0.25), tuple(rng.uniform(-0.1, 0.1, 2))
        )
    return out


def whole_boxes(n, rng):
    """Variant A's training boxes: a random crop of 85-100 % of each side."""
    size = rng.uniform(0.85, 1.0, (n, 2))
    start = rng.uniform(0, 1, (n, 2)) * (1 - size)
    return np.concatenate([start, start + size], axis=1).astype(np.float32)


# -- data -----------------------------------------------------------------------------------


def load_rgb(paths) -> list[np.ndarray]:
    from PIL import Image

    out = []
    for p in paths:
        with Image.open(p) as im:
            out.append(np.asarray(im.convert("RGB")))
    return out


def load_masks(ids, folder: Path) -> list[np.ndarray]:
    from PIL import Image

    out = []
    for i in ids:
        with Image.open(folder / f"{i}.png") as m:
            out.append(np.asarray(m.convert("L")) >= 128)
    return out


def predicted_boxes(outline, images: list[np.ndarray]):
    """Bounding boxes (pixels) of the outline network's masks, per image (None: empty)."""
    from training.steps.outline_net import predict_masks

    boxes = [None] * len(images)
    shapes = sorted({im.shape for im in images})
    for shape in shapes:  # the network squashes any size; one batch per size
        idx = [i for i, im in enumerate(images) if im.shape == shape]
        for start in range(0, len(idx), 256):
            chunk = idx[start : start + 256]
            masks = predict_masks(outline, np.stack([images[i] for i in chunk]), 0.5, shape[:2])
            for i, m in zip(chunk, masks):
                boxes[i] = mask_box(m)
    return boxes


def crops(images: list[np.ndarray], boxes: np.ndarray, size: int) -> np.ndarray:
    """Each image's normalised box, resized (bilinear) to size × size, uint8."""
    import tensorflow as tf

    out = np.empty((len(images), size, size, 3), np.uint8)
    for shape in sorted({im.shape for im in images}):
        idx = [i for i, im in enumerate(images) if im.shape == shape]
        for start in range(0, len(idx), 256):
            chunk = idx[start : start + 256]
            batch = tf.constant(np.stack([images[i] for i in chunk]), tf.float32)
            got = tf.image.crop_and_resize(
                batch, boxes[chunk], tf.range(len(chunk)), (size, size), method="bilinear"
            )
            out[chunk] = np.clip(np.round(got.numpy()), 0, 255).astype(np.uint8)
    return out


# -- model and training ---------------------------------------------------------------------


def build(size: int, weights: str, seed: int):
    import keras
    from keras import layers

    from training.fitting.model import backbone_weights

    keras.utils.set_random_seed(seed)
    x_in = keras.Input((size, size, 3))
    x = layers.Rescaling(1 / 127.5, offset=-1)(x_in)
    base = keras.applications.MobileNet(
        input_shape=(size, size, 3),
        alpha=0.25,
        include_top=False,
        weights=backbone_weights(weights),
    )
    x = layers.GlobalAveragePooling2D()(base(x))
    x = layers.Dropout(0.2)(x)
    out = layers.Dense(len(TASK.labels), activation="softmax")(x)
    return keras.Model(x_in, out)


def train_one(variant, seed, train, args):
    """Train one network; returns (model, images per second over epochs after the first)."""
    import keras
    import tensorflow as tf

    images, labels, boxes = train  # images (N, 150, 200, 3) uint8, true-mask boxes (pixels)
    rng = np.random.default_rng(seed)
    model = build(args.size, args.weights, seed)
    steps = len(labels) // args.batch
    total = steps * args.epochs
    schedule = keras.optimizers.schedules.CosineDecay(args.lr, total)
    optimizer = keras.optimizers.Adam(schedule)
    loss_fn = keras.losses.SparseCategoricalCrossentropy()
    per_class = [np.flatnonzero(labels == c) for c in range(len(TASK.labels))]
    h, w = images.shape[1:3]
    size = args.size

    @tf.function
    def step(batch, box, y):
        x = tf.image.crop_and_resize(
            tf.cast(batch, tf.float32), box, tf.range(tf.shape(batch)[0]), (size, size)
        )
        flip = tf.random.uniform((tf.shape(x)[0], 1, 1, 1)) < 0.5
        x = tf.where(flip, x[:, :, ::-1], x)
        flip = tf.random.uniform((tf.shape(x)[0], 1, 1, 1)) < 0.5
        x = tf.where(flip, x[:, ::-1], x)
        with tf.GradientTape() as tape:
            p = model(x, training=True)
            loss = loss_fn(y, p)
        grads = tape.gradient(loss, model.trainable_variables)
        optimizer.apply_gradients(zip(grads, model.trainable_variables))
        return loss

    tf.random.set_seed(seed)
    epoch_seconds = []
    for epoch in range(args.epochs):
        start = time.perf_counter()
        losses = []
        for _ in range(steps):
            kinds = rng.integers(0, len(per_class), args.batch)
            idx = np.array([rng.choice(per_class[k]) for k in kinds])
            if variant == "A":
                box = whole_boxes(len(idx), rng)
            else:
                box = jittered_boxes([boxes[i] for i in idx], h, w, rng)
            losses.append(float(step(images[idx], box, labels[idx])))
        epoch_seconds.append(time.perf_counter() - start)
        print(
            f"[{variant} seed {seed}] epoch {epoch + 1}/{args.epochs} loss {np.mean(losses):.3f}"
            f" {steps * args.batch / epoch_seconds[-1]:.0f} images/s",
            flush=True,
        )
    later = epoch_seconds[1:] or epoch_seconds
    return model, steps * args.batch * len(later) / sum(later)


def predict(model, x):
    return model.predict(x, batch_size=256, verbose=0)


# -- the experiment -------------------------------------------------------------------------


def score(probabilities, y):
    from training.exporting.outside import scores

    found = scores(TASK, {}, probabilities, y, None)
    return {
        "balanced_accuracy": found["balanced_accuracy"],
        "macro_auc": found["macro_auc"],
        "mel_recall": found["recall"].get("mel"),
        "recall": found["recall"],
        "n": found["n"],
    }


def summarise(per_seed: list[dict]) -> dict:
    """Mean and SD over seeds of each figure (nested dicts of evaluations)."""
    out = {}
    for ev in per_seed[0]:
        out[ev] = {}
        for key in ("balanced_accuracy", "macro_auc", "mel_recall"):
            values = np.array([s[ev][key] for s in per_seed], float)
            out[ev][key] = {
                "mean": float(values.mean()),
                "sd": float(values.std(ddof=1)) if len(values) > 1 else None,
                "seeds": values.tolist(),
            }
    return out


def relative(value):
    """A path argument as written relative to the repository (no machine's paths in results)."""
    if isinstance(value, (str, Path)) and str(value).startswith("/"):
        return os.path.relpath(value, PROJECT_ROOT)
    return value


def run(args) -> dict:
    from training.exporting.outside import outside_rows
    from training.steps.outline_net import load

    root = data_root(args.data_dir or None)
    table = TASK.load(root)
    split = read_split(table, PROJECT_ROOT / "reports" / TASK.id / "split.csv")
    parts = {}
    t0 = time.perf_counter()
    for name in ("train", "val", "test"):
        rows = table[(split == name).to_numpy()]
        if args.limit:
            rows = rows.groupby("label", group_keys=False).head(args.limit)
        ids = rows["image_id"].tolist()
        images = load_rgb(rows["path"])
        masks = load_masks(ids, root / TASK.dataset_dir / TASK.masks_dir)
        parts[name] = {
            "images": images,
            "y": rows["label_index"].to_numpy(),
            "true_boxes": [mask_box(m) for m in masks],
        }
    outside = outside_rows(TASK, args.data_dir or None, limit=args.limit * 7)
    parts["outside"] = {
        "images": load_rgb(outside["path"]),
        "y": outside["y"].to_numpy(),
        "source": outside["source"].to_numpy(),
    }
    print(f"[data] decoded in {time.perf_counter() - t0:.0f} s", flush=True)

    t0 = time.perf_counter()
    outline = load(args.outline)
    for name in ("val", "test", "outside"):
        parts[name]["pred_boxes"] = predicted_boxes(outline, parts[name]["images"])
    del outline
    found_none = {
        n: int(sum(b is None for b in parts[n]["pred_boxes"])) for n in ("val", "test", "outside")
    }
    print(f"[outline] {time.perf_counter() - t0:.0f} s; no lesion found: {found_none}", flush=True)

    # the evaluation inputs, fixed per variant
    size = args.size
    evals = {}
    whole = {
        n: crops(
            parts[n]["images"], np.tile(np.float32([[0, 0, 1, 1]]), (len(parts[n]["y"]), 1)), size
        )
        for n in ("val", "test", "outside")
    }
    evals["A"] = {"val": whole["val"], "test": whole["test"], "outside": whole["outside"]}
    evals["B"] = {}
    for n in ("val", "test", "outside"):
        ims = parts[n]["images"]
        boxes = np.stack([crop_box(b, *im.shape[:2]) for b, im in zip(parts[n]["pred_boxes"], ims)])
        evals["B"][n] = crops(ims, boxes, size)
        if n != "outside":
            boxes = np.stack(
                [crop_box(b, *im.shape[:2]) for b, im in zip(parts[n]["true_boxes"], ims)]
            )
            evals["B"][f"{n}_true_mask"] = crops(ims, boxes, size)
    del whole

    train = (
        np.stack(parts["train"]["images"]),
        parts["train"]["y"],
        parts["train"]["true_boxes"],
    )
    source = parts["outside"]["source"]
    groups = {"outside": np.ones(len(source), bool)}
    groups.update({s: source == s for s in sorted(set(source))})

    result = {
        "rule": "research/skin_lesion/experiments.md, 'Lesion-centred crop from the outline "
        "network (issue 29)'; last epoch kept, nothing selected on val/test/outside",
        "args": {k: relative(v) for k, v in vars(args).items()},
        "n_train": int(len(train[1])),
        "outline_found_no_lesion": found_none,
        "per_seed": {v: [] for v in args.variants},
        "images_per_second": {v: [] for v in args.variants},
    }
    averaged = {v: {} for v in args.variants}
    for seed in args.seeds:
        for variant in args.variants:
            t0 = time.perf_counter()
            model, speed = train_one(variant, seed, train, args)
            figures = {}
            for ev, x in evals[variant].items():
                base = ev.replace("_true_mask", "")
                p = predict(model, x)
                y = parts[base]["y"]
                if base == "outside":
                    for g, keep in groups.items():
                        figures[g] = score(p[keep], y[keep])
                        averaged[variant].setdefault(g, []).append(p[keep])
                else:
                    figures[ev] = score(p, y)
                    averaged[variant].setdefault(ev, []).append(p)
            result["per_seed"][variant].append({"seed": seed, **figures})
            result["images_per_second"][variant].append(speed)
            print(
                f"[{variant} seed {seed}] {time.perf_counter() - t0:.0f} s; "
                + "; ".join(f"{k} {v['balanced_accuracy']:.3f}" for k, v in figures.items()),
                flush=True,
            )
            del model
            result["summary"] = {
                v: summarise([{k: s[k] for k in s if k != "seed"} for s in result["per_seed"][v]])
                for v in args.variants
                if result["per_seed"][v]
            }
            result["seeds_averaged"] = {
                v: {
                    g: score(
                        np.mean(ps, axis=0),
                        parts["outside"]["y"][groups[g]]
                        if g in groups
                        else parts[g.replace("_true_mask", "")]["y"],
                    )
                    for g, ps in averaged[v].items()
                }
                for v in args.variants
                if averaged[v]
            }
            args.out.parent.mkdir(parents=True, exist_ok=True)
            args.out.write_text(json.dumps(result, indent=1) + "\n")
    return result


def parse(argv):
    p = argparse.ArgumentParser(
        prog="python -m research.skin_lesion.lesion_crop",
        description="Lesion-centred crop from the outline network against the whole image "
        "(issue 29): the quick loop, several seeds, HAM val/test and the outside set.",
    )
    p.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    p.add_argument("--variants", nargs="+", choices=VARIANTS, default=list(VARIANTS))
    p.add_argument("--epochs", type=int, default=5)
    p.add_argument("--batch", type=int, default=64)
    p.add_argument("--lr", type=float, default=2e-3)
    p.add_argument("--size", type=int, default=128)
    p.add_argument("--weights", default=str(DEFAULT_WEIGHTS / WEIGHTS_FILE))
    p.add_argument("--outline", type=Path, default=DEFAULT_OUTLINE)
    p.add_argument("--data_dir", default="")
    p.add_argument("--limit", type=int, default=0, help="images per kind per part (smoke runs)")
    p.add_argument("--out", type=Path, default=DEFAULT_OUT)
    return p.parse_args(argv)


def main(argv=None) -> int:
    args = parse(argv)
    found = run(args)
    for v, figures in found.get("summary", {}).items():
        for ev, f in figures.items():
            ba = f["balanced_accuracy"]
            print(f"{v} {ev}: balanced accuracy {ba['mean']:.3f} ± {ba['sd'] or 0:.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
