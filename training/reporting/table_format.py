"""Figures and table parts of ``tables.json`` (``training.reporting.site_tables``): figures formatted
the English way, never rounded to a perfect score, and tables of words' keys and ids.

Only the standard library."""

from __future__ import annotations

import math

VARIANTS = ("without_metadata", "with_metadata")
# What reading a report file that lacks a field, or holds the wrong type, raises.
MALFORMED = (KeyError, TypeError, ValueError, IndexError, ZeroDivisionError, AttributeError)


# ---- formatting -------------------------------------------------------------------------


def is_number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def number(value):
    """``value`` if it is a finite number; a report that holds anything else is malformed."""
    if not is_number(value):
        raise ValueError(f"not a number: {value!r}")
    return value


def measure(value):
    """A measured figure, or None where the file says it was not measured."""
    return value if is_number(value) else None


def share(value: float, digits: int, scale: float = 1) -> str:
    """A measured share with ``digits`` decimals (of ``value * scale``), never rounded to a
    perfect score nor to nothing: one that is not exactly 1 or 0 gets more decimals while it
    would read as one (0.9962 → "0.996", not "1.00"; 0.9996 at 1 digit, scale 100 → "99.96").
    The site's templates do the same (webapp.i18n.measured)."""
    top = scale * 1.0
    for places in range(digits, 7):
        text = f"{value * scale:.{places}f}"
        if value in (0, 1) or float(text) not in (0.0, top):
            return text
    return f"{top - 1e-6 if float(text) == top else 1e-6:.6f}"


def percent(value, digits: int = 1) -> str | None:
    """0.6312 → "63.1%", 0.99996 → "99.996%" (never "100.0%"); None (not measured) stays None."""
    return None if value is None else f"{share(value, digits, 100)}%"


def decimals(value, digits: int = 3) -> str | None:
    """0.9124 → "0.912", 0.9996 → "0.9996" (never "1.000"); None stays None."""
    return None if value is None else share(value, digits)


def count(value) -> str | None:
    """1431 → "1,431"."""
    return None if value is None else f"{int(value):,}"


def points_lower(drop: float) -> dict:
    """A difference of two shares in percentage points; ``drop`` > 0 is how much lower:
    ``{"points": "2.4", "way": "lower"}`` ("higher"; "same" within half a tenth)."""
    if drop > 0.0005:
        return {"points": f"{drop * 100:.1f}", "way": "lower"}
    if drop < -0.0005:
        return {"points": f"{-drop * 100:.1f}", "way": "higher"}
    return {"points": None, "way": "same"}


def signed(value: float, digits: int, scale: float = 1) -> str:
    """+0.012 → "+0.012", −0.024 → "−2.4" (scale 100, one digit): a typographic minus."""
    return f"{value * scale:+.{digits}f}".replace("-", "−")


def duration(seconds) -> dict | None:
    """42 → ``{"figure": "42", "unit": "seconds"}``; 1077.6 → 18 minutes; 9000 → 2.5 hours."""
    if not is_number(seconds):
        return None
    if seconds < 90:
        return {"figure": f"{seconds:.0f}", "unit": "seconds"}
    if seconds < 90 * 60:
        return {"figure": f"{seconds / 60:.0f}", "unit": "minutes"}
    return {"figure": f"{seconds / 3600:.1f}", "unit": "hours"}


# ---- tables -----------------------------------------------------------------------------


def word(key: str, **figures) -> dict | str:
    """A key of the site's words, with the figures and ids its sentence needs."""
    return {"key": key, **figures} if figures else key


def column(key, numeric: bool = True, small: bool = False, **extra) -> dict:
    """A column named by ``key`` (a word)."""
    return {"name": key, "numeric": numeric, "small": small, **extra}


def cell(text, label=None, **data) -> dict:
    """A table cell: ``text`` ready to print (None: not measured), its name in a phone's
    stacked layout where it is not its column's (a word), and ``data-*`` attributes."""
    made = {"text": text, "data": {k.replace("_", "-"): v for k, v in data.items()}}
    return {**made, "label": label} if label is not None else made


def row(header, cells: list[dict], help=None, css: str | None = None, **data) -> dict:
    """A row: its header and the line below it (``help``) are words."""
    return {
        "header": header,
        "help": help or None,
        "class": css,
        "cells": cells,
        "data": {k.replace("_", "-"): v for k, v in data.items()},
    }


def table(
    table_id: str,
    title,
    caption,
    columns: list[dict],
    rows: list[dict],
    css: str = "",
    groups: list[dict] | None = None,
    stack: bool = True,
) -> dict:
    return {
        "id": table_id,
        "title": title,
        "caption": caption,
        "class": css,
        "stack": stack,
        "columns": columns,
        "groups": groups,
        "rows": rows,
    }


def label_ids(metadata: dict, ids: list[str]) -> list[str]:
    """The label ids of metadata.json (in its order), else ``ids``."""
    return [label["id"] for label in metadata.get("labels") or []] or list(ids)


def reports_match_model(metadata: dict, report: dict | None) -> bool:
    """False when report.json visibly comes from another run than the installed model."""
    shipped = ((metadata.get("metrics") or {}).get("test") or {}).get("without_metadata")
    measured = (report or {}).get("without_metadata")
    if not isinstance(shipped, dict) or not isinstance(measured, dict):
        return True
    same_n = shipped.get("n") == measured.get("n")
    a, b = shipped.get("balanced_accuracy"), measured.get("balanced_accuracy")
    return same_n and (not is_number(a) or not is_number(b) or math.isclose(a, b, abs_tol=1e-9))


def installed_differs(
    metadata: dict, section: str, key: str, measured: float, what: str
) -> dict | None:
    """The installed model's and the measured value when metadata.json's ``section`` holds
    another ``key`` than the measured one (the reports of another run), else None."""
    value = (metadata.get(section) or {}).get(key)
    if not is_number(value) or math.isclose(value, measured, rel_tol=1e-6, abs_tol=1e-9):
        return None
    return {"what": what, "installed": f"{value:.4g}", "measured": f"{measured:.4g}"}
