"""Row filters: a collection held out of training and validation, a share of the lesions."""

import pytest

from research.rows import hold_out_source, train_fraction
from research.tests.conftest import TASK, needs_data
from training.fitting.config import TrainConfig
from training.inputs.data import load_data, part_rows


def test_held_out_source_is_left_out_of_training_and_validation_only(tmp_path):
    needs_data()
    config = TrainConfig(task="skin_lesion", limit=70, out=str(tmp_path), cache_dir="")
    rows = hold_out_source("vidir_molemax")
    table, split, parts = load_data(config, TASK, rows=rows)
    held = (table["source"] == "vidir_molemax").to_numpy()
    for name in ("train", "val"):
        assert len(parts[name][2]) == int(((split == name).to_numpy() & ~held).sum())
        assert not (part_rows(table, split, name, rows)["source"] == "vidir_molemax").any()
    assert len(parts["test"][2]) == int((split == "test").sum())  # the test split is whole
    assert held.any() and (held & (split != "test").to_numpy()).any()
    with pytest.raises(SystemExit, match="no such source"):
        load_data(config, TASK, rows=hold_out_source("nowhere"))


def test_train_fraction_keeps_whole_lesions_of_every_label_nested(tmp_path):
    needs_data()
    runs = {}
    config = TrainConfig(
        task="skin_lesion",
        limit=140,
        out=str(tmp_path),
        cache_dir="",
        split_file=str(tmp_path / "split.csv"),
    )
    for fraction in (1.0, 0.5, 0.25):
        rows = train_fraction(fraction)
        table, split, parts = load_data(config, TASK, rows=rows)
        every = table[(split == "train").to_numpy()]
        used = part_rows(table, split, "train", rows)
        runs[fraction] = set(used["group"])
        assert len(parts["train"][2]) == len(used)
        assert set(used["label"]) == set(every["label"])  # every label kept
        assert every[every["group"].isin(runs[fraction])].shape[0] == len(used)  # whole lesions
        for name in ("val", "test"):  # only training shrinks
            assert len(parts[name][2]) == int((split == name).sum())
    assert runs[0.25] < runs[0.5] < runs[1.0]
    assert len(runs[0.5]) == pytest.approx(len(runs[1.0]) / 2, abs=7)
    with pytest.raises(SystemExit, match="train_fraction"):
        train_fraction(1.5)
