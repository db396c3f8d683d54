"""The lesion's outline: a small segmentation network for the task with lesion masks.

A MobileNet V1 encoder (the shared ImageNet weights) with a light U-Net-like decoder gives,
for raw RGB pixels 0-255 of any size, the chance that each pixel of a ``HEIGHT`` × ``WIDTH``
grid is lesion. The whole image is squashed to that grid (no crop: the outline must cover
the whole photo) and the browser stretches the mask back over the image it was given
(``static/js/outline.js`` turns it into the polygon and the measures).

Trained on the task's masks (``Task.masks_dir`` of ``training.inputs.tasks``: the dataset's own
segmentations, ``../shared/data/<dataset>/<masks_dir>/``) with the classifier's
lesion-grouped split (``reports/<task>/split.csv``), so no lesion of the classifier's
test part is seen here either. Its files go to ``static/tfjs_model/<task>/outline/``
(model.json, weights, its own metadata.json): one folder below the task, so the site's
task list (``training.exporting.export.write_index``) does not take it for a screener.

    python -m training.steps.outline train     # → runs/<task>_outline/latest/model.keras
    python -m training.steps.outline evaluate  # Dice of the Keras model on the test part (printed)
    python -m training.steps.outline export    # → static/tfjs_model/<task>/outline/, checked
                                         #   in Chromium, and the task metadata.json's key
    python -m training.steps.outline report    # → reports/<task>/outline.json, through the
                                         #   JS API (assess()) in Chromium
    python -m training.steps.outline all       # train, export, report
    python -m training.steps.outline time      # what the outline adds to assess(), in Chromium
    python -m training.steps.outline pictures  # → static/img/outline-worst/: the report's worst
                                         #   test cases with both outlines, for the page
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import fields
from pathlib import Path

from training.inputs.data import PROJECT_ROOT
from training.steps.outline_net import (
    DEFAULT_REPORT,
    DEFAULT_TASK_DIR,
    IMAGE_INPUT,
    METADATA_FORMAT,
    PICTURES_DIR,
    TASK,
    OutlineConfig,
    evaluate,
    inference_model,
    load,
    pictures,
    train,
)


def export(
    config: OutlineConfig, model_path: Path, task_dir: Path, quantization: str = "float16"
) -> dict:
    """The TF.js graph model in ``<task_dir>/outline/`` with its metadata.json, checked in
    the browser (``parity``), and the classifier's metadata.json told where it is."""
    from training.exporting.export import OUTLINE_FOLDER, content_version, convert, outline_contract

    out_dir = Path(task_dir) / OUTLINE_FOLDER
    model = inference_model(load(model_path), config)
    signature = convert(model, out_dir, quantization)
    outputs = [key.split(":")[0] for key in signature.get("outputs", {})]
    inputs = [key.split(":")[0] for key in signature.get("inputs", {})]
    if inputs != [IMAGE_INPUT] or len(outputs) != 1:
        raise RuntimeError(f"converted outline model has inputs {inputs}, outputs {outputs}")
    files = sorted(out_dir.glob("group*-shard*of*.bin"))
    metadata = {
        "format": METADATA_FORMAT,
        "task": TASK,
        "kind": "outline",
        "version": content_version(out_dir),
        "exported": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "input": {
            "name": IMAGE_INPUT,
            "pixels": "RGB 0-255, any size; the model squashes the whole image to its size",
            "resize": "squash",
            "height": config.height,
            "width": config.width,
        },
        "output": {
            "name": outputs[0],
            "height": config.height,
            "width": config.width,
            "meaning": "the chance that each cell of the squashed image is lesion",
        },
        "threshold": config.threshold,
        "backbone": f"MobileNet V1 α {config.alpha:g} (ImageNet) and a light decoder",
        "weights": {
            "quantization": quantization,
            "bytes": sum(p.stat().st_size for p in files),
            "files": ["model.json", *(p.name for p in files)],
        },
        "trained_on": "HAM10000 lesion masks (Tschandl et al., CC BY-NC-SA 4.0), the "
        f"lesion-grouped training part of reports/{TASK}/split.csv",
    }
    (out_dir / "metadata.json").write_text(json.dumps(metadata, indent=1) + "\n")
    from training.steps.outline_browser import parity

    metadata["parity"] = parity(config, model_path, Path(task_dir))
    (out_dir / "metadata.json").write_text(json.dumps(metadata, indent=1) + "\n")
    classifier = Path(task_dir) / "metadata.json"
    if classifier.is_file():
        found = json.loads(classifier.read_text())
        found.update(outline_contract(Path(task_dir)))
        classifier.write_text(json.dumps(found, indent=1) + "\n")
    return metadata


