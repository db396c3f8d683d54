"""Export a trained Keras model as a TF.js graph model plus the ``metadata.json`` contract.

Keras 3 → ``model.export()`` (SavedModel) → ``tensorflowjs_converter
--input_format=tf_saved_model`` → graph model. (The TF.js *layers* format does
not load Keras 3 models in tfjs 4.22.)
"""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import sys
import tempfile
from datetime import datetime, timezone
from pathlib import Path

from training.fitting.model import CLASS_MAP_OUTPUT, IMAGE_INPUT, METADATA_INPUT, TTA_MODES
from training.inputs.encoding import encoding_json
from training.inputs.preprocess import max_side_for
from training.inputs.tasks import RESIZE_MODES, Task

QUANTIZATIONS = {
    "float32": [],
    "float16": ["--quantize_float16=*"],
    "uint8": ["--quantize_uint8=*"],
}
METADATA_FORMAT = 1


def export_saved_model(model, path: Path) -> None:
    """SavedModel whose ``serving_default`` runs the model in inference mode.

    ``model.export()`` traces without ``training=False``; with the dynamic image
    size the graph then keeps BatchNorm's variable updates, which the TF.js
    converter cannot freeze. An explicit endpoint avoids that.
    """
    import keras
    import tensorflow as tf

    signature = {
        name: tf.TensorSpec([None, *tensor.shape[1:]], tf.float32, name=name)
        for name, tensor in _named_inputs(model).items()
    }
    archive = keras.export.ExportArchive()
    archive.track(model)
    archive.add_endpoint(
        "serving_default", lambda inputs: model(inputs, training=False), input_signature=[signature]
    )
    archive.write_out(str(path), verbose=False)


def _named_inputs(model) -> dict:
    inputs = model.input
    if isinstance(inputs, dict):
        return inputs
    inputs = inputs if isinstance(inputs, (list, tuple)) else [inputs]
    return {tensor.name.split(":")[0]: tensor for tensor in inputs}


def convert(model, out_dir: str | Path, quantization: str = "float32") -> dict:
    """Write model.json + weight shards into ``out_dir``; return the model.json signature."""
    if quantization not in QUANTIZATIONS:
        raise ValueError(f"quantization must be one of {list(QUANTIZATIONS)}, got {quantization!r}")
    out_dir = Path(out_dir)
    with tempfile.TemporaryDirectory() as tmp:
        saved = Path(tmp) / "saved_model"
        export_saved_model(model, saved)
        if out_dir.exists():
            for old in [*out_dir.glob("group*-shard*of*.bin"), out_dir / "model.json"]:
                old.unlink(missing_ok=True)
        out_dir.mkdir(parents=True, exist_ok=True)
        command = [
            sys.executable,
            "-m",
            "tensorflowjs.converters.converter",
            "--input_format=tf_saved_model",
            "--output_format=tfjs_graph_model",
            "--signature_name=serving_default",
            "--saved_model_tags=serve",
            *QUANTIZATIONS[quantization],
            str(saved),
            str(out_dir),
        ]
        result = subprocess.run(command, capture_output=True, text=True)
        if result.returncode != 0:
            raise RuntimeError(f"tensorflowjs_converter failed:\n{result.stderr[-3000:]}")
    return canonical_model_json(out_dir / "model.json").get("signature", {})


def canonical_model_json(path: Path) -> dict:
    """Rewrite model.json with its keys sorted. The converter writes each node's ``attr``
    map in an order that changes from run to run (a protobuf map); sorted, converting the
    same network twice gives the same bytes, so the content version (and visitors' caches)
    survive a re-conversion. Lists (nodes, weights) keep their order, which matters."""
    model = json.loads(path.read_text())
    path.write_text(json.dumps(model, sort_keys=True))
    return model


def model_files(out_dir: Path) -> list[Path]:
    return [out_dir / "model.json", *sorted(out_dir.glob("group*-shard*of*.bin"))]


def content_version(out_dir: Path) -> str:
    digest = hashlib.sha256()
    for path in model_files(out_dir):
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:12]


