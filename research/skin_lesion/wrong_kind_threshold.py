"""The wrong-kind warning's threshold, measured through the browser on an exported model.

    python -m research.skin_lesion.wrong_kind_threshold [--model DIR] [--out FILE]

The in-kind score (output ``in_kind``) of every image a visitor's photo goes through
``assess()`` with: HAM10000's validation and test splits, the outside check set
(``training.exporting.outside``, measured only) and the held-out images of every other kind
(``training.inputs.other_kinds``, part "test"). For each candidate threshold it prints the false
alarms on each in-kind set and the detection rate per other kind; ``--out`` writes the
scores' summary (research/skin_lesion/results/wrong_kind_threshold.json). The rule it was
run for is in research/skin_lesion/experiments.md ("The wrong-kind threshold on other
clinics' photos").

    python -m research.skin_lesion.wrong_kind_threshold --install FILE

puts the rule's threshold (``training.steps.wrong_kind.HEAD_THRESHOLD``, what a release now sets) and
its measured rates from FILE (written by ``--out``) into the installed model's
``metadata.json`` and ``reports/skin_lesion/wrong_kind.json``: the model made before the rule
changed, re-set without retraining (the head and its scores are the model's own).
"""

from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path

import numpy as np

from training.exporting.outside import outside_rows
from training.exporting.parity import browser_probabilities
from training.inputs.data import PROJECT_ROOT, data_root, split_rows
from training.inputs.other_kinds import other_kinds
from training.inputs.tasks import get_task
from training.steps.wrong_kind import BOUNDARY_RULE, HEAD_THRESHOLD


def in_kind_scores(task, model_dir: Path, paths: list[Path]) -> np.ndarray:
    answers, _ = browser_probabilities(task, model_dir, paths, [{}] * len(paths))
    return answers[:, len(task.labels)]


def other_kind_scores(task, model_dir: Path, size_hw, n: int) -> dict[str, np.ndarray]:
    from PIL import Image

    found = {}
    with tempfile.TemporaryDirectory() as tmp:
        for kind, images in other_kinds(task, "test", size_hw, None, n).items():
            paths = []
            for i, image in enumerate(images):
                path = Path(tmp) / f"{kind}_{i}.png"
                Image.fromarray(image).save(path)
                paths.append(path)
            found[kind] = in_kind_scores(task, model_dir, paths)
    return found


def measure(scores: dict, threshold: float) -> dict:
    return {
        "threshold": threshold,
        "false_alarms": {k: float((v < threshold).mean()) for k, v in scores["in_kind"].items()},
        "detection": {k: float((v < threshold).mean()) for k, v in scores["other"].items()},
    }


RULE = "head boundary (rule)"


def install(results_file: Path, model_dir: Path, reports_dir: Path) -> None:
    found = json.loads(results_file.read_text())
    metadata_file, doubt_file = model_dir / "metadata.json", reports_dir / "wrong_kind.json"
    metadata, wrong_kind = json.loads(metadata_file.read_text()), json.loads(doubt_file.read_text())
    if found["model_version"] != metadata["version"]:
        raise SystemExit(f"{results_file} measured model {found['model_version']}, not this one")
    rule = found["results"][RULE]
    if rule["threshold"] != HEAD_THRESHOLD:
        raise SystemExit(f"{results_file}: {RULE} is {rule['threshold']}, not {HEAD_THRESHOLD}")
    alarms, detected = rule["false_alarms"], rule["detection"]
    head = wrong_kind["in_kind_head"]
    head["validation"].update(threshold=HEAD_THRESHOLD, false_alarm_rate=alarms["val"])
    head["test"].update(
        threshold=HEAD_THRESHOLD, false_alarm_rate=alarms["test"], detection_rate=detected
    )
    wrong_kind["threshold_rule"] = BOUNDARY_RULE
    metadata["wrong_kind"].update(
        threshold=HEAD_THRESHOLD, false_alarm_rate=alarms["test"], detection_rate=detected
    )
    doubt_file.write_text(json.dumps(wrong_kind, indent=1))
    metadata_file.write_text(json.dumps(metadata, indent=1) + "\n")
    print(f"installed threshold {HEAD_THRESHOLD} into {metadata_file} and {doubt_file}")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--model", type=Path, default=None)
    parser.add_argument("--other-kinds", type=int, default=300)
    parser.add_argument("--out", type=Path, default=None)
    parser.add_argument("--install", type=Path, default=None, metavar="FILE")
    args = parser.parse_args(argv)
    task = get_task("skin_lesion")
    model = args.model or PROJECT_ROOT / "static" / "tfjs_model" / task.id
    if args.install:
        install(args.install, model, PROJECT_ROOT / "reports" / task.id)
        return 0
    metadata = json.loads((model / "metadata.json").read_text())
    table = task.load(data_root())
    split = PROJECT_ROOT / "reports" / task.id / "split.csv"
    in_kind = {
        part: in_kind_scores(task, model, [Path(p) for p in split_rows(table, split, part)["path"]])
        for part in ("val", "test")
    }
    rows = outside_rows(task)
    in_kind["outside"] = in_kind_scores(task, model, [Path(p) for p in rows["path"]])
    for source in sorted(rows["source"].unique()):
        in_kind[f"outside_{source}"] = in_kind["outside"][(rows["source"] == source).to_numpy()]
    size = tuple(metadata["inputs"]["image"]["size"])
    scores = {"in_kind": in_kind, "other": other_kind_scores(task, model, size, args.other_kinds)}
    shipped = metadata["wrong_kind"]["threshold"]
    candidates = {
        "shipped (1 % validation quantile)": shipped,
        RULE: HEAD_THRESHOLD,
    }
    results = {name: measure(scores, t) for name, t in candidates.items()}
    for name, found in results.items():
        alarms = ", ".join(f"{k} {v:.1%}" for k, v in found["false_alarms"].items())
        detected = ", ".join(f"{k} {v:.1%}" for k, v in found["detection"].items())
        print(
            f"{name} ({found['threshold']:.4f})\n  false alarms: {alarms}\n  detected: {detected}"
        )
    quantiles = {
        k: [float(q) for q in np.quantile(v, [0.01, 0.05, 0.5, 0.95, 0.99])]
        for group in scores.values()
        for k, v in group.items()
    }
    if args.out:
        summary = {
            "model_version": metadata["version"],
            "results": results,
            "quantiles_1_5_50_95_99": quantiles,
        }
        args.out.write_text(json.dumps(summary, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
