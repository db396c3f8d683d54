"""Train on a few real images, evaluate, export to TF.js and check it in Chromium."""
import dataclasses
import json
import shutil
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from conftest import load_script
from training import parity
from training.data import PROJECT_ROOT, data_root
from training.export import canonical_model_json, content_version
from training.doubt import run as run_doubt
from training.tasks import TASKS
from training.train import command_line, parse_config, train

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
    config = parse_config([
        "--task", task.id, "--out", str(out), "--limit", "42", "--epochs", "6",
        "--batch_size", "8", "--max_lr", "0.005", "--augment", "none", "--cache_dir", "",
        "--model.image_size", "64", "64", "--model.weights", str(WEIGHTS)])
    train(config)
    run_doubt(out, n_negatives=16)
    return out


def test_training_lowers_the_loss(run_dir):
    history = json.loads((run_dir / "history.json").read_text())
    loss = history["epochs"]["loss"]
    assert len(loss) == 6
    assert loss[-1] < 0.7 * loss[0]
    schedule = history["schedule"]["learning_rate"]
    assert max(schedule) == pytest.approx(0.005, rel=0.05)   # the one-cycle peak was reached
    assert schedule[-1] < schedule[0]


def test_run_writes_its_config_model_and_report(task, run_dir):
    config = json.loads((run_dir / "config.json").read_text())
    assert config["epochs"] == 6 and config["model"]["image_size"] == [64, 64]
    assert (run_dir / "model.keras").is_file() and (run_dir / "split.csv").is_file()
    report = json.loads((run_dir / "report.json").read_text())
    variants = ("with_metadata", "without_metadata") if task.metadata_size else ("without_metadata",)
    assert [v for v in ("with_metadata", "without_metadata") if v in report] == list(variants)
    for variant in variants:
        metrics = report[variant]
        assert set(metrics["per_class"]) == set(task.label_ids)
        assert 0 <= metrics["balanced_accuracy"] <= 1
        assert np.asarray(metrics["confusion_matrix"]).sum() == metrics["n"]
    predictions = json.loads((run_dir / "test_predictions.json").read_text())
    assert len(predictions["image_id"]) == len(predictions["y_true"]) == report["without_metadata"]["n"]


def test_a_config_survives_its_command_line():
    config = parse_config(["--task", "skin_lesion", "--epochs", "3", "--max_lr", "0.004",
                           "--imbalance", "sampling", "--hold_out_source", "rosendahl",
                           "--model.image_size", "96", "128",
                           "--model.colour_constancy", "shades_of_gray"])
    assert parse_config(command_line(config)) == config
    plain = parse_config(["--task", "malaria"])
    assert parse_config(command_line(plain)) == plain


def test_unknown_config_keys_are_an_error(capsys):
    with pytest.raises(SystemExit):
        parse_config(["--task", "skin_lesion", "--epochz", "3"])
    assert "unrecognized arguments: --epochz" in capsys.readouterr().err


def test_conversion_matches_keras_in_the_browser(task, run_dir, tmp_path):
    """The real script: SavedModel → graph model → metadata.json → parity in Chromium."""
    out, reports = tmp_path / "model", tmp_path / "reports"
    result = subprocess.run(
        [sys.executable, "scripts/convert_to_tfjs.py", "--run", str(run_dir), "--out", str(out),
         "--reports", str(reports), "--parity-images", "7"],
        cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=600)
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
    doubt = metadata["doubt"]
    assert doubt["output"] == "in_kind" and 0 < doubt["threshold"] < 1
    assert set(doubt["detection_rate"]) == set(doubt["kind_names"]) and task.id not in doubt["kind_names"]
    for name in ("report.json", "curves.json", "doubt.json"):
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