def _signature_name(signature: dict, side: str, wanted: str | None = None) -> str:
    names = [key.split(":")[0] for key in signature.get(side, {})]
    if wanted and wanted in names:
        return wanted
    if wanted is None and len(names) == 1:
        return names[0]
    raise RuntimeError(f"converted model has {side} {names}, expected {wanted or 'one output'}")


def build_metadata(
    task: Task,
    signature: dict,
    out_dir: Path,
    image_size,
    *,
    quantization: str,
    training: dict | None = None,
    metrics: dict | None = None,
    wrong_kind: dict | None = None,
    tta: str = "none",
    resize: str | None = None,
) -> dict:
    """The ``metadata.json`` contract; ``wrong_kind`` is a ``training.steps.wrong_kind`` report whose
    head is in the graph (output ``in_kind``); ``tta="mirrors"``: the graph was
    exported with ``mirrors_outside`` (``training.fitting.model.build_model``) and its image
    input takes the image's ``MIRRORS`` views, which the JavaScript makes; ``resize``:
    what the graph's resizing does, "crop" or "squash" (``training.fitting.model.resize_mode``;
    default the task's)."""
    if tta not in TTA_MODES:
        raise ValueError(f"tta must be one of {TTA_MODES}, got {tta!r}")
    resize = resize or task.resize
    if resize not in RESIZE_MODES:
        raise ValueError(f"resize must be one of {RESIZE_MODES}, got {resize!r}")
    height, width = image_size
    fitted = {
        "crop": "crops to its aspect ratio, resizes",
        "squash": "resizes the whole image to its size (squashed, not cropped)",
    }[resize]
    outputs = [key.split(":")[0] for key in signature.get("outputs", {})]
    inputs = {
        "image": {
            "name": _signature_name(signature, "inputs", IMAGE_INPUT),
            "dtype": "float32",
            "shape": [1, None, None, 3],
            "size": [height, width],
            "resize": resize,
            "pixels": f"RGB, 0-255, any size; the model {fitted} and rescales",
            "min_side": task.min_image_side,
            "max_side": max_side_for(image_size),
        }
    }
    if tta == "mirrors":
        from training.fitting.layers import MIRRORS  # (imports Keras: only when it is needed)

        inputs["image"].update(
            {
                "shape": [MIRRORS, None, None, 3],
                "tta": "mirrors",
                "pixels": "the image (RGB, 0-255, any size) and its mirrors, stacked in this "
                "order: as given, left-right, up-down, both (turned 180°); the model "
                + {
                    "crop": "crops each to its aspect ratio, resizes",
                    "squash": "resizes each whole view to its size",
                }[resize]
                + ", rescales and averages them",
            }
        )
    if task.metadata_size:
        inputs["metadata"] = {
            "name": _signature_name(signature, "inputs", METADATA_INPUT),
            "dtype": "float32",
            "shape": [1, task.metadata_size],
        }
    files = model_files(out_dir)
    return {
        "format": METADATA_FORMAT,
        "task": task.id,
        "title": task.title,
        "image_kind": task.image_kind,
        "split_group": task.group_name,
        "version": content_version(out_dir),
        "exported": datetime.now(timezone.utc).replace(microsecond=0).isoformat(),
        "labels": [
            {"id": l.id, "name": l.name, "description": l.description, "malignant": l.malignant}
            for l in task.labels
        ],
        "inputs": inputs,
        "output": {
            "name": _signature_name(
                signature, "outputs", "probabilities" if len(outputs) > 1 else None
            ),
            "kind": "probabilities",
            "order": task.label_ids,
        },
        "metadata_encoding": encoding_json(task),
        # The collections the images come from, named for the pages (webapp.report_words).
        **(
            {
                "sources": [
                    {"id": i, "name": name, "where": where} for i, name, where in task.sources
                ]
            }
            if task.sources
            else {}
        ),
        "weights": {
            "quantization": quantization,
            "bytes": sum(p.stat().st_size for p in files[1:]),
            "files": [p.name for p in files],
        },
        "training": training or {},
        "metrics": metrics or {},
        **({"wrong_kind": wrong_kind_contract(signature, wrong_kind)} if wrong_kind else {}),
        **(
            {"explanation": explanation_contract(signature, image_size, resize)}
            if CLASS_MAP_OUTPUT in outputs
            else {}
        ),
        **outline_contract(out_dir),
    }


