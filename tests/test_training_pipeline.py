"""Train on a few real images, evaluate, export to TF.js and check it in Chromium."""
import json
import shutil
import subprocess
import sys

import numpy as np
import pytest

from training import parity
from training.data import PROJECT_ROOT, data_root
from training.export import content_version
from training.tasks import get_task
from training.train import parse_config, train

TASK = get_task("skin_lesion")
WEIGHTS = data_root() / "weights" / "mobilenet_2_5_224_tf_no_top.h5"


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    if not (data_root() / TASK.dataset_dir).is_dir():
        pytest.skip("dataset not available (set SCREENER_DATA_DIR)")
    out = tmp_path_factory.mktemp("run")
    config = parse_config([
        "--task", TASK.id, "--out", str(out), "--limit", "42", "--epochs", "6",
        "--batch_size", "8", "--max_lr", "0.005", "--augment", "none", "--cache_dir", "",
        "--model.image_size", "64", "64", "--model.weights", str(WEIGHTS)])
    train(config)
    return out


def test_training_lowers_the_loss(run_dir):
    history = json.loads((run_dir / "history.json").read_text())
    loss = history["epochs"]["loss"]
    assert len(loss) == 6
    assert loss[-1] < 0.7 * loss[0]
    schedule = history["schedule"]["learning_rate"]
    assert max(schedule) == pytest.approx(0.005, rel=0.05)   # the one-cycle peak was reached
    assert schedule[-1] < schedule[0]


def test_run_writes_its_config_model_and_report(run_dir):
    config = json.loads((run_dir / "config.json").read_text())
    assert config["epochs"] == 6 and config["model"]["image_size"] == [64, 64]
    assert (run_dir / "model.keras").is_file() and (run_dir / "split.csv").is_file()
    report = json.loads((run_dir / "report.json").read_text())
    for variant in ("with_metadata", "without_metadata"):
        metrics = report[variant]
        assert set(metrics["per_class"]) == set(TASK.label_ids)
        assert 0 <= metrics["balanced_accuracy"] <= 1
        assert np.asarray(metrics["confusion_matrix"]).sum() == metrics["n"]
    predictions = json.loads((run_dir / "test_predictions.json").read_text())
    assert len(predictions["image_id"]) == len(predictions["y_true"]) == report["without_metadata"]["n"]


def test_unknown_config_keys_are_an_error(capsys):
    with pytest.raises(SystemExit):
        parse_config(["--task", TASK.id, "--epochz", "3"])
    assert "unrecognized arguments: --epochz" in capsys.readouterr().err


def test_conversion_matches_keras_in_the_browser(run_dir, tmp_path):
    """The real script: SavedModel → graph model → metadata.json → parity in Chromium."""
    out, reports = tmp_path / "model", tmp_path / "reports"
    result = subprocess.run(
        [sys.executable, "scripts/convert_to_tfjs.py", "--run", str(run_dir), "--out", str(out),
         "--reports", str(reports), "--parity-images", "7"],
        cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-3000:]
    assert "[parity]" in result.stdout and ": OK" in result.stdout
    metadata = json.loads((out / "metadata.json").read_text())
    assert [l["id"] for l in metadata["labels"]] == TASK.label_ids
    assert metadata["inputs"]["image"]["name"] == "image"
    assert metadata["inputs"]["metadata"]["shape"] == [1, TASK.metadata_size]
    assert metadata["version"] == content_version(out)
    assert metadata["parity"]["n_images"] == 7
    assert metadata["parity"]["max_abs_diff"] <= parity.MAX_PROBABILITY_DIFF
    assert metadata["split_group"] == "lesion"
    assert (reports / "report.json").is_file() and (reports / "curves.json").is_file()
    index = json.loads((out.parent / "index.json").read_text())
    assert [t["id"] for t in index["tasks"]] == [TASK.id]

    # The version is a content hash: other weights, other version.
    changed = tmp_path / "changed"
    shutil.copytree(out, changed)
    shard = next(changed.glob("*.bin"))
    data = bytearray(shard.read_bytes())
    data[100] ^= 0xFF
    shard.write_bytes(bytes(data))
    assert content_version(changed) != metadata["version"]


def test_parity_tolerance():
    rng = np.random.default_rng(0)
    p = rng.dirichlet(np.ones(7) * 0.3, size=100)
    assert parity.compare(p, p)["max_abs_diff"] == 0
    top = p.argmax(1)
    near = p.copy()
    near[np.arange(len(p)), top] += 0.019
    parity.compare(p, near)                              # within 0.02
    with pytest.raises(parity.ParityError, match="differs by"):
        far = p.copy()
        far[5, 3] += 0.021
        parity.compare(p, far)

    def flips(n):   # move the top label of the first n images one place along
        return np.array([np.roll(row, 1) if i < n else row for i, row in enumerate(p)])
    assert int((flips(1).argmax(1) != top).sum()) == 1
    parity.compare(p, flips(1), max_probability_diff=1.0)      # 1 % of images: allowed
    with pytest.raises(parity.ParityError, match="top-1 differs on 2/100"):
        parity.compare(p, flips(2), max_probability_diff=1.0)
