"""The training recipe: ``TrainConfig`` (with ``training.fitting.model.ModelConfig`` inside), its
command line and its saved form (``config.json`` beside every run).

Only what builds the shipped models is a setting here. Experiments that were measured and
not shipped live in ``research/`` and pass what they vary into ``training.fitting.train.train``
(a loss, targets, a row filter …); their old settings are listed in ``RETIRED`` so that
the config.json of a run made before they moved can still be read.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
from dataclasses import dataclass, field
from pathlib import Path

from training.fitting.model import ModelConfig
from training.inputs.data import PROJECT_ROOT
from training.inputs.tasks import TASKS, get_task


@dataclass
class TrainConfig:
    task: str = ""  # a task id of training.inputs.tasks (required)
    data_dir: str = ""  # default: $SCREENER_DATA_DIR or ../shared/data
    out: str = ""  # default: runs/<task>/latest
    split_file: str = ""  # default: reports/<task>/split.csv (made if absent)
    limit: int = 0  # use only this many images (tests, smoke runs)
    seed: int = 42
    epochs: int = 12
    batch_size: int = 32
    max_lr: float = 2e-3
    pct_start: float = 0.25
    weight_decay: float = 1e-4
    label_smoothing: float = 0.0
    imbalance: str = "weights"  # "weights" (class-weighted loss), "sampling" (balanced
    # batches) or "none" (IMBALANCE_MODES)
    metadata_dropout: float = 0.5  # chance to blank all metadata of a training image
    field_dropout: float = 0.2  # otherwise, chance to blank each field
    augment: str = "standard"  # "none", "light", "standard"
    cache_dir: str = ".cache"
    model: ModelConfig = field(default_factory=ModelConfig)

    def resolved_split_file(self) -> Path:
        if self.split_file:
            return Path(self.split_file)
        if self.limit:
            return Path(self.out) / "split.csv"
        return PROJECT_ROOT / "reports" / self.task / "split.csv"


IMBALANCE_MODES = ("weights", "sampling", "none")
AUGMENT_MODES = ("none", "light", "standard")

# Settings of experiments that moved to research/ (research.train gives them again), with
# the value that meant "not used". A saved config.json may hold them; read_config sets
# them apart. ``imbalance`` values of theirs are listed in RETIRED_IMBALANCE.
RETIRED = {
    "focal_gamma": 0.0,
    "logit_tau": 1.0,
    "mix": "none",
    "mix_probability": 0.5,
    "init": "",
    "teacher": "",
    "teacher_weight": 0.7,
    "hold_out_source": "",
    "train_fraction": 1.0,
}
RETIRED_MODEL = {"colour_constancy": "none"}
RETIRED_IMBALANCE = ("sqrt", "logit_adjusted")


DESCRIPTION = """Train a screening model: python -m training.fitting.train --task TASK [--key value …].

