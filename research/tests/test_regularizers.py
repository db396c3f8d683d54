"""Experiments' training changes: CutMix (the pasted area and the label mass moved agree), the
focal and logit-adjusted losses, a start from a saved network, and research.train's flags."""

import numpy as np
import pytest

tf = pytest.importorskip("tensorflow")

from research.cutmix import cutmix  # noqa: E402
from research.train import Variation, hooks, parse  # noqa: E402


def constant_batch(n=6, h=24, w=32, k=7):
    """Image i is filled with the value i; its label is class i (one-hot)."""
    images = np.broadcast_to(
        np.arange(n, dtype=np.float32)[:, None, None, None], (n, h, w, 3)
    ).copy()
    labels = np.eye(k, dtype=np.float32)[np.arange(n)]
    weights = np.arange(1, n + 1, dtype=np.float32)
    return images, labels, weights


def test_cutmix_moves_as_much_label_as_it_pastes_image():
    tf.random.set_seed(0)
    images, labels, weights = constant_batch()
    mixed_some = 0
    for _ in range(20):
        x, y, sw = (t.numpy() for t in cutmix(images, labels, weights, probability=1.0))
        assert np.allclose(y.sum(axis=1), 1.0)
        for i in range(len(images)):
            foreign = x[i, :, :, 0] != i
            share = foreign.mean()
            # The label of image i keeps 1 - share of its own class, the rest goes to the
            # class whose pixels were pasted (one other image per batch).
            # (An image given its own pixels keeps its whole label: share 0.)
            assert y[i, i] == pytest.approx(1.0 - share, abs=1e-6)
            if foreign.any():
                mixed_some += 1
                donor = int(x[i][foreign][0, 0])
                assert np.all(x[i][foreign] == donor)
                assert y[i, donor] == pytest.approx(share, abs=1e-6)
                assert sw[i] == pytest.approx(
                    (1 - share) * weights[i] + share * weights[donor], abs=1e-5
                )
                # The pasted region is one rectangle.
                rows, cols = np.nonzero(foreign)
                assert foreign[rows.min() : rows.max() + 1, cols.min() : cols.max() + 1].all()
    assert mixed_some > 20


def test_cutmix_with_probability_zero_changes_nothing():
    images, labels, weights = constant_batch()
    x, y, sw = (t.numpy() for t in cutmix(images, labels, weights, probability=0.0))
    assert np.array_equal(x, images) and np.array_equal(y, labels) and np.array_equal(sw, weights)


def test_mix_flag_is_checked():
    config, variation = parse(["--task", "skin_lesion", "--mix", "cutmix"])
    assert variation.mix == "cutmix" and config.task == "skin_lesion"
    assert "batches" in hooks(variation, config)
    with pytest.raises(ValueError, match="mix"):
        parse(["--task", "skin_lesion", "--mix", "mixup"])


def test_focal_loss_spares_easy_images_and_refuses_negative_gamma():
    from training.fitting.config import TrainConfig
    from training.fitting.train import training_loss

    y = np.eye(3, dtype=np.float32)[[0, 0]]
    p = np.array([[0.95, 0.03, 0.02], [0.3, 0.4, 0.3]], np.float32)  # easy, hard
    config = TrainConfig(task="skin_lesion")
    ce = training_loss(config)
    focal = hooks(Variation(focal_gamma=2.0), config)["loss"](np.array([5, 5, 5]))
    easy_ce, hard_ce = (float(ce(y[i : i + 1], p[i : i + 1])) for i in range(2))
    easy_f, hard_f = (float(focal(y[i : i + 1], p[i : i + 1])) for i in range(2))
    assert easy_f == pytest.approx(easy_ce * 0.05**2, rel=1e-3)
    assert hard_f == pytest.approx(hard_ce * 0.7**2, rel=1e-3)
    with pytest.raises(ValueError):
        hooks(Variation(focal_gamma=-1.0), config)
    with pytest.raises(ValueError, match="no focal variant"):
        hooks(Variation(focal_gamma=2.0, imbalance="logit_adjusted"), config)


def test_logit_adjusted_loss_is_cross_entropy_of_prior_shifted_logits():
    from training.fitting.config import TrainConfig
    from training.fitting.train import training_loss

    counts = np.array([60, 30, 10])
    prior = counts / counts.sum()
    config, variation = parse(["--task", "skin_lesion", "--imbalance", "logit_adjusted"])
    assert config.imbalance == "none" and variation.imbalance == "logit_adjusted"
    found = hooks(variation, config)
    assert found["balance"](np.array([0, 0, 1]), 3) == (None, None)  # natural batches
    loss = found["loss"](counts)
    p = np.array([[0.5, 0.3, 0.2], [0.2, 0.2, 0.6]], np.float32)
    y = np.eye(3, dtype=np.float32)[[2, 0]]
    shifted = np.log(p) + np.log(prior)
    q = np.exp(shifted) / np.exp(shifted).sum(axis=1, keepdims=True)
    expected = -np.log(q[[0, 1], [2, 0]])
    for i in range(2):
        assert float(loss(y[i : i + 1], p[i : i + 1])) == pytest.approx(expected[i], rel=1e-4)
    # a rare class is penalised more than plain cross-entropy would: its margin is larger
    plain = training_loss(TrainConfig(task="skin_lesion"))
    assert float(loss(y[:1], p[:1])) > float(plain(y[:1], p[:1]))
    # at τ = 0 it is the plain cross-entropy
    flat = hooks(Variation(imbalance="logit_adjusted", logit_tau=0.0), config)["loss"](counts)
    assert float(flat(y, p)) == pytest.approx(float(plain(y, p)), rel=1e-5)
    with pytest.raises(ValueError):
        found["loss"](np.array([5, 0, 3]))


