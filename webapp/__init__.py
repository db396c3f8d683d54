"""The site: serves the screener pages and the files the browser needs.

All classification happens in the visitor's browser (static/js/classifier.js);
this package only renders pages from the exported models' metadata.json and
the report files training wrote (charts drawn in the browser by plotly.js).

    from webapp import create_app
    app = create_app({"TESTING": True})   # or create_app() for the real settings

Importing the package loads no Flask: training and research read the one list of the report
files and their shapes (:mod:`webapp.report_files`, :mod:`webapp.report_shapes`, the standard
library only) from here.
"""

from __future__ import annotations


def create_app(config=None):
    """Build the app (:func:`webapp.app.create_app`). ``config``: a mapping or an object of
    overrides (applied last)."""
    from webapp.app import create_app as build

    return build(config)
