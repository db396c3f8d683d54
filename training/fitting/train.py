"""Train a screening model: ``python -m training.fitting.train --task TASK [--key value …]``.

The shipped recipe's training loop: a MobileNet fine-tuned with AdamW under a one-cycle
schedule (``training.fitting.schedule``), class imbalance met by weights or balanced batches, and
the epoch kept that has the best validation balanced accuracy without metadata. The
settings are ``training.fitting.config.TrainConfig``; the data comes from ``training.inputs.data``.

Writes into ``--out``: ``model.keras`` (the kept epoch), ``config.json`` (the resolved
config), ``history.json`` (per-epoch metrics and the schedule per step), ``split.csv``
and ``report.json`` / ``test_predictions.json`` (test-split evaluation, see
``training.fitting.evaluate``).

Experiments (``research/``) call ``train`` with what they vary: a loss, soft targets,
a row filter, a balance, a batch transform or the starting network.
"""

from __future__ import annotations

import functools
import json
import sys
import time
from pathlib import Path

import numpy as np

from training.fitting.config import TrainConfig, parse_config, save_config
from training.fitting.model import IMAGE_INPUT, METADATA_INPUT, build_model, load_model
from training.fitting.runs import write_test_report
from training.fitting.schedule import one_cycle
from training.inputs.data import load_data, part_rows
from training.inputs.tasks import get_task


def class_weights(labels: np.ndarray, k: int) -> np.ndarray:
    """'Balanced' weights n / (k · n_c); classes absent from ``labels`` get 0."""
    counts = np.bincount(labels, minlength=k).astype(np.float64)
    with np.errstate(divide="ignore"):
        weights = np.where(counts > 0, len(labels) / (k * counts), 0.0)
    return weights.astype(np.float32)


def class_balance(mode: str, labels: np.ndarray, k: int):
    """(per-class loss weights or None, per-class sampling weights or None) of an
    ``imbalance`` mode: "weights" weighs the loss, "sampling" draws every class equally
    often (an image's chance ∝ 1 / its class's count), "none" neither."""
    if mode == "weights":
        return class_weights(labels, k), None
    if mode == "sampling":
        counts = np.bincount(labels, minlength=k).astype(np.float64)
        return None, 1.0 / np.maximum(counts, 1)
    if mode == "none":
        return None, None
    raise ValueError(f"imbalance {mode!r}: not one of weights, sampling, none")


def augmentation(mode: str, upright: bool = False):
    """Keras preprocessing layers for training images.

    Lesions and cells have no up or down: any flip or turn. ``upright`` images
    (X-rays) only get small turns, and stay grey (no colour jitter).
    """
    import keras
    from keras import layers

    if mode == "none":
        return None
    if upright:
        steps = [
            layers.RandomRotation(0.03, fill_mode="constant"),
            layers.RandomZoom((-0.15, 0.1), fill_mode="constant"),
        ]
    else:
        steps = [
            layers.RandomFlip("horizontal_and_vertical"),
            layers.RandomRotation(0.5, fill_mode="reflect"),
            layers.RandomZoom((-0.2, 0.1), fill_mode="reflect"),
        ]
    if mode == "standard":
        steps += [
            layers.RandomTranslation(
                0.08 if upright else 0.1,
                0.08 if upright else 0.1,
                fill_mode="constant" if upright else "reflect",
            ),
            layers.RandomBrightness(0.15, value_range=(0, 255)),
            layers.RandomContrast(0.2, value_range=(0, 255)),
        ]
        if not upright:
            steps += [
                layers.RandomSaturation((0.35, 0.65)),
                layers.RandomHue(0.04, value_range=(0, 255)),
            ]
    return keras.Sequential(steps, name="augment")


