"""An outside-hospital proxy for the chest X-ray model:
``python -m research.chest_xray.outside_proxy --model PATH [--split reports/chest_xray/split.csv]
--out research/chest_xray/results/NAME.json``.

The TEST split is shown to the model unchanged and under photometric and acquisition
shifts a radiograph from another hospital brings (``SHIFTS``); the unshifted images are
also scored per acquisition series of their file names (``series_of``). Per condition:
accuracy, AUC, pneumonia recall and NORMAL recall at the argmax and at thresholds chosen on
the VALIDATION split (unshifted, and shifted alike: a site that re-chooses its threshold).
research/chest_xray/README.md says why and what counts as "more robust".

Writes NAME.json (the numbers) and NAME.predictions.json (p(pneumonia) of every test image
per condition, for ``research.chest_xray.compare``'s patient bootstrap); prints a markdown
table.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import re
import sys
import time
from pathlib import Path

import numpy as np

from training.inputs.shifts import (
    _shift,
    aspect,
    blur,
    brightness,
    clahe,
    contrast,
    crop,
    equalize,
    gamma,
    jpeg,
    noise,
    pad,
    sharpen,
)

TASK_ID = "chest_xray"
PNEUMONIA = 1  # label index of "pneumonia" (task.label_ids)

# --------------------------------------------------------------------------- series

_SERIES = (
    (re.compile(r"^NORMAL2-IM-\d+-\d+"), "NORMAL2"),
    (re.compile(r"^IM-\d+-\d+"), "IM"),
    (re.compile(r"^person\d+_bacteria_\d+"), "bacteria"),
    (re.compile(r"^person\d+_virus_\d+"), "virus"),
)
NORMAL_SERIES = ("IM", "NORMAL2")
PNEUMONIA_SERIES = ("bacteria", "virus")


def series_of(name: str) -> str | None:
    """The acquisition series a Kermany file name (or image id) reveals: "IM"
    (``IM-0115-0001.jpeg``), "NORMAL2" (``NORMAL2-IM-0383-0001.jpeg``), "bacteria" /
    "virus" (``person12_bacteria_34.jpeg``); None for anything else."""
    name = Path(str(name)).name
    for pattern, series in _SERIES:
        if pattern.match(name):
            return series
    return None


# --------------------------------------------------------------------------- shifts
# The shift functions are the product's (training.inputs.shifts: the risk step uses the held-out
# ones); they were first written here.

PHOTOMETRIC, HELD_OUT, ADDED = "photometric", "held-out", "added"

# name → (function(image, rng) → image, group). "photometric": the kinds
# research/chest_xray/train_robust.py's extra augmentation draws from; "held-out": not.
SHIFTS = {
    "gamma_0.6": (_shift(gamma, g=0.6), PHOTOMETRIC),
    "gamma_1.6": (_shift(gamma, g=1.6), PHOTOMETRIC),
    "contrast_0.7": (_shift(contrast, c=0.7), PHOTOMETRIC),
    "contrast_1.3": (_shift(contrast, c=1.3), PHOTOMETRIC),
    "brightness_-30": (_shift(brightness, offset=-30), PHOTOMETRIC),
    "brightness_+30": (_shift(brightness, offset=30), PHOTOMETRIC),
    "blur_1": (_shift(blur, sigma=1.0), PHOTOMETRIC),
    "blur_2": (_shift(blur, sigma=2.0), PHOTOMETRIC),
    "noise_8": (_shift(noise, sigma=8.0), PHOTOMETRIC),
    "equalize": (_shift(equalize), HELD_OUT),
    "clahe": (_shift(clahe), HELD_OUT),
    "sharpen": (_shift(sharpen), HELD_OUT),
    "jpeg_25": (_shift(jpeg, quality=25), HELD_OUT),
    "crop_10": (_shift(crop, fraction=0.10), HELD_OUT),
    "pad_12": (_shift(pad, fraction=0.12), HELD_OUT),
    # Added after the shipped model's first results were seen (README.md): not in the
    # rule's groups, reported apart.
    "aspect_1.3": (_shift(aspect, ratio=1.3), ADDED),
    "aspect_1.1": (_shift(aspect, ratio=1.1), ADDED),
    "aspect_0.9": (_shift(aspect, ratio=0.9), ADDED),
    "aspect_0.8": (_shift(aspect, ratio=0.8), ADDED),
}
CONDITIONS = ("none", *SHIFTS)


ASPECT_INPUTS = ("cropped", "upload")


def shifted(images: np.ndarray, name: str, seed: int = 0, aspect_input: str = "cropped"):
    """``images`` (N, H, W, 3) uint8 under shift ``name`` ("none": unchanged); image i's
    random draws come from seed (seed, i), so a condition is the same every run. With
    ``aspect_input="upload"`` the ``aspect_*`` shifts give the stretched, non-square image
    (``aspect(upload=True)``), every other shift the same size."""
    if name == "none":
        return np.asarray(images)
    function = SHIFTS[name][0]
    if aspect_input == "upload" and name.startswith("aspect_"):
        ratio = float(name.removeprefix("aspect_"))
        function = _shift(aspect, ratio=ratio, upload=True)
    return np.stack(
        [
            function(np.asarray(image), np.random.default_rng([seed, i]))
            for i, image in enumerate(images)
        ]
    )


# --------------------------------------------------------------------------- thresholds


def highest_threshold_for_recall(p_positive: np.ndarray, floor: float) -> float:
    """The highest t with mean(p_positive ≥ t) ≥ floor."""
    p = np.sort(np.asarray(p_positive, np.float64))[::-1]
    k = max(1, math.ceil(floor * len(p) - 1e-9))
    return float(p[k - 1])


def lowest_threshold_for_negative_recall(p_negative: np.ndarray, floor: float) -> float:
    """The lowest t with mean(p_negative < t) ≥ floor."""
    q = np.sort(np.asarray(p_negative, np.float64))
    k = max(1, math.ceil(floor * len(q) - 1e-9))
    return float(np.nextafter(q[k - 1], np.inf))


def thresholds_on(y: np.ndarray, p: np.ndarray) -> dict:
    """The validation-chosen operating points of one set of validation predictions."""
    return {
        "sens95": highest_threshold_for_recall(p[y == PNEUMONIA], 0.95),
        "normal90": lowest_threshold_for_negative_recall(p[y != PNEUMONIA], 0.90),
    }


def at_threshold(y: np.ndarray, p: np.ndarray, t: float) -> dict:
    called = p >= t
    pos = y == PNEUMONIA
    return {
        "threshold": round(float(t), 6),
        "accuracy": float(np.mean(called == pos)),
        "pneumonia_recall": float(called[pos].mean()),
        "normal_recall": float((~called[~pos]).mean()),
        "balanced_accuracy": float((called[pos].mean() + (~called[~pos]).mean()) / 2),
    }


def auc(y: np.ndarray, p: np.ndarray) -> float | None:
    from sklearn.metrics import roc_auc_score

    pos = y == PNEUMONIA
    return float(roc_auc_score(pos, p)) if 0 < pos.sum() < len(y) else None


def by_series(series: np.ndarray, y: np.ndarray, p: np.ndarray, t: float = 0.5) -> dict:
    """Per series: n, recall of its own class at ``t``, and (NORMAL series) the AUC of
    that series against every pneumonia image."""
    out = {}
    pos = y == PNEUMONIA
    for name in (*NORMAL_SERIES, *PNEUMONIA_SERIES):
        rows = series == name
        if not rows.any():
            continue
        normal = name in NORMAL_SERIES
        called = p[rows] >= t
        entry = {"n": int(rows.sum()), "recall": float((~called if normal else called).mean())}
        if normal:
            keep = rows | pos
            entry["auc_vs_pneumonia"] = auc(y[keep], p[keep])
        out[name] = entry
    return out


# --------------------------------------------------------------------------- evaluation


def relative(path) -> str:
    """``path`` relative to the project (never an absolute path of this machine)."""
    from training.inputs.data import PROJECT_ROOT

    path = Path(path).resolve()
    try:
        return str(path.relative_to(PROJECT_ROOT))
    except ValueError:
        return path.name


def load_parts(split_path, data_dir=None):
    """{"val"|"test": (image ids, patient groups, labels, uint8 images)} of the task."""
    from training.inputs.data import data_root, load_images, read_split, split_rows
    from training.inputs.tasks import get_task

    task = get_task(TASK_ID)
    table = task.load(data_root(data_dir))
    saved = set(__import__("pandas").read_csv(split_path)["image_id"])
    table = table[table["image_id"].isin(saved)].reset_index(drop=True)
    split = read_split(table, split_path)
    parts = {}
    for name in ("val", "test"):
        rows = split_rows(table, split, name)
        images = np.asarray(load_images(rows["path"], task.image_size))
        parts[name] = (
            rows["image_id"].to_numpy(),
            rows["group"].to_numpy(),
            rows["label_index"].to_numpy(),
            images,
        )
    return task, parts


def probabilities(model, task, images: np.ndarray, batch_size: int = 64) -> np.ndarray:
    """The class probabilities (N, k) of raw 0-255 images, metadata unknown: the plain
    network (``training.fitting.evaluate.predict_without_metadata``) or the released one, whose
    outputs are named (``probabilities``, ``in_kind``, ``class_map``)."""
    from keras import ops

    from training.fitting.model import IMAGE_INPUT, METADATA_INPUT
    from training.inputs.encoding import blank_metadata

    out = []
    for start in range(0, len(images), batch_size):
        x = np.asarray(images[start : start + batch_size], np.float32)
        batch = {IMAGE_INPUT: x}
        if task.metadata_size:
            batch[METADATA_INPUT] = np.repeat(blank_metadata(task)[None], len(x), axis=0)
        y = model(batch, training=False)
        if isinstance(y, dict):
            y = y["probabilities"]
        out.append(ops.convert_to_numpy(y))
    return np.concatenate(out)


def with_resize(model, mode: str | None):
    """``model`` with its graph's 'resize' layer doing ``mode`` ("crop" or "squash",
    ``training.fitting.model.resize_layer``), every weight the same (the layer has none): the saved
    model's config with ``crop_to_aspect_ratio`` set, rebuilt. None or its own mode: as is."""
    import keras

    from training.fitting.layers import MeanOfViews, MirrorViews
    from training.fitting.model import resize_mode
    from training.inputs.tasks import RESIZE_MODES

    if mode is None or mode == resize_mode(model):
        return model
    if mode not in RESIZE_MODES:
        raise ValueError(f"resize must be one of {RESIZE_MODES}, got {mode!r}")
    config = model.get_config()
    (layer,) = [layer for layer in config["layers"] if layer["name"] == "resize"]
    layer["config"]["crop_to_aspect_ratio"] = mode == "crop"
    rebuilt = keras.Model.from_config(
        config, custom_objects={"MirrorViews": MirrorViews, "MeanOfViews": MeanOfViews}
    )
    rebuilt.set_weights(model.get_weights())
    if resize_mode(rebuilt) != mode:
        raise RuntimeError(f"the rebuilt model does not {mode}")
    return rebuilt


