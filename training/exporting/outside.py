"""The outside check: an exported model on images of its kind from other clinics.

    python -m training.exporting.outside TASK [--model DIR] [--out FILE] [--limit N]

A task with an ``outside_dir`` (``training.inputs.tasks``) has a check set from elsewhere
(``../shared/data/<outside_dir>``, e.g. dermoscopic images of two other clinics). It is for
measuring only:
nothing here trains on it, and the release step that runs this reads it after the model
is made. The images go through the JavaScript API in Chromium (``assess()`` without
details, as a visitor's photo does; ``training.exporting.parity.browser_probabilities``), and the
answers are scored with the thresholds in the model's own ``metadata.json``, so the
figures are what a visitor gets: per source and overall, the balanced accuracy over the
kinds present, the mean AUC of those kinds, each kind's recall, the risk sentence's
sensitivity (melanomas and all malignant kinds) and specificity, and how often the
"not the right kind of image" and "unsure" warnings show. Written as ``outside.json``
beside the site's other reports (``--out``; default: printed only).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

from training.inputs.data import PROJECT_ROOT, data_root
from training.inputs.tasks import Task, get_task
from webapp.report_files import REPORT_FILES

OUTSIDE_FILE = REPORT_FILES["outside"]


def outside_rows(task: Task, data_dir=None, limit: int = 0):
    """The check set's rows (image_id, source, dx, path, y), or None if the task has none
    or its folder is absent. ``limit``: that many images, spread over sources and kinds."""
    import pandas as pd

    if not task.outside_dir:
        return None
    folder = data_root(data_dir) / task.outside_dir
    if not (folder / "labels.csv").is_file():
        return None
    rows = pd.read_csv(folder / "labels.csv")
    unknown = sorted(set(rows["dx"]) - set(task.label_ids))
    if unknown:
        raise ValueError(f"{folder / 'labels.csv'}: kinds not in task {task.id!r}: {unknown}")
    rows["path"] = [str(folder / "images" / f"{i}.jpg") for i in rows["image_id"]]
    rows["y"] = [task.label_ids.index(dx) for dx in rows["dx"]]
    if limit and limit < len(rows):
        # Round-robin over (source, kind) groups, so a small check still sees each.
        order = rows.groupby(["source", "dx"]).cumcount()
        rows = rows.assign(_order=order).sort_values(["_order", "source", "dx"]).head(limit)
        rows = rows.drop(columns="_order")
    return rows.reset_index(drop=True)


def scores(task: Task, metadata: dict, probabilities, y, in_kind) -> dict:
    """The figures of one group of images, from the browser's answers and the model's
    own thresholds (``metadata.json``: risk, wrong_kind, unsure)."""
    from sklearn.metrics import roc_auc_score

    from training.steps import risk as risk_rules

    probabilities = np.asarray(probabilities, np.float64)
    y = np.asarray(y)
    predicted = probabilities.argmax(axis=1)
    present = [i for i in range(len(task.labels)) if (y == i).any()]
    recall = {task.label_ids[i]: float((predicted[y == i] == i).mean()) for i in present}
    aucs = {
        task.label_ids[i]: float(roc_auc_score(y == i, probabilities[:, i]))
        for i in present
        if 0 < (y == i).sum() < len(y)
    }
    found = {
        "n": int(len(y)),
        "n_per_kind": {task.label_ids[i]: int((y == i).sum()) for i in present},
        "accuracy": float((predicted == y).mean()),
        "balanced_accuracy": float(np.mean(list(recall.values()))),
        "macro_auc": float(np.mean(list(aucs.values()))) if aucs else None,
        "recall": recall,
        "auc": aucs,
    }
    rule = metadata.get("risk")
    if rule:
        malignant = np.isin(task.label_ids, rule["labels"])
        measured = risk_rules.measure(
            risk_rules.risk_scores(probabilities, malignant),
            y,
            rule["threshold"],
            malignant,
            task.label_ids.index(rule["focus"]),
        )
        found["risk"] = {
            k: measured[k]
            for k in ("flagged", "focus_sensitivity", "sensitivity", "specificity", "n_focus")
        }
    wrong_kind = metadata.get("wrong_kind")
    if wrong_kind and in_kind is not None:
        found["wrong_kind"] = float((np.asarray(in_kind) < wrong_kind["threshold"]).mean())
    unsure = (metadata.get("unsure") or {}).get("threshold")
    if unsure is not None:
        found["unsure"] = float((probabilities.max(axis=1) < unsure).mean())
    return found


def outside_check(
    task: Task,
    model_dir: Path,
    data_dir=None,
    limit: int = 0,
    backend: str = "wasm",
    browser=None,
) -> dict | None:
    """The exported model in ``model_dir`` on the task's check set, overall and per
    source (None when the task has no check set here). ``browser``: a launched Playwright
    browser to use (``training.exporting.parity.browser_probabilities``)."""
    from training.exporting.parity import browser_probabilities

    rows = outside_rows(task, data_dir, limit)
    if rows is None:
        return None
    metadata = json.loads((Path(model_dir) / "metadata.json").read_text())
    answers, _ = browser_probabilities(
        task,
        Path(model_dir),
        [Path(p) for p in rows["path"]],
        [{}] * len(rows),
        backend,
        browser,
    )
    k = len(task.labels)
    probabilities = answers[:, :k]
    in_kind = answers[:, k] if metadata.get("wrong_kind") else None
    y = rows["y"].to_numpy()

    def group(mask) -> dict:
        return scores(
            task, metadata, probabilities[mask], y[mask], None if in_kind is None else in_kind[mask]
        )

    names = {source: name for source, name, _ in task.outside_sources}
    return {
        "task": task.id,
        "model_version": metadata["version"],
        "folder": task.outside_dir,
        "measured_only": True,
        "details_given": False,
        "overall": group(np.ones(len(rows), bool)),
        "sources": {
            source: {
                "name": names.get(source, source),
                **group((rows["source"] == source).to_numpy()),
            }
            for source in sorted(rows["source"].unique())
        },
    }


def summary_line(found: dict) -> str:
    """One line of the overall figures, for logs and ``release --compare``."""
    overall = found["overall"]
    risk = overall.get("risk") or {}
    parts = [
        f"n {overall['n']}",
        f"balanced accuracy {overall['balanced_accuracy']:.3f}",
        f"mean AUC {overall['macro_auc']:.3f}" if overall.get("macro_auc") else None,
        f"melanoma recall {overall['recall']['mel']:.2f}" if "mel" in overall["recall"] else None,
        (
            f"risk: {risk['focus_sensitivity']:.2f} of melanomas flagged, "
            f"specificity {risk['specificity']:.2f}"
            if risk
            else None
        ),
        f"wrong kind {overall['wrong_kind']:.1%}" if "wrong_kind" in overall else None,
        f"unsure {overall['unsure']:.1%}" if "unsure" in overall else None,
    ]
    return "; ".join(p for p in parts if p)


def print_table(found: dict) -> None:
    def figure(value, style: str = ".3f") -> str:
        return "–" if value is None else format(value, style)

    groups = {"all": found["overall"], **found["sources"]}
    print(f"outside check of {found['task']} (model {found['model_version']}, no details given)")
    print("  group       n     BA    AUC  mel top  risk: mel  spec  wrong kind  unsure")
    for name, g in groups.items():
        risk = g.get("risk") or {}
        print(
            f"  {name:8s} {g['n']:4d}  {figure(g['balanced_accuracy'])}  {figure(g['macro_auc'])}"
            f"  {figure(g['recall'].get('mel'), '.2f'):>7s}  "
            f"{figure(risk.get('focus_sensitivity'), '.2f'):>9s}  "
            f"{figure(risk.get('specificity'), '.2f')}  {figure(g.get('wrong_kind'), '10.1%')}"
            f"  {figure(g.get('unsure'), '6.1%')}"
        )
        print("           recall: " + ", ".join(f"{k} {v:.2f}" for k, v in g["recall"].items()))


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("task")
    parser.add_argument("--model", type=Path, default=None, help="default: the installed model")
    parser.add_argument("--out", type=Path, default=None, help="write the figures here")
    parser.add_argument("--limit", type=int, default=0, help="only this many images")
    parser.add_argument("--data-dir", default=None)
    parser.add_argument("--backend", default="wasm")
    args = parser.parse_args(argv)
    task = get_task(args.task)
    model = args.model or PROJECT_ROOT / "static" / "tfjs_model" / task.id
    found = outside_check(task, model, args.data_dir, args.limit, args.backend)
    if found is None:
        print(f"{task.id}: no outside check set (task.outside_dir) in the data folder")
        return 1
    print_table(found)
    print(summary_line(found))
    if args.out:
        args.out.write_text(json.dumps(found, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
