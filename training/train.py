"""Train a screening model: ``python -m training.train --task TASK [--key value …]``.

Writes into ``--out``: ``model.keras`` (the best epoch by validation balanced
accuracy without metadata), ``config.json`` (the resolved config),
``history.json`` (per-epoch metrics and the schedule per step),
``split.csv`` and ``report.json`` / ``test_predictions.json`` (test-split
evaluation, see ``training.evaluate``).
"""
from __future__ import annotations

import argparse
import dataclasses
import functools
import json
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from training.data import (PROJECT_ROOT, data_root, load_images, metadata_matrix,
                           read_split, sample_per_label, split_dataset, write_split)
from training.mixing import MIX_MODES, cutmix
from training.model import IMAGE_INPUT, METADATA_INPUT, ModelConfig, build_model, load_model
from training.schedule import one_cycle
from training.tasks import TASKS, get_task


@dataclass
class TrainConfig:
    task: str = ""                     # a task id of training.tasks (required)
    data_dir: str = ""                 # default: $SCREENER_DATA_DIR or ../shared/data
    out: str = ""                      # default: runs/<task>/latest
    split_file: str = ""               # default: reports/<task>/split.csv (made if absent)
    limit: int = 0                     # use only this many images (tests, smoke runs)
    seed: int = 42
    epochs: int = 12
    batch_size: int = 32
    max_lr: float = 2e-3
    pct_start: float = 0.25
    weight_decay: float = 1e-4
    label_smoothing: float = 0.0
    focal_gamma: float = 0.0           # > 0: focal loss with this γ (down-weights easy images)
    imbalance: str = "weights"         # "weights" (class-weighted loss), "sampling" (balanced
                                       # batches), "sqrt" (√-balanced sampling × √ weights),
                                       # "logit_adjusted" (natural batches, loss on logits +
                                       # τ·log prior: Menon et al. 2021), "none"
    logit_tau: float = 1.0             # τ of "logit_adjusted"
    metadata_dropout: float = 0.5      # chance to blank all metadata of a training image
    field_dropout: float = 0.2         # otherwise, chance to blank each field
    augment: str = "standard"          # "none", "light", "standard"
    mix: str = "none"                  # "none", "cutmix" (training.mixing)
    mix_probability: float = 0.5       # chance that a training batch is mixed
    cache_dir: str = ".cache"
    init: str = ""                     # start from this saved model (a run's model.keras):
                                       # fine-tuning; --model must describe the same network
    teacher: str = ""                  # soft targets of trained networks (python -m
                                       # training.distill): knowledge distillation
    teacher_weight: float = 0.7        # target = w · teachers' answer + (1 - w) · true label
    hold_out_source: str = ""          # train and select without this image source (``source``
                                       # column; scripts/leave_one_source_out.py)
    train_fraction: float = 1.0        # < 1: train on this share of the training lesions
                                       # (per label, nested: a learning curve)
    model: ModelConfig = field(default_factory=ModelConfig)

    def resolved_split_file(self) -> Path:
        if self.split_file:
            return Path(self.split_file)
        if self.limit:
            return Path(self.out) / "split.csv"
        return PROJECT_ROOT / "reports" / self.task / "split.csv"


IMBALANCE_MODES = ("weights", "sampling", "sqrt", "logit_adjusted", "none")
AUGMENT_MODES = ("none", "light", "standard")