def make_dataset(
    images,
    metadata,
    labels,
    k,
    config: TrainConfig,
    training: bool,
    blank=None,
    sample_weights=None,
    slices=(),
    targets=None,
    sampling=None,
    batches=None,
):
    """A tf.data pipeline over in-memory arrays (indices are batched, pixels gathered).

    ``sample_weights``: a loss weight per class; ``sampling``: a weight per class for
    drawing training images (an image's chance ∝ its class's weight; None: every image
    once per epoch). ``targets`` (one row of k probabilities per image) replaces the one-hot
    labels as what the network learns; ``batches(x, y, sw)`` transforms each training batch
    after augmentation. (Both for experiments: research/.)"""
    import tensorflow as tf

    n = len(labels)
    rng = np.random.default_rng(config.seed)
    if training and sampling is not None:
        p = np.asarray(sampling, np.float64)[labels]
        p /= p.sum()

        def index_batches():
            while True:
                order = rng.choice(n, size=n, replace=True, p=p)
                # (fewer images than a batch: one smaller batch, not an endless empty loop)
                for s in range(0, max(n - config.batch_size + 1, 1), config.batch_size):
                    yield order[s : s + config.batch_size]
    else:

        def index_batches():  # endless: Keras counts steps (validation: every image once)
            while True:
                order = rng.permutation(n) if training else np.arange(n)
                stop = n - config.batch_size + 1 if training else n
                for s in range(0, max(stop, 1), config.batch_size):
                    yield order[s : s + config.batch_size]

    weights = sample_weights if sample_weights is not None else np.ones(k, np.float32)
    weights = np.asarray(weights, np.float32)
    if targets is None:
        targets = np.eye(k, dtype=np.float32)[labels]
    targets = np.asarray(targets, np.float32)
    has_meta = metadata.shape[1] > 0

    def gather(idx):
        idx = np.sort(idx)
        meta = metadata[idx] if has_meta else np.zeros((len(idx), 0), np.float32)
        return (np.asarray(images[idx], np.float32), meta, targets[idx], weights[labels[idx]])

    ds = tf.data.Dataset.from_generator(
        index_batches, output_signature=tf.TensorSpec([None], tf.int64)
    )
    ds = ds.map(
        lambda idx: tf.numpy_function(
            gather, [idx], (tf.float32, tf.float32, tf.float32, tf.float32)
        ),
        num_parallel_calls=2,
    )
    h, w = images.shape[1:3]
    m = metadata.shape[1]

    def shape(x, meta, y, sw):
        x.set_shape([None, h, w, 3])
        meta.set_shape([None, m])
        y.set_shape([None, k])
        sw.set_shape([None])
        return x, meta, y, sw

    ds = ds.map(shape)

    if training:
        augment = augmentation(config.augment, get_task(config.task).upright)
        if augment is not None:
            ds = ds.map(
                lambda x, meta, y, sw: (augment(x, training=True), meta, y, sw),
                num_parallel_calls=2,
            )
        if batches is not None:

            def transform(x, meta, y, sw):
                x, y, sw = batches(x, y, sw)
                return x, meta, y, sw

            ds = ds.map(transform)
        if has_meta and blank is not None:
            ds = ds.map(
                lambda x, meta, y, sw: (x, blank_randomly(meta, blank, slices, config), y, sw)
            )

    def pack(x, meta, y, sw):
        inputs = {IMAGE_INPUT: x}
        if has_meta:
            inputs[METADATA_INPUT] = meta
        return (inputs, y, sw) if training else (inputs, y)

    return ds.map(pack).prefetch(2)


def blank_randomly(meta, blank, slices, config: TrainConfig):
    """Replace all metadata (p=metadata_dropout) or single fields (p=field_dropout) by 'unknown'."""
    import tensorflow as tf

    batch = tf.shape(meta)[0]
    all_mask = tf.random.uniform([batch, 1]) < config.metadata_dropout
    columns = []
    for sl in slices:
        field_mask = tf.random.uniform([batch, 1]) < config.field_dropout
        columns.append(tf.repeat(tf.logical_or(all_mask, field_mask), sl.stop - sl.start, axis=1))
    mask = tf.concat(columns, axis=1)
    return tf.where(mask, tf.broadcast_to(tf.constant(blank), tf.shape(meta)), meta)


