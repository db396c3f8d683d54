"""What the site knows about the screening tasks: read from the exported models.

``index.json`` in the models folder (``MODELS_FOLDER``, by default
``static/tfjs_model``) lists the tasks and ``<task>/metadata.json`` is each
model's contract (labels, inputs, metadata encoding, metrics), written at
export by the training code. The files are small and read on each request,
so a newly exported model shows up without restarting the site. This module
never imports the training package or TensorFlow.
"""

from __future__ import annotations

import json
import math
import re
from pathlib import Path

from flask import abort, current_app
from flask_babel import gettext as _

# A kind whose test sensitivity is below this is marked "often missed" on its page.
OFTEN_MISSED_BELOW = 0.5


def models_dir() -> Path:
    """Where the exported models live (``MODELS_FOLDER``), served as-is to the browser."""
    folder = current_app.config.get("MODELS_FOLDER")
    return Path(folder) if folder else Path(current_app.static_folder) / "tfjs_model"


def _read_json(path: Path, what: str) -> dict:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        abort(
            503,
            _("The %(what)s is missing from this site; it may not be installed yet.", what=what),
        )
    except (OSError, ValueError) as error:
        current_app.logger.error("cannot read %s: %s", path, error)
        abort(500, _("The %(what)s on this site is damaged.", what=what))


def list_tasks() -> list[dict]:
    """``[{"id", "title", "version"}, …]`` in the order of index.json."""
    index = _read_json(models_dir() / "index.json", _("list of screening models"))
    return list(index.get("tasks", []))


def installed_tasks() -> list[dict]:
    """:func:`list_tasks`, or 503 when no model is installed."""
    tasks = list_tasks()
    if not tasks:
        abort(503, _("No screening model has been installed on this site yet."))
    return tasks


def default_task_id() -> str:
    """The featured task: ``DEFAULT_TASK``, else the first task of index.json; 503 when
    no model is installed. The home page lists it first, and the report pages'
    addresses without a task (``/performance``, …) show it."""
    return current_app.config.get("DEFAULT_TASK") or installed_tasks()[0]["id"]


def load_task(task_id: str) -> dict:
    """The metadata.json of ``task_id``; 404 (listing the valid tasks) if it is unknown."""
    tasks = list_tasks()
    ids = [task["id"] for task in tasks]
    if task_id not in ids:
        abort(
            404,
            _(
                "There is no screener called “%(task)s”. Available: %(tasks)s.",
                task=task_id,
                tasks=", ".join(ids) or _("none"),
            ),
        )
    return _read_json(
        models_dir() / task_id / "metadata.json",
        _("description of the %(task)s model", task=task_id),
    )


def field_names(metadata: dict) -> list[str]:
    """The details the model takes besides the image, as named on the form without
    their units ("Age (years)" → "Age"); empty for a model of the image alone."""
    fields = (metadata.get("metadata_encoding") or {}).get("fields") or []
    return [re.sub(r"\s*\(.*?\)", "", field.get("label") or field["name"]) for field in fields]


def headline_metrics(metadata: dict, variants=("with_metadata", "without_metadata")) -> dict | None:
    """The test-set numbers worth showing, or None when the model has not been evaluated.

    ``{"n", "variant", "accuracy", "balanced_accuracy", "macro_auc"}`` (a figure
    not measured is left out) from the first of ``variants`` that metadata.json
    holds; by default the evaluation with the person's details (what the
    screener uses when they are given).
    """
    test = (metadata.get("metrics") or {}).get("test") or {}
    found = [(variant, test[variant]) for variant in variants if test.get(variant)]
    variant, result = found[0] if found else (None, test)
    if not isinstance(result, dict) or not result.get("n"):
        return None
    shown = {
        key: result[key]
        for key in ("accuracy", "balanced_accuracy", "macro_auc")
        if _is_number(result.get(key))
    }
    return {"n": result["n"], "variant": variant, **shown} if shown else None


def class_results(metadata: dict) -> dict | None:
    """How the model did on each kind of the test set when no details are given.

    ``{"n", "rows", "often_missed", "often_missed_below"}`` from
    ``metrics.test.without_metadata``, or None when the model has no measured
    results. ``rows`` follows ``metadata["labels"]``
    (every label, also one the report leaves out): the label plus ``support``,
    ``sensitivity``, ``specificity`` and ``auc`` (None where not measured) and
    ``often_missed`` (sensitivity below :data:`OFTEN_MISSED_BELOW`).
    """
    test = (metadata.get("metrics") or {}).get("test") or {}
    result = test.get("without_metadata")
    if not isinstance(result, dict) or not result.get("n") or not result.get("per_class"):
        return None
    rows = []
    for label in metadata.get("labels", []):
        measured = result["per_class"].get(label["id"]) or {}
        figures = {
            key: measured[key] if _is_number(measured.get(key)) else None
            for key in ("support", "sensitivity", "specificity", "auc")
        }
        sensitivity = figures["sensitivity"]
        rows.append(
            {
                "label": label,
                **figures,
                "often_missed": sensitivity is not None and sensitivity < OFTEN_MISSED_BELOW,
            }
        )
    return {
        "n": result["n"],
        "rows": rows,
        "often_missed_below": OFTEN_MISSED_BELOW,
        "often_missed": [row["label"] for row in rows if row["often_missed"]],
    }


def format_percent(fraction: float | None) -> str:
    """0.8 → "80%", halves rounded up; never rounds a miss or a find away:
    0.001 → "<1%", 0.998 → ">99%". None (not measured) → "–"."""
    if not _is_number(fraction):
        return "–"
    percent = fraction * 100
    if 0 < percent < 0.5:
        return "<1%"
    if 99.5 <= percent < 100:
        return ">99%"
    return f"{math.floor(percent + 0.5)}%"  # halves up: 0.5% is "1%", never "0%"


def sentence(text: str) -> str:
    """The first letter in capitals, the rest as written: "a chest X-ray" → "A chest X-ray"
    (Jinja's ``capitalize`` would lower-case the rest: "A chest x-ray")."""
    text = str(text or "")
    return text[:1].upper() + text[1:]


def _is_number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
