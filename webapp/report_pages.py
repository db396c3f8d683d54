"""The performance, data and model-card pages, and the plotly.js they draw with.

Each page describes one exported task (``/performance/<task>``; without a task,
the featured one, ``DEFAULT_TASK`` or the first of index.json) from its metadata.json and the report files training wrote
(``webapp.reports``). A missing or damaged report file makes the page say so
where the figures would be; it is never an error of the page.
"""
from __future__ import annotations

import importlib.metadata
import importlib.resources
import math
from pathlib import Path

from flask import (Blueprint, current_app, make_response, render_template, request,
                   send_from_directory)
from markupsafe import Markup

from webapp import charts
from webapp.catalog import default_task_id, field_names, list_tasks, load_task
from webapp.reports import PROJECT_ROOT, load_reports

bp = Blueprint("reports", __name__)

# The figures a page can show for a variant of the test evaluation.
VARIANTS = ("without_metadata", "with_metadata")
# ?details=given shows the evaluation with the details a person may enter.
DETAILS_GIVEN = "given"
# The numbers shown at the top of the performance page and on the model card.
HEADLINE_METRICS = (("accuracy", "Accuracy", "share of test images given the right kind"),
                    ("balanced_accuracy", "Balanced accuracy",
                     "the mean of the per-kind sensitivities"),
                    ("macro_auc", "Mean AUC", "ranking quality averaged over the kinds"),
                    ("macro_f1", "Mean F1", "balance of precision and sensitivity, averaged"))


@bp.get("/vendor/plotly.min.js")
def plotly_js():
    """plotly.js as shipped inside the ``plotly`` Python package: no CDN, one version."""
    folder = importlib.resources.files("plotly") / "package_data"
    return send_from_directory(str(folder), "plotly.min.js",
                               max_age=current_app.get_send_file_max_age("plotly.min.js"))


def _with_charts(page: str):
    """A page that draws charts: the site's policy with CHART_STYLE_SOURCES added to
    style-src (see webapp.config); every other page keeps the policy as it is."""
    response = make_response(page)
    policy = current_app.config.get("CONTENT_SECURITY_POLICY")
    extra = current_app.config.get("CHART_STYLE_SOURCES")
    if policy and extra and response.mimetype == "text/html":
        directives = [part.strip() for part in policy.split(";") if part.strip()]
        directives = [f"{part} {extra}" if part.split()[0] == "style-src" else part
                      for part in directives]
        response.headers["Content-Security-Policy"] = "; ".join(directives)
    return response


@bp.app_template_filter("duration")
def format_duration(seconds) -> str:
    """42 → "42 seconds", 1077.6 → "18 minutes", 9000 → "2.5 hours"."""
    if not _is_number(seconds):
        return "an unknown time"
    if seconds < 90:
        return f"{seconds:.0f} seconds"
    if seconds < 90 * 60:
        return f"{seconds / 60:.0f} minutes"
    return f"{seconds / 3600:.1f} hours"


@bp.app_context_processor
def _plotly_version():
    # Part of the script's URL, so a new plotly package is fetched, not an old cached copy.
    return {"plotly_version": importlib.metadata.version("plotly")}


def _task(task_id: str | None) -> dict:
    return load_task(task_id or default_task_id())


def _safely(chart_id: str, title: str, source: str, build, *args) -> list[charts.Chart]:
    """The chart(s) ``build`` makes, or one placeholder saying the file lacks what it needs."""
    try:
        made = build(*args)
    except (KeyError, TypeError, ValueError, IndexError, ZeroDivisionError) as error:
        current_app.logger.warning("cannot draw %s from %s: %r", chart_id, source, error)
        return [charts.Chart(chart_id, title, problem=(
            f"This chart could not be drawn: {source} does not hold what it needs."))]
    return made if isinstance(made, list) else [made]


def _missing(chart_id: str, title: str, problem: str) -> list[charts.Chart]:
    return [charts.Chart(chart_id, title, problem=problem)]


