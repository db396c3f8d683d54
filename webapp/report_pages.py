"""The performance, data and model-card pages.

Each page describes one exported task (``/performance/<task>``; without a task, the
featured one, ``DEFAULT_TASK`` or the first of index.json) from its metadata.json and
the report files of ``webapp.reports``. The pages render; they do not analyse: every
table and every number of their sentences comes ready to print from ``tables.json``
(made by ``training.reporting.site_tables`` when the reports are made), printed by one table
template (``templates/_table.html``). The charts are Plotly figures of the raw report
files (``webapp.performance_charts``, ``webapp.data_charts``), drawn in the browser by the
partial plotly.js bundle of ``static/vendor/plotly`` (``scripts/vendor_plotly.sh``) as they come into view. A
missing or damaged file makes the page say so where its figures would be; it is never an
error of the page. Each page is made once per address, language and version of the files
it reads, and kept (``webapp.page_cache``).
"""

from __future__ import annotations

import functools
import json
from pathlib import Path

from flask import (
    Blueprint,
    current_app,
    make_response,
    render_template,
    request,
    send_from_directory,
)
from flask_babel import gettext as _
from markupsafe import Markup

from webapp import charts, data_charts
from webapp.catalog import default_task_id, field_names, list_tasks, load_task, models_dir
from webapp.i18n import current_language, translate_text
from webapp.outline import outline_figures
from webapp.outside import comparison as outside_comparison
from webapp.page_cache import cached, depends_on
from webapp.performance_sections import CHART_FILES, Measured, chart_sections, safely
from webapp.reports import PROJECT_ROOT, load_reports, load_site_tables

bp = Blueprint("reports", __name__)

# The evaluations report.json may hold: the image alone, and with the details.
VARIANTS = ("without_metadata", "with_metadata")
# ?details=given shows the evaluation with the details a person may enter.
DETAILS_GIVEN = "given"
# The partial plotly.js bundle the charts are drawn with: its folder under static/, its file.
PLOTLY_DIR, PLOTLY_BUNDLE = "vendor/plotly", "plotly-cartesian.min.js"


@functools.cache
def _plotly_version() -> str:
    """The vendored plotly.js version (static/vendor/plotly/VERSIONS.json), part of the
    script's URL so that a new copy is fetched, not an old cached one."""
    path = Path(current_app.static_folder) / PLOTLY_DIR / "VERSIONS.json"
    try:
        # {"plotly.js-cartesian-dist-min": "4.1.1"} → "cartesian-4.1.1"
        return "-".join(
            f"{name.removeprefix('plotly.js-').removesuffix('-dist-min')}-{version}"
            for name, version in json.loads(path.read_text(encoding="utf-8")).items()
        )
    except (OSError, ValueError):
        return "unknown"


@bp.get("/vendor/plotly.min.js")
def plotly_js():
    """The partial plotly.js bundle of static/vendor/plotly (scripts/vendor_plotly.sh), at
    the address the chart pages name (charts.js loads it when a chart is due)."""
    return send_from_directory(
        Path(current_app.static_folder) / PLOTLY_DIR,
        PLOTLY_BUNDLE,
        max_age=current_app.get_send_file_max_age(PLOTLY_BUNDLE),
    )


@bp.app_context_processor
def _plotly():
    return {"plotly_version": _plotly_version()}


def _with_charts(page: str):
    """A page that draws charts: the site's policy with CHART_STYLE_SOURCES added to
    style-src (see webapp.config); every other page keeps the policy as it is."""
    response = make_response(page)
    policy = current_app.config.get("CONTENT_SECURITY_POLICY")
    extra = current_app.config.get("CHART_STYLE_SOURCES")
    if policy and extra and response.mimetype == "text/html":
        directives = [part.strip() for part in policy.split(";") if part.strip()]
        directives = [
            f"{part} {extra}" if part.split()[0] == "style-src" else part for part in directives
        ]
        response.headers["Content-Security-Policy"] = "; ".join(directives)
    return response


def _task(task_id: str | None) -> dict:
    """The task's metadata.json; the page depends on it and on index.json (webapp.page_cache)."""
    depends_on(models_dir() / "index.json")
    task_id = task_id or default_task_id()
    depends_on(models_dir() / task_id / "metadata.json")
    return load_task(task_id)


def _with_swatches(table: dict | None, labels: charts.Labels) -> dict | None:
    """A per-kind table with each row's colour, the colour of the kind in the charts."""
    if table is None:
        return None
    rows = [{**row, "swatch": labels.colour(row["data"].get("label-id"))} for row in table["rows"]]
    return {**table, "rows": rows}


