"""Pages: the home page listing every screener, and each screener page (the same
component, driven by its task's metadata.json)."""

from __future__ import annotations

from flask import (
    Blueprint,
    current_app,
    redirect,
    render_template,
    request,
    send_from_directory,
    url_for,
)
from werkzeug.exceptions import HTTPException

from webapp.catalog import (
    class_results,
    field_names,
    format_percent,
    headline_metrics,
    installed_tasks,
    list_tasks,
    load_task,
    models_dir,
    sentence,
)
from webapp.i18n import localise_figures

bp = Blueprint("screen", __name__)
bp.add_app_template_filter(lambda fraction: localise_figures(format_percent(fraction)), "percent")
bp.add_app_template_filter(sentence, "sentence")


def render_screener(task_id: str):
    metadata = load_task(task_id)
    return render_template(
        "screen.html",
        task=metadata,
        tasks=list_tasks(),
        metrics=headline_metrics(metadata),
        results=class_results(metadata),
    )


def screener_summary(task: dict) -> dict:
    """What the home page says about one task of index.json.

    ``{"id", "title", "image_kind", "labels", "fields", "metrics", "problem"}``;
    ``metrics`` are the test figures for the image alone (comparable between
    screeners, and what a person gets who gives no details), None if not measured.
    A task whose metadata.json cannot be read keeps its card, with ``problem``
    saying why, so one broken model does not take the home page down.
    """
    summary = {
        "id": task["id"],
        "title": task.get("title") or task["id"],
        "image_kind": None,
        "labels": [],
        "fields": [],
        "metrics": None,
        "problem": None,
    }
    try:
        metadata = load_task(task["id"])
    except HTTPException as error:
        return {**summary, "problem": error.description}
    return {
        **summary,
        "title": metadata.get("title") or summary["title"],
        "image_kind": metadata.get("image_kind"),
        "labels": metadata.get("labels") or [],
        "fields": field_names(metadata),
        "metrics": headline_metrics(metadata, variants=("without_metadata",)),
    }


@bp.get("/")
def index():
    """The home page: every screener of index.json, the featured one (DEFAULT_TASK) first.

    The first screener used to live here; an old link that named its task
    (``/?task=<id>``) goes to that task's own page.
    """
    if request.args.get("task"):
        return redirect(url_for("screen.screen", task_id=request.args["task"]))
    tasks = installed_tasks()
    featured = current_app.config.get("DEFAULT_TASK")
    if featured and featured not in {task["id"] for task in tasks}:
        current_app.logger.warning("DEFAULT_TASK %r is not in index.json", featured)
    ordered = sorted(tasks, key=lambda task: task["id"] != featured)
    return render_template(
        "home.html", screeners=[screener_summary(t) for t in ordered], tasks=tasks
    )


@bp.get("/screen", strict_slashes=False)
def screen_without_task():
    """``/screen`` names no screener: the home page lists them."""
    return redirect(url_for("screen.index"))


@bp.get("/screen/<task_id>")
def screen(task_id: str):
    return render_screener(task_id)


@bp.get("/history")
def history():
    """Results saved with "Save to history", read from this browser's IndexedDB by
    static/js/history-page.js: the server never sees them (docs/history.md)."""
    return render_template("history.html", tasks=list_tasks())


@bp.get("/static/tfjs_model/<path:filename>")
def model_file(filename: str):
    """A model file from MODELS_FOLDER, where static/js/classifier.js looks for it.

    More specific than Flask's /static/<path> rule, so the browser runs the very
    models whose metadata the pages describe, wherever the folder is.
    """
    return send_from_directory(
        models_dir(), filename, max_age=current_app.get_send_file_max_age(filename)
    )