def test_views_command_gives_a_finished_run_test_time_mirrors(task, run_dir, tmp_path):
    from training.model import load_model
    from training.views import main as add_views
    run = tmp_path / "run"
    shutil.copytree(run_dir, run)
    with pytest.raises(SystemExit, match="doubt.json"):   # fitted on single-view answers
        add_views(["--run", str(run)])
    (run / "doubt.json").unlink()
    before = json.loads((run / "report.json").read_text())
    assert add_views(["--run", str(run)]) == 0
    assert json.loads((run / "config.json").read_text())["model"]["test_time_views"] == "mirrors"
    report = json.loads((run / "report.json").read_text())
    views = report["test_time_views"]
    assert views["views"] == "mirrors" and set(views["validation"]) == {"one_view", "mirrors"}
    assert views["test_one_view"]["without_metadata"]["balanced_accuracy"] == \
        before["without_metadata"]["balanced_accuracy"]
    assert report["selected_epoch"] == before["selected_epoch"]
    model = load_model(run / "model.keras")
    assert {"views", "view_mean"} <= {layer.name for layer in model.layers}
    assert (run / "model_one_view.keras").is_file()
    # The report's test probabilities are the mirrored network's.
    from training.evaluate import predict_without_metadata
    from training.train import load_run
    _, _, _, parts, _ = load_run(run)
    images = parts["test"][0][:3]
    expected = predict_without_metadata(model, task, images)
    stored = json.loads((run / "test_predictions.json").read_text())["without_metadata"][:3]
    np.testing.assert_allclose(stored, expected, atol=1e-4)
    np.testing.assert_allclose(predict_without_metadata(model, task, images[:, :, ::-1]),
                               expected, atol=1e-4)   # a mirror changes nothing
    with pytest.raises(SystemExit, match="already has"):
        add_views(["--run", str(run)])
    # evaluate_views rebuilds the site's answer from the single-view network's mirrors.
    load_script("evaluate_views").main([str(run), "--report", str(tmp_path / "views.json")])
    measured = json.loads((tmp_path / "views.json").read_text())
    assert measured["test_time_views"] == "mirrors"
    assert set(measured["views"]) == {"as_given", "one_view", "centre_square_crop"}
    for name, source in (("as_given", report), ("one_view", before)):
        assert measured["views"][name]["test"]["macro_auc"] == pytest.approx(
            source["without_metadata"]["macro_auc"], abs=1e-3), name


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


def fold_report(ba, auc, n=100):
    """A fold's report.json as training writes it, with made-up figures."""
    metrics = {"n": n, "balanced_accuracy": ba, "macro_auc": auc, "accuracy": 0.8,
               "macro_f1": 0.5}
    return {"without_metadata": metrics, "with_metadata": {**metrics, "macro_auc": auc + 0.01},
            "selected_epoch": 4}


def test_cross_validation_summary_is_mean_and_sample_sd():
    cv = load_script("cross_validate")
    summary = cv.summarize({0: fold_report(0.6, 0.90), 1: fold_report(0.7, 0.94)})
    assert summary["mean"]["without_metadata"]["balanced_accuracy"] == pytest.approx(0.65)
    assert summary["sd"]["without_metadata"]["balanced_accuracy"] == pytest.approx(0.0707, abs=1e-4)
    assert summary["mean"]["with_metadata"]["macro_auc"] == pytest.approx(0.93)
    assert "0.650 ± 0.071" in cv.table(summary)
    # A task without metadata (malaria) has image-only figures, and a fold may lack an AUC.
    image_only = {fold: {"without_metadata": r["without_metadata"]} for fold, r in
                  {0: fold_report(0.6, 0.90), 1: fold_report(0.7, 0.94), 2: fold_report(0.8, 0.9)}.items()}
    image_only[2]["without_metadata"]["macro_auc"] = None
    summary = cv.summarize(image_only)
    assert set(summary["mean"]) == {"without_metadata"}
    assert summary["mean"]["without_metadata"]["macro_auc"] == pytest.approx(0.92)
    assert "| 3 | 100 | 0.800 | – | – | – |" in cv.table(summary)


def test_cross_validation_command_summarizes_finished_folds(tmp_path, monkeypatch, capsys):
    """The command end to end on two folds that are already trained (none is trained again):
    it writes reports/<task>/<name>.json and prints the table."""
    cv = load_script("cross_validate")
    monkeypatch.setattr(cv, "ROOT", tmp_path)
    config = json.loads((PROJECT_ROOT / "reports" / "skin_lesion" / "config.json").read_text())
    rng = np.random.default_rng(1)
    for fold, ba in ((1, 0.6), (2, 0.7)):
        run = tmp_path / "runs" / "skin_lesion" / f"cvtest_{fold}"
        run.mkdir(parents=True)
        (run / "config.json").write_text(json.dumps({**config, "epochs": 4}))
        (run / "report.json").write_text(json.dumps(fold_report(ba, 0.9, n=70)))
        p = rng.dirichlet(np.ones(7), 70)
        (run / "test_predictions.json").write_text(json.dumps(
            {"y_true": [i % 7 for i in range(70)], "image_id": [f"{fold}_{i}" for i in range(70)],
             "without_metadata": p.tolist(), "with_metadata": p.tolist()}))
    (tmp_path / "reports" / "skin_lesion").mkdir(parents=True)
    assert cv.main(["--reference", str(PROJECT_ROOT / "reports" / "skin_lesion"),
                    "--name", "cvtest", "--folds", "2"]) == 0
    written = json.loads((tmp_path / "reports" / "skin_lesion" / "cvtest.json").read_text())
    assert written["mean"]["without_metadata"]["balanced_accuracy"] == pytest.approx(0.65)
    assert written["epochs"] == 4 and "decision_rule" in written
    assert "0.650 ± 0.071" in capsys.readouterr().out