def test_logit_adjusted_training_saves_and_loads(tmp_path):
    import keras

    from research.losses import LogitAdjustedCrossentropy

    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3, activation="softmax")])
    model.compile(optimizer="adam", loss=LogitAdjustedCrossentropy([0.6, 0.3, 0.1], 1.0, 0.1))
    x = np.random.default_rng(0).normal(size=(16, 4)).astype("float32")
    y = np.eye(3, dtype="float32")[np.arange(16) % 3]
    model.fit(x, y, epochs=1, verbose=0)
    model.save(tmp_path / "m.keras")
    again = keras.models.load_model(tmp_path / "m.keras")
    assert again.loss.get_config()["prior"] == pytest.approx([0.6, 0.3, 0.1])
    np.testing.assert_allclose(again.predict(x, verbose=0), model.predict(x, verbose=0))


def test_init_starts_training_from_a_saved_model(tmp_path):
    """--init copies every weight of a saved network; a different network is refused."""
    from training.fitting.config import TrainConfig
    from training.fitting.model import ModelConfig, build_model
    from training.inputs.tasks import get_task

    def initial_model(model, init):
        config = TrainConfig(task=task.id, model=model)
        return hooks(Variation(init=init), config)["network"](task, config)

    task = get_task("skin_lesion")
    small = ModelConfig(alpha=0.25, image_size=(64, 64), weights="none")
    source = build_model(task, small)
    for w in source.weights:
        w.assign(np.full(w.shape, 0.01, dtype="float32"))
    source.save(tmp_path / "source.keras")
    fresh = initial_model(small, str(tmp_path / "source.keras"))
    assert all(np.allclose(w, 0.01) for w in fresh.get_weights())
    assert not all(np.allclose(w, 0.01) for w in build_model(task, small).get_weights())
    wider = ModelConfig(alpha=0.5, image_size=(64, 64), weights="none")
    with pytest.raises(ValueError, match="not the network"):
        initial_model(wider, str(tmp_path / "source.keras"))


def test_sqrt_balance_weighs_and_draws_by_one_over_root_n():
    config, variation = parse(["--task", "skin_lesion", "--imbalance", "sqrt"])
    labels = np.array([0] * 16 + [1] * 4 + [2])
    weights, sampling = hooks(variation, config)["balance"](labels, 4)
    np.testing.assert_allclose(sampling[:3], [1 / 4, 1 / 2, 1.0])
    np.testing.assert_allclose(weights[:3] / weights[0], [1.0, 2.0, 4.0], rtol=1e-6)
    assert weights[3] == 0  # an absent class


def test_old_flags_and_configs_read_as_a_variation(tmp_path):
    """An old command line works with research.train; an old run's config.json gives its
    variation back, and the product refuses it."""
    import json

    from research.train import read_run_config, variation_arguments
    from training.fitting.config import config_from_json

    config, variation = parse(
        [
            "--task",
            "skin_lesion",
            "--imbalance",
            "sampling",
            "--model.colour_constancy",
            "shades_of_gray",
            "--hold_out_source",
            "rosendahl",
            "--epochs",
            "3",
        ]
    )
    assert config.imbalance == "sampling" and config.epochs == 3
    assert variation.changes() == {
        "colour_constancy": "shades_of_gray",
        "hold_out_source": "rosendahl",
    }
    again = parse([*variation_arguments(variation), "--task", "skin_lesion"])[1]
    assert again == variation
    saved = {
        "task": "skin_lesion",
        "out": "runs/skin_lesion/old",
        "imbalance": "logit_adjusted",
        "logit_tau": 1.0,
        "focal_gamma": 0.0,
        "mix": "cutmix",
        "mix_probability": 0.5,
        "model": {"alpha": 0.25, "colour_constancy": "none"},
    }
    (tmp_path / "config.json").write_text(json.dumps(saved))
    config, variation = read_run_config(tmp_path)
    assert config.imbalance == "none"
    assert variation.changes() == {"imbalance": "logit_adjusted", "mix": "cutmix"}
    # Retrained in a fresh process (training.fitting.runs.rerun): the same recipe and variation.
    from training.fitting.config import command_line

    assert parse([*variation_arguments(variation), *command_line(config)]) == (config, variation)
    with pytest.raises(ValueError, match="research.train.read_run_config"):
        config_from_json(tmp_path / "config.json")
