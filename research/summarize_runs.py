"""Print (and optionally save) a Markdown table of training runs.

    python -m research.summarize_runs runs/TASK/* [--out table.md]

One row per run folder (config.json [+ research.json] + history.json [+ report.json]):
the settings that differ between runs (an experiment's too, ``research.train``), epochs, wall
time, and the best validation
balanced accuracy / macro AUC without metadata (the selection criterion).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path


def flatten(config: dict, prefix: str = "") -> dict:
    out = {}
    for key, value in config.items():
        if isinstance(value, dict):
            out.update(flatten(value, f"{prefix}{key}."))
        else:
            out[f"{prefix}{key}"] = value
    return out


IGNORED = {"out", "data_dir", "cache_dir", "split_file", "task", "epochs"}


def rows(run_dirs: list[Path]) -> tuple[list[str], list[list[str]]]:
    runs = []
    for run in run_dirs:
        if not (run / "history.json").is_file():
            continue
        config = flatten(json.loads((run / "config.json").read_text()))
        if (run / "research.json").is_file():
            config.update(json.loads((run / "research.json").read_text()))
        history = json.loads((run / "history.json").read_text())
        report = (
            json.loads((run / "report.json").read_text()) if (run / "report.json").is_file() else {}
        )
        runs.append((run, config, history, report))
    keys = sorted({k for _, c, _, _ in runs for k in c} - IGNORED)
    varying = [k for k in keys if len({json.dumps(c.get(k)) for _, c, _, _ in runs}) > 1]
    header = [
        "run",
        *varying,
        "epochs",
        "minutes",
        "best epoch",
        "val bal. acc. (no meta)",
        "val macro AUC (no meta)",
        "test bal. acc. (no meta)",
    ]
    table = []
    for run, config, history, report in runs:
        epochs = history["epochs"]
        best = history["selected_epoch"]
        test = report.get("without_metadata", {}).get("balanced_accuracy")
        table.append(
            [
                run.name,
                *[str(config.get(k)) for k in varying],
                str(config["epochs"]),
                f"{history['train_seconds'] / 60:.0f}",
                str(best),
                f"{epochs['val_balanced_accuracy_no_metadata'][best - 1]:.3f}",
                f"{epochs['val_macro_auc_no_metadata'][best - 1]:.3f}",
                f"{test:.3f}" if test is not None else "–",
            ]
        )
    return header, table


def markdown(header, table) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(row) + " |" for row in table]
    return "\n".join(lines) + "\n"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("runs", nargs="+", type=Path)
    parser.add_argument("--out", type=Path, help="also write the table into this file")
    args = parser.parse_args(argv)
    text = markdown(*rows(sorted(args.runs)))
    print(text, end="")
    if args.out:
        args.out.write_text(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