def test_cross_validation_of_folds_given_test_time_views(tmp_path, monkeypatch, capsys):
    """Folds given mirrors after training (training.views) are summarized as they then answer,
    their one-view figures beside; a fold still answering from one view is left out, and said
    so; folds another process finished while this one trained are summarized too."""
    cv = load_script("cross_validate")
    monkeypatch.setattr(cv, "ROOT", tmp_path)
    config = json.loads((PROJECT_ROOT / "reports" / "skin_lesion" / "config.json").read_text())
    rng = np.random.default_rng(2)

    def fold(number, views, ba, one_view_ba):
        run = tmp_path / "runs" / "skin_lesion" / f"cvviews_{number}"
        run.mkdir(parents=True, exist_ok=True)
        (run / "config.json").write_text(json.dumps(
            {**config, "model": {**config["model"], "test_time_views": views}}))
        report = fold_report(ba, 0.9, n=70)
        if views != "none":
            report["test_time_views"] = {"views": views, "test_one_view": {
                variant: {"balanced_accuracy": one_view_ba, "macro_auc": 0.88}
                for variant in ("without_metadata", "with_metadata")}}
        (run / "report.json").write_text(json.dumps(report))
        p = rng.dirichlet(np.ones(7), 70)
        (run / "test_predictions.json").write_text(json.dumps(
            {"y_true": [i % 7 for i in range(70)], "image_id": [f"{number}_{i}" for i in range(70)],
             "without_metadata": p.tolist(), "with_metadata": p.tolist()}))

    (tmp_path / "reports" / "skin_lesion").mkdir(parents=True)
    arguments = ["--reference", str(PROJECT_ROOT / "reports" / "skin_lesion"),
                 "--name", "cvviews", "--folds", "2"]
    # Fold 2 is trained now; meanwhile another process gives fold 1 its mirrors.
    fold(1, "none", 0.60, None)
    monkeypatch.setattr(cv, "train_fold", lambda *a, **k: (fold(2, "mirrors", 0.64, 0.60),
                                                           fold(1, "mirrors", 0.70, 0.66)))
    assert cv.main(arguments + ["--only", "2"]) == 0
    assert "(2 of 2 folds)" in capsys.readouterr().out
    # Fold 1 still answering from one view is left out, not mixed in.
    fold(1, "none", 0.60, None)
    monkeypatch.setattr(cv, "train_fold", lambda *a, **k: pytest.fail("trained a fold"))
    assert cv.main(arguments + ["--only"]) == 0
    printed = capsys.readouterr().out
    assert "fold 1 answers with test-time views 'none', the recipe with 'mirrors'" in printed
    assert "(1 of 2 folds)" in printed
    assert list(json.loads((tmp_path / "reports" / "skin_lesion" / "cvviews.json").read_text())[
        "folds"]) == ["1"]
    fold(1, "mirrors", 0.70, 0.66)
    # A third fold not trained yet: `--only` with no fold summarizes the two, trains nothing.
    assert cv.main(arguments[:-1] + ["3", "--only"]) == 0
    assert "(2 of 3 folds)" in capsys.readouterr().out
    with pytest.raises(SystemExit):
        cv.main(arguments + ["--only", "3"])
    assert cv.main(arguments) == 0
    written = json.loads((tmp_path / "reports" / "skin_lesion" / "cvviews.json").read_text())
    assert written["test_time_views"] == "mirrors"
    assert written["mean"]["without_metadata"]["balanced_accuracy"] == pytest.approx(0.67)
    one_view = written["one_view"]
    assert one_view["mean"]["without_metadata"]["balanced_accuracy"] == pytest.approx(0.63)
    assert one_view["mean"]["with_metadata"]["macro_auc"] == pytest.approx(0.88)
    assert one_view["folds"]["1"]["n_test"] == 70
    printed = capsys.readouterr().out
    assert "0.670 ± 0.042" in printed and "0.630 ± 0.042" in printed