def headline(report: dict | None, variants=VARIANTS) -> list[dict]:
    """``[{"variant", "n", "metrics": [{"key", "name", "help", "value"}]}]`` for each
    evaluated variant in ``report``."""
    rows = []
    for variant in variants:
        result = (report or {}).get(variant)
        if not isinstance(result, dict):
            continue
        rows.append({"variant": variant, "n": result.get("n"), "metrics": [
            {"key": key, "name": name, "help": help_text, "value": result.get(key)
             if _is_number(result.get(key)) else None}
            for key, name, help_text in HEADLINE_METRICS]})
    return rows


def per_class_rows(result: dict, metadata: dict) -> list[dict]:
    """One row per label of metadata.json with its test figures (None where not measured)."""
    per_class = result.get("per_class") or {}
    colours = charts.Labels(metadata.get("labels", []))
    rows = []
    for label in metadata.get("labels", []):
        measured = per_class.get(label["id"]) or {}
        rows.append({"label": label, "colour": colours.colour(label["id"]), **{
            key: measured.get(key) if _is_number(measured.get(key)) else None
            for key in ("support", "sensitivity", "specificity", "precision", "auc")}})
    return rows


def reports_match_model(metadata: dict, report: dict | None) -> bool:
    """False when report.json visibly comes from another run than the installed model."""
    shipped = ((metadata.get("metrics") or {}).get("test") or {}).get("without_metadata")
    measured = (report or {}).get("without_metadata")
    if not isinstance(shipped, dict) or not isinstance(measured, dict):
        return True
    same_n = shipped.get("n") == measured.get("n")
    a, b = shipped.get("balanced_accuracy"), measured.get("balanced_accuracy")
    return same_n and (not _is_number(a) or not _is_number(b) or math.isclose(a, b, abs_tol=1e-9))


def _is_number(value) -> bool:
    return (isinstance(value, (int, float)) and not isinstance(value, bool)
            and math.isfinite(value))


@bp.get("/performance", defaults={"task_id": None})
@bp.get("/performance/<task_id>")
def performance(task_id: str | None):
    metadata = _task(task_id)
    task = metadata["task"]
    labels = charts.Labels(metadata["labels"])
    reports = load_reports(task, ("report", "history", "curves"))
    report, history, curves = reports.get("report"), reports.get("history"), reports.get("curves")
    fields = field_names(metadata)

    evaluated = [v for v in VARIANTS if isinstance((report or {}).get(v), dict)]
    wanted = "with_metadata" if request.args.get("details") == DETAILS_GIVEN else "without_metadata"
    variant = wanted if wanted in evaluated else (evaluated[0] if evaluated else "without_metadata")
    result = (report or {}).get(variant) if evaluated else None
    order = (report or {}).get("labels") or labels.ids

    figures = {}
    if history:
        figures["training"] = _safely("chart-training", "Training curves", "history.json",
                                      charts.training_curves, history, bool(fields))
        figures["schedule"] = _safely("chart-schedule", "Learning rate and momentum",
                                      "history.json", charts.schedule, history)
    else:
        figures["training"] = _missing("chart-training", "Training curves",
                                       reports.problem("history"))
        figures["schedule"] = []
    if result:
        figures["confusion"] = _safely("chart-confusion", "Confusion matrix", "report.json",
                                       charts.confusion_matrices, result, labels, order)
    else:
        figures["confusion"] = _missing("chart-confusion", "Confusion matrix",
                                        reports.problem("report"))
    variant_curves = (curves or {}).get(variant)
    if variant_curves:
        figures["roc"] = _safely("chart-roc", "ROC curve per kind", "curves.json",
                                 charts.roc, variant_curves, labels, labels.ids)
        figures["pr"] = _safely("chart-precision-recall", "Precision–recall curve per kind",
                                "curves.json", charts.precision_recall, variant_curves, labels,
                                labels.ids)
        figures["reliability"] = _safely("chart-reliability", "Reliability (calibration)",
                                         "curves.json", charts.reliability, variant_curves)
    else:
        problem = (reports.problem("curves") if not curves else
                   "The curves of this evaluation are not in curves.json, so they cannot be "
                   "shown here.")
        figures["roc"] = _missing("chart-roc", "ROC curve per kind", problem)
        figures["pr"] = _missing("chart-precision-recall", "Precision–recall curve per kind",
                                 problem)
        figures["reliability"] = _missing("chart-reliability", "Reliability (calibration)",
                                          problem)
    if len(evaluated) == 2:
        figures["effect"] = _safely("chart-metadata-effect", "Effect of the details",
                                    "report.json", charts.metadata_effect, report, labels, fields)
    else:
        figures["effect"] = []

    return _with_charts(render_template(
        "performance.html", task=metadata, tasks=list_tasks(), reports=reports,
        figures=figures, headline=headline(report), variant=variant, evaluated=evaluated,
        details_given=DETAILS_GIVEN, fields=fields,
        rows=per_class_rows(result, metadata) if result else [],
        matches=reports_match_model(metadata, report), report=report, history=history))