def evaluate(
    model_path,
    split_path,
    conditions=CONDITIONS,
    data_dir=None,
    seed: int = 0,
    log=print,
    resize: str | None = None,
    aspect_input: str = "cropped",
) -> tuple[dict, dict]:
    """(results, test predictions) of a saved model on every condition; ``resize``: its
    graph rebuilt to crop or squash (``with_resize``); ``aspect_input``: see ``shifted``."""
    from training.fitting.model import load_model, resize_mode

    task, parts = load_parts(split_path, data_dir)
    if task.label_ids[PNEUMONIA] != "pneumonia":
        raise ValueError(f"label {PNEUMONIA} of {task.id} is {task.label_ids[PNEUMONIA]!r}")
    if aspect_input not in ASPECT_INPUTS:
        raise ValueError(f"aspect_input must be one of {ASPECT_INPUTS}, got {aspect_input!r}")
    model = with_resize(load_model(model_path), resize)
    if resize_mode(model) == "squash" and aspect_input == "cropped":
        raise ValueError(
            "a squash model must see the aspect_* conditions as uploads (--aspect upload): "
            "'cropped' hands it the centre square a crop graph would keep"
        )
    val_ids, _, val_y, val_images = parts["val"]
    test_ids, test_groups, test_y, test_images = parts["test"]
    test_series = np.array([series_of(i) for i in test_ids], dtype=object)

    def p_of(images):
        return probabilities(model, task, images)[:, PNEUMONIA].astype(np.float64)

    results = {
        "model": relative(model_path),
        "model_sha1": hashlib.sha1(Path(model_path).read_bytes()).hexdigest()[:12],
        "split": relative(split_path),
        "seed": seed,
        "resize": resize_mode(model),
        "aspect_input": aspect_input,
        "n": {
            "val": int(len(val_y)),
            "test": int(len(test_y)),
            "test_normal": int((test_y != PNEUMONIA).sum()),
            "test_pneumonia": int((test_y == PNEUMONIA).sum()),
        },
        "groups": {name: group for name, (_, group) in SHIFTS.items()},
        "conditions": {},
    }
    predictions = {
        "image_id": test_ids.tolist(),
        "group": test_groups.tolist(),
        "y": test_y.astype(int).tolist(),
        "p_pneumonia": {},
    }
    fixed = None
    for name in conditions:
        started = time.time()
        p_val = p_of(shifted(val_images, name, seed, aspect_input))
        p_test = p_of(shifted(test_images, name, seed + 1, aspect_input))
        chosen = thresholds_on(val_y, p_val)
        if name == "none":
            fixed = chosen
        if fixed is None:
            raise ValueError("the conditions must start with 'none'")
        entry = {
            "group": SHIFTS[name][1] if name in SHIFTS else "none",
            "auc": auc(test_y, p_test),
            "val_auc": auc(val_y, p_val),
            "argmax": at_threshold(test_y, p_test, 0.5),
            "val_sens95": at_threshold(test_y, p_test, fixed["sens95"]),
            "val_normal90": at_threshold(test_y, p_test, fixed["normal90"]),
            "site_normal90": at_threshold(test_y, p_test, chosen["normal90"]),
            "series": by_series(test_series, test_y, p_test),
        }
        results["conditions"][name] = entry
        predictions["p_pneumonia"][name] = np.round(p_test, 5).tolist()
        a = entry["argmax"]
        log(
            f"[{name}] accuracy {a['accuracy']:.4f} AUC {entry['auc']:.4f} pneumonia recall "
            f"{a['pneumonia_recall']:.4f} NORMAL recall {a['normal_recall']:.4f} "
            f"({time.time() - started:.0f}s)"
        )
    results["summary"] = summary(results)
    return results, predictions


