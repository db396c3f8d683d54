"""Pages. Each screener page is the same component, driven by the task's metadata.json."""
from __future__ import annotations

from flask import Blueprint, abort, current_app, render_template, send_from_directory

from webapp.catalog import (class_results, format_percent, headline_metrics, list_tasks,
                            load_task, models_dir)

bp = Blueprint("screen", __name__)
bp.add_app_template_filter(format_percent, "percent")


def render_screener(task_id: str):
    metadata = load_task(task_id)
    return render_template(
        "screen.html",
        task=metadata,
        tasks=list_tasks(),
        metrics=headline_metrics(metadata),
        results=class_results(metadata),
    )


def default_task_id() -> str:
    """DEFAULT_TASK, else the first task of index.json; 503 when no model is installed."""
    task_id = current_app.config.get("DEFAULT_TASK")
    if not task_id:
        tasks = list_tasks()
        if not tasks:
            abort(503, "No screening model has been installed on this site yet.")
        task_id = tasks[0]["id"]
    return task_id


@bp.get("/")
def index():
    return render_screener(default_task_id())


@bp.get("/screen/<task_id>")
def screen(task_id: str):
    return render_screener(task_id)


@bp.get("/static/tfjs_model/<path:filename>")
def model_file(filename: str):
    """A model file from MODELS_FOLDER, where static/js/classifier.js looks for it.

    More specific than Flask's /static/<path> rule, so the browser runs the very
    models whose metadata the pages describe, wherever the folder is.
    """
    return send_from_directory(models_dir(), filename,
                               max_age=current_app.get_send_file_max_age(filename))
