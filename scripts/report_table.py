#!/usr/bin/env python
"""Print a task's test results as Markdown (the tables in the README come from here).

python scripts/report_table.py reports/TASK
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

VARIANTS = {"without_metadata": "image only", "with_metadata": "image + age/sex/site"}


def fmt(value) -> str:
    return "–" if value is None else f"{value:.3f}"


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv in (["-h"], ["--help"]):
        print(__doc__)
        return 0
    if len(argv) != 1:
        print(__doc__, file=sys.stderr)
        return 2
    report = json.loads((Path(argv[0]) / "report.json").read_text())
    variants = [v for v in VARIANTS if v in report]
    print("| test split | " + " | ".join(VARIANTS[v] for v in variants) + " |")
    print("|---|" + "---|" * len(variants))
    for key, name in [
        ("n", "images"),
        ("accuracy", "accuracy"),
        ("balanced_accuracy", "balanced accuracy"),
        ("macro_auc", "macro AUC"),
        ("macro_f1", "macro F1"),
    ]:
        cells = [str(report[v][key]) if key == "n" else fmt(report[v][key]) for v in variants]
        print(f"| {name} | " + " | ".join(cells) + " |")
    print()
    head = (
        "| class | test images | "
        + " | ".join(
            f"sensitivity ({VARIANTS[v]}) | specificity ({VARIANTS[v]}) | AUC ({VARIANTS[v]})"
            for v in variants
        )
        + " |"
    )
    print(head)
    print("|---|---|" + "---|---|---|" * len(variants))
    for label in report["labels"]:
        cells = []
        for v in variants:
            c = report[v]["per_class"][label]
            cells += [fmt(c["sensitivity"]), fmt(c["specificity"]), fmt(c["auc"])]
        support = report[variants[0]]["per_class"][label]["support"]
        print(f"| {label} | {support} | " + " | ".join(cells) + " |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