@pytest.mark.parametrize("views", ["mirrors", "none"])
def test_a_fold_is_trained_from_one_view_then_given_the_recipes_views(tmp_path, monkeypatch,
                                                                       views):
    """A fold follows the shipped recipe as it was made: trained (and its epoch chosen) from
    one view, then given the recipe's test-time views by training.views."""
    import training.data
    import training.train
    import training.views
    from training.train import config_from_json
    cv = load_script("cross_validate")
    config = config_from_json(PROJECT_ROOT / "reports" / "skin_lesion" / "config.json")
    config = dataclasses.replace(config, model=dataclasses.replace(config.model,
                                                                   test_time_views=views))
    trained, given = [], []
    monkeypatch.setattr(training.data, "split_dataset", lambda table, **kwargs: kwargs)
    monkeypatch.setattr(training.data, "write_split", lambda table, split, path: None)
    monkeypatch.setattr(training.train, "rerun", lambda config, tag: trained.append(config))
    monkeypatch.setattr(training.views, "main", given.append)
    run = tmp_path / "cv_1"
    cv.train_fold(config, None, 0, 5, run, epochs=4)
    [fold_config] = trained
    assert fold_config.model.test_time_views == "none" and fold_config.epochs == 4
    assert fold_config.split_file == str(run / "fold_split.csv") and fold_config.out == str(run)
    assert given == ([["--run", str(run), "--views", "mirrors"]] if views == "mirrors" else [])


def test_two_cross_validations_are_compared_fold_by_fold():
    cv = load_script("cross_validate")

    def summary(bas, n=100):
        return {"folds": {str(k): {"n_test": n, "without_metadata":
                                   {"balanced_accuracy": ba, "macro_auc": 0.9}}
                          for k, ba in enumerate(bas)}}
    comparison = cv.paired(summary([0.60, 0.70, 0.65]), summary([0.62, 0.69, 0.70]))
    gain = comparison["difference"]["without_metadata/balanced_accuracy"]
    assert gain["per_fold"] == pytest.approx([0.02, -0.01, 0.05])
    assert gain["mean"] == pytest.approx(0.02) and gain["folds_better"] == 2
    assert comparison["difference"]["without_metadata/macro_auc"]["mean"] == pytest.approx(0)
    with pytest.raises(ValueError, match="not the same folds"):
        cv.paired(summary([0.6]), summary([0.6], n=99))


def test_test_time_views_refuse_runs_trained_on_different_splits(tmp_path, capsys):
    """evaluate_views scores every run on the first run's split: runs of different splits
    (e.g. cross-validation folds) would be tested on images they were trained on."""
    views = load_script("evaluate_views")
    runs = []
    for name, split in (("a", "train"), ("b", "test")):
        run = tmp_path / name
        run.mkdir()
        (run / "split.csv").write_text(f"image_id,group,label,split\nISIC_1,HAM_1,nv,{split}\n")
        runs.append(str(run))
    with pytest.raises(SystemExit):
        views.main(runs)
    assert "different splits" in capsys.readouterr().err


def test_cross_fitted_decision_rule_is_tuned_on_the_other_folds_only():
    cv = load_script("cross_validate")
    rng = np.random.default_rng(0)

    def fold(shift=-1.5, n=600):
        # A model whose probability of class 2 is scaled by e^shift (under-called if < 0).
        y = rng.integers(0, 3, n)
        logits = rng.normal(0, 1, (n, 3)) + 2.0 * np.eye(3)[y]
        logits[:, 2] += shift
        p = np.exp(logits) / np.exp(logits).sum(1, keepdims=True)
        return {"y": y, "p": p}
    rule = cv.decision_rule({k: fold() for k in range(3)})
    assert rule["mean_gain"] > 0.03               # the offsets found the bias ...
    for measured in rule["folds"].values():
        assert measured["offsets"][2] > 0.5         # ... by raising class 2
    # Tuned on the other folds only: a fold biased the other way is made worse by them.
    rule_folds = {0: fold(shift=+3), 1: fold(), 2: fold()}
    rule = cv.decision_rule(rule_folds)
    assert rule["folds"][0]["tuned"] < rule["folds"][0]["argmax"]
    # Applied to another model: fitted on every image but that model's test images.
    for k, part in rule_folds.items():
        part["image_id"] = [f"{k}_{i}" for i in range(len(part["y"]))]
    shipped = {"image_id": rule_folds[1]["image_id"][:100], "y_true": rule_folds[1]["y"][:100],
               "without_metadata": rule_folds[1]["p"][:100]}
    applied = cv.decision_rule_for(shipped, rule_folds)
    assert applied["n_fitted_on"] == 3 * 600 - 100 and applied["n_test"] == 100
