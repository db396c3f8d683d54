"""The notebooks run from top to bottom on a small real subset, and say true things.

Each is executed with nbclient in a fresh kernel (cwd: the project root) with its
NOTEBOOK_* parameters set small, and what it printed is checked against what the
project's code wrote.
"""

from __future__ import annotations

import json
import re

import nbformat
import pytest

from conftest import ROOT
from training.inputs.data import data_root
from training.inputs.tasks import get_task

TASK = get_task("skin_lesion")
NOTEBOOKS = ROOT / "notebooks"
TIMEOUT_S = 900  # per cell; a tiny training run on a busy two-core machine


@pytest.fixture(autouse=True)
def needs_data():
    if not (data_root() / TASK.dataset_dir).is_dir():
        pytest.skip("dataset not available (set SCREENER_DATA_DIR)")


def run(name: str, monkeypatch, **parameters) -> tuple[str, int]:
    """Execute notebooks/<name>.ipynb with NOTEBOOK_<KEY> set; return what it printed
    and how many Plotly figures it showed."""
    from nbclient import NotebookClient

    for key, value in parameters.items():
        monkeypatch.setenv(f"NOTEBOOK_{key.upper()}", str(value))
    monkeypatch.setenv("TF_CPP_MIN_LOG_LEVEL", "2")
    notebook = nbformat.read(NOTEBOOKS / f"{name}.ipynb", as_version=4)
    NotebookClient(
        notebook,
        timeout=TIMEOUT_S,
        kernel_name="python3",
        resources={"metadata": {"path": str(ROOT)}},
    ).execute()
    printed, figures = [], 0
    for cell in notebook.cells:
        for output in cell.get("outputs", []):
            if output.get("output_type") == "stream" and output.get("name") == "stdout":
                printed.append(output["text"])
            figures += "application/vnd.plotly.v1+json" in output.get("data", {})
    return "".join(printed), figures


def test_committed_notebooks_have_no_outputs():
    for path in NOTEBOOKS.glob("*.ipynb"):
        notebook = nbformat.read(path, as_version=4)
        nbformat.validate(notebook)
        for cell in notebook.cells:
            if cell.cell_type == "code":
                assert cell.outputs == [] and cell.execution_count is None, path.name


def test_explore_data_notebook(monkeypatch):
    printed, figures = run("01_explore_data", monkeypatch, task=TASK.id, limit=70)
    per_label = max(1, 70 // len(TASK.labels))
    n = len(TASK.labels) * per_label
    assert re.search(rf"^{n} images of \d+ {TASK.group_name}s$", printed, re.M), printed[:2000]
    for label in TASK.labels:
        assert re.search(
            rf"^\s+{label.id}\s+{per_label}\s+{re.escape(label.name)}$", printed, re.M
        ), label.id
    # The saved split keeps every group in one part.
    assert f"{TASK.group_name}s in two parts: 0" in printed
    summary = json.loads(re.search(r"^\{\n.*?^\}$", printed, re.S | re.M).group(0))
    assert summary["n_images"] == n and sum(summary["images_per_label"].values()) == n
    assert "Images per kind" in printed and "by kind" in printed
    assert figures >= 6


def test_train_and_evaluate_notebook(monkeypatch, tmp_path):
    printed, figures = run(
        "02_train_and_evaluate", monkeypatch, task=TASK.id, limit=28, epochs=2, out=tmp_path
    )
    report = json.loads((tmp_path / "report.json").read_text())
    history = json.loads((tmp_path / "history.json").read_text())
    assert len(history["epochs"]["loss"]) == 2
    # The numbers it printed are the numbers of the report it wrote.
    for variant in ("without_metadata", "with_metadata"):
        match = re.search(
            rf"^{variant}: (\d+) test images, accuracy ([\d.]+), "
            rf"balanced accuracy ([\d.]+), macro AUC ([\d.]+)$",
            printed,
            re.M,
        )
        assert match, printed[-3000:]
        result = report[variant]
        assert int(match.group(1)) == result["n"]
        assert float(match.group(3)) == pytest.approx(result["balanced_accuracy"], abs=5e-5)
        assert float(match.group(4)) == pytest.approx(result["macro_auc"], abs=5e-5)
    curves = json.loads((tmp_path / "curves.json").read_text())
    ece = re.search(r"expected calibration error without details: ([\d.]+)", printed).group(1)
    assert float(ece) == pytest.approx(curves["without_metadata"]["reliability"]["ece"], abs=5e-5)
    for title in (
        "Loss",
        "Learning rate and momentum",
        "Confusion matrix (counts)",
        "ROC curve per kind",
        "Reliability (calibration)",
    ):
        assert re.search(rf"^{re.escape(title)}$", printed, re.M), title
    assert figures >= 7