@bp.get("/performance", defaults={"task_id": None})
@bp.get("/performance/<task_id>")
@cached
def performance(task_id: str | None):
    metadata = _task(task_id)
    task = metadata["task"]
    labels = charts.Labels(metadata["labels"])
    reports = load_reports(task, ("report", *CHART_FILES, "outside", "outline"))
    tables = load_site_tables(metadata)
    report = reports.get("report")
    fields = field_names(metadata)
    evaluated = [v for v in VARIANTS if isinstance((report or {}).get(v), dict)]
    wanted = "with_metadata" if request.args.get("details") == DETAILS_GIVEN else "without_metadata"
    variant = wanted if wanted in evaluated else (evaluated[0] if evaluated else "without_metadata")
    figures = chart_sections(Measured(reports, tables, labels, fields, variant, evaluated))

    return _with_charts(
        render_template(
            "performance.html",
            task=metadata,
            tasks=list_tasks(),
            reports=reports,
            tables=tables,
            figures=figures,
            variant=variant,
            evaluated=evaluated,
            details_given=DETAILS_GIVEN,
            fields=fields,
            per_class=_with_swatches(tables.table(f"per-class-{variant}"), labels),
            matches=tables.matches(metadata),
            report=report,
            outside=outside_comparison(reports.get("outside"), report, metadata),
            outline=outline_figures(reports.get("outline"), metadata),
        )
    )


@bp.get("/data", defaults={"task_id": None})
@bp.get("/data/<task_id>")
@cached
def data(task_id: str | None):
    metadata = _task(task_id)
    task = metadata["task"]
    labels = charts.Labels(metadata["labels"])
    group = metadata.get("split_group") or "case"
    reports = load_reports(task, ("data", "report"))
    tables = load_site_tables(metadata, reports.get("data"))
    summary, report = reports.get("data"), reports.get("report")
    order = (summary or {}).get("labels") or labels.ids

    figures = []
    if summary:
        figures += safely(
            "chart-classes",
            _("Images per kind"),
            "data.json",
            data_charts.class_distribution,
            summary,
            labels,
        )
        figures += safely(
            "chart-groups",
            _("Images and %(groups)s per kind", groups=translate_text(f"{group}s")),
            "data.json",
            data_charts.images_and_groups,
            summary,
            labels,
            group,
        )
        if summary.get("age"):
            figures += safely(
                "chart-age",
                _("Age by kind"),
                "data.json",
                data_charts.age_by_class,
                summary,
                labels,
            )
        for key, category in (summary.get("categories") or {}).items():
            figures += safely(
                f"chart-{key}",
                _("%(category)s by kind", category=translate_text(category.get("title", key))),
                "data.json",
                data_charts.category_by_class,
                key,
                category,
                summary,
                labels,
            )
    split = (summary or {}).get("split") or (report or {}).get("split")
    if split:
        figures += safely(
            "chart-split",
            _("Training, validation and test images per kind"),
            "data.json",
            data_charts.split_sizes,
            split,
            labels,
            order,
            group,
        )
    return _with_charts(
        render_template(
            "data.html",
            task=metadata,
            tasks=list_tasks(),
            reports=reports,
            summary=summary,
            tables=tables,
            facts=tables.facts("data"),
            figures=figures,
            group=group,
            split=split,
        )
    )


def model_cards_dir() -> Path:
    folder = current_app.config.get("MODEL_CARDS_FOLDER")
    return Path(folder) if folder else PROJECT_ROOT / "docs" / "model_cards"


def model_card_text(task_id: str, lang: str | None = None) -> Markup | None:
    """The task's hand-written card (``<MODEL_CARDS_FOLDER>/<task>.md``) as HTML, or None.

    The prose about a particular dataset (who it represents, its licence) lives
    there, not in the site's code; the files are part of the repository and trusted.
    ``lang``: the card written in that language (``<MODEL_CARDS_FOLDER>/<lang>/<task>.md``).
    """
    import markdown

    path = model_cards_dir() / (f"{lang}/{task_id}.md" if lang else f"{task_id}.md")
    depends_on(path)
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
@cached
def model_card(task_id: str | None):
    metadata = _task(task_id)
    task = metadata["task"]
    reports = load_reports(task, ("report", "data", "outside"))
    tables = load_site_tables(metadata, reports.get("data"))
    weights = (metadata.get("weights") or {}).get("bytes")
    parity = (metadata.get("parity") or {}).get("max_abs_diff")
    # The card in the page's language, else the English one, marked as such.
    lang = current_language()
    card = model_card_text(task, lang) if lang != "en" else None
    card_in_english = card is None and lang != "en"
    card = card or model_card_text(task)
    return render_template(
        "model_card.html",
        task=metadata,
        tasks=list_tasks(),
        reports=reports,
        tables=tables,
        report=reports.get("report"),
        summary=reports.get("data"),
        outside=outside_comparison(reports.get("outside"), reports.get("report"), metadata),
        card=card,
        card_in_english=card_in_english,
        fields=field_names(metadata),
        group=metadata.get("split_group") or "case",
        matches=tables.matches(metadata),
        # Facts of the model itself (metadata.json), only put in words here.
        weights_mb=f"{weights / 1e6:.1f}" if isinstance(weights, (int, float)) else None,
        parity_gap=f"{parity:.1e}" if isinstance(parity, (int, float)) else None,
    )
