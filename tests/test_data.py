"""Loading HAM10000-style folders, lesion-grouped splits, and bad data."""

import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from training.inputs.data import PROJECT_ROOT, data_root, load_images, read_split, split_dataset
from training.inputs.datasets import DataError
from training.inputs.tasks import get_task

SAMPLES = Path(__file__).parent / "data" / "ham10000"
TASK = get_task("skin_lesion")


@pytest.fixture(scope="module")
def full_table():
    folder = data_root() / TASK.dataset_dir
    if not folder.is_dir():
        pytest.skip(f"dataset not found at {folder} (set SCREENER_DATA_DIR)")
    return TASK.load(data_root())


def make_folder(tmp_path, layout="flat"):
    """A HAM10000-style folder with the seven committed sample images."""
    table = pd.read_csv(SAMPLES / "samples.csv")
    table.to_csv(tmp_path / "HAM10000_metadata.csv", index=False)
    for i, image_id in enumerate(table["image_id"]):
        sub = "images" if layout == "flat" else f"HAM10000_images_part_{1 + i % 2}"
        (tmp_path / sub).mkdir(exist_ok=True)
        shutil.copy(SAMPLES / f"{image_id}.jpg", tmp_path / sub / f"{image_id}.jpg")
    return tmp_path


@pytest.mark.parametrize("layout", ["flat", "two_folders"])
def test_loads_both_layouts(tmp_path, layout):
    table = TASK.loader(make_folder(tmp_path, layout), TASK)
    assert sorted(table["label"]) == TASK.label_ids
    assert all(Path(p).is_file() for p in table["path"])
    assert table["label_index"].tolist() == [TASK.label_ids.index(l) for l in table["label"]]


def test_missing_image_is_named(tmp_path):
    folder = make_folder(tmp_path)
    next((folder / "images").glob("ISIC_0031023.jpg")).unlink()
    with pytest.raises(DataError, match=r"missing.*ISIC_0031023"):
        TASK.loader(folder, TASK)


def test_unknown_label_is_named(tmp_path):
    folder = make_folder(tmp_path)
    table = pd.read_csv(folder / "HAM10000_metadata.csv")
    table.loc[2, "dx"] = "psoriasis"
    table.to_csv(folder / "HAM10000_metadata.csv", index=False)
    with pytest.raises(DataError, match=r"psoriasis.*row 4 \(ISIC_0025661\)"):
        TASK.loader(folder, TASK)


def test_unreadable_image_is_named(tmp_path):
    folder = make_folder(tmp_path)
    (folder / "images" / "ISIC_0025775.jpg").write_bytes(b"\xff\xd8\xff\xe0 not really a jpeg")
    table = TASK.loader(folder, TASK)
    with pytest.raises(DataError, match="ISIC_0025775"):
        load_images(table["path"], (48, 64))


def test_images_load_at_the_requested_size(tmp_path):
    table = TASK.loader(make_folder(tmp_path), TASK)
    images = load_images(table["path"], (48, 64), cache_dir=tmp_path / "cache")
    assert images.shape == (7, 48, 64, 3) and images.dtype == np.uint8
    again = load_images(table["path"], (48, 64), cache_dir=tmp_path / "cache")
    np.testing.assert_array_equal(images, again)


def test_full_dataset_loads_with_metadata_gaps(full_table):
    assert len(full_table) == 10015
    assert full_table["age"].isna().sum() == 57
    assert (full_table["site"] == "unknown").sum() == 234
    assert full_table["group"].nunique() == 7470


def test_split_is_lesion_disjoint_stratified_and_reproducible(full_table):
    split = split_dataset(full_table, seed=42)
    groups = {name: set(full_table["group"][split == name]) for name in ("train", "val", "test")}
    assert not groups["train"] & groups["val"]
    assert not groups["train"] & groups["test"]
    assert not groups["val"] & groups["test"]
    shares = split.value_counts(normalize=True)
    assert shares["test"] == pytest.approx(0.15, abs=0.02)
    assert shares["val"] == pytest.approx(0.15, abs=0.02)
    for label in TASK.label_ids:  # every class in every split, in about the same proportion
        of_label = split[full_table["label"] == label].value_counts(normalize=True)
        assert of_label["test"] == pytest.approx(0.15, abs=0.05), label
    assert split.equals(split_dataset(full_table, seed=42))
    assert not split.equals(split_dataset(full_table, seed=7))


