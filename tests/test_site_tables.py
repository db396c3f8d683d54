"""training.reporting.site_tables: the finished tables of the report pages, computed when the
reports are made (the pages only print them; see test_report_pages.py)."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys

import pytest

from conftest import MODELS_DIR, REPORTS_DIR, ROOT
from training.reporting import site_tables, table_format
from training.reporting.site_tables import TABLES_FILE, write_site_tables
from training.reporting.site_tables import site_tables as make
from training.reporting.table_format import points_lower, signed

TASKS = [task["id"] for task in json.loads((MODELS_DIR / "index.json").read_text())["tasks"]]
TASK = TASKS[0]


def metadata_of(task: str) -> dict:
    return json.loads((MODELS_DIR / task / "metadata.json").read_text())


def raw(name: str, task: str = TASK) -> dict:
    return json.loads((REPORTS_DIR / task / name).read_text())


def table_of(content: dict, table_id: str) -> dict:
    [table] = [t for t in content["tables"] if t["id"] == table_id]
    return table


def cells(table: dict, **data) -> list[str | None]:
    """The texts of the cells whose data-* attributes hold ``data``, row by row."""
    wanted = {key.replace("_", "-"): value for key, value in data.items()}
    return [
        cell["text"]
        for row in table["rows"]
        for cell in row["cells"]
        if wanted.items() <= cell["data"].items()
    ]


@pytest.mark.parametrize("task", TASKS)
def test_the_committed_tables_are_those_of_the_committed_reports(task):
    """Made again from reports/<task>/ and the installed metadata.json, tables.json is the
    same: a report changed without its tables fails here (python -m training.reporting.site_tables)."""
    committed = json.loads((REPORTS_DIR / task / TABLES_FILE).read_text())
    assert committed == json.loads(json.dumps(make(task, REPORTS_DIR / task, metadata_of(task))))
    assert committed["model_version"] == metadata_of(task)["version"]
    assert committed["matches_model"] is True and committed["problems"] == {}


@pytest.mark.parametrize("task", TASKS)
def test_reports_hold_only_what_the_site_reads(task):
    """reports/<task>/ is what the pages read (webapp.reports), what their tables are made
    from (training.reporting.site_tables) and the split and recipe of the shipped model: no models,
    predictions or lab logs (those stay in runs/ and research/)."""
    from webapp.report_files import OTHER_FILES, REPORT_FILES

    allowed = set(REPORT_FILES.values()) | set(OTHER_FILES)
    present = {path.name for path in (REPORTS_DIR / task).iterdir()}
    assert present <= allowed, sorted(present - allowed)
    assert {"report.json", TABLES_FILE, "split.csv"} <= present


@pytest.mark.parametrize("task", TASKS)
def test_shipped_files_name_no_path_of_this_machine(task):
    """What a release installs (reports and model files) says where things are relative to
    the project, never with the absolute path of the machine that made it."""
    machine_paths = {str(ROOT.resolve())}
    for folder in (REPORTS_DIR / task, MODELS_DIR / task):
        for path in folder.iterdir():
            if path.suffix in {".json", ".csv"}:
                text = path.read_text()
                found = [p for p in machine_paths if p in text]
                assert not found, f"{path.relative_to(ROOT)} names {found}"


@pytest.mark.parametrize("task", TASKS)
def test_every_table_is_ready_to_print(task):
    content = json.loads((REPORTS_DIR / task / TABLES_FILE).read_text())
    assert {"headline", "per-class-without_metadata", "counts"} <= {
        t["id"] for t in content["tables"]
    }
    for table in content["tables"]:
        assert set(table) >= {"id", "title", "caption", "columns", "rows"}
        assert table["caption"] and table["rows"], table["id"]
        for row in table["rows"]:
            assert len(row["cells"]) == len(table["columns"]) - 1, table["id"]
            for cell in row["cells"]:
                # Formatted text, or None for "not measured": never a bare float.
                assert cell["text"] is None or isinstance(cell["text"], (str, int)), cell


def test_headline_and_per_kind_figures_are_the_report_figures():
    report = raw("report.json")
    content = make(TASK, REPORTS_DIR / TASK, metadata_of(TASK))
    headline = table_of(content, "headline")
    for variant in ("without_metadata", "with_metadata"):
        if variant in report:
            measured = report[variant]
            assert cells(headline, metric="balanced_accuracy", variant=variant) == [
                f"{measured['balanced_accuracy'] * 100:.1f}%"
            ]
            assert cells(headline, metric="macro_auc", variant=variant) == [
                f"{measured['macro_auc']:.3f}"
            ]
    per_class = table_of(content, "per-class-without_metadata")
    for row in per_class["rows"]:
        measured = report["without_metadata"]["per_class"][row["data"]["label-id"]]
        texts = {cell["data"]["metric"]: cell["text"] for cell in row["cells"]}
        assert texts["sensitivity"] == f"{measured['sensitivity'] * 100:.1f}%"
        assert texts["support"] == f"{measured['support']:,}"
    labels = len(metadata_of(TASK)["labels"])
    assert headline["caption"]["chance"] == f"{100 / labels:.1f}%"
    assert headline["caption"]["kinds"] == labels


@pytest.mark.skipif(
    not (REPORTS_DIR / TASK / "leave_one_source_out.json").is_file(),
    reason="no leave-one-source-out measurement",
)
def test_the_collections_figures_are_worked_out_here():
    loso = raw("leave_one_source_out.json")
    facts = make(TASK, REPORTS_DIR / TASK, metadata_of(TASK))["facts"]["sources"]
    tests = [m["test_split"] for m in loso["sources"].values()]
    drops = [
        t["reference"]["balanced_accuracy"] - t["held_out"]["balanced_accuracy"] for t in tests
    ]
    n = [t["reference"]["n"] for t in tests]
    assert facts["mean_drop"] == points_lower(sum(drops) / len(drops))
    assert facts["weighted_drop"] == points_lower(sum(d * k for d, k in zip(drops, n)) / sum(n))
    assert facts["fell"] == sum(d > 0 for d in drops) and facts["count"] == len(drops)
    # The collections are ids: the site names them from metadata.json (the task registry).
    assert facts["sources"] == list(loso["sources"])


@pytest.mark.skipif(
    not (REPORTS_DIR / TASK / "cv_final.json").is_file(), reason="no cross-validation"
)
def test_the_cross_validation_range_and_spread():
    cv = raw("cv_final.json")
    facts = make(TASK, REPORTS_DIR / TASK, metadata_of(TASK))["facts"]["cross_validation"]
    image_only = [fold["without_metadata"]["balanced_accuracy"] for fold in cv["folds"].values()]
    assert facts["low"] == f"{min(image_only) * 100:.1f}%"
    assert facts["high"] == f"{max(image_only) * 100:.1f}%"
    assert facts["sd"] == f"{cv['sd']['without_metadata']['balanced_accuracy'] * 100:.1f}"
    assert facts["folds"] == len(cv["folds"])


def test_words_for_differences():
    assert points_lower(0.024) == {"points": "2.4", "way": "lower"}
    assert points_lower(-0.015) == {"points": "1.5", "way": "higher"}
    assert points_lower(0.0004) == {"points": None, "way": "same"}
    assert signed(-0.024, 1, 100) == "−2.4" and signed(0.012, 3) == "+0.012"


@pytest.fixture
def folder(tmp_path):
    """A copy of the first task's report files, to break."""
    target = tmp_path / TASK
    shutil.copytree(REPORTS_DIR / TASK, target)
    (target / TABLES_FILE).unlink()
    return target