def summary(results: dict) -> dict:
    """Means (and the worst) over the shift groups, per operating point."""
    conditions = results["conditions"]
    groups = {
        "all_shifts": [n for n in conditions if conditions[n]["group"] in (PHOTOMETRIC, HELD_OUT)],
        "held_out": [n for n in conditions if conditions[n]["group"] == HELD_OUT],
        "photometric": [n for n in conditions if conditions[n]["group"] == PHOTOMETRIC],
        "added": [n for n in conditions if conditions[n]["group"] == ADDED],
    }
    out = {}
    for group, names in groups.items():
        if not names:
            continue
        entry = {
            "conditions": names,
            "mean_auc": float(np.mean([conditions[n]["auc"] for n in names])),
        }
        for point in ("argmax", "val_sens95", "val_normal90", "site_normal90"):
            values = {
                key: [conditions[n][point][key] for n in names]
                for key in ("accuracy", "normal_recall", "pneumonia_recall")
            }
            entry[point] = {f"mean_{key}": float(np.mean(v)) for key, v in values.items()}
            worst = int(np.argmin(values["normal_recall"]))
            entry[point]["worst_normal_recall"] = float(values["normal_recall"][worst])
            entry[point]["worst_condition"] = names[worst]
        out[group] = entry
    return out


# --------------------------------------------------------------------------- output


