"""Datasets as tables, lesion-grouped splits, and images as arrays.

A dataset is a pandas DataFrame with one row per image and at least the
columns ``image_id``, ``group`` (what must not be split: the lesion),
``label`` (a label id of the task), ``label_index`` and ``path``. Metadata
columns are named after the task's metadata fields.
"""
from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import pandas as pd

from training.tasks import Task

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DATA_ROOT = PROJECT_ROOT.parent / "shared" / "data"
SPLITS = ("train", "val", "test")

# HAM10000 ships its images flat (as in ../shared/data/ham10000/images) or in
# the two folders of the original download.
HAM10000_IMAGE_DIRS = ("images", "HAM10000_images_part_1", "HAM10000_images_part_2", ".")


class DataError(ValueError):
    """The dataset on disk is not usable; the message names the offending rows."""


def data_root(explicit: str | Path | None = None) -> Path:
    """The data folder: an explicit path, else $SCREENER_DATA_DIR, else ../shared/data."""
    import os
    return Path(explicit or os.environ.get("SCREENER_DATA_DIR") or DEFAULT_DATA_ROOT)


def _rows(frame: pd.DataFrame, limit: int = 10) -> str:
    ids = list(frame["image_id"])
    more = f" … and {len(ids) - limit} more" if len(ids) > limit else ""
    return ", ".join(f"row {i + 2} ({image_id})" for i, image_id in
                     zip(frame.index[:limit], ids[:limit])) + more


def load_ham10000(folder: str | Path, task: Task) -> pd.DataFrame:
    folder = Path(folder)
    csv = folder / "HAM10000_metadata.csv"
    if not csv.is_file():
        raise DataError(f"no HAM10000_metadata.csv in {folder}")
    table = pd.read_csv(csv)
    needed = {"lesion_id", "image_id", "dx", "age", "sex", "localization"}
    if missing := needed - set(table.columns):
        raise DataError(f"{csv} lacks column(s) {sorted(missing)}")
    table = table.reset_index(drop=True)

    bad = table[~table["dx"].isin(task.label_ids)]
    if len(bad):
        raise DataError(f"{csv}: unknown label(s) {sorted(set(bad['dx'].astype(str)))} in "
                        f"{_rows(bad)}; valid labels: {', '.join(task.label_ids)}")

    dirs = [folder / d for d in HAM10000_IMAGE_DIRS if (folder / d).is_dir()]
    index = {}
    for d in reversed(dirs):
        for p in d.glob("*.jpg"):
            index[p.stem] = p
    table["path"] = table["image_id"].map(lambda i: str(index[i]) if i in index else None)
    missing_files = table[table["path"].isna()]
    if len(missing_files):
        raise DataError(f"{len(missing_files)} image file(s) missing under {folder}: "
                        f"{_rows(missing_files)}")

    sources = folder / "HAM10000_metadata_sources.csv"
    if sources.is_file():
        src = pd.read_csv(sources)[["image_id", "dataset"]]
        table = table.merge(src, on="image_id", how="left")

    label_index = {label: i for i, label in enumerate(task.label_ids)}
    return pd.DataFrame({
        "image_id": table["image_id"],
        "group": table["lesion_id"],
        "label": table["dx"],
        "label_index": table["dx"].map(label_index).astype(int),
        "path": table["path"],
        "age": pd.to_numeric(table["age"], errors="coerce"),
        "sex": table["sex"].fillna("unknown").str.lower(),
        "site": table["localization"].fillna("unknown").str.lower(),
        "dx_type": table.get("dx_type", pd.Series(["unknown"] * len(table))),
        "source": table.get("dataset", pd.Series([None] * len(table))),
    })


IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png"}


def load_class_folders(folder: str | Path, task, folders: dict[str, str], group_of) -> pd.DataFrame:
    """A dataset stored as one folder per label (``folders``: label id → folder name).

    ``group_of(file_name)`` names what must stay in one split (a patient, a slide);
    a file it cannot read stops the load with an error naming the files.
    """
    folder = Path(folder)
    rows, unnamed = [], []
    for label, name in folders.items():
        if label not in task.label_ids:
            raise DataError(f"folder {name!r} maps to unknown label {label!r}; "
                            f"valid labels: {', '.join(task.label_ids)}")
        sub = folder / name
        if not sub.is_dir():
            raise DataError(f"no folder {sub} (expected one folder per label: "
                            f"{', '.join(folders.values())})")
        for path in sorted(sub.iterdir()):
            if path.suffix.lower() not in IMAGE_SUFFIXES:
                continue
            group = group_of(path.name)
            if not group:
                unnamed.append(path.name)
            rows.append({"image_id": path.stem, "group": group, "label": label,
                         "path": str(path)})
    if unnamed:
        raise DataError(f"cannot tell the group (patient/slide) of {len(unnamed)} file(s): "
                        + ", ".join(unnamed[:10]))
    if not rows:
        raise DataError(f"no images under {folder}")
    table = pd.DataFrame(rows)
    table["label_index"] = table["label"].map(task.label_ids.index).astype(int)
    return table


