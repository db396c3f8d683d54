"""Train on a few real images, evaluate, export to TF.js and check it in Chromium."""

import json
import shutil
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from training.exporting import parity
from training.exporting.export import canonical_model_json, content_version
from training.fitting.config import command_line, config_from_json, parse_config
from training.fitting.train import train
from training.inputs.data import PROJECT_ROOT, data_root
from training.inputs.tasks import TASKS
from training.steps.wrong_kind import run as run_wrong_kind

WEIGHTS = data_root() / "weights" / "mobilenet_2_5_224_tf_no_top.h5"


@pytest.fixture(scope="module", params=list(TASKS))
def task(request):
    task = TASKS[request.param]
    if not (data_root() / task.dataset_dir).is_dir():
        pytest.skip("dataset not available (set SCREENER_DATA_DIR)")
    return task


@pytest.fixture(scope="module")
def run_dir(task, tmp_path_factory):
    out = tmp_path_factory.mktemp(f"run_{task.id}")
    config = parse_config(
        [
            "--task",
            task.id,
            "--out",
            str(out),
            "--limit",
            "42",
            "--epochs",
            "6",
            "--batch_size",
            "8",
            "--max_lr",
            "0.005",
            "--augment",
            "none",
            "--cache_dir",
            "",
            "--model.image_size",
            "64",
            "64",
            "--model.weights",
            str(WEIGHTS),
        ]
    )
    train(config)
    run_wrong_kind(out, n_other=16)
    return out


def test_training_lowers_the_loss(run_dir):
    history = json.loads((run_dir / "history.json").read_text())
    loss = history["epochs"]["loss"]
    assert len(loss) == 6
    assert loss[-1] < 0.7 * loss[0]
    schedule = history["schedule"]["learning_rate"]
    assert max(schedule) == pytest.approx(0.005, rel=0.05)  # the one-cycle peak was reached
    assert schedule[-1] < schedule[0]


def test_run_writes_its_config_model_and_report(task, run_dir):
    config = json.loads((run_dir / "config.json").read_text())
    assert config["epochs"] == 6 and config["model"]["image_size"] == [64, 64]
    assert (run_dir / "model.keras").is_file() and (run_dir / "split.csv").is_file()
    report = json.loads((run_dir / "report.json").read_text())
    variants = (
        ("with_metadata", "without_metadata") if task.metadata_size else ("without_metadata",)
    )
    assert [v for v in ("with_metadata", "without_metadata") if v in report] == list(variants)
    for variant in variants:
        metrics = report[variant]
        assert set(metrics["per_class"]) == set(task.label_ids)
        assert 0 <= metrics["balanced_accuracy"] <= 1
        assert np.asarray(metrics["confusion_matrix"]).sum() == metrics["n"]
    predictions = json.loads((run_dir / "test_predictions.json").read_text())
    assert (
        len(predictions["image_id"])
        == len(predictions["y_true"])
        == report["without_metadata"]["n"]
    )


def test_a_config_survives_its_command_line():
    config = parse_config(
        [
            "--task",
            "skin_lesion",
            "--epochs",
            "3",
            "--max_lr",
            "0.004",
            "--imbalance",
            "sampling",
            "--label_smoothing",
            "0.1",
            "--model.image_size",
            "96",
            "128",
            "--model.backbone",
            "mobilenet_v2",
        ]
    )
    assert parse_config(command_line(config)) == config
    plain = parse_config(["--task", "malaria"])
    assert parse_config(command_line(plain)) == plain


@pytest.mark.parametrize(
    "flags",
    [
        ["--focal_gamma", "2"],
        ["--mix", "cutmix"],
        ["--imbalance", "logit_adjusted"],
        ["--imbalance", "sqrt"],
        ["--teacher", "t.npz"],
        ["--hold_out_source", "rosendahl"],
        ["--train_fraction", "0.5"],
        ["--init", "m.keras"],
        ["--model.colour_constancy", "shades_of_gray"],
    ],
)
def test_experiments_are_not_settings_of_the_product(flags, capsys):
    """Measured and not shipped: these live in research/ (python -m research.train)."""
    with pytest.raises(SystemExit):
        parse_config(["--task", "skin_lesion", *flags])


