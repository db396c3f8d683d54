"""The shapes of the report files the experiments write and the product reads: defined once.

``research/`` measures the shipped recipe in ways a release does not (other framings of the
test images, collections left out, other splits, other networks, the risk rule of the
version before) and writes the results into ``reports/<task>/`` under the names of
:data:`webapp.report_files.REPORT_FILES`; ``training.reporting.site_tables`` makes the pages' tables
from them and the site draws charts from some. Both sides import this module: the writers
call :func:`write` (which refuses a file of the wrong shape before anything is written), the
readers :func:`check` what they read (a file of the wrong shape is "malformed": the page says
so where its part would be). Research imports the product, never the reverse.

    check("framings", content)             # raises ShapeError("framings.json: framings.as_given: missing")
    write("framings", content, path)       # checked, then written as the readers expect it

A shape is a type (:data:`NUMBER`, :data:`COUNT`, :data:`TEXT`, :data:`ANY`), an object
``{"key": shape, "optional?": shape}`` (other keys are allowed: a file may carry more than the
product reads), :class:`Each` (an object of ids, each of one shape), :class:`Items` (a list)
or :class:`Maybe` (``null`` or the shape). Consistency between figures (two models tested on
the same images, say) is the readers' to check; this is what they may rely on.

Only the standard library, so training imports it without Flask (as it does the names).
"""

from __future__ import annotations

import json
import math
from pathlib import Path

from webapp.report_files import REPORT_FILES


class ShapeError(ValueError):
    """A report file that lacks what its readers need; the message names the file and key."""


class _Kind:
    def __init__(self, name: str, test):
        self.name, self.test = name, test

    def __repr__(self) -> str:
        return self.name


def _is_number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


NUMBER = _Kind("a number", _is_number)
COUNT = _Kind("a whole number ≥ 0", lambda v: _is_number(v) and v >= 0 and float(v).is_integer())
TEXT = _Kind("a string", lambda v: isinstance(v, str))
ANY = _Kind("anything", lambda v: True)


class Maybe:
    """``null`` (not measured) or ``shape``."""

    def __init__(self, shape):
        self.shape = shape


class Each:
    """An object whose every value has ``shape`` (ids → figures): at least ``least`` of them,
    ``required`` among them, each key passing ``key`` (described by ``key_is``)."""

    def __init__(self, shape, least=0, required=(), key=None, key_is=""):
        self.shape, self.least, self.required = shape, least, tuple(required)
        self.key, self.key_is = key, key_is


class Items:
    """A list whose every item has ``shape``: at least ``least`` of them."""

    def __init__(self, shape, least=0):
        self.shape, self.least = shape, least


def _what(value) -> str:
    text = json.dumps(value, ensure_ascii=False) if not isinstance(value, float) else repr(value)
    return text if len(text) <= 40 else text[:37] + "…"


def _check(shape, value, where: str) -> None:
    """Raise ShapeError(f"{where}: …") at the first place ``value`` departs from ``shape``."""
    here = where or "the file"
    if isinstance(shape, Maybe):
        if value is not None:
            _check(shape.shape, value, where)
    elif isinstance(shape, _Kind):
        if not shape.test(value):
            raise ShapeError(f"{here}: {_what(value)} is not {shape.name}")
    elif isinstance(shape, dict):
        if not isinstance(value, dict):
            raise ShapeError(f"{here}: {_what(value)} is not an object")
        for key, inner in shape.items():
            optional = key.endswith("?")
            key = key.removesuffix("?")
            path = f"{where}.{key}" if where else key
            if key not in value:
                if optional:
                    continue
                raise ShapeError(f"{path}: missing")
            _check(inner, value[key], path)
    elif isinstance(shape, Each):
        if not isinstance(value, dict):
            raise ShapeError(f"{here}: {_what(value)} is not an object")
        if len(value) < shape.least:
            raise ShapeError(f"{here}: holds {len(value)} entries, needs at least {shape.least}")
        for key in shape.required:
            if key not in value:
                raise ShapeError(f"{where}.{key}: missing" if where else f"{key}: missing")
        for key, inner in value.items():
            path = f"{where}.{key}" if where else key
            if shape.key is not None and not shape.key(key):
                raise ShapeError(f"{path}: the key is not {shape.key_is}")
            _check(shape.shape, inner, path)
    elif isinstance(shape, Items):
        if not isinstance(value, list):
            raise ShapeError(f"{here}: {_what(value)} is not a list")
        if len(value) < shape.least:
            raise ShapeError(f"{here}: holds {len(value)} items, needs at least {shape.least}")
        for i, inner in enumerate(value):
            _check(shape.shape, inner, f"{where}[{i}]")
    else:  # pragma: no cover - a mistake in SHAPES below
        raise TypeError(f"not a shape: {shape!r}")


