"""``python -m research.evaluate_framings``: a run's answers on other framings of the images."""

import json
import shutil

import pytest

from research import evaluate_framings
from research.tests.conftest import tiny_run


def test_tta_refuse_runs_trained_on_different_splits(tmp_path, capsys):
    """evaluate_framings scores every run on the first run's split: runs of different splits
    (e.g. cross-validation folds) would be tested on images they were trained on."""
    framings = evaluate_framings
    runs = []
    for name, split in (("a", "train"), ("b", "test")):
        run = tmp_path / name
        run.mkdir()
        (run / "split.csv").write_text(f"image_id,group,label,split\nISIC_1,HAM_1,nv,{split}\n")
        runs.append(str(run))
    with pytest.raises(SystemExit):
        framings.main(runs)
    assert "different splits" in capsys.readouterr().err


def test_the_views_report_rebuilds_the_sites_answer_from_the_single_view_network(tmp_path):
    """On a run given test-time mirrors (training.steps.tta), "as given" is the run's own test
    report (the mean of the mirrors) and "one view" the report from before the mirrors."""
    from training.steps.tta import main as add_tta

    run = tiny_run(tmp_path / "run")
    before = json.loads((run / "report.json").read_text())
    assert add_tta(["--run", str(run)]) == 0
    report = json.loads((run / "report.json").read_text())
    evaluate_framings.main([str(run), "--report", str(tmp_path / "framings.json")])
    measured = json.loads((tmp_path / "framings.json").read_text())
    assert measured["tta"] == "mirrors"
    assert set(measured["framings"]) == {"as_given", "one_view", "centre_square_crop"}
    for name, source in (("as_given", report), ("one_view", before)):
        assert measured["framings"][name]["test"]["macro_auc"] == pytest.approx(
            source["without_metadata"]["macro_auc"], abs=1e-3
        ), name
    shutil.rmtree(run)
