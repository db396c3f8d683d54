"""``python -m training.release TASK --quick``: the whole chain that makes a shipped model,
on real images (a few dozen, one epoch), into one run folder; then resumed."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from training.inputs.data import PROJECT_ROOT
from training.release import (
    FIGURES,
    STEPS,
    compare,
    install_export,
    read_recipe,
    release,
    step_folders,
)

pytestmark = pytest.mark.browser  # the export step checks the model in Chromium


def release_command(*args: str, timeout: int) -> str:
    """``python -m training.release skin_lesion ARGS``; its output (it must succeed)."""
    result = subprocess.run(
        [sys.executable, "-m", "training.release", "skin_lesion", *args],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return result.stdout


def release_quick(run):
    """``python -m training.release skin_lesion --quick --run RUN``; its output."""
    return release_command("--quick", "--run", str(run), timeout=2400)


@pytest.fixture(scope="module")
def quick_run(tmp_path_factory):
    run = tmp_path_factory.mktemp("release") / "skin_lesion"
    return run, release_quick(run)


def test_every_step_writes_its_own_folder(quick_run):
    run, log = quick_run
    recipe = read_recipe("skin_lesion")
    folders = step_folders(run, recipe)
    expected = [s for s in STEPS if s != "tta" or recipe["tta"] != "none"]
    assert [name for name, _ in folders] == expected  # the skin task has masks: an outline
    assert (
        steps_outline := dict(folders)["outline"] / "tfjs_model" / "skin_lesion" / "outline"
    ).is_dir()
    assert json.loads((steps_outline / "metadata.json").read_text())["kind"] == "outline"
    for name, folder in folders:
        assert json.loads((folder / "step.json").read_text())["step"] == name
    # Nothing overwritten in place: the trained model stays as it was trained.
    steps = dict(folders)
    assert not (steps["train"] / "calibration.json").exists()
    assert (steps["calibration"] / "calibration.json").is_file()
    assert (steps["train"] / "model.keras").read_bytes() != (
        steps["calibration"] / "model.keras"
    ).read_bytes()
    assert not (steps["calibration"] / "risk.json").exists()
    assert "[parity]" in log and ": OK" in log


def test_the_export_has_the_model_and_the_site_reports(quick_run):
    run, _ = quick_run
    export = step_folders(run, read_recipe("skin_lesion"))[-1][1]
    metadata = json.loads((export / "tfjs_model" / "skin_lesion" / "metadata.json").read_text())
    assert metadata["weights"]["quantization"] == read_recipe("skin_lesion")["quantization"]
    recipe_model = read_recipe("skin_lesion")["train"]["model"]
    members = recipe_model.get("members", 1)
    assert metadata["training"]["backbone"] == (
        f"{members} × MobileNet V1 α 0.25" if members > 1 else "MobileNet V1 α 0.25"
    )
    assert metadata["training"].get("members", 1) == members
    assert len(metadata["training"].get("selected_epochs", [0] * members)) == members
    assert metadata["parity"]["top1_disagreement"] <= 0.01
    for name in ("risk", "unsure", "calibration"):
        assert name in metadata
    # The outline network rides with the classifier: named in its contract, measured.
    outline = json.loads(
        (export / "tfjs_model" / "skin_lesion" / "outline" / "metadata.json").read_text()
    )
    assert metadata["outline"] == {"folder": "outline/", "version": outline["version"]}
    reports = export / "reports" / "skin_lesion"
    assert json.loads((reports / "outline.json").read_text())["model_version"] == outline["version"]
    assert (
        json.loads((reports / "outside.json").read_text())["model_version"] == metadata["version"]
    )
    for name in (
        "report.json",
        "history.json",
        "calibration.json",
        "risk.json",
        "wrong_kind.json",
        "unsure.json",
        "curves.json",
        "tables.json",
    ):
        assert (reports / name).is_file(), name
    # Models and predictions stay in the run, not in what the site reads.
    assert not (reports / "model.keras").exists()
    assert not (reports / "test_predictions.json").exists()


def test_a_rerun_resumes_and_redoes_an_interrupted_step(quick_run):
    run, _ = quick_run
    folders = dict(step_folders(run, read_recipe("skin_lesion")))
    trained = (folders["train"] / "model.keras").stat().st_mtime_ns
    (folders["unsure"] / "step.json").unlink()  # as if cut off during "unsure"
    exported = (folders["export"] / "step.json").read_text()
    log = release_quick(run)
    assert "[release] train: done" in log
    assert "unsure: interrupted before" in log
    assert (folders["train"] / "model.keras").stat().st_mtime_ns == trained
    assert (folders["unsure"] / "step.json").is_file()
    assert (folders["export"] / "step.json").read_text() != exported  # made again after it


def test_a_run_folder_of_another_recipe_is_refused(quick_run, tmp_path):
    run, _ = quick_run
    recipe = read_recipe("skin_lesion")
    other = tmp_path / "skin_lesion.json"
    other.write_text(json.dumps({**recipe, "train": {**recipe["train"], "epochs": 3}}))
    with pytest.raises(SystemExit, match="another recipe"):
        release("skin_lesion", run, quick=True, recipe_path=other)


def test_a_recipe_with_unknown_keys_is_refused(tmp_path):
    bad = tmp_path / "skin_lesion.json"
    bad.write_text(json.dumps({"task": "skin_lesion", "train": {}, "epochz": 3}))
    with pytest.raises(SystemExit, match="unknown keys"):
        read_recipe("skin_lesion", bad)


def test_install_replaces_the_model_and_keeps_other_reports(quick_run, tmp_path):
    run, _ = quick_run
    export = step_folders(run, read_recipe("skin_lesion"))[-1][1]
    models, reports = tmp_path / "tfjs_model", tmp_path / "reports"
    (models / "skin_lesion").mkdir(parents=True)
    (models / "skin_lesion" / "old-shard.bin").write_bytes(b"old")
    (reports / "skin_lesion").mkdir(parents=True)
    (reports / "skin_lesion" / "framings.json").write_text("{}")  # a research measurement
    pictures = tmp_path / "img"
    (pictures / "outline-worst").mkdir(parents=True)
    (pictures / "outline-worst" / "old.jpg").write_bytes(b"old")
    install_export("skin_lesion", export, models, reports, pictures)
    assert not (models / "skin_lesion" / "old-shard.bin").exists()
    # the outline's worst cases, drawn by the export step, replace the old drawings
    drawn = json.loads((reports / "skin_lesion" / "outline.json").read_text())["pictures"]
    installed = sorted(p.name for p in (pictures / "outline-worst").iterdir())
    assert installed == sorted(i["file"] for i in drawn["images"]) and installed
    assert (models / "skin_lesion" / "metadata.json").is_file()
    assert json.loads((models / "index.json").read_text())["tasks"][0]["id"] == "skin_lesion"
    assert (reports / "skin_lesion" / "framings.json").is_file()
    assert (reports / "skin_lesion" / "report.json").is_file()
    # The installed recipe names its run folder without a path of the machine that made it.
    installed_out = json.loads((reports / "skin_lesion" / "config.json").read_text())["out"]
    assert installed_out and not Path(installed_out).is_absolute()


def test_compare_prints_the_release_beside_the_installed_model(quick_run):
    """``--compare``: every figure of the quick release's reports beside the installed
    model's, with their difference (the quick model is far worse than the installed one)."""
    run, _ = quick_run
    made = step_folders(run, read_recipe("skin_lesion"))[-1][1] / "reports" / "skin_lesion"
    installed = PROJECT_ROOT / "reports" / "skin_lesion"
    rows = compare(made, installed)
    names = [what for what, *_ in rows]
    assert names == [what for what, *_ in FIGURES if what in names]  # in the table's order
    # The tiny model may find no "unsure" threshold; these every release has.
    for what in ("test balanced accuracy, image only", "temperature", "risk threshold"):
        assert what in names
    shown = dict((what, (a, b)) for what, a, b in rows)
    report = json.loads((installed / "report.json").read_text())
    assert shown["test balanced accuracy, image only"][1] == pytest.approx(
        report["without_metadata"]["balanced_accuracy"]
    )
    assert compare(made, made) == [(what, a, a) for what, a, _ in rows]
    printed = release_command("--compare", "--run", str(run), timeout=120)
    lines = [line for line in printed.splitlines() if line.startswith("| ")]
    assert len(lines) == 1 + len(rows)  # the header and a row for each figure
    balanced = shown["test balanced accuracy, image only"]
    assert f"| {balanced[0]:.4g} | {balanced[1]:.4g} | {balanced[0] - balanced[1]:+.4f} |" in (
        printed
    )
