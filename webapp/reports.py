"""What training and evaluation measured, read from ``<REPORTS_FOLDER>/<task>/``.

The files are written by the training package (``report.json``,
``history.json``, ``curves.json``, ``data.json``, and for a calibrated model with a
risk summary, a wrong-kind check and an "unsure" warning ``calibration.json``,
``risk.json``, ``doubt.json`` and ``unsure.json``; see the README), and where they
were measured, the experiments' ``views.json`` (other framings of the test images,
``research/evaluate_views.py``) and ``leave_one_source_out.json`` (models trained
without one collection of the data, ``research/leave_one_source_out.py``). The site only
reads them: a missing or damaged file is not an error of the page, it is
something the page says, so every reader here returns ``None`` for it and
records why in :attr:`Reports.problems`. Each file read is named to
:func:`webapp.page_cache.depends_on`: a page made from it is kept until it changes, so
new reports show up on the next request, without a restart.
``test_predictions.json`` (large) is never read by the site.

The site prints figures, it does not work them out: every table and every number in
the pages' sentences comes ready to print from ``tables.json``, which
``training.site_tables`` makes from the files above when the reports are made
(:func:`load_site_tables`). The raw files are read only for the charts.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from flask import current_app

from webapp.page_cache import depends_on

PROJECT_ROOT = Path(__file__).resolve().parent.parent

# name → (file, what it holds, in words a visitor can read)
REPORT_FILES = {
    "report": ("report.json", "test-set evaluation"),
    "history": ("history.json", "training history"),
    "curves": ("curves.json", "ROC, precision–recall and calibration curves"),
    "data": ("data.json", "dataset summary"),
    "calibration": ("calibration.json", "calibration measurement"),
    "leave_one_source_out": ("leave_one_source_out.json", "leave-one-collection-out measurement"),
    "tables": ("tables.json", "set of finished tables"),
    "outside": ("outside.json", "check on images from other clinics"),
    "outline": ("outline.json", "measurement of the lesion outline"),
}


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
        file_name, what = REPORT_FILES[name]
        reason = self.problems.get(name, "missing")
        return f"The {what} of this model ({file_name}) is {reason}, so it cannot be shown here."


def load_reports(task_id: str, names=tuple(REPORT_FILES)) -> Reports:
    """Read the named report files of ``task_id``; missing or damaged ones are left out."""
    reports = Reports(task_id)
    folder = reports_dir() / task_id
    for name in names:
        path = folder / REPORT_FILES[name][0]
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
        reports.files[name] = content
    return reports


@dataclass
class SiteTables:
    """``tables.json`` of one task (see ``training.site_tables``): finished tables and the
    facts the pages' sentences print, per section; ``problem`` says why there are none."""

    content: dict | None
    problem: str | None = None
    model_version: str | None = None

    def table(self, table_id: str) -> dict | None:
        for table in (self.content or {}).get("tables") or []:
            if table.get("id") == table_id:
                return table
        return None

    def facts(self, section: str) -> dict | None:
        """The section's facts; None when it was not measured or cannot be shown."""
        return ((self.content or {}).get("facts") or {}).get(section)

    def problem_of(self, section: str) -> str | None:
        """Why a measured section cannot be shown (a damaged file, or one lacking what it
        needs), or None."""
        return ((self.content or {}).get("problems") or {}).get(section)

    def shows(self, section: str) -> bool:
        """True when the page has something to say about ``section``: its facts or its problem."""
        return self.facts(section) is not None or self.problem_of(section) is not None

    def matches(self, metadata: dict) -> bool:
        """False when the tables were made for another model than the installed one."""
        if self.content is None:
            return True
        made_for = self.content.get("model_version")
        return bool(self.content.get("matches_model", True)) and (
            made_for is None or made_for == metadata.get("version")
        )


def load_site_tables(task_id: str) -> SiteTables:
    """``tables.json`` of ``task_id``; a missing or damaged file gives empty tables and a
    sentence saying so."""
    reports = load_reports(task_id, ("tables",))
    content = reports.get("tables")
    if content is not None and not isinstance(content.get("tables"), list):
        current_app.logger.error("tables.json of %s holds no tables", task_id)
        content, reports.problems["tables"] = None, "damaged"
    if content is None:
        return SiteTables(
            None,
            reports.problem("tables")
            + (f" It is made from the report files by “python -m training.site_tables {task_id}”."),
        )
    return SiteTables(content, model_version=content.get("model_version"))