def parse(argv) -> tuple[str, OutlineConfig, argparse.Namespace]:
    parser = argparse.ArgumentParser(
        prog="python -m training.steps.outline",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "command", choices=("train", "evaluate", "export", "report", "all", "time", "pictures")
    )
    parser.add_argument("--task-dir", default=str(DEFAULT_TASK_DIR))
    parser.add_argument("--report", default=str(DEFAULT_REPORT))
    parser.add_argument("--quantization", default="float16")
    for f in fields(OutlineConfig):
        kind = f.type if isinstance(f.type, str) else f.type.__name__
        if kind.startswith("tuple"):
            parser.add_argument(f"--{f.name.replace('_', '-')}", type=int, nargs="+")
        else:
            cast = {"int": int, "float": float, "str": str}[kind]
            parser.add_argument(f"--{f.name.replace('_', '-')}", type=cast)
    args = parser.parse_args(argv)
    values = {
        f.name: getattr(args, f.name)
        for f in fields(OutlineConfig)
        if getattr(args, f.name) is not None
    }
    if "decoder" in values:
        values["decoder"] = tuple(values["decoder"])
    return args.command, OutlineConfig(**values), args


def write_report(config: OutlineConfig, task_dir: Path, path: Path) -> dict:
    """``browser_evaluate`` of the outline model in ``task_dir``, with what it measured, as
    ``path`` (``reports/<task>/outline.json``; the release's export step writes it too)."""
    from training.steps.outline_browser import browser_evaluate

    report = browser_evaluate(config, task_dir)
    meta = json.loads((Path(task_dir) / "outline" / "metadata.json").read_text())
    report = {
        "what": "Dice and Jaccard of the outline through the JS API (assess()'s polygon, "
        "filled at the image's own size, 200 × 150) against the HAM10000 mask, on the "
        "lesion-grouped test part",
        "command": "python -m training.steps.outline report",
        "model_version": meta["version"],
        **report,
        "model": {
            "backbone": meta["backbone"],
            "input": [meta["input"]["height"], meta["input"]["width"]],
            "bytes": meta["weights"]["bytes"],
        },
    }
    if (Path(config.out) / "history.json").is_file():
        report["training"] = json.loads((Path(config.out) / "history.json").read_text())
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(report, indent=1) + "\n")
    return report


def write_pictures(config: OutlineConfig, model_path: Path, report: Path, out: Path) -> list:
    """``pictures`` of the report's worst test cases into ``out`` (the site's
    ``static/img/outline-worst/`` once installed), named in the report under ``pictures``."""
    shown = pictures(config, model_path, report, out)
    found = json.loads(report.read_text())
    found["pictures"] = {"folder": "img/outline-worst/", "images": shown}
    report.write_text(json.dumps(found, indent=1) + "\n")
    return shown


def main(argv=None) -> int:
    command, config, args = parse(sys.argv[1:] if argv is None else argv)
    model_path = Path(config.out) / "model.keras"
    task_dir = Path(args.task_dir)
    if command in ("train", "all"):
        model_path = train(config)
    if command == "evaluate":
        report = evaluate(config, model_path)
        print(json.dumps({k: report[k] for k in ("images", "dice", "jaccard")}, indent=1))
        (Path(config.out) / "python_test.json").write_text(json.dumps(report, indent=1) + "\n")
    if command in ("export", "all"):
        metadata = export(config, model_path, task_dir, args.quantization)
        print(json.dumps(metadata, indent=1))
    if command in ("report", "all"):
        report = write_report(config, task_dir, Path(args.report))
        print(json.dumps({k: report[k] for k in ("images", "dice", "jaccard", "no_outline")}))
    if command in ("pictures", "all"):
        print(json.dumps(write_pictures(config, model_path, Path(args.report), PICTURES_DIR)))
    if command == "time":
        image = PROJECT_ROOT / "tests" / "data" / "ham10000" / "ISIC_0025661.jpg"
        from training.steps.outline_browser import timing

        print(json.dumps(timing(task_dir, image)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