Writes into --out: model.keras (the best epoch by validation balanced accuracy without
metadata), config.json (the resolved config), history.json, split.csv, report.json and
test_predictions.json (see training.fitting.train)."""


def parse_config(
    argv: list[str] | None = None,
    prog: str = "python -m training.fitting.train",
    description: str = DESCRIPTION,
) -> TrainConfig:
    """Every field of TrainConfig (and ModelConfig, as --model.alpha etc.) is a flag."""
    parser = argparse.ArgumentParser(
        prog=prog, description=description, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    defaults = TrainConfig()

    def add(prefix: str, obj) -> None:
        for f in dataclasses.fields(obj):
            value = getattr(obj, f.name)
            if dataclasses.is_dataclass(value):
                add(f"{prefix}{f.name}.", value)
                continue
            kind = type(value) if value is not None else str
            if f.name == "image_size":
                parser.add_argument(
                    f"--{prefix}{f.name}",
                    type=int,
                    nargs=2,
                    default=value,
                    metavar=("HEIGHT", "WIDTH"),
                )
            else:
                parser.add_argument(
                    f"--{prefix}{f.name}", type=kind, default=value, help=f"default: {value!r}"
                )

    add("", defaults)
    args = vars(parser.parse_args(argv))  # unknown flags are an error
    model_args = {k.split(".", 1)[1]: v for k, v in args.items() if k.startswith("model.")}
    if model_args.get("image_size"):
        model_args["image_size"] = tuple(model_args["image_size"])
    top = {k: v for k, v in args.items() if not k.startswith("model.")}
    config = TrainConfig(**top, model=ModelConfig(**model_args))
    if not config.task:
        parser.error(f"--task is required; known tasks: {', '.join(TASKS)}")
    if not config.out:
        config.out = f"runs/{config.task}/latest"
    if config.imbalance not in IMBALANCE_MODES:
        parser.error(f"--imbalance must be one of {IMBALANCE_MODES}")
    if config.augment not in AUGMENT_MODES:
        parser.error(f"--augment must be one of {AUGMENT_MODES}")
    get_task(config.task)
    return config


def command_line(config: TrainConfig) -> list[str]:
    """The flags that make ``parse_config`` give back ``config`` (to rerun a recipe)."""
    args = []

    def add(prefix: str, obj) -> None:
        for f in dataclasses.fields(obj):
            value = getattr(obj, f.name)
            if dataclasses.is_dataclass(value):
                add(f"{prefix}{f.name}.", value)
            elif f.name == "image_size":
                if value:
                    args.extend([f"--{prefix}{f.name}", *map(str, value)])
            else:
                args.extend([f"--{prefix}{f.name}", str(value)])

    add("", config)
    return args


def save_config(config: TrainConfig, path: Path) -> None:
    Path(path).write_text(json.dumps(dataclasses.asdict(config), indent=2))


def read_config(path: Path) -> tuple[TrainConfig, dict]:
    """A saved config.json as (TrainConfig, the retired experiment settings it used).

    The second part holds each ``RETIRED`` / ``RETIRED_MODEL`` setting (model ones as
    ``model.<name>``) whose value is not its default, and ``imbalance`` if that was one of
    ``RETIRED_IMBALANCE`` (the TrainConfig then says "none": natural batches). Settings
    that are neither a field nor retired are an error."""
    return config_from_settings(json.loads(Path(path).read_text()), str(path))


def config_from_settings(settings: dict, source: str) -> tuple[TrainConfig, dict]:
    """``read_config`` for settings already read (a config.json's, or a recipe's over the
    defaults); ``source`` names them in an error."""
    saved = dict(settings)
    model = dict(saved.pop("model", {}))
    retired = {}
    for name, default in RETIRED.items():
        if name in saved and (value := saved.pop(name)) != default:
            retired[name] = value
    for name, default in RETIRED_MODEL.items():
        if name in model and (value := model.pop(name)) != default:
            retired[f"model.{name}"] = value
    if saved.get("imbalance") in RETIRED_IMBALANCE:
        retired["imbalance"] = saved["imbalance"]
        saved["imbalance"] = "none"
    if "test_time_views" in model:  # the test-time mirrors' name before "tta"
        model["tta"] = model.pop("test_time_views")
    if model.get("image_size"):
        model["image_size"] = tuple(model["image_size"])
    try:
        return TrainConfig(**saved, model=ModelConfig(**model)), retired
    except TypeError as error:
        raise ValueError(
            f"{source}: {error} (not a setting of training.fitting.config.TrainConfig or ModelConfig)"
        ) from None


def config_from_json(path: Path) -> TrainConfig:
    """The TrainConfig a run saved as config.json. An old run's retired experiment settings
    (``RETIRED``) are ignored while they have their default values; a run that used one
    is refused: the product cannot repeat it (research.train.read_run_config reads it)."""
    config, retired = read_config(path)
    if retired:
        raise ValueError(
            f"{path} was trained with experiment settings the product no longer "
            f"has: {retired}; read it with research.train.read_run_config"
        )
    return config