@bp.get("/data", defaults={"task_id": None})
@bp.get("/data/<task_id>")
def data(task_id: str | None):
    metadata = _task(task_id)
    task = metadata["task"]
    labels = charts.Labels(metadata["labels"])
    group = metadata.get("split_group") or "case"
    reports = load_reports(task, ("data", "report"))
    summary, report = reports.get("data"), reports.get("report")
    order = (summary or {}).get("labels") or labels.ids

    figures = []
    if summary:
        figures += _safely("chart-classes", "Images per kind", "data.json",
                           charts.class_distribution, summary, labels)
        figures += _safely("chart-groups", f"Images and {group}s per kind", "data.json",
                           charts.images_and_groups, summary, labels, group)
        if summary.get("age"):
            figures += _safely("chart-age", "Age by kind", "data.json", charts.age_by_class,
                               summary, labels)
        for key, category in (summary.get("categories") or {}).items():
            figures += _safely(f"chart-{key}", f"{category.get('title', key)} by kind",
                               "data.json", charts.category_by_class, key, category, summary,
                               labels)
    split = (summary or {}).get("split") or (report or {}).get("split")
    if split:
        figures += _safely("chart-split", "Training, validation and test images per kind",
                           "data.json", charts.split_sizes, split, labels, order, group)

    table = []
    if summary or split:
        for label in metadata["labels"]:
            label_id = label["id"]
            table.append({"label": label,
                          "images": ((summary or {}).get("images_per_label") or {}).get(label_id),
                          "groups": ((summary or {}).get("groups_per_label") or {}).get(label_id),
                          **{part: ((split or {}).get(part) or {}).get(label_id)
                             for part in ("train", "val", "test")}})
    return _with_charts(render_template(
        "data.html", task=metadata, tasks=list_tasks(), reports=reports, summary=summary,
        figures=figures, group=group, table=table, split=split))


def model_cards_dir() -> Path:
    folder = current_app.config.get("MODEL_CARDS_FOLDER")
    return Path(folder) if folder else PROJECT_ROOT / "docs" / "model_cards"


def model_card_text(task_id: str) -> Markup | None:
    """The task's hand-written card (``<MODEL_CARDS_FOLDER>/<task>.md``) as HTML, or None.

    The prose about a particular dataset (who it represents, its licence) lives
    there, not in the site's code; the files are part of the repository and trusted.
    """
    import markdown

    path = model_cards_dir() / f"{task_id}.md"
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    except OSError as error:
        current_app.logger.error("cannot read %s: %s", path, error)
        return None
    html = markdown.markdown(text, extensions=["sane_lists", "smarty"], output_format="html")
    return Markup(html)


@bp.get("/model-card", defaults={"task_id": None})
@bp.get("/model-card/<task_id>")
def model_card(task_id: str | None):
    metadata = _task(task_id)
    task = metadata["task"]
    reports = load_reports(task, ("report", "data"))
    report = reports.get("report")
    return render_template(
        "model_card.html", task=metadata, tasks=list_tasks(), reports=reports,
        headline=headline(report), report=report, summary=reports.get("data"),
        card=model_card_text(task), fields=field_names(metadata),
        group=metadata.get("split_group") or "case",
        matches=reports_match_model(metadata, report))
