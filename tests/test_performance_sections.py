"""webapp.performance_sections: the performance page's charts as a table of sections, walked
by one loop (the page itself: test_report_pages.py, and byte for byte test_page_snapshots.py)."""

from __future__ import annotations

import pytest

from webapp import charts, performance_charts
from webapp.performance_sections import (
    CHART_FILES,
    SECTIONS,
    Measured,
    Section,
    chart_sections,
)
from webapp.report_files import REPORT_FILES
from webapp.reports import Reports, SiteTables


def test_every_section_is_drawn_from_a_report_file_and_has_its_own_chart():
    assert {section.source for section in SECTIONS} <= set(REPORT_FILES)
    assert all(callable(getattr(performance_charts, section.draw)) for section in SECTIONS)
    assert set(CHART_FILES) == {section.source for section in SECTIONS}
    ids = [section.chart_id for section in SECTIONS]
    assert len(ids) == len(set(ids))


def measured(files: dict, problems=None, variant="without_metadata") -> Measured:
    reports = Reports("task", files=files, problems=problems or {})
    labels = charts.Labels([{"id": "a", "name": "A"}, {"id": "b", "name": "B"}])
    evaluated = [v for v in ("without_metadata",) if v in files.get("report", {})]
    return Measured(reports, SiteTables(None), labels, [], variant, evaluated)


def drawn(chart_id):
    def draw(*args):
        return charts.Chart(chart_id, "drawn", problem=f"made from {len(args)} arguments")

    return draw


def broken(*args):
    raise KeyError("roc")


TABLE = (
    Section("first", "chart-a", "A", "curves", "fake_a", lambda m: (1, 2), says_why=True),
    Section("first", "chart-b", "B", "calibration", "fake_b", lambda m: None),
    Section("second", "chart-c", "C", "history", "fake_c", lambda m: None, says_why=True),
    Section("third", "chart-d", "D", "report", "fake_d", lambda m: None),
    Section("fourth", "chart-e", "E", "curves", "fake_broken", lambda m: ()),
    Section("third", "chart-f", "F", "report", "fake_f", lambda m: ("x",)),
)


@pytest.fixture
def request_context(app, monkeypatch):
    """A request, and the made-up rows' functions in webapp.performance_charts."""
    for x in "abcdf":
        monkeypatch.setattr(performance_charts, f"fake_{x}", drawn(f"chart-{x}"), raising=False)
    monkeypatch.setattr(performance_charts, "fake_broken", broken, raising=False)
    with app.test_request_context("/performance"):
        yield


def test_the_loop_draws_says_why_or_leaves_out(request_context):
    figures = chart_sections(measured({}, {"history": "damaged"}), TABLE)
    assert list(figures) == ["first", "second", "third", "fourth"]
    # Drawn with the arguments its row asks for; a later row that cannot be drawn keeps it.
    [first] = figures["first"]
    assert (first.id, first.problem) == ("chart-a", "made from 2 arguments")
    # Not drawn, and its row says why: the reason the report file gives.
    [second] = figures["second"]
    assert second.id == "chart-c" and "(history.json) is damaged" in second.problem
    # Not drawn and silent, until a later row of the same key is drawn.
    assert [chart.id for chart in figures["third"]] == ["chart-f"]
    # A file lacking what its chart needs: a placeholder naming the file, not an error.
    [fourth] = figures["fourth"]
    assert fourth.id == "chart-e"
    assert (
        fourth.problem == "This chart could not be drawn: curves.json does not hold what it needs."
    )


def test_curves_without_the_evaluation_shown_say_so(request_context):
    curves = {"with_metadata": {}}
    figures = chart_sections(measured({"curves": curves}))
    for key in ("roc", "pr", "reliability"):
        [chart] = figures[key]
        assert "not in curves.json" in chart.problem
    assert figures["effect"] == [] and figures["sources"] == [] and figures["schedule"] == []
    [training] = figures["training"]
    assert "(history.json) is missing" in training.problem