def test_a_missing_file_leaves_its_section_out_and_a_damaged_one_says_so(folder):
    (folder / "risk.json").unlink()
    (folder / "wrong_kind.json").write_text('{"method": ')
    (folder / "calibration.json").write_text(json.dumps({"temperature": "warm"}))
    content = make(TASK, folder, metadata_of(TASK))
    assert "risk" not in content["facts"] and "risk" not in content["problems"]
    assert content["problems"]["wrong_kind"] == {"file": "wrong_kind", "reason": "damaged"}
    assert content["problems"]["calibration"] == {"file": "calibration", "reason": "malformed"}
    assert not any(t["id"] in ("risk", "wrong_kind", "calibration") for t in content["tables"])
    assert "headline" in content["facts"] and "unsure" in content["facts"]


def test_measurements_of_another_model_are_said_where_they_are_made(folder):
    metadata = metadata_of(TASK)
    metadata["risk"]["threshold"] = 0.3
    metadata["metrics"]["test"]["without_metadata"]["n"] += 1
    content = make(TASK, folder, metadata)
    installed = content["facts"]["risk"]["installed"]
    assert installed["what"] == "risk_threshold" and installed["installed"] == "0.3"
    assert content["matches_model"] is False


def test_without_metadata_the_registry_orders_the_kinds(folder):
    content = make(TASK, folder)
    assert content["model_version"] is None
    ids = [
        row["header"]["label"] for row in table_of(content, "per-class-without_metadata")["rows"]
    ]
    assert ids == [label["id"] for label in metadata_of(TASK)["labels"]]


def test_write_and_the_command(folder):
    path = write_site_tables(TASK, folder, MODELS_DIR / TASK / "metadata.json")
    assert path == folder / TABLES_FILE
    written = json.loads(path.read_text())
    path.unlink()
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "training.reporting.site_tables",
            TASK,
            "--reports",
            str(folder),
            "--metadata",
            str(MODELS_DIR / TASK / "metadata.json"),
        ],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(path.read_text()) == written
    assert "tables" in result.stdout


def test_made_without_tensorflow_or_numpy():
    """The release calls it after training, but it needs only the standard library."""
    code = (
        "import sys, training.reporting.site_tables; "
        "bad = [m for m in sys.modules if m.split('.')[0] in "
        "('tensorflow', 'keras', 'numpy', 'pandas', 'flask')]; print(bad); "
        "sys.exit(1 if bad else 0)"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=120
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert site_tables.FORMAT == 2


@pytest.mark.parametrize(
    ("made", "written"),
    [
        (lambda: table_format.percent(0.6312), "63.1%"),
        (lambda: table_format.percent(0.99996), "99.996%"),  # not "100.0%"
        (lambda: table_format.percent(0.00002), "0.002%"),  # not "0.0%"
        (lambda: table_format.percent(1.0), "100.0%"),  # 300 of 300 is written as it is
        (lambda: table_format.percent(0), "0.0%"),
        (lambda: table_format.decimals(0.9124), "0.912"),
        (lambda: table_format.decimals(0.99962, 2), "0.9996"),  # not "1.00"
        (lambda: table_format.decimals(None), None),
    ],
)
def test_a_measured_share_is_never_written_as_a_perfect_score(made, written):
    assert made() == written


@pytest.mark.parametrize("task", ["chest_xray", "malaria", "skin_lesion"])
def test_every_section_with_facts_has_its_words(task):
    """Each section of the shipped tables.json is either plain figures or has a formatter in
    webapp.report_words, so a renamed section cannot reach a page as raw figures."""
    from webapp.report_words import PLAIN_FACTS, Words

    facts = json.loads((ROOT / "reports" / task / "tables.json").read_text())["facts"]
    missing = [
        name for name in facts if name not in PLAIN_FACTS and not hasattr(Words, f"_facts_{name}")
    ]
    assert not missing