def test_saved_configs_are_read_old_and_new(tmp_path):
    """Every shipped run's config.json reads back; an old run's experiment settings are
    ignored at their defaults and refused otherwise, its ``test_time_views`` is read as
    ``tta``; an unknown setting is an error."""
    for saved in sorted((PROJECT_ROOT / "reports").glob("*/config.json")):
        config = config_from_json(saved)
        assert config.task == saved.parent.name
        assert config.imbalance in ("weights", "sampling", "none")
    old = json.loads((PROJECT_ROOT / "reports" / "skin_lesion" / "config.json").read_text())
    old.update(
        focal_gamma=0.0,
        mix="none",
        mix_probability=0.5,
        teacher="",
        teacher_weight=0.7,
        hold_out_source="",
        train_fraction=1.0,
        init="",
        logit_tau=1.0,
    )
    old["model"]["colour_constancy"] = "none"
    old["model"]["test_time_views"] = old["model"].pop("tta")  # its name before "tta"
    path = tmp_path / "config.json"
    path.write_text(json.dumps(old))
    assert config_from_json(path) == config_from_json(
        PROJECT_ROOT / "reports" / "skin_lesion" / "config.json"
    )
    for name, value in (
        ("focal_gamma", 2.0),
        ("imbalance", "logit_adjusted"),
        ("hold_out_source", "rosendahl"),
    ):
        path.write_text(json.dumps({**old, name: value}))
        with pytest.raises(ValueError, match=name):
            config_from_json(path)
    path.write_text(
        json.dumps({**old, "model": {**old["model"], "colour_constancy": "shades_of_gray"}})
    )
    with pytest.raises(ValueError, match="colour_constancy"):
        config_from_json(path)
    path.write_text(json.dumps({**old, "learning_rate_typo": 1}))
    with pytest.raises(ValueError, match="learning_rate_typo"):
        config_from_json(path)


def test_unknown_config_keys_are_an_error(capsys):
    with pytest.raises(SystemExit):
        parse_config(["--task", "skin_lesion", "--epochz", "3"])
    assert "unrecognized arguments: --epochz" in capsys.readouterr().err


