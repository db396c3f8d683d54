"""Describe a task's dataset for the site's data page: ``python -m training.reporting.describe --task TASK``.

Writes ``reports/<task>/data.json``: counts per label (images and distinct
groups, e.g. lesions), and for each recorded metadata column (age, sex, site,
how the label was confirmed, source) its distribution per label, plus the
split sizes per label from the saved split. The site plots this file; it never
reads the dataset itself.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
import pandas as pd

from training.inputs.data import PROJECT_ROOT, data_root, read_split
from training.inputs.tasks import get_task

CATEGORY_COLUMNS = {
    "sex": "Sex",
    "site": "Body site",
    "dx_type": "How the label was confirmed",
    "source": "Source collection",
    "cause": "Cause given in the file name",
}
AGE_BINS = list(range(0, 100, 10)) + [120]


def describe(table: pd.DataFrame, labels: list[str], split: pd.Series | None = None) -> dict:
    out = {
        "n_images": int(len(table)),
        "n_groups": int(table["group"].nunique()),
        "labels": labels,
        "images_per_label": {l: int((table["label"] == l).sum()) for l in labels},
        "groups_per_label": {
            l: int(table.loc[table["label"] == l, "group"].nunique()) for l in labels
        },
        "categories": {},
    }
    if "age" in table and table["age"].notna().any():
        counts = {}
        for label in labels:
            ages = table.loc[table["label"] == label, "age"]
            hist, _ = np.histogram(ages.dropna(), bins=AGE_BINS)
            counts[label] = hist.tolist() + [int(ages.isna().sum())]
        out["age"] = {
            "bins": [f"{a}–{b - 1}" for a, b in zip(AGE_BINS[:-2], AGE_BINS[1:-1])]
            + [f"{AGE_BINS[-2]}+", "unknown"],
            "counts": counts,
        }
    for column, title in CATEGORY_COLUMNS.items():
        if column not in table or table[column].isna().all():
            continue
        values = table[column].fillna("unknown").astype(str)
        order = values.value_counts().index.tolist()
        out["categories"][column] = {
            "title": title,
            "values": order,
            "counts": {
                l: [int(((table["label"] == l) & (values == v)).sum()) for v in order]
                for l in labels
            },
        }
    if split is not None:
        out["split"] = {
            s: {l: int(((split == s) & (table["label"] == l)).sum()) for l in labels}
            for s in ("train", "val", "test")
        }
    return out


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--task", required=True)
    parser.add_argument("--data-dir", default=None)
    parser.add_argument("--out", type=Path, default=None, help="default: reports/<task>/data.json")
    args = parser.parse_args(argv)
    task = get_task(args.task)
    table = task.load(data_root(args.data_dir))
    split_file = PROJECT_ROOT / "reports" / task.id / "split.csv"
    split = read_split(table, split_file) if split_file.is_file() else None
    out = args.out or PROJECT_ROOT / "reports" / task.id / "data.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(describe(table, task.label_ids, split), indent=1) + "\n")
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