def parse_config(argv: list[str] | None = None) -> TrainConfig:
    """Every field of TrainConfig (and ModelConfig, as --model.alpha etc.) is a flag."""
    parser = argparse.ArgumentParser(prog="python -m training.train", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    defaults = TrainConfig()

    def add(prefix: str, obj) -> None:
        for f in dataclasses.fields(obj):
            value = getattr(obj, f.name)
            if dataclasses.is_dataclass(value):
                add(f"{prefix}{f.name}.", value)
                continue
            kind = type(value) if value is not None else str
            if f.name == "image_size":
                parser.add_argument(f"--{prefix}{f.name}", type=int, nargs=2, default=value,
                                    metavar=("HEIGHT", "WIDTH"))
            else:
                parser.add_argument(f"--{prefix}{f.name}", type=kind, default=value,
                                    help=f"default: {value!r}")
    add("", defaults)
    args = vars(parser.parse_args(argv))  # unknown flags are an error
    model_args = {k.split(".", 1)[1]: v for k, v in args.items() if k.startswith("model.")}
    if model_args.get("image_size"):
        model_args["image_size"] = tuple(model_args["image_size"])
    top = {k: v for k, v in args.items() if not k.startswith("model.")}
    config = TrainConfig(**top, model=ModelConfig(**model_args))
    if not config.task:
        parser.error(f"--task is required; known tasks: {', '.join(TASKS)}")
    if not config.out:
        config.out = f"runs/{config.task}/latest"
    if config.imbalance not in IMBALANCE_MODES:
        parser.error(f"--imbalance must be one of {IMBALANCE_MODES}")
    if config.augment not in AUGMENT_MODES:
        parser.error(f"--augment must be one of {AUGMENT_MODES}")
    if config.mix not in MIX_MODES:
        parser.error(f"--mix must be one of {MIX_MODES}")
    get_task(config.task)
    return config


def command_line(config: TrainConfig) -> list[str]:
    """The flags that make ``parse_config`` give back ``config`` (to rerun a recipe)."""
    args = []

    def add(prefix: str, obj) -> None:
        for f in dataclasses.fields(obj):
            value = getattr(obj, f.name)
            if dataclasses.is_dataclass(value):
                add(f"{prefix}{f.name}.", value)
            elif f.name == "image_size":
                if value:
                    args.extend([f"--{prefix}{f.name}", *map(str, value)])
            else:
                args.extend([f"--{prefix}{f.name}", str(value)])
    add("", config)
    return args


def rerun(config: TrainConfig, tag: str) -> None:
    """Train ``config`` in a fresh Python process (as its command line), printing that line."""
    import subprocess
    args = [sys.executable, "-m", "training.train", *command_line(config)]
    print(f"[{tag}] " + " ".join(args[1:]), flush=True)
    subprocess.run(args, cwd=PROJECT_ROOT, check=True)


def subset(table, limit: int, seed: int):
    """About ``limit`` rows with every label represented (for tests and smoke runs)."""
    per_label = max(1, limit // table["label"].nunique())
    return sample_per_label(table, per_label, seed).reset_index(drop=True)


def class_weights(labels: np.ndarray, k: int) -> np.ndarray:
    """'Balanced' weights n / (k · n_c); classes absent from ``labels`` get 0."""
    counts = np.bincount(labels, minlength=k).astype(np.float64)
    with np.errstate(divide="ignore"):
        weights = np.where(counts > 0, len(labels) / (k * counts), 0.0)
    return weights.astype(np.float32)


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
        steps = [layers.RandomRotation(0.03, fill_mode="constant"),
                 layers.RandomZoom((-0.15, 0.1), fill_mode="constant")]
    else:
        steps = [layers.RandomFlip("horizontal_and_vertical"),
                 layers.RandomRotation(0.5, fill_mode="reflect"),
                 layers.RandomZoom((-0.2, 0.1), fill_mode="reflect")]
    if mode == "standard":
        steps += [layers.RandomTranslation(0.08 if upright else 0.1, 0.08 if upright else 0.1,
                                           fill_mode="constant" if upright else "reflect"),
                  layers.RandomBrightness(0.15, value_range=(0, 255)),
                  layers.RandomContrast(0.2, value_range=(0, 255))]
        if not upright:
            steps += [layers.RandomSaturation((0.35, 0.65)),
                      layers.RandomHue(0.04, value_range=(0, 255))]
    return keras.Sequential(steps, name="augment")


def make_dataset(images, metadata, labels, k, config: TrainConfig, training: bool,
                 blank=None, sample_weights=None, slices=(), targets=None):
    """A tf.data pipeline over in-memory arrays (indices are batched, pixels gathered).

    ``targets`` (one row of k probabilities per image) replaces the one-hot labels as
    what the network learns (distillation); ``labels`` still decide balanced sampling."""
    import tensorflow as tf

    n = len(labels)
    rng = np.random.default_rng(config.seed)
    if training and config.imbalance in ("sampling", "sqrt"):
        counts = np.bincount(labels, minlength=k)
        p = 1.0 / counts[labels] ** (1.0 if config.imbalance == "sampling" else 0.5)
        p /= p.sum()

        def index_batches():
            while True:
                order = rng.choice(n, size=n, replace=True, p=p)
                for s in range(0, n - config.batch_size + 1, config.batch_size):
                    yield order[s:s + config.batch_size]
    else:
        def index_batches():   # endless: Keras counts steps (validation: every image once)
            while True:
                order = rng.permutation(n) if training else np.arange(n)
                stop = n - config.batch_size + 1 if training else n
                for s in range(0, max(stop, 1), config.batch_size):
                    yield order[s:s + config.batch_size]

    weights = sample_weights if sample_weights is not None else np.ones(k, np.float32)
    if targets is None:
        targets = np.eye(k, dtype=np.float32)[labels]
    targets = np.asarray(targets, np.float32)
    has_meta = metadata.shape[1] > 0

    def gather(idx):
        idx = np.sort(idx)
        meta = metadata[idx] if has_meta else np.zeros((len(idx), 0), np.float32)
        return (np.asarray(images[idx], np.float32), meta,
                targets[idx], weights[labels[idx]])

    ds = tf.data.Dataset.from_generator(
        index_batches, output_signature=tf.TensorSpec([None], tf.int64))
    ds = ds.map(lambda idx: tf.numpy_function(
        gather, [idx], (tf.float32, tf.float32, tf.float32, tf.float32)),
        num_parallel_calls=2)
    h, w = images.shape[1:3]
    m = metadata.shape[1]

    def shape(x, meta, y, sw):
        x.set_shape([None, h, w, 3]); meta.set_shape([None, m])
        y.set_shape([None, k]); sw.set_shape([None])
        return x, meta, y, sw
    ds = ds.map(shape)

    if training:
        augment = augmentation(config.augment, get_task(config.task).upright)
        if augment is not None:
            ds = ds.map(lambda x, meta, y, sw: (augment(x, training=True), meta, y, sw),
                        num_parallel_calls=2)
        if config.mix == "cutmix":
            def mix(x, meta, y, sw):
                x, y, sw = cutmix(x, y, sw, config.mix_probability)
                return x, meta, y, sw
            ds = ds.map(mix)
        if has_meta and blank is not None:
            ds = ds.map(lambda x, meta, y, sw: (x, blank_randomly(meta, blank, slices, config), y, sw))

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


def load_data(config: TrainConfig, task, out: Path | None = None):
    """(table, split, {name: (images, metadata, labels)}) for train/val/test.

    The split comes from the split file (made and saved if absent); with ``out``
    a copy of it is written beside the run.
    """
    table = task.load(data_root(config.data_dir or None))
    if config.limit:
        table = subset(table, config.limit, config.seed)
    split_path = config.resolved_split_file()
    fresh = config.limit and not config.split_file   # a subset run splits its own subset
    if split_path.is_file() and not fresh:
        split = read_split(table, split_path)
    else:
        split = split_dataset(table, seed=config.seed)
        write_split(table, split, split_path)
    if out is not None and not config.limit and split_path != out / "split.csv":
        write_split(table, split, out / "split.csv")
    size = config.model.image_size or task.image_size
    print(f"[data] {len(table)} images; " + ", ".join(
        f"{s}={int((split == s).sum())}" for s in ("train", "val", "test")), flush=True)
    if config.hold_out_source:
        held = (table["source"] == config.hold_out_source).to_numpy()
        if not held.any():
            raise SystemExit(f"--hold_out_source {config.hold_out_source!r}: no such source "
                             f"(sources: {sorted(table['source'].dropna().unique())})")
        print(f"[data] holding out source {config.hold_out_source}: {int(held.sum())} images "
              "left out of training and validation", flush=True)
    parts = {}
    for name in ("train", "val", "test"):
        rows = split_rows(table, split, name, config)
        if name == "train" and config.train_fraction != 1:
            print(f"[data] training on {rows['group'].nunique()} lesions ({len(rows)} images): "
                  f"--train_fraction {config.train_fraction:g}", flush=True)
        images = np.asarray(load_images(rows["path"], size, cache_dir=config.cache_dir or None))
        parts[name] = (images, metadata_matrix(rows, task), rows["label_index"].to_numpy())
    return table, split, parts


def split_rows(table, split, name: str, config: TrainConfig):
    """The table's rows of one part of the split, in the order ``load_data`` gives them."""
    rows = table[split == name]
    if config.hold_out_source and name != "test":
        rows = rows[rows["source"] != config.hold_out_source]
    if name == "train" and config.train_fraction != 1:
        rows = rows[rows["group"].isin(share_of_groups(rows, config.train_fraction))]
    return rows


def share_of_groups(rows, fraction: float) -> set:
    """About ``fraction`` of the groups (lesions) of each label, at least one per label,
    always drawn in the same order, so a smaller share is part of a larger one."""
    if not 0 < fraction <= 1:
        raise SystemExit(f"--train_fraction {fraction}: must be in (0, 1]")
    chosen = set()
    for _, groups in rows.groupby("label")["group"]:
        order = np.random.default_rng(0).permutation(sorted(groups.unique()))
        chosen.update(order[:max(1, round(fraction * len(order)))])
    return chosen


def config_from_json(path: Path) -> TrainConfig:
    """The TrainConfig a run saved as config.json."""
    saved = json.loads(Path(path).read_text())
    model = saved.pop("model")
    if model.get("image_size"):
        model["image_size"] = tuple(model["image_size"])
    return TrainConfig(**saved, model=ModelConfig(**model))


def run_arguments(doc: str, argv=None) -> Path:
    """``--run RUN`` of the post-training commands (calibration, risk, decision)."""
    parser = argparse.ArgumentParser(description=doc,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--run", required=True, type=Path)
    return parser.parse_args(argv).run


def load_run(run_dir: Path, data_dir: str | None = None):
    """(task, table, split, parts, model) of a finished run, its data as it trained on
    (read from ``data_dir`` if given, else where the run read it)."""
    config = config_from_json(run_dir / "config.json")
    if data_dir:
        config.data_dir = data_dir
    task = get_task(config.task)
    table, split, parts = load_data(config, task)
    model = load_model(run_dir / "model.keras")
    return task, table, split, parts, model


def train(config: TrainConfig) -> dict:
    import keras

    from training.encoding import blank_metadata, field_slices
    from training.evaluate import classification_metrics, predict

    keras.utils.set_random_seed(config.seed)
    task = get_task(config.task)
    out = Path(config.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "config.json").write_text(json.dumps(dataclasses.asdict(config), indent=2))
    started = time.time()

    table, split, parts = load_data(config, task, out)
    k = len(task.labels)
    print(f"[data] images loaded in {time.time() - started:.0f}s", flush=True)

    blank = blank_metadata(task)
    train_images, train_meta, train_y = parts["train"]
    weights = {"weights": class_weights(train_y, k),
               "sqrt": np.sqrt(class_weights(train_y, k))}.get(config.imbalance)
    targets = None
    if config.teacher:
        from training.distill import distillation_targets
        ids = split_rows(table, split, "train", config)["image_id"]
        targets = distillation_targets(Path(config.teacher), ids, train_y, k, config.teacher_weight)
        print(f"[distill] targets: {config.teacher_weight:g} × the teachers' answer "
              f"({config.teacher}) + {1 - config.teacher_weight:g} × the true label", flush=True)
    train_ds = make_dataset(train_images, train_meta, train_y, k, config, True, blank, weights,
                            field_slices(task), targets)
    val_ds = make_dataset(*parts["val"], k, config, False)
    steps_per_epoch = max(1, len(train_y) // config.batch_size)
    total_steps = steps_per_epoch * config.epochs

    BalancedAccuracy = _balanced_accuracy_class()
    model = initial_model(task, config)
    optimizer = keras.optimizers.AdamW(learning_rate=config.max_lr / 25,
                                       weight_decay=config.weight_decay)
    optimizer.beta_1 = keras.Variable(0.95, trainable=False, name="beta_1", dtype="float32")
    loss = training_loss(config, np.bincount(train_y, minlength=k))
    model.compile(optimizer=optimizer, loss=loss,
                  metrics=["accuracy", BalancedAccuracy(k)])
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
            print(f"\n[epoch {epoch + 1}/{config.epochs}] val balanced accuracy without "
                  f"metadata {m['balanced_accuracy']:.4f}, macro AUC {m['macro_auc']:.4f}",
                  flush=True)

    callbacks = [
        OneCycle(), BlankMetadataValidation(),
        keras.callbacks.ModelCheckpoint(out / "model.keras", save_best_only=True,
                                        monitor="val_balanced_accuracy_no_metadata", mode="max"),
        keras.callbacks.ModelCheckpoint(out / "last.keras"),
        keras.callbacks.CSVLogger(out / "history.csv"),
    ]
    history = model.fit(train_ds, validation_data=val_ds, epochs=config.epochs,
                         steps_per_epoch=steps_per_epoch, callbacks=callbacks, shuffle=False,
                         validation_steps=-(-len(val_y) // config.batch_size),
                         verbose=2 if not sys.stdout.isatty() else 1)
    train_seconds = time.time() - started

    best = load_model(out / "model.keras")
    epochs_log = {key: [float(v) for v in values] for key, values in history.history.items()}
    selected = key_best_epoch(epochs_log)
    (out / "history.json").write_text(json.dumps({
        "epochs": epochs_log, "schedule": schedule_log, "selected_epoch": selected,
        "steps_per_epoch": steps_per_epoch, "train_seconds": round(train_seconds, 1)}, indent=1))

    report = write_test_report(best, task, table, split, parts, out, {
        "selected_epoch": selected, "epochs": config.epochs,
        "train_seconds": round(train_seconds, 1),
        "validation": {"balanced_accuracy_without_metadata":
                       epochs_log["val_balanced_accuracy_no_metadata"][selected - 1]},
        "imbalance": config.imbalance,
    })
    print(f"[done] {train_seconds / 60:.1f} min; results in {out}", flush=True)
    return report


def initial_model(task, config: TrainConfig):
    """The network to train: built from ``config.model``, with ``config.init``'s weights if set."""
    model = build_model(task, config.model)
    if config.init:
        source = load_model(config.init)
        if len(source.weights) != len(model.weights) or any(
                a.shape != b.shape for a, b in zip(source.weights, model.weights)):
            raise ValueError(f"--init {config.init} is not the network --model describes")
        model.set_weights(source.get_weights())
        print(f"[init] weights from {config.init}", flush=True)
    return model


def training_loss(config: TrainConfig, class_counts=None):
    """Cross-entropy, or with ``focal_gamma`` > 0 the focal loss (Lin et al. 2017):
    each image's cross-entropy times (1 - p_true)^γ; or with ``imbalance`` "logit_adjusted"
    the logit-adjusted loss (``class_counts`` of the training labels give the prior). All
    with ``label_smoothing``."""
    import keras
    if config.focal_gamma < 0:
        raise ValueError(f"focal_gamma must be >= 0, got {config.focal_gamma}")
    if config.imbalance == "logit_adjusted":
        if config.focal_gamma:
            raise ValueError("the logit-adjusted loss has no focal variant")
        if class_counts is None or min(class_counts) < 1:
            raise ValueError("the logit-adjusted loss needs every class in the training labels")
        return LogitAdjustedCrossentropy(np.asarray(class_counts, float) / np.sum(class_counts),
                                         config.logit_tau, config.label_smoothing)
    if config.focal_gamma:
        return keras.losses.CategoricalFocalCrossentropy(
            alpha=1.0, gamma=config.focal_gamma, label_smoothing=config.label_smoothing)
    return keras.losses.CategoricalCrossentropy(label_smoothing=config.label_smoothing)


@functools.cache
def _logit_adjusted_class():
    import keras

    @keras.saving.register_keras_serializable(package="screener")
    class LogitAdjustedCrossentropy(keras.losses.Loss):
        """Cross-entropy of softmax(z + τ·log π) for a model whose output is softmax(z)
        (Menon et al. 2021, "Long-tail learning via logit adjustment"). Training on the
        natural class mix with this loss makes softmax(z) itself the balanced predictor:
        the arg-max that minimises the mean per-class error, with no offsets to fit
        afterwards. Computed from the probabilities: log p + τ·log π differs from
        z + τ·log π by a constant per image, which the softmax ignores."""

        def __init__(self, prior, tau=1.0, label_smoothing=0.0, name="logit_adjusted", **kw):
            super().__init__(name=name, **kw)
            self.prior = [float(v) for v in prior]
            self.tau = float(tau)
            self.label_smoothing = float(label_smoothing)
            self._shift = keras.ops.convert_to_tensor(
                self.tau * np.log(np.asarray(self.prior, np.float32)), "float32")

        def call(self, y_true, y_pred):
            ops = keras.ops
            logits = ops.log(ops.clip(y_pred, 1e-7, 1.0)) + self._shift
            return keras.losses.categorical_crossentropy(
                y_true, logits, from_logits=True, label_smoothing=self.label_smoothing)

        def get_config(self):
            return {"prior": self.prior, "tau": self.tau,
                    "label_smoothing": self.label_smoothing, "name": self.name}

    return LogitAdjustedCrossentropy


def LogitAdjustedCrossentropy(prior, tau=1.0, label_smoothing=0.0):
    """See ``_logit_adjusted_class`` (built on first use: Keras is imported lazily)."""
    return _logit_adjusted_class()(prior, tau, label_smoothing)


def write_test_report(model, task, table, split, parts, out: Path, extra: dict) -> dict:
    """Evaluate on the test split; write report.json and test_predictions.json into ``out``."""
    from training.evaluate import evaluate

    test_images, test_meta, test_y = parts["test"]
    report, predictions = evaluate(model, task, test_images, test_meta, test_y)
    report.update({
        "task": task.id,
        "split": {s: {label: int(((split == s) & (table["label"] == label)).sum())
                      for label in task.label_ids} for s in ("train", "val", "test")},
        **extra,
    })
    predictions["image_id"] = table[split == "test"]["image_id"].tolist()
    (out / "report.json").write_text(json.dumps(report, indent=1))
    (out / "test_predictions.json").write_text(json.dumps(predictions))
    for variant in ("with_metadata", "without_metadata"):
        if variant in report:
            r = report[variant]
            print(f"[test {variant}] accuracy {r['accuracy']:.4f}, balanced accuracy "
                  f"{r['balanced_accuracy']:.4f}, macro AUC {r['macro_auc']:.4f}", flush=True)
    return report


def rewrite_test_report(model, task, table, split, parts, run_dir: Path, **added) -> dict:
    """Evaluate a changed model of a run afresh, keeping its report's training facts."""
    report = json.loads((run_dir / "report.json").read_text())
    extra = {k: v for k, v in report.items()
             if k not in ("labels", "with_metadata", "without_metadata", "task", "split")}
    return write_test_report(model, task, table, split, parts, run_dir, {**extra, **added})


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
            self.correct = self.add_variable(shape=(num_classes,), initializer="zeros",
                                             name="correct")
            self.total = self.add_variable(shape=(num_classes,), initializer="zeros",
                                           name="total")

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