def test_conversion_matches_keras_in_the_browser(task, run_dir, tmp_path):
    """The promised command (scripts/convert_to_tfjs.py, a thin wrapper over
    training.exporting.convert): SavedModel → graph model → metadata.json → parity in Chromium."""
    out, reports = tmp_path / "model", tmp_path / "reports"
    result = subprocess.run(
        [
            sys.executable,
            "scripts/convert_to_tfjs.py",
            str(run_dir),
            "--out",
            str(out),
            "--reports",
            str(reports),
            "--parity-images",
            "7",
        ],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-3000:]
    assert "[parity]" in result.stdout and ": OK" in result.stdout
    metadata = json.loads((out / "metadata.json").read_text())
    assert [l["id"] for l in metadata["labels"]] == task.label_ids
    assert metadata["inputs"]["image"]["name"] == "image"
    if task.metadata_size:
        assert metadata["inputs"]["metadata"]["shape"] == [1, task.metadata_size]
    else:
        assert "metadata" not in metadata["inputs"]
    assert metadata["version"] == content_version(out)
    n_test = int((pd.read_csv(run_dir / "split.csv")["split"] == "test").sum())
    assert metadata["parity"]["n_images"] == min(7, n_test) > 0
    assert metadata["parity"]["in_kind_max_abs_diff"] <= parity.MAX_PROBABILITY_DIFF
    assert metadata["parity"]["class_map_max_abs_diff"] <= parity.MAX_PROBABILITY_DIFF
    grid = metadata["explanation"]["shape"]
    assert metadata["explanation"]["output"] == "class_map" and grid[2] == len(task.labels)
    assert metadata["parity"]["max_abs_diff"] <= parity.MAX_PROBABILITY_DIFF
    assert metadata["split_group"] == task.group_name
    wrong_kind = metadata["wrong_kind"]
    assert wrong_kind["output"] == "in_kind" and 0 < wrong_kind["threshold"] < 1
    assert (
        set(wrong_kind["detection_rate"]) == set(wrong_kind["kind_names"])
        and task.id not in wrong_kind["kind_names"]
    )
    for name in ("report.json", "curves.json", "wrong_kind.json"):
        assert (reports / name).is_file(), name
    index = json.loads((out.parent / "index.json").read_text())
    assert [t["id"] for t in index["tasks"]] == [task.id]

    # The version does not depend on the order the converter happened to write keys in.
    model_json = out / "model.json"
    assert model_json.read_text() == json.dumps(json.loads(model_json.read_text()), sort_keys=True)
    shuffled = tmp_path / "shuffled"
    shutil.copytree(out, shuffled)
    graph = json.loads((shuffled / "model.json").read_text())
    for node in graph["modelTopology"]["node"]:
        node["attr"] = dict(reversed(list(node.get("attr", {}).items())))
    (shuffled / "model.json").write_text(json.dumps(graph))
    assert content_version(shuffled) != metadata["version"]
    canonical_model_json(shuffled / "model.json")
    assert content_version(shuffled) == metadata["version"]

    # The version is a content hash: other weights, other version.
    changed = tmp_path / "changed"
    shutil.copytree(out, changed)
    shard = next(changed.glob("*.bin"))
    data = bytearray(shard.read_bytes())
    data[100] ^= 0xFF
    shard.write_bytes(bytes(data))
    assert content_version(changed) != metadata["version"]


def convert_command(*args: str):
    return subprocess.run(
        [sys.executable, "scripts/convert_to_tfjs.py", *args],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )


def test_conversion_of_a_keras_file_on_its_own(task, run_dir, tmp_path):
    """A .keras file without its run folder: the task named, the browser check still run;
    without the task, a readable refusal (no traceback)."""
    if not task.metadata_fields:
        pytest.skip("the same path for every task; run once, where the model has details too")
    alone = tmp_path / "alone"
    alone.mkdir()
    shutil.copy2(run_dir / "model.keras", alone / "my_model.keras")
    refused = convert_command(str(alone / "my_model.keras"))
    assert refused.returncode == 2 and "--task" in refused.stderr
    assert "Traceback" not in refused.stderr
    out = tmp_path / "model"
    args = ("--task", task.id, "--out", str(out), "--parity-images", "4")
    result = convert_command(str(alone / "my_model.keras"), *args)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-3000:]
    assert "[parity]" in result.stdout and ": OK" in result.stdout
    metadata = json.loads((out / "metadata.json").read_text())
    assert [l["id"] for l in metadata["labels"]] == task.label_ids
    assert metadata["inputs"]["image"]["size"] == [64, 64]  # the model's own size
    assert metadata["parity"]["n_images"] == 4
    assert not (tmp_path / "reports").exists()
    missing = convert_command(str(tmp_path / "nothing.keras"), "--task", task.id)
    assert missing.returncode == 2 and "neither a run folder nor a .keras file" in missing.stderr


def test_the_conversion_command_explains_itself():
    result = convert_command("--help")
    assert result.returncode == 0
    assert "a run folder or a .keras file" in result.stdout and "--quantization" in result.stdout


