"""``python -m research.soup``: the weights of runs of one recipe, averaged into a new run."""

import json
import shutil

import numpy as np
import pytest

from research.soup import main as soup
from research.tests.conftest import TASK, needs_data, tiny_arguments
from training.fitting.config import parse_config
from training.fitting.evaluate import predict_without_metadata
from training.fitting.model import load_model
from training.fitting.runs import load_run
from training.fitting.train import train


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    needs_data()
    out = []
    for seed in (1, 2):
        run = tmp_path_factory.mktemp(f"seed{seed}")
        train(parse_config(tiny_arguments(run, "--seed", str(seed))))
        out.append(run)
    return out


def weights_of(model, name):
    return model.get_layer(name).get_weights()


def test_the_soup_is_the_mean_of_the_image_path_and_the_first_runs_metadata_branch(runs, tmp_path):
    out = tmp_path / "soup"
    assert soup(["--runs", *map(str, runs), "--out", str(out)]) == 0
    a, b = (load_model(run / "model.keras") for run in runs)
    made = load_model(out / "model.keras")
    backbone = [
        layer
        for layer in made.layers
        if layer.weights and layer.name not in ("metadata_dense", "probabilities")
    ]
    assert backbone
    for layer in backbone:
        for got, wa, wb in zip(
            layer.get_weights(), weights_of(a, layer.name), weights_of(b, layer.name)
        ):
            np.testing.assert_allclose(got, (wa + wb) / 2, atol=1e-6)
    for got, want in zip(weights_of(made, "metadata_dense"), weights_of(a, "metadata_dense")):
        np.testing.assert_array_equal(got, want)
    (kernel, bias), (ka, ba), (kb, bb) = (weights_of(m, "probabilities") for m in (made, a, b))
    rows = json.loads((runs[0] / "config.json").read_text())["model"]["metadata_units"]
    np.testing.assert_allclose(kernel[:-rows], (ka[:-rows] + kb[:-rows]) / 2, atol=1e-6)
    np.testing.assert_array_equal(kernel[-rows:], ka[-rows:])
    np.testing.assert_allclose(bias, (ba + bb) / 2, atol=1e-6)
    # A run the next steps can take: config, history naming the members, report, split.
    history = json.loads((out / "history.json").read_text())
    assert [m["seed"] for m in history["averaged_weights_of"]] == [1, 2]
    assert json.loads((out / "config.json").read_text())["out"] == str(out)
    found = json.loads((out / "soup.json").read_text())["validation_without_metadata"]
    assert set(found) == {str(runs[0]), str(runs[1]), "average"}
    _, _, _, parts, model = load_run(out)
    stored = json.loads((out / "test_predictions.json").read_text())["without_metadata"]
    np.testing.assert_allclose(
        stored[:4], predict_without_metadata(model, TASK, parts["test"][0][:4]), atol=1e-4
    )


def test_a_soup_of_one_network_twice_is_that_network(runs, tmp_path):
    twin = tmp_path / "twin"
    shutil.copytree(runs[0], twin)
    out = tmp_path / "soup"
    soup(["--runs", str(runs[0]), str(twin), "--out", str(out), "--metadata", "average"])
    _, _, _, parts, model = load_run(out)
    images = parts["test"][0][:4]
    np.testing.assert_allclose(
        predict_without_metadata(model, TASK, images),
        predict_without_metadata(load_model(runs[0] / "model.keras"), TASK, images),
        atol=1e-5,
    )


def test_runs_that_cannot_be_averaged_are_refused(runs, tmp_path):
    with pytest.raises(SystemExit, match="exists"):
        soup(["--runs", *map(str, runs), "--out", str(runs[0])])
    other = tmp_path / "other"
    shutil.copytree(runs[1], other)
    config = json.loads((other / "config.json").read_text())
    config["model"]["image_size"] = [96, 96]
    (other / "config.json").write_text(json.dumps(config))
    with pytest.raises(SystemExit, match="image_size"):
        soup(["--runs", str(runs[0]), str(other), "--out", str(tmp_path / "a")])
    calibrated = tmp_path / "calibrated"
    shutil.copytree(runs[1], calibrated)
    (calibrated / "calibration.json").write_text("{}")
    with pytest.raises(SystemExit, match="calibrated"):
        soup(["--runs", str(runs[0]), str(calibrated), "--out", str(tmp_path / "b")])