def split_dataset(table: pd.DataFrame, seed: int = 42, val_fraction: float = 0.15,
                  test_fraction: float = 0.15, fold: int = 0) -> pd.Series:
    """Assign each row to train/val/test, grouped by ``group``, stratified by label.

    The test part is fold ``fold`` of ``round(1 / test_fraction)`` lesion-grouped folds,
    so ``test_fraction=0.2`` and ``fold`` 0…4 give the five test parts of a 5-fold
    cross-validation (each row in exactly one); validation is then carved out of the rest.
    """
    import warnings

    from sklearn.model_selection import StratifiedGroupKFold

    n_test = max(2, round(1 / test_fraction))
    if not 0 <= fold < n_test:
        raise ValueError(f"fold {fold} of {n_test}")
    if table["label"].value_counts().max() < n_test:
        if fold:
            raise ValueError("too few rows for cross-validation folds")
        return _small_split(table, seed, val_fraction, test_fraction)
    split = pd.Series("train", index=table.index, dtype=object)
    with warnings.catch_warnings():
        # Rare classes may have fewer groups than folds; StratifiedGroupKFold copes.
        warnings.filterwarnings("ignore", message="The least populated class")
        folds = StratifiedGroupKFold(n_splits=n_test, shuffle=True, random_state=seed)
        rest, test = list(folds.split(table, table["label"], table["group"]))[fold]
        split.iloc[test] = "test"
        remaining = table.iloc[rest]
        n_val = max(2, round((1 - test_fraction) / val_fraction))
        folds = StratifiedGroupKFold(n_splits=n_val, shuffle=True, random_state=seed + 1)
        _, val = next(folds.split(remaining, remaining["label"], remaining["group"]))
    split.iloc[rest[val]] = "val"
    return split


def _small_split(table, seed, val_fraction, test_fraction) -> pd.Series:
    """For tiny tables (tests): per label, shuffle its groups and deal them out."""
    rng = np.random.default_rng(seed)
    split = pd.Series("train", index=table.index, dtype=object)
    for _, rows in table.groupby("label", sort=True):
        groups = rng.permutation(rows["group"].unique())
        n_test = max(1, round(len(groups) * test_fraction)) if len(groups) > 2 else 0
        n_val = max(1, round(len(groups) * val_fraction)) if len(groups) > 2 else 0
        split[table["group"].isin(groups[:n_test])] = "test"
        split[table["group"].isin(groups[n_test:n_test + n_val])] = "val"
    return split


def sample_per_label(table: pd.DataFrame, per_label: int, seed: int = 0) -> pd.DataFrame:
    """Up to ``per_label`` random rows of each label (every label represented)."""
    parts = [rows.sample(min(len(rows), per_label), random_state=seed)
             for _, rows in table.groupby("label", sort=True)]
    return pd.concat(parts)


def write_split(table: pd.DataFrame, split: pd.Series, path: str | Path) -> None:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    out = pd.DataFrame({"image_id": table["image_id"], "group": table["group"],
                        "label": table["label"], "split": split})
    out.to_csv(path, index=False)


def read_split(table: pd.DataFrame, path: str | Path) -> pd.Series:
    saved = pd.read_csv(path)
    by_id = dict(zip(saved["image_id"], saved["split"]))
    missing = table[~table["image_id"].isin(by_id)]
    if len(missing):
        raise DataError(f"split file {path} has no entry for {_rows(missing)}")
    return table["image_id"].map(by_id)


def split_rows(table: pd.DataFrame, split_file: str | Path, name: str) -> pd.DataFrame:
    """The rows of ``table`` that the saved split puts in ``name`` (train/val/test).

    Rows the split file does not know (e.g. a run on a subset) are left out.
    """
    known = table[table["image_id"].isin(pd.read_csv(split_file)["image_id"])]
    return known[read_split(known, split_file) == name]


def load_images(paths, size_hw: tuple[int, int], cache_dir: str | Path | None = None) -> np.ndarray:
    """Decode every image, resized to ``size_hw`` (H, W), as uint8 (N, H, W, 3).

    An unreadable image stops with an error naming it. With ``cache_dir`` the
    array is kept on disk, keyed by the list of paths and the size.
    """
    from PIL import Image

    paths = [str(p) for p in paths]
    cache = None
    if cache_dir:
        key = hashlib.sha1(("\n".join(paths) + f"|{size_hw}").encode()).hexdigest()[:16]
        cache = Path(cache_dir) / f"images_{key}.npy"
        if cache.is_file():
            return np.load(cache, mmap_mode="r")
    h, w = size_hw
    out = np.empty((len(paths), h, w, 3), dtype=np.uint8)
    unreadable = []
    for i, p in enumerate(paths):
        try:
            with Image.open(p) as im:
                im = im.convert("RGB")
                if im.size != (w, h):
                    im = im.resize((w, h), Image.BILINEAR)
                out[i] = np.asarray(im)
        except Exception as error:  # noqa: BLE001 - reported below, with the file
            unreadable.append(f"{p} ({error.__class__.__name__})")
    if unreadable:
        raise DataError(f"{len(unreadable)} unreadable image(s): " + "; ".join(unreadable[:10]))
    if cache:
        cache.parent.mkdir(parents=True, exist_ok=True)
        np.save(cache, out)
    return out


def metadata_matrix(table: pd.DataFrame, task: Task) -> np.ndarray:
    from training.encoding import encode_metadata
    names = [f.name for f in task.metadata_fields]
    if not names:
        return np.zeros((len(table), 0), dtype=np.float32)
    rows = table[names].to_dict("records")
    return np.stack([encode_metadata(task, r) for r in rows]).astype(np.float32)