def test_tta_command_gives_a_finished_run_test_time_mirrors(task, run_dir, tmp_path):
    from training.fitting.model import load_model
    from training.steps.tta import main as add_tta

    run = tmp_path / "run"
    shutil.copytree(run_dir, run)
    with pytest.raises(SystemExit, match="wrong_kind.json"):  # fitted on single-view answers
        add_tta(["--run", str(run)])
    (run / "wrong_kind.json").unlink()
    before = json.loads((run / "report.json").read_text())
    assert add_tta(["--run", str(run)]) == 0
    assert json.loads((run / "config.json").read_text())["model"]["tta"] == "mirrors"
    report = json.loads((run / "report.json").read_text())
    views = report["tta"]
    assert views["mode"] == "mirrors" and set(views["validation"]) == {"one_view", "mirrors"}
    assert (
        views["test_one_view"]["without_metadata"]["balanced_accuracy"]
        == before["without_metadata"]["balanced_accuracy"]
    )
    assert report["selected_epoch"] == before["selected_epoch"]
    model = load_model(run / "model.keras")
    assert {"views", "view_mean"} <= {layer.name for layer in model.layers}
    assert (run / "model_one_view.keras").is_file()
    # The report's test probabilities are the mirrored network's.
    from training.fitting.evaluate import predict_without_metadata
    from training.fitting.runs import load_run

    _, _, _, parts, _ = load_run(run)
    images = parts["test"][0][:3]
    expected = predict_without_metadata(model, task, images)
    stored = json.loads((run / "test_predictions.json").read_text())["without_metadata"][:3]
    np.testing.assert_allclose(stored, expected, atol=1e-4)
    np.testing.assert_allclose(
        predict_without_metadata(model, task, images[:, :, ::-1]), expected, atol=1e-4
    )  # a mirror changes nothing
    with pytest.raises(SystemExit, match="already has"):
        add_tta(["--run", str(run)])


def test_parity_tolerance():
    rng = np.random.default_rng(0)
    p = rng.dirichlet(np.ones(7) * 0.3, size=100)
    assert parity.compare(p, p)["max_abs_diff"] == 0
    top = p.argmax(1)
    near = p.copy()
    near[np.arange(len(p)), top] += 0.019
    parity.compare(p, near)  # within 0.02
    with pytest.raises(parity.ParityError, match="differs by"):
        far = p.copy()
        far[5, 3] += 0.021
        parity.compare(p, far)

    def flips(n):  # move the top label of the first n images one place along
        return np.array([np.roll(row, 1) if i < n else row for i, row in enumerate(p)])

    assert int((flips(1).argmax(1) != top).sum()) == 1
    parity.compare(p, flips(1), max_probability_diff=1.0, tie=0)  # 1 % of images: allowed
    with pytest.raises(parity.ParityError, match="top-1 differs on 2/100"):
        parity.compare(p, flips(2), max_probability_diff=1.0, tie=0)
    # A near tie (first two answers within the probability tolerance) may fall either way
    tie = np.array([[0.405, 0.395, 0.2]] * 10)
    swapped = tie[:, [1, 0, 2]]
    assert parity.compare(tie, swapped)["top1_disagreement"] == 0
    with pytest.raises(parity.ParityError, match="top-1 differs on 10/10"):
        parity.compare(tie, swapped, tie=0.005)


def test_balanced_batches_of_fewer_images_than_a_batch():
    """Balanced sampling draws every class alike, and a training part smaller than one batch
    still gives batches (it once looped forever without yielding one)."""
    from training.fitting.train import class_balance, make_dataset

    labels = np.array([0, 0, 0, 0, 1])
    weights, sampling = class_balance("sampling", labels, 3)
    assert weights is None and sampling[0] == pytest.approx(sampling[1] / 4)
    images = np.zeros((5, 8, 8, 3), np.uint8)
    config = parse_config(["--task", "malaria", "--batch_size", "8", "--augment", "none"])
    ds = make_dataset(
        images, np.zeros((5, 0), np.float32), labels, 3, config, True, sampling=sampling
    )
    for _, y, _ in ds.take(2):
        assert y.shape == (5, 3)
