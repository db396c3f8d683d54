"""Train the product's recipe with one or more experiments' changes:
``python -m research.train [experiment flags] --task TASK [training.fitting.train flags]``.

The experiments' settings are a ``Variation`` (they were fields of the product's config
before they moved here; their names are the old flags, so an old command line works with
``research.train`` in place of ``training.fitting.train``). Each becomes an argument of
``training.fitting.train.train``:

- ``--focal_gamma γ``: the focal loss (``loss``; research.losses);
- ``--imbalance logit_adjusted [--logit_tau τ]``: the logit-adjusted loss on natural batches
  (``loss``, ``balance``; research.losses);
- ``--imbalance sqrt``: sampling ∝ 1/√n and weights ∝ 1/√n (``balance``);
- ``--mix cutmix [--mix_probability p]``: CutMix (``batches``; research.cutmix);
- ``--teacher F [--teacher_weight w]``: distillation (``targets``; research.distill);
- ``--hold_out_source S``, ``--train_fraction f``: fewer training images (``rows``;
  research.rows);
- ``--init M``: start from a saved network's weights (``network``);
- ``--colour_constancy shades_of_gray``: Shades of Gray in the graph (``network``;
  research.colour_constancy).

Besides the product's files the run folder gets ``research.json`` (the variation);
``read_run_config`` reads a run's recipe back, also from runs made before the move, whose
config.json still held these settings.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from training.fitting.config import parse_config, read_config

VARIATION_FILE = "research.json"
IMBALANCE = ("", "sqrt", "logit_adjusted")


@dataclass
class Variation:
    focal_gamma: float = 0.0  # > 0: focal loss with this γ
    imbalance: str = ""  # "sqrt" (√-balanced sampling × √ weights) or
    # "logit_adjusted" (natural batches); "": the config's
    logit_tau: float = 1.0  # τ of "logit_adjusted"
    mix: str = "none"  # "none", "cutmix"
    mix_probability: float = 0.5  # chance that a training batch is mixed
    teacher: str = ""  # soft targets of trained networks (research.distill)
    teacher_weight: float = 0.7  # target = w · teachers' answer + (1 - w) · true label
    hold_out_source: str = ""  # train and select without this image source
    train_fraction: float = 1.0  # < 1: this share of each label's training lesions
    init: str = ""  # start from this saved model (--model must match)
    colour_constancy: str = "none"  # "none" or "shades_of_gray"

    def changes(self) -> dict:
        """The settings that differ from the product's recipe."""
        default = Variation()
        return {
            f.name: getattr(self, f.name)
            for f in dataclasses.fields(self)
            if getattr(self, f.name) != getattr(default, f.name)
        }

    def check(self) -> None:
        from research.colour_constancy import COLOUR_CONSTANCY
        from research.cutmix import MIX_MODES

        if self.imbalance not in IMBALANCE:
            raise ValueError(f"imbalance {self.imbalance!r}: the experiments' are {IMBALANCE[1:]}")
        if self.mix not in MIX_MODES:
            raise ValueError(f"mix must be one of {MIX_MODES}, got {self.mix!r}")
        if self.colour_constancy not in COLOUR_CONSTANCY:
            raise ValueError(f"colour_constancy must be one of {COLOUR_CONSTANCY}")
        if self.focal_gamma < 0:
            raise ValueError(f"focal_gamma must be >= 0, got {self.focal_gamma}")
        if self.focal_gamma and self.imbalance == "logit_adjusted":
            raise ValueError("the logit-adjusted loss has no focal variant")


def sqrt_balance(labels: np.ndarray, k: int):
    """Square-root balancing: weights ∝ 1/√n per class and sampling ∝ 1/√n."""
    from training.fitting.train import class_weights

    counts = np.bincount(labels, minlength=k).astype(np.float64)
    return np.sqrt(class_weights(labels, k)), 1.0 / np.sqrt(np.maximum(counts, 1))


def initial_weights(model, init: str):
    """``model`` with every weight of the saved network ``init`` (the same network)."""
    from training.fitting.model import load_model

    source = load_model(init)
    if len(source.weights) != len(model.weights) or any(
        a.shape != b.shape for a, b in zip(source.weights, model.weights)
    ):
        raise ValueError(f"--init {init} is not the network --model describes")
    model.set_weights(source.get_weights())
    print(f"[init] weights from {init}", flush=True)
    return model


