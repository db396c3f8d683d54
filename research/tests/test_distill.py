"""Distillation: the teachers' answers on the training images, and training on them."""

import json

import numpy as np
import pytest

from research.distill import distillation_targets
from research.distill import main as distill
from research.tests.conftest import TASK, tiny_run
from training.fitting.config import parse_config
from training.fitting.evaluate import predict_without_metadata
from training.fitting.model import load_model
from training.fitting.runs import load_run
from training.fitting.train import make_dataset
from training.inputs.data import split_rows
from training.steps.calibration import logits_of, softmax


@pytest.fixture(scope="module")
def teacher(tmp_path_factory):
    return tiny_run(tmp_path_factory.mktemp("teacher"))


@pytest.fixture(scope="module")
def answers(teacher, tmp_path_factory):
    out = tmp_path_factory.mktemp("answers") / "teachers.npz"
    assert distill(["--teachers", str(teacher), "--out", str(out)]) == 0
    return out


def test_the_answers_are_the_mean_of_the_teachers_mirrored_logits(teacher, answers):
    task, table, split, parts, _ = load_run(teacher)
    network = load_model(teacher / "model.keras")
    images, _, labels = parts["train"]
    mirrors = [images, images[:, :, ::-1], images[:, ::-1], images[:, ::-1, ::-1]]
    views = [predict_without_metadata(network, task, np.ascontiguousarray(v)) for v in mirrors]
    # The mirrors do change the answer, so the check below would see one view missing.
    assert np.abs(views[0] - views[1]).max() > 1e-4
    want = softmax(np.mean([logits_of(v) for v in views], axis=0))
    stored = np.load(answers)
    ids = split_rows(table, split, "train")["image_id"]
    assert stored["image_ids"].tolist() == ids.tolist()
    np.testing.assert_allclose(stored["probabilities"], want, atol=1e-5)


def test_targets_mix_the_answers_and_the_labels_in_the_asked_order(answers):
    stored = np.load(answers)
    ids = stored["image_ids"][::-1]
    labels = np.arange(len(ids)) % 7
    targets = distillation_targets(answers, ids, labels, 7, 0.7)
    np.testing.assert_allclose(targets.sum(axis=1), 1.0, atol=1e-5)
    np.testing.assert_allclose(
        targets, 0.7 * stored["probabilities"][::-1] + 0.3 * np.eye(7)[labels], atol=1e-6
    )
    np.testing.assert_array_equal(
        distillation_targets(answers, ids, labels, 7, 0.0), np.eye(7)[labels]
    )
    with pytest.raises(SystemExit, match="no teachers' answer for 1 training images"):
        distillation_targets(answers, [*ids, "ISIC_not_there"], np.append(labels, 0), 7, 0.5)
    with pytest.raises(SystemExit, match="within 0…1"):
        distillation_targets(answers, ids, labels, 7, 1.5)


def test_the_training_batches_carry_the_given_targets():
    k, n = 7, 12
    rng = np.random.default_rng(0)
    images = np.broadcast_to(
        np.arange(n, dtype=np.float32)[:, None, None, None], (n, 8, 8, 3)
    ).copy()
    targets = rng.dirichlet(np.ones(k), size=n).astype(np.float32)
    config = parse_config(["--task", TASK.id, "--batch_size", "4", "--augment", "none"])
    ds = make_dataset(
        images,
        np.zeros((n, 0), np.float32),
        np.arange(n) % k,
        k,
        config,
        True,
        targets=targets,
        sampling=np.ones(k),
    )
    for inputs, y, _ in ds.take(5):
        which = inputs["image"].numpy()[:, 0, 0, 0].astype(int)  # image i is filled with i
        np.testing.assert_allclose(y.numpy(), targets[which], atol=1e-6)


def test_a_student_trains_on_the_answers_and_records_its_teacher(answers, tmp_path):
    student = tiny_run(tmp_path / "student", "--teacher", str(answers), "--teacher_weight", "0.7")
    config = json.loads((student / "config.json").read_text())
    assert "teacher" not in config  # the product's recipe file …
    assert json.loads((student / "research.json").read_text()) == {  # … and the experiment's
        "teacher": str(answers)
    }
    assert json.loads((student / "report.json").read_text())["variation"] == {
        "teacher": str(answers)
    }
    assert (student / "model.keras").is_file()
