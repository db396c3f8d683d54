"""Training regularizers: CutMix (the pasted area and the label mass moved agree) and the focal loss."""
import numpy as np
import pytest

tf = pytest.importorskip("tensorflow")

from training.mixing import cutmix  # noqa: E402
from training.train import parse_config  # noqa: E402


def constant_batch(n=6, h=24, w=32, k=7):
    """Image i is filled with the value i; its label is class i (one-hot)."""
    images = np.broadcast_to(np.arange(n, dtype=np.float32)[:, None, None, None],
                             (n, h, w, 3)).copy()
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
                assert sw[i] == pytest.approx((1 - share) * weights[i] + share * weights[donor],
                                              abs=1e-5)
                # The pasted region is one rectangle.
                rows, cols = np.nonzero(foreign)
                assert foreign[rows.min():rows.max() + 1, cols.min():cols.max() + 1].all()
    assert mixed_some > 20


def test_cutmix_with_probability_zero_changes_nothing():
    images, labels, weights = constant_batch()
    x, y, sw = (t.numpy() for t in cutmix(images, labels, weights, probability=0.0))
    assert np.array_equal(x, images) and np.array_equal(y, labels) and np.array_equal(sw, weights)


def test_mix_flag_is_checked():
    assert parse_config(["--task", "skin_lesion", "--mix", "cutmix"]).mix == "cutmix"
    with pytest.raises(SystemExit):
        parse_config(["--task", "skin_lesion", "--mix", "mixup"])


def test_focal_loss_spares_easy_images_and_refuses_negative_gamma():
    from training.train import TrainConfig, training_loss
    y = np.eye(3, dtype=np.float32)[[0, 0]]
    p = np.array([[0.95, 0.03, 0.02], [0.3, 0.4, 0.3]], np.float32)   # easy, hard
    ce = training_loss(TrainConfig(task="skin_lesion"))
    focal = training_loss(TrainConfig(task="skin_lesion", focal_gamma=2.0))
    easy_ce, hard_ce = (float(ce(y[i:i + 1], p[i:i + 1])) for i in range(2))
    easy_f, hard_f = (float(focal(y[i:i + 1], p[i:i + 1])) for i in range(2))
    assert easy_f == pytest.approx(easy_ce * 0.05 ** 2, rel=1e-3)
    assert hard_f == pytest.approx(hard_ce * 0.7 ** 2, rel=1e-3)
    with pytest.raises(ValueError):
        training_loss(TrainConfig(task="skin_lesion", focal_gamma=-1.0))


def test_logit_adjusted_loss_is_cross_entropy_of_prior_shifted_logits():
    from training.train import TrainConfig, training_loss
    counts = np.array([60, 30, 10])
    prior = counts / counts.sum()
    config = TrainConfig(task="skin_lesion", imbalance="logit_adjusted")
    loss = training_loss(config, counts)
    p = np.array([[0.5, 0.3, 0.2], [0.2, 0.2, 0.6]], np.float32)
    y = np.eye(3, dtype=np.float32)[[2, 0]]
    shifted = np.log(p) + np.log(prior)
    q = np.exp(shifted) / np.exp(shifted).sum(axis=1, keepdims=True)
    expected = -np.log(q[[0, 1], [2, 0]])
    for i in range(2):
        assert float(loss(y[i:i + 1], p[i:i + 1])) == pytest.approx(expected[i], rel=1e-4)
    # a rare class is penalised more than plain cross-entropy would: its margin is larger
    plain = training_loss(TrainConfig(task="skin_lesion"))
    assert float(loss(y[:1], p[:1])) > float(plain(y[:1], p[:1]))
    # at τ = 0 it is the plain cross-entropy
    flat = training_loss(TrainConfig(task="skin_lesion", imbalance="logit_adjusted",
                                     logit_tau=0.0), counts)
    assert float(flat(y, p)) == pytest.approx(float(plain(y, p)), rel=1e-5)
    with pytest.raises(ValueError):
        training_loss(config, np.array([5, 0, 3]))


def test_logit_adjusted_training_saves_and_loads(tmp_path):
    import keras
    from training.train import LogitAdjustedCrossentropy
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
    from training.model import ModelConfig, build_model
    from training.tasks import get_task
    from training.train import TrainConfig, initial_model
    task = get_task("skin_lesion")
    small = ModelConfig(alpha=0.25, image_size=(64, 64), weights="none")
    source = build_model(task, small)
    for w in source.weights:
        w.assign(np.full(w.shape, 0.01, dtype="float32"))
    source.save(tmp_path / "source.keras")
    fresh = initial_model(task, TrainConfig(task=task.id, model=small,
                                            init=str(tmp_path / "source.keras")))
    assert all(np.allclose(w, 0.01) for w in fresh.get_weights())
    assert not all(np.allclose(w, 0.01) for w in initial_model(
        task, TrainConfig(task=task.id, model=small)).get_weights())
    wider = ModelConfig(alpha=0.5, image_size=(64, 64), weights="none")
    with pytest.raises(ValueError, match="not the network"):
        initial_model(task, TrainConfig(task=task.id, model=wider,
                                        init=str(tmp_path / "source.keras")))