def markdown(results: dict) -> str:
    """The results as markdown tables: conditions, group means, series."""

    def f(x):
        return "–" if x is None else f"{x:.3f}"

    lines = [
        f"model `{results['model']}` (sha1 {results['model_sha1']}, resize "
        f"{results.get('resize', 'crop')}, aspect_* given {results.get('aspect_input', 'cropped')}"
        f"), split "
        f"`{results['split']}`, test n = {results['n']['test']} "
        f"({results['n']['test_normal']} NORMAL)",
        "",
        "| condition | group | accuracy | AUC | pneumonia recall | NORMAL recall "
        "| @val_sens95: pneu / NORMAL | @site_normal90: pneu / NORMAL |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for name, c in results["conditions"].items():
        a, s, site = c["argmax"], c["val_sens95"], c["site_normal90"]
        lines.append(
            f"| {name} | {c['group']} | {f(a['accuracy'])} | {f(c['auc'])} | "
            f"{f(a['pneumonia_recall'])} | {f(a['normal_recall'])} | "
            f"{f(s['pneumonia_recall'])} / {f(s['normal_recall'])} | "
            f"{f(site['pneumonia_recall'])} / {f(site['normal_recall'])} |"
        )
    none = results["conditions"].get("none")
    if none:
        lines += [
            "",
            f"validation-chosen thresholds (unshifted validation): val_sens95 = "
            f"{none['val_sens95']['threshold']:.4f}, val_normal90 = "
            f"{none['val_normal90']['threshold']:.4f}",
        ]
    lines += [
        "",
        "| group | mean AUC | mean pneumonia recall | mean NORMAL recall | worst NORMAL "
        "recall | mean NORMAL recall @val_sens95 | @site_normal90 (pneu / NORMAL) |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for group, s in results.get("summary", {}).items():
        a = s["argmax"]
        lines.append(
            f"| {group} | {f(s['mean_auc'])} | {f(a['mean_pneumonia_recall'])} | "
            f"{f(a['mean_normal_recall'])} | {f(a['worst_normal_recall'])} "
            f"({a['worst_condition']}) | {f(s['val_sens95']['mean_normal_recall'])} | "
            f"{f(s['site_normal90']['mean_pneumonia_recall'])} / "
            f"{f(s['site_normal90']['mean_normal_recall'])} |"
        )
    if none:
        lines += [
            "",
            "| series (unshifted test) | n | recall of its class (argmax) | AUC vs all pneumonia |",
            "| --- | ---: | ---: | ---: |",
        ]
        for name, s in none["series"].items():
            lines.append(
                f"| {name} | {s['n']} | {f(s['recall'])} | {f(s.get('auc_vs_pneumonia'))} |"
            )
    return "\n".join(lines)


def merged(new: dict, new_predictions: dict, old: dict, old_predictions: dict):
    """``old`` with ``new``'s conditions added (or replaced), in ``CONDITIONS`` order."""
    defaults = {"resize": "crop", "aspect_input": "cropped"}  # results made before they existed
    for key in ("model_sha1", "split", "seed", "n", "resize", "aspect_input"):
        before, now = old.get(key, defaults.get(key)), new.get(key, defaults.get(key))
        if now != before:
            raise SystemExit(f"--merge: {key} differs ({before} before, {now} now)")
    if new_predictions["image_id"] != old_predictions["image_id"]:
        raise SystemExit("--merge: other test images")
    conditions = {**old["conditions"], **new["conditions"]}
    p = {**old_predictions["p_pneumonia"], **new_predictions["p_pneumonia"]}
    order = [c for c in CONDITIONS if c in conditions]
    results = {
        **old,
        **{k: new[k] for k in defaults if k in new},
        "groups": new["groups"],
        "conditions": {c: conditions[c] for c in order},
    }
    results["summary"] = summary(results)
    return results, {**old_predictions, "p_pneumonia": {c: p[c] for c in order}}


def predictions_path(out: Path) -> Path:
    out = Path(out)
    return out.with_name(out.stem + ".predictions.json")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--model", type=Path, help="a saved .keras model (required to measure)")
    parser.add_argument("--split", type=Path, default=Path("reports/chest_xray/split.csv"))
    parser.add_argument("--out", type=Path, help="results JSON (and NAME.predictions.json)")
    parser.add_argument("--data_dir", default=None)
    parser.add_argument(
        "--conditions",
        nargs="*",
        default=list(CONDITIONS),
        help="default: all (must start with none)",
    )
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--resize",
        choices=["crop", "squash"],
        default=None,
        help="rebuild the model's graph to crop or squash a non-square image (same weights; "
        "default: as saved)",
    )
    parser.add_argument(
        "--aspect",
        dest="aspect_input",
        choices=list(ASPECT_INPUTS),
        default="cropped",
        help="the aspect_* conditions as the centre square a crop graph keeps ('cropped', "
        "default, as shipped.json was measured) or as the non-square upload the model's own "
        "graph crops or squashes ('upload'; needed for a squash model)",
    )
    parser.add_argument(
        "--merge",
        action="store_true",
        help="add the conditions measured now to an existing --out of the "
        "same model and split (the others kept; each condition is seeded, "
        "so the result is the same as measuring all at once)",
    )
    parser.add_argument(
        "--print", dest="show", type=Path, help="only print the table of an existing results JSON"
    )
    args = parser.parse_args(argv)
    if args.show:
        print(markdown(json.loads(args.show.read_text())))
        return 0
    if not args.model:
        parser.error("--model is required (or --print RESULTS.json)")
    unknown = [c for c in args.conditions if c not in CONDITIONS]
    if unknown:
        parser.error(f"unknown condition(s) {unknown}; known: {', '.join(CONDITIONS)}")
    results, predictions = evaluate(
        args.model,
        args.split,
        args.conditions,
        args.data_dir,
        args.seed,
        log=lambda s: print(s, file=sys.stderr, flush=True),
        resize=args.resize,
        aspect_input=args.aspect_input,
    )
    if args.merge and args.out and args.out.is_file():
        results, predictions = merged(
            results,
            predictions,
            json.loads(args.out.read_text()),
            json.loads(predictions_path(args.out).read_text()),
        )
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(results, indent=1) + "\n")
        predictions_path(args.out).write_text(json.dumps(predictions) + "\n")
    print(markdown(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
