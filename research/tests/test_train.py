"""``python -m research.train``: the product's loop with experiments' changes passed in."""

import json
import re

from research.tests.conftest import tiny_run
from research.train import read_run_config
from training.fitting.model import load_model


def test_a_run_with_several_experiments_trains_and_records_them(tmp_path, capsys):
    run = tiny_run(
        tmp_path / "run",
        "--mix",
        "cutmix",
        "--focal_gamma",
        "2",
        "--imbalance",
        "sqrt",
        "--colour_constancy",
        "shades_of_gray",
        "--train_fraction",
        "0.5",
    )
    printed = capsys.readouterr().out
    wanted = {
        "mix": "cutmix",
        "focal_gamma": 2.0,
        "imbalance": "sqrt",
        "colour_constancy": "shades_of_gray",
        "train_fraction": 0.5,
    }
    assert json.loads((run / "research.json").read_text()) == wanted
    saved = json.loads((run / "config.json").read_text())
    assert not (set(wanted) - {"imbalance"}) & set(saved)  # the product's file stays its own
    config, variation = read_run_config(run)
    assert variation.changes() == wanted and config.epochs == 2
    import research.colour_constancy  # noqa: F401 (registers the layer)

    model = load_model(run / "model.keras")
    assert "colour_constancy" in {layer.name for layer in model.layers}
    report = json.loads((run / "report.json").read_text())
    assert report["variation"] == wanted
    # Trained on about half the training lesions (whole lesions, every label kept).
    used = int(re.search(r"training on \d+ lesions \((\d+) images\)", printed).group(1))
    assert used < sum(report["split"]["train"].values())
