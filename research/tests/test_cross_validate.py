"""``python -m research.cross_validate``: folds trained, summarized and compared."""

import dataclasses
import json

import numpy as np
import pytest

from research import cross_validate
from training.inputs.data import PROJECT_ROOT


def fold_report(ba, auc, n=100):
    """A fold's report.json as training writes it, with made-up figures."""
    metrics = {"n": n, "balanced_accuracy": ba, "macro_auc": auc, "accuracy": 0.8, "macro_f1": 0.5}
    return {
        "without_metadata": metrics,
        "with_metadata": {**metrics, "macro_auc": auc + 0.01},
        "selected_epoch": 4,
    }


def test_cross_validation_summary_is_mean_and_sample_sd():
    cv = cross_validate
    summary = cv.summarize({0: fold_report(0.6, 0.90), 1: fold_report(0.7, 0.94)})
    assert summary["mean"]["without_metadata"]["balanced_accuracy"] == pytest.approx(0.65)
    assert summary["sd"]["without_metadata"]["balanced_accuracy"] == pytest.approx(0.0707, abs=1e-4)
    assert summary["mean"]["with_metadata"]["macro_auc"] == pytest.approx(0.93)
    assert "0.650 ± 0.071" in cv.table(summary)
    # A task without metadata (malaria) has image-only figures, and a fold may lack an AUC.
    image_only = {
        fold: {"without_metadata": r["without_metadata"]}
        for fold, r in {
            0: fold_report(0.6, 0.90),
            1: fold_report(0.7, 0.94),
            2: fold_report(0.8, 0.9),
        }.items()
    }
    image_only[2]["without_metadata"]["macro_auc"] = None
    summary = cv.summarize(image_only)
    assert set(summary["mean"]) == {"without_metadata"}
    assert summary["mean"]["without_metadata"]["macro_auc"] == pytest.approx(0.92)
    assert "| 3 | 100 | 0.800 | – | – | – |" in cv.table(summary)


def test_cross_validation_command_summarizes_finished_folds(tmp_path, monkeypatch, capsys):
    """The command end to end on two folds that are already trained (none is trained again):
    it writes research/<task>/results/<name>.json and prints the table."""
    cv = cross_validate
    monkeypatch.setattr(cv, "ROOT", tmp_path)
    config = json.loads((PROJECT_ROOT / "reports" / "skin_lesion" / "config.json").read_text())
    rng = np.random.default_rng(1)
    for fold, ba in ((1, 0.6), (2, 0.7)):
        run = tmp_path / "runs" / "skin_lesion" / f"cvtest_{fold}"
        run.mkdir(parents=True)
        (run / "config.json").write_text(json.dumps({**config, "epochs": 4}))
        (run / "report.json").write_text(json.dumps(fold_report(ba, 0.9, n=70)))
        p = rng.dirichlet(np.ones(7), 70)
        (run / "test_predictions.json").write_text(
            json.dumps(
                {
                    "y_true": [i % 7 for i in range(70)],
                    "image_id": [f"{fold}_{i}" for i in range(70)],
                    "without_metadata": p.tolist(),
                    "with_metadata": p.tolist(),
                }
            )
        )
    (tmp_path / "reports" / "skin_lesion").mkdir(parents=True)
    assert (
        cv.main(
            [
                "--reference",
                str(PROJECT_ROOT / "reports" / "skin_lesion"),
                "--name",
                "cvtest",
                "--folds",
                "2",
            ]
        )
        == 0
    )
    written = json.loads(
        (tmp_path / "research" / "skin_lesion" / "results" / "cvtest.json").read_text()
    )
    assert written["mean"]["without_metadata"]["balanced_accuracy"] == pytest.approx(0.65)
    assert written["epochs"] == 4 and "decision_rule" in written
    assert "0.650 ± 0.071" in capsys.readouterr().out


