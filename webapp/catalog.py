"""What the site knows about the screening tasks: read from the exported models.

``static/tfjs_model/index.json`` lists the tasks and ``static/tfjs_model/<task>/metadata.json``
is each model's contract (labels, inputs, metadata encoding, metrics), written
at export by the training code. The files are small and read on each request,
so a newly exported model shows up without restarting the site. This module
never imports the training package or TensorFlow.
"""
from __future__ import annotations

import json
from pathlib import Path

from flask import abort, current_app


def models_dir() -> Path:
    """Where the exported models live: <static folder>/tfjs_model, served as-is to the browser."""
    return Path(current_app.static_folder) / "tfjs_model"


def _read_json(path: Path, what: str) -> dict:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        abort(503, f"The {what} is missing from this site; it may not be installed yet.")
    except (OSError, ValueError) as error:
        current_app.logger.error("cannot read %s: %s", path, error)
        abort(500, f"The {what} on this site is damaged.")


def list_tasks() -> list[dict]:
    """``[{"id", "title", "version"}, …]`` in the order of index.json."""
    index = _read_json(models_dir() / "index.json", "list of screening models")
    return list(index.get("tasks", []))


def load_task(task_id: str) -> dict:
    """The metadata.json of ``task_id``; 404 (listing the valid tasks) if it is unknown."""
    tasks = list_tasks()
    ids = [task["id"] for task in tasks]
    if task_id not in ids:
        abort(404, f"There is no screener called “{task_id}”. "
                   f"Available: {', '.join(ids) or 'none'}.")
    return _read_json(models_dir() / task_id / "metadata.json", f"description of the {task_id} model")


def headline_metrics(metadata: dict) -> dict | None:
    """The test-set numbers worth showing, or None when the model has not been evaluated.

    Prefers the evaluation with the person's metadata (what the page uses).
    """
    test = (metadata.get("metrics") or {}).get("test") or {}
    result = test.get("with_metadata") or test.get("without_metadata") or test
    if not isinstance(result, dict) or not result.get("n"):
        return None
    shown = {key: result[key] for key in ("accuracy", "balanced_accuracy", "macro_auc")
             if isinstance(result.get(key), (int, float))}
    return {"n": result["n"], **shown} if shown else None
