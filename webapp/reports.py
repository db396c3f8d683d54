"""What training and evaluation measured, read from ``<REPORTS_FOLDER>/<task>/``.

The files are written by the training package (``report.json``,
``history.json``, ``curves.json``, ``data.json``, and for a calibrated model with a
risk summary, a wrong-kind check and an "unsure" warning ``calibration.json``,
``risk.json``, ``wrong_kind.json`` and ``unsure.json``; see the README), and where they
were measured, the experiments' ``framings.json`` (other framings of the test images,
``research/evaluate_framings.py``) and ``leave_one_source_out.json`` (models trained
without one collection of the data, ``research/leave_one_source_out.py``). The site only
reads them: a missing or damaged file is not an error of the page, it is
something the page says, so every reader here returns ``None`` for it and
records why in :attr:`Reports.problems`. Each file read is named to
:func:`webapp.page_cache.depends_on`: a page made from it is kept until it changes, so
new reports show up on the next request, without a restart.
``test_predictions.json`` (large) is never read by the site.

The site prints figures, it does not work them out: every table and every number in
the pages' sentences comes ready to print from ``tables.json``, which
``training.reporting.site_tables`` makes from the files above when the reports are made
(:func:`load_site_tables`). The raw files are read only for the charts.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from flask import current_app

from webapp.i18n import N_
from webapp.i18n import gettext as _
from webapp.page_cache import depends_on
from webapp.report_files import REPORT_FILES
from webapp.report_shapes import ShapeError
from webapp.report_shapes import check as check_shape
from webapp.report_words import Words

PROJECT_ROOT = Path(__file__).resolve().parent.parent

# What each report file holds, in a visitor's words ("The %(what)s of this model …").
WHAT = {
    "report": N_("test-set evaluation"),
    "history": N_("training history"),
    "curves": N_("ROC, precision–recall and calibration curves"),
    "data": N_("dataset summary"),
    "calibration": N_("calibration measurement"),
    "risk": N_("measurement of the risk summary"),
    "risk_previous": N_("risk summary of the version before"),
    "wrong_kind": N_("measurement of the wrong-kind-of-image check"),
    "unsure": N_("measurement of the “model is unsure” warning"),
    "framings": N_("measurement on other framings of the images"),
    "leave_one_source_out": N_("leave-one-collection-out measurement"),
    "cross_validation": N_("cross-validation of the installed recipe"),
    "backbones": N_("comparison of backbones"),
    "outside": N_("check on images from other clinics"),
    "outline": N_("measurement of the lesion outline"),
    "tables": N_("set of finished tables"),
}
REASONS = {"missing": N_("missing"), "damaged": N_("damaged")}


def problem(name: str, reason: str) -> str:
    """Why the part made from report file ``name`` is not shown: a sentence for the page.
    ``reason``: "missing", "damaged" or "malformed" (the file lacks what the part needs)."""
    if reason == "malformed":
        return _(
            "This part could not be shown: %(file)s does not hold what it needs.",
            file=REPORT_FILES[name],
        )
    return _(
        "The %(what)s of this model (%(file)s) is %(reason)s, so it cannot be shown here.",
        what=_(WHAT[name]),
        file=REPORT_FILES[name],
        reason=_(REASONS[reason]),
    )


def reports_dir() -> Path:
    """The folder holding one sub-folder of report files per task (``REPORTS_FOLDER``)."""
    folder = current_app.config.get("REPORTS_FOLDER")
    return Path(folder) if folder else PROJECT_ROOT / "reports"


@dataclass
class Reports:
    """The report files of one task that could be read, and why the others could not."""

    task_id: str
    files: dict[str, dict] = field(default_factory=dict)
    problems: dict[str, str] = field(default_factory=dict)

    def get(self, name: str) -> dict | None:
        return self.files.get(name)

    def problem(self, name: str) -> str:
        """Why ``name`` is not shown: a sentence for the page."""
        return problem(name, self.problems.get(name, "missing"))


def load_reports(task_id: str, names=tuple(REPORT_FILES)) -> Reports:
    """Read the named report files of ``task_id``; missing or damaged ones are left out, and
    so are those of the wrong shape (``webapp.report_shapes``: "malformed")."""
    reports = Reports(task_id)
    folder = reports_dir() / task_id
    for name in names:
        path = folder / REPORT_FILES[name]
        depends_on(path)
        try:
            content = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            reports.problems[name] = "missing"
            continue
        except (OSError, ValueError) as error:
            current_app.logger.error("cannot read %s: %s", path, error)
            reports.problems[name] = "damaged"
            continue
        if not isinstance(content, dict):
            current_app.logger.error("%s does not hold a JSON object", path)
            reports.problems[name] = "damaged"
            continue
        try:
            check_shape(name, content)
        except ShapeError as error:
            current_app.logger.error("%s: %s", path, error)
            reports.problems[name] = "malformed"
            continue
        reports.files[name] = content
    return reports


@dataclass
class SiteTables:
    """``tables.json`` of one task (see ``training.reporting.site_tables``): tables and the facts the
    pages' sentences print, per section, worded in the page's language by
    :class:`webapp.report_words.Words`; ``problem`` says why there are none."""

    content: dict | None
    problem: str | None = None
    model_version: str | None = None
    words: Words | None = None

    def table(self, table_id: str) -> dict | None:
        for table in (self.content or {}).get("tables") or []:
            if table.get("id") == table_id:
                return self.words.table(table)
        return None

    def facts(self, section: str) -> dict | None:
        """The section's facts; None when it was not measured or cannot be shown."""
        facts = ((self.content or {}).get("facts") or {}).get(section)
        return self.words.facts(section, facts) if facts is not None else None

    def problem_of(self, section: str) -> str | None:
        """Why a measured section cannot be shown (a damaged file, or one lacking what it
        needs), or None."""
        found = ((self.content or {}).get("problems") or {}).get(section)
        return problem(found["file"], found["reason"]) if found else None

    def shows(self, section: str) -> bool:
        """True when the page has something to say about ``section``: its facts or its problem."""
        content = self.content or {}
        return section in (content.get("facts") or {}) or section in (content.get("problems") or {})

    def matches(self, metadata: dict) -> bool:
        """False when the tables were made for another model than the installed one."""
        if self.content is None:
            return True
        made_for = self.content.get("model_version")
        return bool(self.content.get("matches_model", True)) and (
            made_for is None or made_for == metadata.get("version")
        )


def load_site_tables(metadata: dict, data: dict | None = None) -> SiteTables:
    """``tables.json`` of the task of ``metadata`` (its metadata.json, which names its kinds
    and collections; ``data``: its data.json, which names the categories it records); a
    missing or damaged file gives empty tables and a sentence saying so."""
    task_id = metadata["task"]
    words = Words(metadata, data)
    reports = load_reports(task_id, ("tables",))
    content = reports.get("tables")
    if content is not None and not isinstance(content.get("tables"), list):
        current_app.logger.error("tables.json of %s holds no tables", task_id)
        content, reports.problems["tables"] = None, "damaged"
    if content is None:
        command = f"python -m training.reporting.site_tables {task_id}"
        return SiteTables(
            None,
            _(
                "%(problem)s It is made from the report files by “%(command)s”.",
                problem=reports.problem("tables"),
                command=command,
            ),
            words=words,
        )
    return SiteTables(content, model_version=content.get("model_version"), words=words)