def build_network(task, model_config, variation: Variation, **kwargs):
    """The network of a recipe with its variation (colour constancy), freshly built."""
    from research.colour_constancy import build_model

    return build_model(task, model_config, variation.colour_constancy, **kwargs)


def rows_filter(variation: Variation):
    """The variation's row filter for ``training.inputs.data.load_data(rows=…)``, or None."""
    from research.rows import both, hold_out_source, train_fraction

    return both(
        hold_out_source(variation.hold_out_source) if variation.hold_out_source else None,
        train_fraction(variation.train_fraction) if variation.train_fraction != 1 else None,
    )


def hooks(variation: Variation, config) -> dict:
    """The keyword arguments of ``training.fitting.train.train`` that make ``variation``."""
    variation.check()
    found = {}
    if variation.imbalance == "logit_adjusted":
        from research.losses import logit_adjusted_loss

        found["loss"] = lambda counts: logit_adjusted_loss(
            counts, variation.logit_tau, config.label_smoothing
        )
        found["balance"] = lambda labels, k: (None, None)  # natural batches
    elif variation.focal_gamma:
        from research.losses import focal_loss

        found["loss"] = lambda counts: focal_loss(variation.focal_gamma, config.label_smoothing)
    if variation.imbalance == "sqrt":
        found["balance"] = sqrt_balance
    if variation.mix == "cutmix":
        from research.cutmix import batches

        found["batches"] = batches(variation.mix_probability)
    if variation.teacher:
        from research.distill import targets

        found["targets"] = targets(Path(variation.teacher), variation.teacher_weight)
    if (rows := rows_filter(variation)) is not None:
        found["rows"] = rows
    if variation.init or variation.colour_constancy != "none":

        def network(task, config):
            model = build_network(task, config.model, variation)
            return initial_weights(model, variation.init) if variation.init else model

        found["network"] = network
    return found


def train(config, variation: Variation) -> dict:
    """``training.fitting.train.train`` with the variation's hooks; records it as research.json."""
    from training.fitting.train import train as product_train

    variation.check()
    out = Path(config.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / VARIATION_FILE).write_text(json.dumps(variation.changes(), indent=2) + "\n")
    report = product_train(config, **hooks(variation, config))
    if variation.changes():
        report["variation"] = variation.changes()
        (out / "report.json").write_text(json.dumps(report, indent=1))
    return report


def variation_arguments(variation: Variation) -> list[str]:
    """The flags of ``variation`` (its changes only), for ``training.fitting.runs.rerun``."""
    return [a for name, value in variation.changes().items() for a in (f"--{name}", str(value))]


def read_run_config(run: Path):
    """(TrainConfig, Variation) of a run: its config.json and research.json, or the
    experiment settings an old config.json held itself."""
    config, retired = read_config(Path(run) / "config.json")
    found = {name.removeprefix("model."): value for name, value in retired.items()}
    extra = Path(run) / VARIATION_FILE
    if extra.is_file():
        found.update(json.loads(extra.read_text()))
    return config, Variation(**found)


def parse(argv: list[str] | None = None):
    """(TrainConfig, Variation) of a command line: the Variation's flags, then the
    product's (``training.fitting.config.parse_config``)."""
    parser = argparse.ArgumentParser(add_help=False, allow_abbrev=False)
    for f in dataclasses.fields(Variation):
        if f.name == "imbalance":  # the product's flag too: an experiment's value wins
            parser.add_argument("--imbalance", action="append", default=[])
        else:
            parser.add_argument(f"--{f.name}", type=type(f.default), default=f.default)
    parser.add_argument(
        "--model.colour_constancy",
        dest="colour_constancy_old",
        default=None,
        help=argparse.SUPPRESS,
    )  # the old spelling
    known, rest = parser.parse_known_args(argv)
    values = vars(known)
    if (old := values.pop("colour_constancy_old")) is not None:
        values["colour_constancy"] = old
    given = values.pop("imbalance")
    ours = [mode for mode in given if mode in IMBALANCE[1:]]
    variation = Variation(**values, imbalance=ours[-1] if ours else "")
    if variation.imbalance:  # the experiment decides the batches
        rest += ["--imbalance", "none"]
    elif given:  # weights / sampling / none: the product's
        rest += ["--imbalance", given[-1]]
    config = parse_config(rest, prog="python -m research.train", description=__doc__)
    variation.check()
    return config, variation


def main(argv: list[str] | None = None) -> int:
    config, variation = parse(argv)
    train(config, variation)
    return 0


if __name__ == "__main__":
    sys.exit(main())
