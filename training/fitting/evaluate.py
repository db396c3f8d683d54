"""Measure a model on a split: the numbers a person needs to judge it.

Everything is computed with scikit-learn from predicted probabilities, once
with the metadata as recorded and once with it blanked (as when a person gives
none).
"""

from __future__ import annotations

import numpy as np

from training.inputs.tasks import Task


def classification_metrics(
    y_true: np.ndarray, probabilities: np.ndarray, label_ids: list[str]
) -> dict:
    from sklearn.metrics import (
        accuracy_score,
        balanced_accuracy_score,
        confusion_matrix,
        f1_score,
        roc_auc_score,
    )

    k = len(label_ids)
    y_pred = probabilities.argmax(axis=1)
    matrix = confusion_matrix(y_true, y_pred, labels=range(k))
    per_class = {}
    aucs = []
    for i, label in enumerate(label_ids):
        tp = matrix[i, i]
        fn = matrix[i].sum() - tp
        fp = matrix[:, i].sum() - tp
        tn = matrix.sum() - tp - fn - fp
        positives = y_true == i
        auc = (
            float(roc_auc_score(positives, probabilities[:, i]))
            if 0 < positives.sum() < len(y_true)
            else None
        )
        if auc is not None:
            aucs.append(auc)
        per_class[label] = {
            "support": int(matrix[i].sum()),
            "sensitivity": float(tp / (tp + fn)) if tp + fn else None,
            "specificity": float(tn / (tn + fp)) if tn + fp else None,
            "precision": float(tp / (tp + fp)) if tp + fp else None,
            "auc": auc,
        }
    return {
        "n": int(len(y_true)),
        "accuracy": float(accuracy_score(y_true, y_pred)),
        "balanced_accuracy": float(balanced_accuracy_score(y_true, y_pred)),
        "macro_auc": float(np.mean(aucs)) if aucs else None,
        "macro_f1": float(
            f1_score(y_true, y_pred, labels=range(k), average="macro", zero_division=0)
        ),
        "per_class": per_class,
        "confusion_matrix": matrix.tolist(),
    }


def predict(model, images: np.ndarray, metadata: np.ndarray | None, batch_size: int = 64):
    from keras import ops

    from training.fitting.model import IMAGE_INPUT, METADATA_INPUT

    out = []
    for start in range(0, len(images), batch_size):
        batch = {IMAGE_INPUT: np.asarray(images[start : start + batch_size], dtype=np.float32)}
        if metadata is not None and metadata.shape[1]:
            batch[METADATA_INPUT] = metadata[start : start + batch_size]
        out.append(ops.convert_to_numpy(model(batch, training=False)))
    return np.concatenate(out)


def predict_without_metadata(model, task: Task, images: np.ndarray) -> np.ndarray:
    """Probabilities with every detail unknown (as when a person gives none)."""
    from training.inputs.encoding import blank_metadata

    blank = np.broadcast_to(blank_metadata(task), (len(images), task.metadata_size))
    return predict(model, images, np.ascontiguousarray(blank))


def validation_figures(models: dict, task: Task, images, y, tag: str) -> dict:
    """{name: balanced accuracy and macro AUC of each of ``models`` ({name: network}) on
    ``images`` given alone}, each printed as ``[tag]``."""
    figures = {}
    for name, model in models.items():
        found = classification_metrics(
            y, predict_without_metadata(model, task, images), task.label_ids
        )
        figures[name] = {k: found[k] for k in ("balanced_accuracy", "macro_auc")}
        print(
            f"[{tag}] validation without metadata, {name}: balanced accuracy "
            f"{found['balanced_accuracy']:.4f}, macro AUC {found['macro_auc']:.4f}",
            flush=True,
        )
    return figures


def evaluate(
    model, task: Task, images: np.ndarray, metadata: np.ndarray, y_true: np.ndarray
) -> tuple[dict, dict]:
    """Return (report, predictions) for metadata as given and blanked."""
    report = {"labels": task.label_ids}
    predictions = {"y_true": y_true.astype(int).tolist()}
    variants = {"without_metadata": lambda: predict_without_metadata(model, task, images)}
    if task.metadata_size:
        variants = {"with_metadata": lambda: predict(model, images, metadata), **variants}
    for name, run in variants.items():
        probabilities = run()
        report[name] = classification_metrics(y_true, probabilities, task.label_ids)
        predictions[name] = np.round(probabilities, 5).tolist()
    return report, predictions
