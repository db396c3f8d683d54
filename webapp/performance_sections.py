"""The performance page's charts as a table of its sections, as ``training.release.FIGURES``
lists a release's figures: each :class:`Section` names its chart, the report file it is drawn
from, the function of :mod:`webapp.performance_charts` that draws it and what that function
needs, and :func:`chart_sections` walks the table. The view (``webapp.report_pages``) reads
the files once into a :class:`Measured` and hands it here; adding a chart is a row below.

A chart whose file lacks what it needs becomes a placeholder saying so (:func:`safely`); one
whose file is missing says why where the table asks for it (``says_why``), else is left out.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from flask import current_app
from flask_babel import gettext as _

from webapp import charts, performance_charts
from webapp.i18n import N_
from webapp.report_files import REPORT_FILES
from webapp.reports import Reports, SiteTables

# What building a chart from a report file that lacks a field, or holds the wrong type, raises.
MALFORMED = (KeyError, TypeError, ValueError, IndexError, ZeroDivisionError, AttributeError)


def safely(chart_id: str, title: str, source: str, build, *args) -> list[charts.Chart]:
    """The chart(s) ``build`` makes, or one placeholder saying the file lacks what it needs."""
    try:
        made = build(*args)
    except MALFORMED as error:
        current_app.logger.warning("cannot show %s from %s: %r", chart_id, source, error)
        return [
            charts.Chart(
                chart_id,
                title,
                problem=_(
                    "This chart could not be drawn: %(source)s does not hold what it needs.",
                    source=source,
                ),
            )
        ]
    return made if isinstance(made, list) else [made]


def missing(chart_id: str, title: str, problem: str) -> list[charts.Chart]:
    return [charts.Chart(chart_id, title, problem=problem)]


@dataclass
class Measured:
    """What the performance page's charts are drawn from: the task's report files, its
    tables, and the evaluation the page shows (``variant``: the image alone or with details)."""

    reports: Reports
    tables: SiteTables
    labels: charts.Labels
    fields: list
    variant: str
    evaluated: list[str]

    @property
    def report(self) -> dict | None:
        return self.reports.get("report")

    @property
    def history(self) -> dict | None:
        return self.reports.get("history")

    @property
    def result(self) -> dict | None:
        """report.json's figures of the evaluation shown."""
        return (self.report or {}).get(self.variant) if self.evaluated else None

    @property
    def order(self) -> list[str]:
        return (self.report or {}).get("labels") or self.labels.ids

    @property
    def curves(self) -> dict | None:
        """curves.json's curves of the evaluation shown."""
        return (self.reports.get("curves") or {}).get(self.variant)

    def why(self, source: str) -> str:
        """Why the charts of report file ``source`` cannot be drawn: a sentence for the page."""
        if source == "curves" and self.reports.get("curves"):
            return _(
                "The curves of this evaluation are not in curves.json, so they cannot be shown here."
            )
        return self.reports.problem(source)


@dataclass(frozen=True)
class Section:
    """One chart of the page: ``figures[key]`` in the templates."""

    key: str
    chart_id: str
    title: str  # marked with N_, translated when drawn
    source: str  # the report file it is drawn from (a name of REPORT_FILES)
    draw: str  # the function of webapp.performance_charts that draws it (looked up when drawn)
    # The arguments of ``draw`` from what was measured, or None where it cannot be drawn.
    needs: Callable[[Measured], tuple | None]
    # Where it cannot be drawn: True, a placeholder saying why; False, nothing (a later
    # section of the same key keeps what an earlier one drew).
    says_why: bool = False


def _if(condition, *args) -> tuple | None:
    return args if condition else None


def _held_out_sources(m: Measured) -> tuple | None:
    sources, loso = m.tables.facts("sources"), m.reports.get("leave_one_source_out")
    if not (sources and loso):
        return None
    names = sources.get("names") or {}
    return loso, lambda source: names.get(source, source)


# The performance page's charts, in the order they are drawn. Where two sections share a key,
# the later one replaces the earlier where it can be drawn: one reliability diagram,
# calibration.json's before/after one where the model was calibrated (curves.json's, of the
# calibrated model only, would repeat its "after" with other bins and another ECE).
SECTIONS = (
    Section(
        "training",
        "chart-training",
        N_("Training curves"),
        "history",
        "training_curves",
        lambda m: _if(m.history, m.history, bool(m.fields)),
        says_why=True,
    ),
    Section(
        "schedule",
        "chart-schedule",
        N_("Learning rate and momentum"),
        "history",
        "schedule",
        lambda m: _if(m.history, m.history),
    ),
    Section(
        "confusion",
        "chart-confusion",
        N_("Confusion matrix"),
        "report",
        "confusion_matrices",
        lambda m: _if(m.result, m.result, m.labels, m.order),
        says_why=True,
    ),
    Section(
        "roc",
        "chart-roc",
        N_("ROC curve per kind"),
        "curves",
        "roc",
        lambda m: _if(m.curves, m.curves, m.labels, m.labels.ids),
        says_why=True,
    ),
    Section(
        "pr",
        "chart-precision-recall",
        N_("Precision–recall curve per kind"),
        "curves",
        "precision_recall",
        lambda m: _if(m.curves, m.curves, m.labels, m.labels.ids),
        says_why=True,
    ),
    Section(
        "reliability",
        "chart-reliability",
        N_("Reliability (calibration)"),
        "curves",
        "reliability",
        lambda m: _if(m.curves, m.curves),
        says_why=True,
    ),
    Section(
        "reliability",
        "chart-calibration",
        N_("Reliability before and after calibration"),
        "calibration",
        "calibration",
        lambda m: _if(
            m.tables.facts("calibration") and m.reports.get("calibration"),
            m.reports.get("calibration"),
        ),
    ),
    Section(
        "effect",
        "chart-metadata-effect",
        N_("Effect of the details"),
        "report",
        "metadata_effect",
        lambda m: _if(len(m.evaluated) == 2, m.report, m.labels, m.fields),
    ),
    Section(
        "sources",
        "chart-held-out-sources",
        N_("Trained with and without each collection"),
        "leave_one_source_out",
        "held_out_sources",
        _held_out_sources,
    ),
)

# The report files the charts are drawn from.
CHART_FILES = tuple(dict.fromkeys(section.source for section in SECTIONS))


def chart_sections(measured: Measured, sections=SECTIONS) -> dict[str, list[charts.Chart]]:
    """Each section's charts by its key: drawn, a placeholder saying why not, or none."""
    figures: dict[str, list[charts.Chart]] = {}
    for section in sections:
        args = section.needs(measured)
        if args is not None:
            figures[section.key] = safely(
                section.chart_id,
                _(section.title),
                REPORT_FILES[section.source],
                getattr(performance_charts, section.draw),
                *args,
            )
        elif section.says_why:
            figures[section.key] = missing(
                section.chart_id, _(section.title), measured.why(section.source)
            )
        else:
            figures.setdefault(section.key, [])
    return figures