def test_cross_validation_folds_test_every_image_once(full_table):
    folds = [split_dataset(full_table, seed=42, test_fraction=0.2, fold=f) for f in range(5)]
    tested = np.stack([(split == "test").to_numpy() for split in folds])
    assert (tested.sum(axis=0) == 1).all()  # each image in exactly one test fold
    for split in folds:
        groups = {
            name: set(full_table["group"][split == name]) for name in ("train", "val", "test")
        }
        assert not groups["train"] & groups["test"] and not groups["val"] & groups["test"]
        assert not groups["train"] & groups["val"]
        for label in TASK.label_ids:
            of_label = split[full_table["label"] == label].value_counts(normalize=True)
            assert of_label["test"] == pytest.approx(0.2, abs=0.06), label
    # Fold 0 of the 7-fold default is the shipped split.
    shipped = read_split(full_table, PROJECT_ROOT / "reports" / TASK.id / "split.csv")
    assert (split_dataset(full_table, seed=42, fold=0) == shipped).all()
    assert not (split_dataset(full_table, seed=42, fold=1) == shipped).all()
    with pytest.raises(ValueError):
        split_dataset(full_table, seed=42, test_fraction=0.2, fold=5)


def test_committed_split_is_lesion_disjoint(full_table):
    path = PROJECT_ROOT / "reports" / TASK.id / "split.csv"
    split = read_split(full_table, path)
    per_group = (
        pd.DataFrame({"group": full_table["group"], "split": split})
        .groupby("group")["split"]
        .nunique()
    )
    assert (per_group == 1).all()


def test_describe_counts_images_groups_and_metadata(tmp_path):
    from training.reporting.describe import describe

    table = TASK.loader(make_folder(tmp_path), TASK)
    table.loc[0, "group"] = table.loc[1, "group"]  # two images of one lesion…
    table.loc[0, "label"] = table.loc[1, "label"]  # …with one diagnosis
    summary = describe(table, TASK.label_ids)
    label = table.loc[1, "label"]
    assert summary["images_per_label"][label] == 2 and summary["groups_per_label"][label] == 1
    assert summary["n_images"] == 7 and summary["n_groups"] == 6
    assert sum(sum(c) for c in summary["age"]["counts"].values()) == 7
    sex = summary["categories"]["sex"]
    assert sum(sum(c) for c in sex["counts"].values()) == 7 and "male" in sex["values"]


@pytest.mark.parametrize(
    "file_name, patient",
    [
        ("person1000_bacteria_2931.jpeg", "person1000"),
        ("person1000_virus_1681.jpeg", "person1000"),
        ("IM-0629-0002.jpeg", "IM-0629"),
        ("NORMAL2-IM-0383-0001.jpeg", "NORMAL2-IM-0383"),
        ("scan.jpeg", None),
    ],
)
def test_chest_xray_patient_from_file_name(file_name, patient):
    from training.inputs.tasks import _chest_xray_patient

    assert _chest_xray_patient(file_name) == patient


@pytest.mark.parametrize(
    "task_id, per_label",
    [
        ("chest_xray", {"normal": 1341, "pneumonia": 3875}),
        ("malaria", {"parasitized": 11111, "uninfected": 11377}),
    ],
)
def test_other_tasks_split_by_patient_or_slide(task_id, per_label):
    task = get_task(task_id)
    if not (data_root() / task.dataset_dir).is_dir():
        pytest.skip("dataset not available")
    table = task.load(data_root())
    assert table["label"].value_counts().to_dict() == per_label
    split = split_dataset(table, seed=42)
    groups = {name: set(table["group"][split == name]) for name in ("train", "val", "test")}
    assert not (
        groups["train"] & groups["test"]
        or groups["train"] & groups["val"]
        or groups["val"] & groups["test"]
    )
    assert split.value_counts(normalize=True)["test"] == pytest.approx(0.15, abs=0.03)


def test_class_folder_errors_name_the_problem(tmp_path):
    from training.inputs.datasets import load_class_folders

    task = get_task("malaria")
    with pytest.raises(DataError, match="no folder"):
        load_class_folders(tmp_path, task, {"parasitized": "P", "uninfected": "U"}, lambda n: n)
    for name in ("P", "U"):
        (tmp_path / name).mkdir()
        shutil.copy(next(SAMPLES.glob("*.jpg")), tmp_path / name / "noslide.jpg")
    with pytest.raises(DataError, match="cannot tell the group.*noslide.jpg"):
        load_class_folders(tmp_path, task, {"parasitized": "P", "uninfected": "U"}, lambda n: None)


def test_split_rows_reads_a_split_or_a_split_file(tmp_path):
    """One ``split_rows``: from the split beside the table, or from a saved split file
    (whose unknown rows are left out)."""
    from training.inputs.data import split_rows, write_split

    table = pd.DataFrame(
        {
            "image_id": [f"i{n}" for n in range(6)],
            "group": list("aabbcc"),
            "label": ["x", "x", "y", "y", "x", "y"],
        }
    )
    split = pd.Series(["train", "train", "val", "val", "test", "test"], index=table.index)
    assert split_rows(table, split, "val")["image_id"].tolist() == ["i2", "i3"]
    write_split(table.iloc[:4], split.iloc[:4], tmp_path / "split.csv")
    assert split_rows(table, tmp_path / "split.csv", "train")["image_id"].tolist() == ["i0", "i1"]
    assert split_rows(table, tmp_path / "split.csv", "test").empty
