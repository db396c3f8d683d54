"""What the acquisition series of the X-ray file names look like:
``python -m research.chest_xray.series_stats [--split reports/chest_xray/split.csv] [--per 300]``.

Per series (NORMAL: IM, NORMAL2; pneumonia: bacteria, virus) of the TRAINING split, the mean
over up to ``--per`` images (a fixed random sample) of: mean grey, standard deviation, the
2nd / 98th percentile, the variance of the Laplacian (sharpness), the mean grey of an 8-px
border and the share of near-black pixels (< 10). Differences between the classes' series
that are not disease are shortcuts a model can learn, and the directions a shift may
exploit. Prints a markdown table.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

from research.chest_xray.outside_proxy import TASK_ID, series_of

COLUMNS = ("mean", "std", "p2", "p98", "laplacian_var", "border_mean", "dark_share")


def image_statistics(gray: np.ndarray) -> dict:
    from scipy import ndimage

    g = np.asarray(gray, np.float32)
    border = np.concatenate([g[:8].ravel(), g[-8:].ravel(), g[:, :8].ravel(), g[:, -8:].ravel()])
    return {
        "mean": float(g.mean()),
        "std": float(g.std()),
        "p2": float(np.percentile(g, 2)),
        "p98": float(np.percentile(g, 98)),
        "laplacian_var": float(ndimage.laplace(g).var()),
        "border_mean": float(border.mean()),
        "dark_share": float((g < 10).mean()),
    }


def main(argv: list[str] | None = None) -> int:
    from PIL import Image

    from training.inputs.data import data_root, read_split, split_rows
    from training.inputs.tasks import get_task

    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--split", type=Path, default=Path("reports/chest_xray/split.csv"))
    parser.add_argument("--part", default="train")
    parser.add_argument("--per", type=int, default=300)
    parser.add_argument("--data_dir", default=None)
    args = parser.parse_args(argv)
    task = get_task(TASK_ID)
    table = task.load(data_root(args.data_dir))
    rows = split_rows(table, read_split(table, args.split), args.part).copy()
    rows["series"] = rows["image_id"].map(series_of)
    print(f"| series ({args.part}) | n (sampled) | " + " | ".join(COLUMNS) + " |")
    print("| --- | ---: |" + " ---: |" * len(COLUMNS))
    for series, part in rows.groupby("series", sort=False):
        part = part.sample(min(args.per, len(part)), random_state=0)
        stats = [image_statistics(np.asarray(Image.open(p).convert("L"))) for p in part["path"]]
        means = {c: np.mean([s[c] for s in stats]) for c in COLUMNS}
        print(
            f"| {series} | {len(rows[rows['series'] == series])} ({len(part)}) | "
            + " | ".join(
                f"{means[c]:.3f}" if c == "dark_share" else f"{means[c]:.1f}" for c in COLUMNS
            )
            + " |"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