def test_cross_validation_of_folds_given_tta(tmp_path, monkeypatch, capsys):
    """Folds given mirrors after training (training.steps.tta) are summarized as they then answer,
    their one-view figures beside; a fold still answering from one view is left out, and said
    so; folds another process finished while this one trained are summarized too."""
    cv = cross_validate
    monkeypatch.setattr(cv, "ROOT", tmp_path)
    config = json.loads((PROJECT_ROOT / "reports" / "skin_lesion" / "config.json").read_text())
    rng = np.random.default_rng(2)

    def fold(number, views, ba, one_view_ba):
        run = tmp_path / "runs" / "skin_lesion" / f"cvviews_{number}"
        run.mkdir(parents=True, exist_ok=True)
        (run / "config.json").write_text(
            json.dumps({**config, "model": {**config["model"], "tta": views}})
        )
        report = fold_report(ba, 0.9, n=70)
        if views != "none":
            report["tta"] = {
                "mode": views,
                "test_one_view": {
                    variant: {"balanced_accuracy": one_view_ba, "macro_auc": 0.88}
                    for variant in ("without_metadata", "with_metadata")
                },
            }
        (run / "report.json").write_text(json.dumps(report))
        p = rng.dirichlet(np.ones(7), 70)
        (run / "test_predictions.json").write_text(
            json.dumps(
                {
                    "y_true": [i % 7 for i in range(70)],
                    "image_id": [f"{number}_{i}" for i in range(70)],
                    "without_metadata": p.tolist(),
                    "with_metadata": p.tolist(),
                }
            )
        )

    (tmp_path / "reports" / "skin_lesion").mkdir(parents=True)
    arguments = [
        "--reference",
        str(PROJECT_ROOT / "reports" / "skin_lesion"),
        "--name",
        "cvviews",
        "--folds",
        "2",
    ]
    # Fold 2 is trained now; meanwhile another process gives fold 1 its mirrors.
    fold(1, "none", 0.60, None)
    monkeypatch.setattr(
        cv,
        "train_fold",
        lambda *a, **k: (fold(2, "mirrors", 0.64, 0.60), fold(1, "mirrors", 0.70, 0.66)),
    )
    assert cv.main(arguments + ["--only", "2"]) == 0
    assert "(2 of 2 folds)" in capsys.readouterr().out
    # Fold 1 still answering from one view is left out, not mixed in.
    fold(1, "none", 0.60, None)
    monkeypatch.setattr(cv, "train_fold", lambda *a, **k: pytest.fail("trained a fold"))
    assert cv.main(arguments + ["--only"]) == 0
    printed = capsys.readouterr().out
    assert "fold 1 answers with test-time views 'none', the recipe with 'mirrors'" in printed
    assert "(1 of 2 folds)" in printed
    results = tmp_path / "research" / "skin_lesion" / "results"
    assert list(json.loads((results / "cvviews.json").read_text())["folds"]) == ["1"]
    fold(1, "mirrors", 0.70, 0.66)
    # A third fold not trained yet: `--only` with no fold summarizes the two, trains nothing.
    assert cv.main(arguments[:-1] + ["3", "--only"]) == 0
    assert "(2 of 3 folds)" in capsys.readouterr().out
    with pytest.raises(SystemExit):
        cv.main(arguments + ["--only", "3"])
    assert cv.main(arguments) == 0
    written = json.loads(
        (tmp_path / "research" / "skin_lesion" / "results" / "cvviews.json").read_text()
    )
    assert written["tta"] == "mirrors"
    assert written["mean"]["without_metadata"]["balanced_accuracy"] == pytest.approx(0.67)
    one_view = written["one_view"]
    assert one_view["mean"]["without_metadata"]["balanced_accuracy"] == pytest.approx(0.63)
    assert one_view["mean"]["with_metadata"]["macro_auc"] == pytest.approx(0.88)
    assert one_view["folds"]["1"]["n_test"] == 70
    printed = capsys.readouterr().out
    assert "0.670 ± 0.042" in printed and "0.630 ± 0.042" in printed