def training_loss(config: TrainConfig):
    """Cross-entropy with ``label_smoothing``."""
    import keras

    return keras.losses.CategoricalCrossentropy(label_smoothing=config.label_smoothing)


def train(
    config: TrainConfig,
    *,
    loss=None,
    targets=None,
    rows=None,
    balance=None,
    batches=None,
    network=None,
) -> dict:
    """Train ``config``'s recipe; returns the test report (also written, with the model,
    config.json, history.json, split.csv and test_predictions.json, into ``config.out``).

    The shipped models use none of the keyword arguments. Experiments (``research/``)
    pass what they vary:

    - ``loss(class_counts)``: the Keras loss, given the training labels' count per class;
    - ``targets(train_rows, labels, k)``: what the network learns per training image
      (rows of k probabilities, e.g. soft labels) instead of the one-hot labels;
    - ``rows(part_rows, name)``: which rows of each part ("train", "val", "test") are used;
    - ``balance(labels, k)``: (loss weight per class or None, sampling weight per class or
      None) instead of ``config.imbalance``'s;
    - ``batches(x, y, sw)``: a transform of each training batch (tensors) after augmentation;
    - ``network(task, config)``: the Keras model to start from instead of a fresh one.

    With ``config.model.members > 1`` the members are trained one by one and averaged
    (``train_members``; experiments then pass nothing).
    """
    import keras

    if config.model.members > 1:
        if any(x is not None for x in (loss, targets, rows, balance, batches, network)):
            raise ValueError("an experiment's variation trains one network, not members")
        return train_members(config)

    from training.fitting.evaluate import classification_metrics, predict
    from training.inputs.encoding import blank_metadata, field_slices

    keras.utils.set_random_seed(config.seed)
    task = get_task(config.task)
    out = Path(config.out)
    out.mkdir(parents=True, exist_ok=True)
    save_config(config, out / "config.json")
    started = time.time()

    table, split, parts = load_data(config, task, out, rows)
    k = len(task.labels)
    print(f"[data] images loaded in {time.time() - started:.0f}s", flush=True)

    blank = blank_metadata(task)
    train_images, train_meta, train_y = parts["train"]
    weights, sampling = (balance or functools.partial(class_balance, config.imbalance))(train_y, k)
    soft = None
    if targets is not None:
        soft = targets(part_rows(table, split, "train", rows), train_y, k)
    train_ds = make_dataset(
        train_images,
        train_meta,
        train_y,
        k,
        config,
        True,
        blank,
        weights,
        field_slices(task),
        soft,
        sampling,
        batches,
    )
    val_ds = make_dataset(*parts["val"], k, config, False)
    steps_per_epoch = max(1, len(train_y) // config.batch_size)
    total_steps = steps_per_epoch * config.epochs

    BalancedAccuracy = _balanced_accuracy_class()
    model = network(task, config) if network is not None else build_model(task, config.model)
    optimizer = keras.optimizers.AdamW(
        learning_rate=config.max_lr / 25, weight_decay=config.weight_decay
    )
    optimizer.beta_1 = keras.Variable(0.95, trainable=False, name="beta_1", dtype="float32")
    counts = np.bincount(train_y, minlength=k)
    model.compile(
        optimizer=optimizer,
        loss=loss(counts) if loss else training_loss(config),
        metrics=["accuracy", BalancedAccuracy(k)],
    )
    schedule_log = {"step": [], "learning_rate": [], "momentum": []}
    val_images, val_meta, val_y = parts["val"]

    class OneCycle(keras.callbacks.Callback):
        def __init__(self):
            super().__init__()
            self.epoch = 0

        def on_epoch_begin(self, epoch, logs=None):
            self.epoch = epoch

        def on_train_batch_begin(self, batch, logs=None):
            step = min(self.epoch * steps_per_epoch + batch, total_steps)
            lr, momentum = one_cycle(step, total_steps, config.max_lr, config.pct_start)
            optimizer.learning_rate.assign(lr)
            optimizer.beta_1.assign(momentum)
            if step % max(1, steps_per_epoch // 20) == 0:
                schedule_log["step"].append(step)
                schedule_log["learning_rate"].append(lr)
                schedule_log["momentum"].append(momentum)

    class BlankMetadataValidation(keras.callbacks.Callback):
        """Validation balanced accuracy with the metadata blanked, the figure we select on."""

        def on_epoch_end(self, epoch, logs=None):
            meta = np.broadcast_to(blank, val_meta.shape) if val_meta.shape[1] else val_meta
            probabilities = predict(self.model, val_images, np.ascontiguousarray(meta))
            m = classification_metrics(val_y, probabilities, task.label_ids)
            logs["val_balanced_accuracy_no_metadata"] = m["balanced_accuracy"]
            logs["val_macro_auc_no_metadata"] = m["macro_auc"]
            logs["elapsed_s"] = time.time() - started
            print(
                f"\n[epoch {epoch + 1}/{config.epochs}] val balanced accuracy without "
                f"metadata {m['balanced_accuracy']:.4f}, macro AUC {m['macro_auc']:.4f}",
                flush=True,
            )

    callbacks = [
        OneCycle(),
        BlankMetadataValidation(),
        keras.callbacks.ModelCheckpoint(
            out / "model.keras",
            save_best_only=True,
            monitor="val_balanced_accuracy_no_metadata",
            mode="max",
        ),
        keras.callbacks.ModelCheckpoint(out / "last.keras"),
        keras.callbacks.CSVLogger(out / "history.csv"),
    ]
    history = model.fit(
        train_ds,
        validation_data=val_ds,
        epochs=config.epochs,
        steps_per_epoch=steps_per_epoch,
        callbacks=callbacks,
        shuffle=False,
        validation_steps=-(-len(val_y) // config.batch_size),
        verbose=2 if not sys.stdout.isatty() else 1,
    )
    train_seconds = time.time() - started

    best = load_model(out / "model.keras")
    epochs_log = {key: [float(v) for v in values] for key, values in history.history.items()}
    selected = key_best_epoch(epochs_log)
    (out / "history.json").write_text(
        json.dumps(
            {
                "epochs": epochs_log,
                "schedule": schedule_log,
                "selected_epoch": selected,
                "steps_per_epoch": steps_per_epoch,
                "train_seconds": round(train_seconds, 1),
            },
            indent=1,
        )
    )

    report = write_test_report(
        best,
        task,
        table,
        split,
        parts,
        out,
        {
            "selected_epoch": selected,
            "epochs": config.epochs,
            "train_seconds": round(train_seconds, 1),
            "validation": {
                "balanced_accuracy_without_metadata": epochs_log[
                    "val_balanced_accuracy_no_metadata"
                ][selected - 1]
            },
            "imbalance": config.imbalance,
        },
    )
    print(f"[done] {train_seconds / 60:.1f} min; results in {out}", flush=True)
    return report


def member_configs(config: TrainConfig, folder: Path) -> list[TrainConfig]:
    """The one-network configs of ``config``'s members: seeds ``config.seed``, +1, …, each
    writing into ``folder/member_<k>``."""
    import dataclasses

    single = dataclasses.replace(config.model, members=1)
    return [
        dataclasses.replace(
            config, seed=config.seed + k, out=str(folder / f"member_{k}"), model=single
        )
        for k in range(config.model.members)
    ]


def train_members(config: TrainConfig, members_dir: str | Path | None = None) -> dict:
    """Train ``config.model.members`` networks (seeds ``config.seed`` + k, into
    ``members_dir``, default ``config.out``/members; a member whose report.json exists is
    kept, so an interrupted run resumes) and write their average (``merge_members``) into
    ``config.out`` as ``train`` does: model.keras, config.json, history.json (the first
    member's curves; every member's kept epoch and validation figure under ``members``),
    split.csv, report.json and test_predictions.json. Returns the average's test report."""
    from training.fitting.model import merge_members

    task = get_task(config.task)
    out = Path(config.out)
    out.mkdir(parents=True, exist_ok=True)
    folder = Path(members_dir) if members_dir else out / "members"
    started = time.time()
    models, histories = [], []
    for member in member_configs(config, folder):
        if not (Path(member.out) / "report.json").is_file():
            train(member)
        models.append(load_model(Path(member.out) / "model.keras"))
        histories.append(json.loads((Path(member.out) / "history.json").read_text()))
    merged = merge_members(models, task, config.model)
    save_config(config, out / "config.json")
    merged.save(out / "model.keras")
    members = [
        {
            "seed": config.seed + k,
            "selected_epoch": h["selected_epoch"],
            "val_balanced_accuracy_without_metadata": h["epochs"][
                "val_balanced_accuracy_no_metadata"
            ][h["selected_epoch"] - 1],
            "train_seconds": h["train_seconds"],
        }
        for k, h in enumerate(histories)
    ]
    train_seconds = sum(m["train_seconds"] for m in members)
    (out / "history.json").write_text(
        json.dumps({**histories[0], "train_seconds": train_seconds, "members": members}, indent=1)
    )
    table, split, parts = load_data(config, task, out)
    report = write_test_report(
        merged,
        task,
        table,
        split,
        parts,
        out,
        {
            "selected_epoch": histories[0]["selected_epoch"],
            "epochs": config.epochs,
            "train_seconds": round(train_seconds, 1),
            "members": members,
            "validation": {
                "balanced_accuracy_without_metadata": _validation_balanced_accuracy(
                    merged, task, parts
                )
            },
            "imbalance": config.imbalance,
        },
    )
    print(f"[done] {len(models)} members averaged in {(time.time() - started) / 60:.1f} min; {out}")
    return report


def _validation_balanced_accuracy(model, task, parts) -> float:
    """Balanced accuracy on the validation part with the metadata blanked (the figure the
    epochs are kept by)."""
    from training.fitting.evaluate import classification_metrics, predict_without_metadata

    images, _, labels = parts["val"]
    probabilities = predict_without_metadata(model, task, images)
    return classification_metrics(labels, probabilities, task.label_ids)["balanced_accuracy"]


def key_best_epoch(epochs_log: dict) -> int:
    values = epochs_log["val_balanced_accuracy_no_metadata"]
    return int(np.argmax(values)) + 1


@functools.cache
def _balanced_accuracy_class():
    import keras
    from keras import ops

    @keras.saving.register_keras_serializable(package="screener")
    class BalancedAccuracy(keras.metrics.Metric):
        """Mean per-class recall, accumulated over the epoch (sample weights ignored)."""

        def __init__(self, num_classes, name="balanced_accuracy", **kwargs):
            super().__init__(name=name, **kwargs)
            self.num_classes = num_classes
            self.correct = self.add_variable(
                shape=(num_classes,), initializer="zeros", name="correct"
            )
            self.total = self.add_variable(shape=(num_classes,), initializer="zeros", name="total")

        def update_state(self, y_true, y_pred, sample_weight=None):
            true = ops.one_hot(ops.argmax(y_true, axis=-1), self.num_classes)
            hit = true * ops.one_hot(ops.argmax(y_pred, axis=-1), self.num_classes)
            self.correct.assign_add(ops.sum(hit, axis=0))
            self.total.assign_add(ops.sum(true, axis=0))

        def result(self):
            seen = ops.cast(self.total > 0, "float32")
            recall = ops.divide_no_nan(self.correct, self.total)
            return ops.sum(recall) / ops.maximum(ops.sum(seen), 1.0)

        def reset_state(self):
            self.correct.assign(ops.zeros_like(self.correct))
            self.total.assign(ops.zeros_like(self.total))

        def get_config(self):
            return {**super().get_config(), "num_classes": self.num_classes}

    return BalancedAccuracy


def main(argv: list[str] | None = None) -> None:
    config = parse_config(argv)
    train(config)


if __name__ == "__main__":
    main()
