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

from training.inputs.datasets import DataError, _rows
from training.inputs.encoding import encode_metadata
from training.inputs.tasks import Task

PROJECT_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_DATA_ROOT = PROJECT_ROOT.parent / "shared" / "data"
SPLITS = ("train", "val", "test")


def data_root(explicit: str | Path | None = None) -> Path:
    """The data folder: an explicit path, else $SCREENER_DATA_DIR, else ../shared/data."""
    import os

    return Path(explicit or os.environ.get("SCREENER_DATA_DIR") or DEFAULT_DATA_ROOT)


def split_dataset(
    table: pd.DataFrame,
    seed: int = 42,
    val_fraction: float = 0.15,
    test_fraction: float = 0.15,
    fold: int = 0,
) -> pd.Series:
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
        split[table["group"].isin(groups[n_test : n_test + n_val])] = "val"
    return split


def sample_per_label(table: pd.DataFrame, per_label: int, seed: int = 0) -> pd.DataFrame:
    """Up to ``per_label`` random rows of each label (every label represented)."""
    parts = [
        rows.sample(min(len(rows), per_label), random_state=seed)
        for _, rows in table.groupby("label", sort=True)
    ]
    return pd.concat(parts)


def write_split(table: pd.DataFrame, split: pd.Series, path: str | Path) -> None:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    out = pd.DataFrame(
        {
            "image_id": table["image_id"],
            "group": table["group"],
            "label": table["label"],
            "split": split,
        }
    )
    out.to_csv(path, index=False)


def read_split(table: pd.DataFrame, path: str | Path) -> pd.Series:
    saved = pd.read_csv(path)
    by_id = dict(zip(saved["image_id"], saved["split"]))
    missing = table[~table["image_id"].isin(by_id)]
    if len(missing):
        raise DataError(f"split file {path} has no entry for {_rows(missing)}")
    return table["image_id"].map(by_id)


def split_rows(table: pd.DataFrame, split: pd.Series | str | Path, name: str) -> pd.DataFrame:
    """The rows of ``table`` that ``split`` puts in ``name`` (train/val/test), in table order.

    ``split`` is the assignment of every row (a Series beside ``table``, as ``load_data``
    gives it) or a saved split file, whose unknown rows (e.g. a run on a subset) are left out.
    """
    if not isinstance(split, pd.Series):
        table = table[table["image_id"].isin(pd.read_csv(split)["image_id"])]
        split = read_split(table, split)
    return table[(split == name).to_numpy()]


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
    names = [f.name for f in task.metadata_fields]
    if not names:
        return np.zeros((len(table), 0), dtype=np.float32)
    rows = table[names].to_dict("records")
    return np.stack([encode_metadata(task, r) for r in rows]).astype(np.float32)


def subset(table: pd.DataFrame, limit: int, seed: int) -> pd.DataFrame:
    """About ``limit`` rows with every label represented (for tests and smoke runs)."""
    per_label = max(1, limit // table["label"].nunique())
    return sample_per_label(table, per_label, seed).reset_index(drop=True)


def load_data(config, task: Task, out: Path | None = None, rows=None):
    """(table, split, {name: (images, metadata, labels)}) for train/val/test of a run's
    ``config`` (a ``training.fitting.config.TrainConfig``).

    The split comes from the split file (made and saved if absent); with ``out`` a copy of
    it is written beside the run. ``rows(part_rows, name)``, if given, chooses which of a
    part's rows are used (an experiment's row filter, see ``research/``); the table and
    the split stay whole.
    """
    table = task.load(data_root(config.data_dir or None))
    if config.limit:
        table = subset(table, config.limit, config.seed)
    split_path = config.resolved_split_file()
    fresh = config.limit and not config.split_file  # a subset run splits its own subset
    if split_path.is_file() and not fresh:
        split = read_split(table, split_path)
    else:
        split = split_dataset(table, seed=config.seed)
        write_split(table, split, split_path)
    if out is not None and not config.limit and split_path != out / "split.csv":
        write_split(table, split, out / "split.csv")
    size = config.model.image_size or task.image_size
    print(
        f"[data] {len(table)} images; "
        + ", ".join(f"{s}={int((split == s).sum())}" for s in SPLITS),
        flush=True,
    )
    parts = {}
    for name in SPLITS:
        part = part_rows(table, split, name, rows)
        images = np.asarray(load_images(part["path"], size, cache_dir=config.cache_dir or None))
        parts[name] = (images, metadata_matrix(part, task), part["label_index"].to_numpy())
    return table, split, parts


def part_rows(table: pd.DataFrame, split: pd.Series, name: str, rows=None) -> pd.DataFrame:
    """The rows ``load_data`` uses for part ``name`` (its ``rows`` filter applied), in its order."""
    part = split_rows(table, split, name)
    return part if rows is None else rows(part, name)
