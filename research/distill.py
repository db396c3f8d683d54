"""Soft targets for knowledge distillation: what several trained networks answer together.

    python -m research.distill --teachers runs/T/a runs/T/b [...] --out runs/T/teachers.npz
    python -m research.train --teacher runs/T/teachers.npz [--teacher_weight 0.7] ...

An average of several networks' answers was better on validation than any one of them
here, but costs one network per member in the browser. Distillation (Hinton et al., "Distilling the knowledge
in a neural network", 2015) trains one network of the shipped size on the average's
answers instead of on the bare labels: the answers say which classes an image resembles
("this ``bkl`` looks a little like ``mel``"), which a one-hot label cannot.

The teachers' answer for each training image is the softmax of the mean logits over the
networks and (``--tta mirrors``, the default) over the image's four mirrors — what
``research.evaluate_framings`` calls "mean of". The networks are used as training left
them (``research.soup.trained_network``: no calibration, no mirrors), without metadata, so
the targets say what the image alone suggests. They are saved with each training image's
id; training then learns ``w · answer + (1 - w) · true label``
(``distillation_targets``, passed to ``training.fitting.train.train`` as its ``targets``), with
label smoothing, if asked, applied on top.

The teachers have seen these training images, so their answers may be surer there than
on new images (the command prints the mean probability of the true class on both); the
true label keeps its weight ``1 - w`` in any case. Measured on the first screener, two
students gained nothing over the shipped recipe (skin_lesion/experiments.md,
"Distillation from five networks into one").
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

TTA = ("mirrors", "none")


def teachers_answer(networks, task, images: np.ndarray, tta: str = "mirrors") -> np.ndarray:
    """Softmax of the mean logits of every network on every view (no metadata)."""
    from training.fitting.evaluate import predict_without_metadata
    from training.steps.calibration import logit_mean
    from training.steps.tta import MIRROR_NAMES, mirrored

    names = MIRROR_NAMES if tta == "mirrors" else ("plain",)
    return logit_mean(
        [
            predict_without_metadata(net, task, np.ascontiguousarray(mirrored(images, v)))
            for net in networks
            for v in names
        ]
    )


def distillation_targets(
    path: Path, image_ids, labels: np.ndarray, k: int, weight: float
) -> np.ndarray:
    """``weight`` × the teachers' answer + (1 - weight) × one-hot label, one row per image
    of ``image_ids`` (in that order). Every image must have an answer in the file."""
    if not 0.0 <= weight <= 1.0:
        raise SystemExit(f"--teacher_weight must be within 0…1, not {weight}")
    stored = np.load(path)
    answers = stored["probabilities"]
    if answers.shape[1] != k:
        raise SystemExit(f"{path}: answers for {answers.shape[1]} classes, the task has {k}")
    row = {image_id: i for i, image_id in enumerate(stored["image_ids"].tolist())}
    missing = [i for i in image_ids if i not in row]
    if missing:
        raise SystemExit(
            f"{path}: no teachers' answer for {len(missing)} training images "
            f"(e.g. {', '.join(missing[:3])}); make it from runs with this split"
        )
    soft = answers[[row[i] for i in image_ids]].astype(np.float32)
    hard = np.eye(k, dtype=np.float32)[labels]
    return weight * soft + (1.0 - weight) * hard


def targets(path: Path, weight: float):
    """The ``targets`` hook of ``training.fitting.train.train``: the teachers' answers for the
    training rows, mixed with their labels."""

    def make(train_rows, labels, k):
        found = distillation_targets(path, train_rows["image_id"].tolist(), labels, k, weight)
        print(
            f"[distill] targets: {weight:g} × the teachers' answer ({path}) + "
            f"{1 - weight:g} × the true label",
            flush=True,
        )
        return found

    return make


def main(argv=None) -> int:
    from research.soup import trained_network
    from research.train import read_run_config, rows_filter
    from training.fitting.evaluate import classification_metrics
    from training.inputs.data import load_data, part_rows
    from training.inputs.tasks import get_task

    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--teachers", nargs="+", required=True, type=Path)
    parser.add_argument("--out", required=True, type=Path)
    parser.add_argument("--tta", default="mirrors", choices=TTA)
    args = parser.parse_args(argv)
    recipes = [read_run_config(run) for run in args.teachers]
    configs = [config for config, _ in recipes]
    if len({(run / "split.csv").read_bytes() for run in args.teachers}) > 1:
        parser.error("the teachers were trained on different splits (their split.csv differ)")
    sizes = {c.model.image_size for c in configs}
    if len({c.task for c in configs}) > 1 or len(sizes) > 1:
        parser.error(f"the teachers must share a task and an input size (sizes: {sizes})")
    config = configs[0]
    task = get_task(config.task)
    rows = rows_filter(recipes[0][1])
    table, split, parts = load_data(config, task, rows=rows)
    networks = [trained_network(run) for run in args.teachers]
    found = {}
    for name in ("train", "val"):
        images, _, labels = parts[name]
        found[name] = teachers_answer(networks, task, images, args.tta)
        m = classification_metrics(labels, found[name], task.label_ids)
        print(
            f"[distill] teachers on {name} ({len(labels)} images, {args.tta}): balanced "
            f"accuracy {m['balanced_accuracy']:.4f}, macro AUC {m['macro_auc']:.4f}, mean "
            f"probability of the true class {found[name][np.arange(len(labels)), labels].mean():.3f}",
            flush=True,
        )
    ids = part_rows(table, split, "train", rows)["image_id"].to_numpy()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(
        args.out,
        image_ids=ids.astype(str),
        probabilities=found["train"],
        teachers=np.array([str(run) for run in args.teachers]),
        tta=np.array(args.tta),
    )
    print(f"[distill] {len(ids)} training images' answers written to {args.out}", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
