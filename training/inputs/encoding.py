"""Encode a person's optional metadata (age, sex, body site) into the model's vector.

The encoding is defined by the task's fields (``training.inputs.tasks``) and written
into ``metadata.json``; ``static/js/encoding.js`` implements the same rules and
a test checks that both give the same vectors.
"""

from __future__ import annotations

import math
import re

import numpy as np

from training.inputs.tasks import CategoryField, NumberField, Task

# Plain decimal numbers only ("45", "45.5", "-1e2"); no hex, no booleans, no "inf".
_DECIMAL = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?")


def _is_missing(value) -> bool:
    if value is None:
        return True
    if isinstance(value, float) and math.isnan(value):
        return True
    return isinstance(value, str) and value.strip().lower() in ("", "unknown")


def encode_field(spec, value) -> list[float]:
    if isinstance(spec, NumberField):
        if _is_missing(value):
            return [0.0, 1.0]
        try:
            if isinstance(value, bool) or not _DECIMAL.fullmatch(str(value).strip()):
                raise ValueError
            number = float(value)
        except (TypeError, ValueError):
            raise ValueError(
                f"{spec.name} must be a number between {spec.minimum:g} and "
                f"{spec.maximum:g}, got {value!r}"
            ) from None
        if not spec.minimum <= number <= spec.maximum:
            raise ValueError(
                f"{spec.name} must be between {spec.minimum:g} and {spec.maximum:g}, got {value!r}"
            )
        return [number / spec.scale, 0.0]
    if isinstance(spec, CategoryField):
        slots = [0.0] * spec.size
        if _is_missing(value):
            slots[-1] = 1.0
            return slots
        key = str(value).strip().lower()
        if key not in spec.values:
            raise ValueError(
                f"{spec.name} must be one of {', '.join(spec.values)} or unknown, got {value!r}"
            )
        slots[spec.values.index(key)] = 1.0
        return slots
    raise TypeError(f"unsupported field {spec!r}")


def encode_metadata(task: Task, values: dict | None = None) -> np.ndarray:
    """Vector for ``values`` (a mapping field name → value); missing fields are unknown."""
    values = values or {}
    unknown = set(values) - {f.name for f in task.metadata_fields}
    if unknown:
        raise ValueError(
            f"unknown metadata field(s) {sorted(unknown)}; "
            f"valid: {[f.name for f in task.metadata_fields]}"
        )
    out: list[float] = []
    for spec in task.metadata_fields:
        out.extend(encode_field(spec, values.get(spec.name)))
    return np.asarray(out, dtype=np.float32)


def blank_metadata(task: Task) -> np.ndarray:
    """The vector for 'nothing given' (every field unknown)."""
    return encode_metadata(task, {})


def field_slices(task: Task) -> list[slice]:
    """Where each field lives in the vector, in order."""
    slices, start = [], 0
    for spec in task.metadata_fields:
        slices.append(slice(start, start + spec.size))
        start += spec.size
    return slices


def encoding_json(task: Task) -> dict:
    return {"size": task.metadata_size, "fields": [spec.to_json() for spec in task.metadata_fields]}
