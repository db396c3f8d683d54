"""The seeds of a ``native_size`` arm averaged in one graph (issue 29, ``members``).

Loads each seed's network of ``research.skin_lesion.native_size`` (its run folders), puts
them in one graph with ``training.fitting.model.merge_members`` (the mean of their logits, as the
release's ``members`` recipe does) and measures it as ``native_size`` measures one seed:
validation and test (metadata blanked), and ``outside_dermoscopy`` through Keras on raw
images. Rule: ``research/skin_lesion/experiments.md`` (the addendum of "The recipe at the
images' own size").

    python -m research.skin_lesion.average_seeds --arm A --seeds 0 1 2
"""

from __future__ import annotations

import argparse
import dataclasses
import json
from pathlib import Path

import numpy as np

from research.skin_lesion.native_size import OUT as SEEDS_OUT
from research.skin_lesion.native_size import TASK, outside_probabilities
from training.inputs.data import PROJECT_ROOT

OUT = PROJECT_ROOT / "research" / "skin_lesion" / "results" / "average_seeds.json"


def main(argv=None) -> dict:
    from training.exporting.outside import outside_rows, scores
    from training.fitting.config import config_from_json
    from training.fitting.evaluate import classification_metrics, predict_without_metadata
    from training.fitting.model import load_model, merge_members
    from training.inputs.data import load_data

    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--arm", default="A", choices=["A", "B"])
    p.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    p.add_argument("--runs", default="runs/skin_lesion/native_size")
    p.add_argument("--save", default="", help="also save the averaged network (.keras) here")
    p.add_argument("--out", default=str(OUT))
    args = p.parse_args(argv)
    if args.arm == "B":
        import research.colour_constancy  # noqa: F401 (registers the layer)
    folders = [Path(args.runs) / f"{args.arm}_s{seed}" for seed in args.seeds]
    config = config_from_json(folders[0] / "config.json")
    model_config = dataclasses.replace(config.model, members=len(folders))
    merged = merge_members([load_model(f / "model.keras") for f in folders], TASK, model_config)
    if args.save:
        merged.save(args.save)
    config.out = ""
    _, _, parts = load_data(config, TASK)
    found = {"arm": args.arm, "seeds": args.seeds}
    for name in ("val", "test"):
        images, _, labels = parts[name]
        m = classification_metrics(
            labels, predict_without_metadata(merged, TASK, images), TASK.label_ids
        )
        found[name] = {k: m[k] for k in ("balanced_accuracy", "macro_auc")}
    rows = outside_rows(TASK)
    probabilities = outside_probabilities(merged, rows)
    y, source = rows["y"].to_numpy(), rows["source"].to_numpy()
    found["outside"] = {"all": scores(TASK, {}, probabilities, y, None)}
    for s in sorted(set(source)):
        found["outside"][s] = scores(TASK, {}, probabilities[source == s], y[source == s], None)
    if SEEDS_OUT.is_file():  # the seeds alone, for the comparison
        seeds = json.loads(SEEDS_OUT.read_text())["runs"]
        alone = [r for r in seeds if r["arm"] == args.arm and r["seed"] in args.seeds]
        found["seeds_mean"] = {
            "val_balanced_accuracy": float(np.mean([r["val_balanced_accuracy"] for r in alone])),
            "outside_balanced_accuracy": float(
                np.mean([r["outside"]["all"]["balanced_accuracy"] for r in alone])
            ),
        }
    out = Path(args.out)
    everything = json.loads(out.read_text()) if out.is_file() else {}
    everything[f"{args.arm} {' '.join(map(str, args.seeds))}"] = found
    out.write_text(json.dumps(everything, indent=1) + "\n")
    a = found["outside"]["all"]
    print(
        f"[{args.arm} seeds {args.seeds} averaged] val BA {found['val']['balanced_accuracy']:.3f}, "
        f"test BA {found['test']['balanced_accuracy']:.3f} AUC {found['test']['macro_auc']:.3f}, "
        f"outside BA {a['balanced_accuracy']:.3f} AUC {a['macro_auc']:.3f} mel {a['recall']['mel']:.2f}"
    )
    return found


if __name__ == "__main__":
    main()
