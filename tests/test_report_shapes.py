"""webapp.report_shapes: the shapes of the report files the experiments write and the product
reads, defined once; every shipped file has its shape, and a file of the wrong shape is
refused, by the writer before it is written and by the readers with the file and key named."""

from __future__ import annotations

import json
import logging
import shutil

import pytest
from test_imports import imports_of

from conftest import MODELS_DIR, REPORTS_DIR, ROOT
from training.reporting.site_tables import TABLES_FILE
from training.reporting.site_tables import site_tables as make_tables
from webapp.report_files import REPORT_FILES
from webapp.report_shapes import SHAPES, ShapeError, check, write

SHIPPED = sorted(
    (folder.name, name)
    for folder in REPORTS_DIR.iterdir()
    for name in SHAPES
    if (folder / REPORT_FILES[name]).is_file()
)


def shipped(task: str, name: str) -> dict:
    return json.loads((REPORTS_DIR / task / REPORT_FILES[name]).read_text(encoding="utf-8"))


def some(name: str) -> tuple[str, dict]:
    """(task, content) of a shipped file ``name``."""
    task = next(task for task, found in SHIPPED if found == name)
    return task, shipped(task, name)


def test_every_shape_is_of_a_shipped_file():
    """The shapes are those of real files: each describes one the site ships."""
    assert {name for _, name in SHIPPED} == set(SHAPES)
    assert set(SHAPES) <= set(REPORT_FILES)


@pytest.mark.parametrize("task,name", SHIPPED)
def test_every_shipped_file_has_its_shape(task, name):
    check(name, shipped(task, name))


def _first(mapping: dict) -> str:
    return next(iter(mapping))


# (file, how to break a shipped copy, the message check gives)
BROKEN = [
    (
        "framings",
        lambda v: v["framings"].pop("as_given"),
        "framings.json: framings.as_given: missing",
    ),
    (
        "framings",
        lambda v: v["framings"]["as_given"]["test"].update(balanced_accuracy="high"),
        'framings.json: framings.as_given.test.balanced_accuracy: "high" is not a number',
    ),
    ("framings", lambda v: v.update(framings=[]), "framings.json: framings: [] is not an object"),
    (
        "leave_one_source_out",
        lambda m: m["sources"][_first(m["sources"])].update(n_images=-3),
        "leave_one_source_out.json: sources.{source}.n_images: -3 is not a whole number ≥ 0",
    ),
    (
        "leave_one_source_out",
        lambda m: m["sources"][_first(m["sources"])]["test_split"]["held_out"].update(labels=[]),
        "leave_one_source_out.json: sources.{source}.test_split.held_out.labels: holds 0 "
        "items, needs at least 1",
    ),
    (
        "leave_one_source_out",
        lambda m: m.update(sources={}),
        "leave_one_source_out.json: sources: holds 0 entries, needs at least 1",
    ),
    (
        "cross_validation",
        lambda c: c["folds"].update(first=c["folds"][_first(c["folds"])]),
        "cv_final.json: folds.first: the key is not a fold's number",
    ),
    (
        "cross_validation",
        lambda c: c["folds"][_first(c["folds"])].pop("without_metadata"),
        "cv_final.json: folds.0.without_metadata: missing",
    ),
    (
        "cross_validation",
        lambda c: c["mean"]["without_metadata"].update(balanced_accuracy=float("nan")),
        "cv_final.json: mean.without_metadata.balanced_accuracy: nan is not a number",
    ),
    (
        "backbones",
        lambda b: b["rows"][-1].pop("float16_mb"),
        "backbones.json: rows[{last}].float16_mb: missing",
    ),
    (
        "backbones",
        lambda b: b["rows"][0].update(epochs=True),
        "backbones.json: rows[0].epochs: true is not a whole number ≥ 0",
    ),
    (
        "risk_previous",
        lambda r: r.update(threshold="0.5"),
        'risk_previous.json: threshold: "0.5" is not a number',
    ),
    (
        "risk_previous",
        lambda r: r["shifts"]["test"][_first(r["shifts"]["test"])].update(specificity=None),
        "risk_previous.json: shifts.test.{shift}.specificity: null is not a number",
    ),
]