OUTLINE_FOLDER = "outline"


def outline_contract(out_dir: Path) -> dict:
    """``{"outline": {"folder", "version"}}`` when an outline model (``training.steps.outline``)
    sits in ``<out_dir>/outline/``: the browser loads it beside the classifier. A folder
    inside the task's, so ``write_index`` does not list it as a screener."""
    path = Path(out_dir) / OUTLINE_FOLDER / "metadata.json"
    if not path.is_file():
        return {}
    return {
        "outline": {
            "folder": f"{OUTLINE_FOLDER}/",
            "version": json.loads(path.read_text())["version"],
        }
    }


def explanation_contract(signature: dict, image_size, resize: str = "crop") -> dict:
    """The class activation map output (``training.fitting.model.build_model``)."""
    shape = [
        int(d["size"])
        for d in next(
            v for k, v in signature["outputs"].items() if k.split(":")[0] == CLASS_MAP_OUTPUT
        )["tensorShape"]["dim"]
    ]
    return {
        "output": CLASS_MAP_OUTPUT,
        "kind": "class activation map: the linear head at each place of the last feature "
        "map (its mean over the places is the class's image logit)",
        "shape": shape[1:],
        "region": (
            f"the centred crop of the image at the input's aspect ratio "
            f"({image_size[1]}:{image_size[0]}), which is what the model sees"
            if resize == "crop"
            else "the whole image (the model squashes it to its input size)"
        ),
    }


def wrong_kind_contract(signature: dict, wrong_kind: dict) -> dict:
    """What the browser needs to warn about an image of the wrong kind, and the evidence."""
    from training.fitting.model import IN_KIND_OUTPUT

    test = wrong_kind["in_kind_head"]["test"]
    return {
        "output": _signature_name(signature, "outputs", IN_KIND_OUTPUT),
        "kind": "probability that the image is of the task's kind",
        "threshold": test["threshold"],
        "warn_below": "in_kind < threshold",
        "false_alarm_rate": test["false_alarm_rate"],
        "n_in_kind": test["n_in_kind"],
        "detection_rate": test["detection_rate"],
        "n_per_kind": test["n_per_kind"],
        "kind_names": wrong_kind["kind_names"],
        "max_probability_rule": {
            key: wrong_kind["max_probability"]["test"][key]
            for key in ("threshold", "false_alarm_rate", "detection_rate")
        },
    }


def write_index(models_root: Path) -> dict:
    """List the exported tasks in ``<models_root>/index.json`` (read by the site and the JS).

    In the registry's order (the site's first screener is the registry's first
    task), then any other exported folder by name.
    """
    from training.inputs.tasks import TASKS

    order = list(TASKS)
    tasks = []
    paths = sorted(
        models_root.glob("*/metadata.json"),
        key=lambda p: (
            order.index(p.parent.name) if p.parent.name in order else len(order),
            p.parent.name,
        ),
    )
    for meta_path in paths:
        meta = json.loads(meta_path.read_text())
        tasks.append({"id": meta["task"], "title": meta["title"], "version": meta["version"]})
    index = {"tasks": tasks}
    (models_root / "index.json").write_text(json.dumps(index, indent=1) + "\n")
    return index


def copy_reports(run_dir: Path, reports_dir: Path) -> list[Path]:
    reports_dir.mkdir(parents=True, exist_ok=True)
    copied = []
    for name in (
        "report.json",
        "history.json",
        "config.json",
        "split.csv",
        "wrong_kind.json",
        "calibration.json",
        "risk.json",
        "unsure.json",
    ):
        source = run_dir / name
        if source.is_file() and source.resolve() != (reports_dir / name).resolve():
            shutil.copy2(source, reports_dir / name)
            copied.append(reports_dir / name)
    return copied
