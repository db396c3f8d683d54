"""Pages. Each screener page is the same component, driven by the task's metadata.json."""
from __future__ import annotations

from flask import Blueprint, abort, current_app, render_template

from webapp.catalog import headline_metrics, list_tasks, load_task

bp = Blueprint("screen", __name__)


def render_screener(task_id: str):
    metadata = load_task(task_id)
    return render_template(
        "screen.html",
        task=metadata,
        tasks=list_tasks(),
        metrics=headline_metrics(metadata),
    )


@bp.get("/")
def index():
    task_id = current_app.config.get("DEFAULT_TASK")
    if not task_id:
        tasks = list_tasks()
        if not tasks:
            abort(503, "No screening model has been installed on this site yet.")
        task_id = tasks[0]["id"]
    return render_screener(task_id)


@bp.get("/screen/<task_id>")
def screen(task_id: str):
    return render_screener(task_id)