def broken(name: str, edit) -> tuple[str, dict, dict]:
    """(task, the broken content, the names its message may use)."""
    task, content = some(name)
    names = {
        "source": _first(content.get("sources") or {"": 0}),
        "last": len(content.get("rows") or [0]) - 1,
        "shift": _first(((content.get("shifts") or {}).get("test")) or {"": 0}),
    }
    edit(content)
    return task, content, names


@pytest.mark.parametrize("name,edit,message", BROKEN)
def test_a_file_of_the_wrong_shape_is_refused_naming_file_and_key(name, edit, message):
    _, content, names = broken(name, edit)
    with pytest.raises(ShapeError) as refused:
        check(name, content)
    assert str(refused.value).startswith(message.format(**names)), str(refused.value)


def test_a_file_may_carry_more_than_its_readers_need():
    _, content = some("framings")
    content["framings"]["as_given"]["test"]["per_class"] = {"any": 1}
    content["new_figure"] = [1, 2]
    check("framings", content)


def test_a_file_without_a_shape_passes():
    check("report", {"anything": "at all"})


def test_write_checks_what_a_reader_reads_back(tmp_path):
    """The writer refuses a wrong shape before writing anything; a right one is written as
    the readers read it (JSON's keys are strings: a fold numbered 0 in Python reads "0")."""
    _, content = some("cross_validation")
    content["folds"] = {int(fold): figures for fold, figures in content["folds"].items()}
    path = write("cross_validation", content, tmp_path / "sub" / "cv.json")
    read = json.loads(path.read_text(encoding="utf-8"))
    assert list(read["folds"]) == [str(fold) for fold in content["folds"]]
    check("cross_validation", read)

    del content["mean"]
    target = tmp_path / "cv_broken.json"
    with pytest.raises(ShapeError, match=r"^cv_final.json: mean: missing$"):
        write("cross_validation", content, target)
    assert not target.exists()


# ---- the readers --------------------------------------------------------------------------


@pytest.fixture
def folder(tmp_path):
    """``folder(task)``: a copy of the task's report files without tables.json, to break."""

    def make(task):
        target = tmp_path / task
        shutil.copytree(REPORTS_DIR / task, target)
        (target / TABLES_FILE).unlink()
        return target

    return make


def _metadata(task: str) -> dict:
    return json.loads((MODELS_DIR / task / "metadata.json").read_text(encoding="utf-8"))


@pytest.mark.parametrize("name,edit,message", BROKEN)
def test_the_site_tables_leave_out_a_section_of_the_wrong_shape(
    folder, capsys, name, edit, message
):
    task, content, names = broken(name, edit)
    target = folder(task)
    (target / REPORT_FILES[name]).write_text(json.dumps(content))
    made = make_tables(task, target, _metadata(task))
    section = {
        "leave_one_source_out": "sources",
        "cross_validation": "cross_validation",
        "risk_previous": "risk",
    }.get(name, name)
    assert made["problems"][section] == {"file": name, "reason": "malformed"}
    assert section not in made["facts"]
    assert message.format(**names) in capsys.readouterr().err
    assert "headline" in made["facts"]


def test_the_site_reads_no_file_of_the_wrong_shape(app, tmp_path, caplog):
    from webapp.reports import load_reports

    name = "leave_one_source_out"
    task, content, names = broken(name, BROKEN[3][1])
    (tmp_path / task).mkdir()
    (tmp_path / task / REPORT_FILES[name]).write_text(json.dumps(content))
    app.config["REPORTS_FOLDER"] = str(tmp_path)
    with app.test_request_context(), caplog.at_level(logging.ERROR):
        reports = load_reports(task, (name,))
        assert reports.get(name) is None and reports.problems[name] == "malformed"
        assert "does not hold what it needs" in reports.problem(name)
    assert f"sources.{names['source']}.n_images" in caplog.text


def test_the_site_never_imports_the_experiments():
    """The product's definition is imported by research, never the other way round."""
    for path in sorted((ROOT / "webapp").glob("*.py")):
        assert not {name for name in imports_of(path) if name.split(".")[0] == "research"}, path
