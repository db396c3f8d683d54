"""The report files of a task (``reports/<task>/``): the one list of their names.

Training writes them (``training.release``, ``training.reporting.site_tables`` for ``tables.json``),
experiments add some (``framings.json``, ``leave_one_source_out.json``, ``cv_final.json``,
``backbones.json``), the site reads them (:mod:`webapp.reports`). Both sides import this
list; the standard library only, so training imports it without Flask (see :mod:`webapp`).
What each file holds, in a visitor's words, is the site's: :data:`webapp.reports.WHAT`.
The shapes of the files the experiments write: :mod:`webapp.report_shapes`.
"""

from __future__ import annotations

# name → file in reports/<task>/
REPORT_FILES = {
    "report": "report.json",
    "history": "history.json",
    "curves": "curves.json",
    "data": "data.json",
    "calibration": "calibration.json",
    "risk": "risk.json",
    "risk_previous": "risk_previous.json",
    "wrong_kind": "wrong_kind.json",
    "unsure": "unsure.json",
    "framings": "framings.json",
    "leave_one_source_out": "leave_one_source_out.json",
    "cross_validation": "cv_final.json",
    "backbones": "backbones.json",
    "outside": "outside.json",
    "outline": "outline.json",
    "tables": "tables.json",
}
# Beside them, the shipped model's split and recipe (not read by the pages).
OTHER_FILES = ("split.csv", "config.json")