@pytest.mark.parametrize("views", ["mirrors", "none"])
def test_a_fold_is_trained_from_one_view_then_given_the_recipes_views(tmp_path, monkeypatch, views):
    """A fold follows the shipped recipe as it was made: trained (and its epoch chosen) from
    one view, then given the recipe's test-time views by training.steps.tta."""
    import training.fitting.runs
    import training.inputs.data
    import training.steps.tta
    from training.fitting.config import config_from_json

    cv = cross_validate
    config = config_from_json(PROJECT_ROOT / "reports" / "skin_lesion" / "config.json")
    config = dataclasses.replace(config, model=dataclasses.replace(config.model, tta=views))
    trained, given = [], []
    monkeypatch.setattr(training.inputs.data, "split_dataset", lambda table, **kwargs: kwargs)
    monkeypatch.setattr(training.inputs.data, "write_split", lambda table, split, path: None)
    monkeypatch.setattr(
        training.fitting.runs, "rerun", lambda config, tag, *more: trained.append(config)
    )
    monkeypatch.setattr(training.steps.tta, "main", given.append)
    run = tmp_path / "cv_1"
    cv.train_fold(config, None, 0, 5, run, epochs=4)
    [fold_config] = trained
    assert fold_config.model.tta == "none" and fold_config.epochs == 4
    assert fold_config.split_file == str(run / "fold_split.csv") and fold_config.out == str(run)
    assert given == ([["--run", str(run), "--tta", "mirrors"]] if views == "mirrors" else [])


def test_two_cross_validations_are_compared_fold_by_fold():
    cv = cross_validate

    def summary(bas, n=100):
        return {
            "folds": {
                str(k): {
                    "n_test": n,
                    "without_metadata": {"balanced_accuracy": ba, "macro_auc": 0.9},
                }
                for k, ba in enumerate(bas)
            }
        }

    comparison = cv.paired(summary([0.60, 0.70, 0.65]), summary([0.62, 0.69, 0.70]))
    gain = comparison["difference"]["without_metadata/balanced_accuracy"]
    assert gain["per_fold"] == pytest.approx([0.02, -0.01, 0.05])
    assert gain["mean"] == pytest.approx(0.02) and gain["folds_better"] == 2
    assert comparison["difference"]["without_metadata/macro_auc"]["mean"] == pytest.approx(0)
    with pytest.raises(ValueError, match="not the same folds"):
        cv.paired(summary([0.6]), summary([0.6], n=99))


def test_cross_fitted_decision_rule_is_tuned_on_the_other_folds_only():
    cv = cross_validate
    rng = np.random.default_rng(0)

    def fold(shift=-1.5, n=600):
        # A model whose probability of class 2 is scaled by e^shift (under-called if < 0).
        y = rng.integers(0, 3, n)
        logits = rng.normal(0, 1, (n, 3)) + 2.0 * np.eye(3)[y]
        logits[:, 2] += shift
        p = np.exp(logits) / np.exp(logits).sum(1, keepdims=True)
        return {"y": y, "p": p}

    rule = cv.decision_rule({k: fold() for k in range(3)})
    assert rule["mean_gain"] > 0.03  # the offsets found the bias ...
    for measured in rule["folds"].values():
        assert measured["offsets"][2] > 0.5  # ... by raising class 2
    # Tuned on the other folds only: a fold biased the other way is made worse by them.
    rule_folds = {0: fold(shift=+3), 1: fold(), 2: fold()}
    rule = cv.decision_rule(rule_folds)
    assert rule["folds"][0]["tuned"] < rule["folds"][0]["argmax"]
    # Applied to another model: fitted on every image but that model's test images.
    for k, part in rule_folds.items():
        part["image_id"] = [f"{k}_{i}" for i in range(len(part["y"]))]
    shipped = {
        "image_id": rule_folds[1]["image_id"][:100],
        "y_true": rule_folds[1]["y"][:100],
        "without_metadata": rule_folds[1]["p"][:100],
    }
    applied = cv.decision_rule_for(shipped, rule_folds)
    assert applied["n_fitted_on"] == 3 * 600 - 100 and applied["n_test"] == 100
