"""The shipped recipe at the images' own size, with and without Shades of Gray (issue 29).

Arms (rule and results: ``research/skin_lesion/experiments.md``, "The recipe at the
images' own size"):

- A: the product's recipe (``training/recipes/skin_lesion.json``: balanced batches, label
  smoothing 0.1, the standard augmentation) with the input at the HAM images' own
  150 × 200 instead of 192 × 256;
- B: A with Shades of Gray colour constancy (p = 6) in the graph after the resize
  (``research.colour_constancy``).

Each arm and seed is trained by ``training.fitting.train.train`` on the shipped split (the epoch
kept by validation balanced accuracy, as the product does), then measured on validation,
the test split and ``outside_dermoscopy`` (per source; never trained or tuned on), the
Keras network on raw images as the browser hands them (no mirrors).

    python -m research.skin_lesion.native_size --arms A B --seeds 0 1 2 --epochs 10
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np

from training.fitting.config import TrainConfig
from training.fitting.model import ModelConfig
from training.inputs.data import PROJECT_ROOT
from training.inputs.tasks import get_task

TASK = get_task("skin_lesion")
SIZE = (150, 200)
OUT = PROJECT_ROOT / "research" / "skin_lesion" / "results" / "native_size.json"
RECIPE = PROJECT_ROOT / "training" / "recipes" / "skin_lesion.json"


def arm_config(arm: str, seed: int, epochs: int, runs: Path) -> TrainConfig:
    recipe = json.loads(RECIPE.read_text())["train"]
    model = ModelConfig(**recipe.get("model", {}), image_size=SIZE)
    settings = {k: v for k, v in recipe.items() if k != "model"}
    settings["epochs"] = epochs
    return TrainConfig(
        task=TASK.id, seed=seed, out=str(runs / f"{arm}_s{seed}"), model=model, **settings
    )


def network(arm: str):
    if arm == "A":
        return None
    from research.colour_constancy import build_model

    return lambda task, config: build_model(task, config.model, "shades_of_gray")


def outside_probabilities(model, rows) -> np.ndarray:
    """The network's answers on each outside image, raw pixels of any size (no metadata:
    blanked, as the browser sends for an image without details)."""
    from PIL import Image

    from training.fitting.model import IMAGE_INPUT, METADATA_INPUT
    from training.inputs.encoding import blank_metadata

    blank = np.asarray(blank_metadata(TASK), np.float32)[None]
    out = []
    for path in rows["path"]:
        with Image.open(path) as im:
            x = np.asarray(im.convert("RGB"), np.float32)[None]
        p = model({IMAGE_INPUT: x, METADATA_INPUT: blank}, training=False)
        out.append(np.asarray(p)[0])
    return np.stack(out)


def measure(arm: str, seed: int, epochs: int, runs: Path, rows) -> dict:
    from training.exporting.outside import scores
    from training.fitting.model import load_model
    from training.fitting.train import train

    if arm == "B":
        import research.colour_constancy  # noqa: F401 (registers the layer for loading)
    config = arm_config(arm, seed, epochs, runs)
    started = time.time()
    report_path = Path(config.out) / "report.json"
    if not report_path.is_file():
        train(config, network=network(arm))
    history = json.loads((Path(config.out) / "history.json").read_text())
    report = json.loads(report_path.read_text())
    model = load_model(Path(config.out) / "model.keras")
    p = outside_probabilities(model, rows)
    y = rows["y"].to_numpy()
    source = rows["source"].to_numpy()
    outside = {"all": scores(TASK, {}, p, y, None)}
    for s in sorted(set(source)):
        outside[s] = scores(TASK, {}, p[source == s], y[source == s], None)
    np.save(Path(config.out) / "outside_probabilities.npy", p)
    selected = history["selected_epoch"]
    epochs_log = history["epochs"]
    return {
        "arm": arm,
        "seed": seed,
        "selected_epoch": selected,
        "train_seconds": history["train_seconds"],
        "images_per_second": round(
            history["steps_per_epoch"] * config.batch_size * epochs / history["train_seconds"], 1
        ),
        "val_balanced_accuracy": epochs_log["val_balanced_accuracy_no_metadata"][selected - 1],
        "val_macro_auc": epochs_log["val_macro_auc_no_metadata"][selected - 1],
        "test_balanced_accuracy": report["without_metadata"]["balanced_accuracy"]
        if "without_metadata" in report
        else report.get("balanced_accuracy"),
        "test_macro_auc": report["without_metadata"]["macro_auc"]
        if "without_metadata" in report
        else report.get("macro_auc"),
        "outside": {
            g: {k: f[k] for k in ("balanced_accuracy", "macro_auc", "recall", "n")}
            for g, f in outside.items()
        },
        "wall_seconds": round(time.time() - started, 1),
    }


def summary(results: list[dict]) -> dict:
    out = {}
    for arm in sorted({r["arm"] for r in results}):
        rs = [r for r in results if r["arm"] == arm]
        figures = {
            "val_balanced_accuracy": [r["val_balanced_accuracy"] for r in rs],
            "test_balanced_accuracy": [r["test_balanced_accuracy"] for r in rs],
            "test_macro_auc": [r["test_macro_auc"] for r in rs],
            "outside_balanced_accuracy": [r["outside"]["all"]["balanced_accuracy"] for r in rs],
            "outside_macro_auc": [r["outside"]["all"]["macro_auc"] for r in rs],
            "outside_mel_recall": [r["outside"]["all"]["recall"]["mel"] for r in rs],
        }
        out[arm] = {
            k: {
                "mean": float(np.mean(v)),
                "sd": float(np.std(v, ddof=1)) if len(v) > 1 else None,
                "seeds": v,
            }
            for k, v in figures.items()
        }
    return out


def main(argv=None) -> dict:
    from training.exporting.outside import outside_rows

    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--arms", nargs="+", default=["A", "B"], choices=["A", "B"])
    p.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    p.add_argument("--epochs", type=int, default=10)
    p.add_argument("--runs", default="runs/skin_lesion/native_size")
    p.add_argument("--out", default=str(OUT))
    args = p.parse_args(argv)
    rows = outside_rows(TASK)
    out = Path(args.out)
    done = json.loads(out.read_text())["runs"] if out.is_file() else []
    for seed in args.seeds:
        for arm in args.arms:
            if any(r["arm"] == arm and r["seed"] == seed for r in done):
                continue
            r = measure(arm, seed, args.epochs, Path(args.runs), rows)
            done.append(r)
            print(
                f"[{arm} seed {seed}] val BA {r['val_balanced_accuracy']:.3f}, test BA "
                f"{r['test_balanced_accuracy']:.3f}, outside BA "
                f"{r['outside']['all']['balanced_accuracy']:.3f}, mel "
                f"{r['outside']['all']['recall']['mel']:.2f}",
                flush=True,
            )
            out.write_text(
                json.dumps(
                    {"epochs": args.epochs, "size": SIZE, "runs": done, "summary": summary(done)},
                    indent=1,
                )
                + "\n"
            )
    return json.loads(out.read_text())


if __name__ == "__main__":
    main()
