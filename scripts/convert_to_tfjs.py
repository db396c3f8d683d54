"""Convert a trained Keras model to the site's TF.js graph model, and check it.

    python scripts/convert_to_tfjs.py runs/TASK/latest                 # a run folder
    python scripts/convert_to_tfjs.py path/to/model.keras --task TASK --out my_model

MODEL is a run folder (what ``python -m training.fitting.train`` or a release step wrote:
model.keras, config.json, reports) or a ``.keras`` file. A ``.keras`` file is read with
the ``config.json`` beside it when there is one (it says how the network was built);
otherwise name its task, and it must have that task's default architecture. Writes
``--out`` (default ``static/tfjs_model/<task>/``: model.json, weight shards,
metadata.json, and the ``index.json`` beside it), copies a run's reports into
``--reports`` (default ``reports/<task>/``) and compares the browser's answers on real
test images with Keras' (exit 1 beyond ``training/exporting/parity.py``'s tolerance).

A thin command around ``training.exporting.convert.convert`` (the release's export step; see
docs/training.md). Needs the training extras (``requirements-dev.txt``) and Chromium.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from training.exporting.convert import add_options, convert, options
from training.exporting.parity import ParityError


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(
        prog="python scripts/convert_to_tfjs.py",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("model", type=Path, help="a run folder or a .keras file")
    add_options(parser)
    args = parser.parse_args(argv)
    model = args.model
    if model.is_dir():
        run, model_file = model, None
    elif model.is_file() and model.suffix == ".keras":
        run, model_file = model.parent, model
    else:
        parser.error(f"{model} is neither a run folder nor a .keras file")
    if not (run / "config.json").is_file() and not args.task:
        parser.error(f"{run} has no config.json: name the model's task with --task")
    try:
        convert(run, model_file=model_file, **options(args))
    except (ParityError, ValueError) as error:
        print(f"[failed] {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
