"""Give a finished run test-time mirrors (tta): ``python -m training.steps.tta --run RUN``.

The run's network then answers every image (in Python and in the browser) with
the mean of four views: the image, its left-right and up-down mirrors and its
180° turn (``training.fitting.layers.MirrorViews``; the softmax of the views' mean
logits). Four times the inference for a steadier answer: across the ten
cross-validation models it raised macro AUC on every one and balanced accuracy
on eight (see experiments.md in the reports).

Run it before ``training.steps.calibration``, ``training.steps.risk``, ``training.steps.wrong_kind``
and ``training.steps.unsure``, so that they are fitted on the averaged answers. The
single-view model is kept as ``model_one_view.keras``; ``config.json`` records
``model.tta``; the test report is rewritten and keeps the
single-view figures (``one_view``) beside the new ones. The epoch was chosen on
single-view validation figures.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import shutil
from pathlib import Path

from training.fitting.model import TTA_MODES, ModelConfig, build_model, copy_weights

MIRROR_NAMES = ("plain", "left_right", "up_down", "turned")


def mirrored(images, name: str):
    """One of the four mirror views of an image batch (N, H, W, C), as arrays: the same
    views the graph's ``MirrorViews`` layer and the site's JavaScript make."""
    return {
        "plain": images,
        "left_right": images[:, :, ::-1],
        "up_down": images[:, ::-1],
        "turned": images[:, ::-1, ::-1],
    }[name]


def with_tta(model, task, config: ModelConfig, tta: str = "mirrors"):
    """``model`` rebuilt with ``tta``: the same weights, layer by layer."""
    rebuilt = build_model(task, dataclasses.replace(config, tta=tta))
    copy_weights(model, rebuilt)
    return rebuilt


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--run", required=True, type=Path)
    parser.add_argument("--tta", default="mirrors", choices=[v for v in TTA_MODES if v != "none"])
    args = parser.parse_args(argv)
    add_tta(args.run, args.tta)
    return 0


def add_tta(run: Path, tta: str = "mirrors", data: tuple | None = None) -> None:
    """Put ``tta`` into ``run``'s model (the single-view model: ``model_one_view.keras``)
    and write its test report again. ``data``: the run's images
    (``training.fitting.runs.load_run_data``), if already loaded."""
    from training.fitting.config import config_from_json
    from training.fitting.evaluate import validation_figures
    from training.fitting.runs import load_run, rewrite_test_report

    config = config_from_json(run / "config.json")
    if config.model.tta != "none":
        raise SystemExit(f"{run} already has test-time mirrors ({config.model.tta})")
    for later in ("calibration", "risk", "wrong_kind", "unsure", "decision"):
        if (run / f"{later}.json").is_file():
            raise SystemExit(
                f"{run} has {later}.json, fitted on single-view answers: add the "
                "mirrors first (start again from the trained run)"
            )
    task, table, split, parts, model = load_run(run, data=data)
    rebuilt = with_tta(model, task, config.model, tta)

    report = json.loads((run / "report.json").read_text())
    one_view = {
        variant: {k: report[variant][k] for k in ("balanced_accuracy", "macro_auc")}
        for variant in ("with_metadata", "without_metadata")
        if variant in report
    }
    val_images, _, val_y = parts["val"]
    validation = validation_figures(
        {"one_view": model, tta: rebuilt}, task, val_images, val_y, "tta"
    )

    shutil.copy2(run / "model.keras", run / "model_one_view.keras")
    rebuilt.save(run / "model.keras")
    saved = json.loads((run / "config.json").read_text())
    saved["model"]["tta"] = tta
    (run / "config.json").write_text(json.dumps(saved, indent=2))
    rewrite_test_report(
        rebuilt,
        task,
        table,
        split,
        parts,
        run,
        tta={"mode": tta, "test_one_view": one_view, "validation": validation},
    )


if __name__ == "__main__":
    raise SystemExit(main())
