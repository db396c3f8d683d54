"""Read each dataset as it lies on disk into a table (one row per image).

The loaders of ``training.inputs.tasks`` call these; they import nothing of the project, so
the task registry can name them without an import loop (tasks → datasets; data, which
assembles training arrays, imports both). The table's columns are described in
``training.inputs.data``.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

# HAM10000 ships its images flat (as in ../shared/data/ham10000/images) or in
# the two folders of the original download.
HAM10000_IMAGE_DIRS = ("images", "HAM10000_images_part_1", "HAM10000_images_part_2", ".")


class DataError(ValueError):
    """The dataset on disk is not usable; the message names the offending rows."""


def _rows(frame: pd.DataFrame, limit: int = 10) -> str:
    ids = list(frame["image_id"])
    more = f" … and {len(ids) - limit} more" if len(ids) > limit else ""
    return (
        ", ".join(
            f"row {i + 2} ({image_id})" for i, image_id in zip(frame.index[:limit], ids[:limit])
        )
        + more
    )


def load_ham10000(folder: str | Path, task) -> pd.DataFrame:
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
        raise DataError(
            f"{csv}: unknown label(s) {sorted(set(bad['dx'].astype(str)))} in "
            f"{_rows(bad)}; valid labels: {', '.join(task.label_ids)}"
        )

    dirs = [folder / d for d in HAM10000_IMAGE_DIRS if (folder / d).is_dir()]
    index = {}
    for d in reversed(dirs):
        for p in d.glob("*.jpg"):
            index[p.stem] = p
    table["path"] = table["image_id"].map(lambda i: str(index[i]) if i in index else None)
    missing_files = table[table["path"].isna()]
    if len(missing_files):
        raise DataError(
            f"{len(missing_files)} image file(s) missing under {folder}: {_rows(missing_files)}"
        )

    sources = folder / "HAM10000_metadata_sources.csv"
    if sources.is_file():
        src = pd.read_csv(sources)[["image_id", "dataset"]]
        table = table.merge(src, on="image_id", how="left")

    label_index = {label: i for i, label in enumerate(task.label_ids)}
    return pd.DataFrame(
        {
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
        }
    )


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
            raise DataError(
                f"folder {name!r} maps to unknown label {label!r}; "
                f"valid labels: {', '.join(task.label_ids)}"
            )
        sub = folder / name
        if not sub.is_dir():
            raise DataError(
                f"no folder {sub} (expected one folder per label: {', '.join(folders.values())})"
            )
        for path in sorted(sub.iterdir()):
            if path.suffix.lower() not in IMAGE_SUFFIXES:
                continue
            group = group_of(path.name)
            if not group:
                unnamed.append(path.name)
            rows.append({"image_id": path.stem, "group": group, "label": label, "path": str(path)})
    if unnamed:
        raise DataError(
            f"cannot tell the group (patient/slide) of {len(unnamed)} file(s): "
            + ", ".join(unnamed[:10])
        )
    if not rows:
        raise DataError(f"no images under {folder}")
    table = pd.DataFrame(rows)
    table["label_index"] = table["label"].map(task.label_ids.index).astype(int)
    return table