# ---- the files ---------------------------------------------------------------------------

# One model's figures on one set of images (framings.json, leave_one_source_out.json).
MEASURED = {
    "n": COUNT,
    "accuracy": NUMBER,
    "balanced_accuracy": NUMBER,
    "macro_auc": Maybe(NUMBER),
}
# … and the kinds present among those images (leave_one_source_out.json).
MEASURED_KINDS = {**MEASURED, "labels": Items(TEXT, least=1)}
# A cross-validation fold's (or their mean's) figures for one variant (cv_final.json).
FOLD_FIGURES = {"balanced_accuracy": NUMBER, "macro_auc?": Maybe(NUMBER)}
# The risk rule on one set of images (risk_previous.json).
RISK_FIGURES = {"focus_sensitivity": Maybe(NUMBER), "specificity": Maybe(NUMBER)}

SHAPES = {
    # research.evaluate_framings --report: the model on other framings of the test images.
    "framings": {
        "run": TEXT,
        "metadata?": TEXT,
        "tta?": TEXT,
        "framings": Each({"test": MEASURED, "val?": Maybe(MEASURED)}, required=("as_given",)),
    },
    # research.leave_one_source_out: a model trained without each collection beside the
    # reference, on that collection's test images and on all its images.
    "leave_one_source_out": {
        "reference": TEXT,
        "epochs?": Maybe(NUMBER),
        "sources": Each(
            {
                "n_images": COUNT,
                "run": TEXT,
                "test_split": {"reference": MEASURED_KINDS, "held_out": MEASURED_KINDS},
                "all_images_held_out": MEASURED_KINDS,
            },
            least=1,
        ),
    },
    # research.cross_validate: the recipe on other splits; folds are numbered from "0".
    "cross_validation": {
        "reference?": TEXT,
        "folds_total?": COUNT,
        "epochs?": Maybe(NUMBER),
        "tta?": Maybe(TEXT),
        "folds": Each(
            {
                "n_test": COUNT,
                "without_metadata": FOLD_FIGURES,
                "with_metadata?": Maybe(FOLD_FIGURES),
            },
            least=1,
            key=str.isdigit,
            key_is="a fold's number",
        ),
        "mean": {"without_metadata": FOLD_FIGURES, "with_metadata?": Maybe(FOLD_FIGURES)},
        "sd": {
            "without_metadata?": Maybe(
                {"balanced_accuracy?": Maybe(NUMBER), "macro_auc?": Maybe(NUMBER)}
            )
        },
    },
    # research.<task>.compare_backbones: one row per network and training length.
    "backbones": {
        "rows": Items(
            {
                "run": TEXT,
                "backbone": TEXT,
                "epochs": COUNT,
                "val_balanced_accuracy": Maybe(NUMBER),
                "val_macro_auc": Maybe(NUMBER),
                "test_balanced_accuracy": Maybe(NUMBER),
                "test_macro_auc?": Maybe(NUMBER),
                "float16_mb": NUMBER,
                "minutes": NUMBER,
                "settings?": ANY,
            }
        ),
    },
    # research.chest_xray.decision --previous_out: the version before's risk rule, the same
    # test images, as risk.json holds the current one's.
    "risk_previous": {
        "version": TEXT,
        "threshold": NUMBER,
        "test": {"without_metadata": RISK_FIGURES},
        "shifts?": Maybe(
            {"test?": Maybe(Each({"focus_sensitivity": NUMBER, "specificity": NUMBER}))}
        ),
    },
}


def check(name: str, content) -> None:
    """Raise :class:`ShapeError` unless ``content`` (report file ``name``, a key of
    REPORT_FILES, as read from JSON) has the shape its readers rely on. A file without a
    declared shape passes."""
    shape = SHAPES.get(name)
    if shape is None:
        return
    try:
        _check(shape, content, "")
    except ShapeError as error:
        raise ShapeError(f"{REPORT_FILES[name]}: {error}") from None


def write(name: str, content: dict, path) -> Path:
    """Write report file ``name`` to ``path`` (``reports/<task>/`` + its name, or a result
    of the same shape elsewhere) after checking what a reader will read back: nothing is
    written when it is of the wrong shape. Returns the path."""
    text = json.dumps(content, indent=1, ensure_ascii=False) + "\n"
    check(name, json.loads(text))
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path
