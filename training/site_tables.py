"""The site's finished tables: every figure the report pages print, computed once.

The performance, data and model-card pages (``webapp/``) render; they do not
analyse. Means, differences, ranges, consistency checks and the wording that
depends on them are worked out here, when the reports are made, from the raw
report files training and the experiments write into ``reports/<task>/``
(report.json, history.json, data.json, calibration.json, risk.json, doubt.json,
unsure.json, views.json, leave_one_source_out.json, cv_final.json), and stored as
``reports/<task>/tables.json``:

    {"format": 1, "task", "model_version", "matches_model",
     "tables": [{"id", "title", "caption", "class", "columns", "groups", "rows"}],
     "facts": {section: {name: value ready to print}},
     "problems": {section: "a sentence saying why it cannot be shown"}}

Every number is already formatted ("63.1%", "0.912", "1,431", "2.4 points lower"); a
figure that was not measured is ``null`` (the page prints a dash read as "not
measured"). A section whose file is missing is in neither ``facts`` nor
``problems`` (the model was not measured that way); a damaged file or one lacking
what the section needs is in ``problems``, never an error.

A table: ``columns[0]`` names the row headers, each row's ``cells`` follow
``columns[1:]``; ``groups`` (optional) is a header row above the columns, each
``{"name", "span"}`` or ``{"column": i}`` (that column, two rows high). Rows and
cells carry ``data`` (``data-*`` attributes the pages and tests find them by).

    python -m training.site_tables TASK [--reports reports/TASK]
        [--metadata static/tfjs_model/TASK/metadata.json]

The release pipeline calls :func:`write_site_tables` after it writes the reports.
Only the standard library and the task registry: no TensorFlow.
"""

from __future__ import annotations

import argparse
import json
import math
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
FORMAT = 1
TABLES_FILE = "tables.json"

# name → (file, what it holds, in words a visitor can read)
SOURCE_FILES = {
    "report": ("report.json", "test-set evaluation"),
    "history": ("history.json", "training history"),
    "data": ("data.json", "dataset summary"),
    "calibration": ("calibration.json", "calibration measurement"),
    "risk": ("risk.json", "measurement of the risk summary"),
    "risk_previous": ("risk_previous.json", "risk summary of the version before"),
    "doubt": ("doubt.json", "measurement of the wrong-kind-of-image check"),
    "unsure": ("unsure.json", "measurement of the “model is unsure” warning"),
    "views": ("views.json", "measurement on other framings of the images"),
    "leave_one_source_out": ("leave_one_source_out.json", "leave-one-collection-out measurement"),
    "cross_validation": ("cv_final.json", "cross-validation of the installed recipe"),
    "backbones": ("backbones.json", "comparison of backbones"),
}

VARIANTS = ("without_metadata", "with_metadata")
VARIANT_NAMES = {"without_metadata": "Image only", "with_metadata": "Image and details"}
# What reading a report file that lacks a field, or holds the wrong type, raises.
MALFORMED = (KeyError, TypeError, ValueError, IndexError, ZeroDivisionError, AttributeError)


# ---- formatting -------------------------------------------------------------------------


def _is_number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _number(value):
    """``value`` if it is a finite number; a report that holds anything else is malformed."""
    if not _is_number(value):
        raise ValueError(f"not a number: {value!r}")
    return value


def _measure(value):
    """A measured figure, or None where the file says it was not measured."""
    return value if _is_number(value) else None


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


def points_lower(drop: float) -> str:
    """A difference of two shares in percentage points; ``drop`` > 0 is how much lower."""
    if drop > 0.0005:
        return f"{drop * 100:.1f} points lower"
    if drop < -0.0005:
        return f"{-drop * 100:.1f} points higher"
    return "no different"


def signed(value: float, digits: int, scale: float = 1) -> str:
    """+0.012 → "+0.012", −0.024 → "−2.4" (scale 100, one digit): a typographic minus."""
    return f"{value * scale:+.{digits}f}".replace("-", "−")


def duration(seconds) -> str | None:
    """42 → "42 seconds", 1077.6 → "18 minutes", 9000 → "2.5 hours"."""
    if not _is_number(seconds):
        return None
    if seconds < 90:
        return f"{seconds:.0f} seconds"
    if seconds < 90 * 60:
        return f"{seconds / 60:.0f} minutes"
    return f"{seconds / 3600:.1f} hours"


def sentence(text: str) -> str:
    """The first letter in capitals, the rest as written."""
    text = str(text or "")
    return text[:1].upper() + text[1:]


def in_words(names: list[str]) -> str:
    """["A"] → "A", ["A", "B", "C"] → "A, B and C"."""
    return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} and {names[-1]}"


def field_names(metadata: dict) -> list[str]:
    """The details the model takes besides the image, without units ("Age (years)" → "Age")."""
    import re

    fields = (metadata.get("metadata_encoding") or {}).get("fields") or []
    return [re.sub(r"\s*\(.*?\)", "", f.get("label") or f["name"]) for f in fields]


# ---- tables -----------------------------------------------------------------------------


def column(name: str, numeric: bool = True, small: bool = False, **extra) -> dict:
    return {"name": name, "numeric": numeric, "small": small, **extra}


def cell(text, label: str, **data) -> dict:
    """A table cell: ``text`` ready to print (None: not measured), its column's name for a
    phone's stacked layout, and ``data-*`` attributes."""
    return {"text": text, "label": label, "data": {k.replace("_", "-"): v for k, v in data.items()}}


def row(
    header: str, cells: list[dict], help: str | None = None, css: str | None = None, **data
) -> dict:
    return {
        "header": header,
        "help": help or None,
        "class": css,
        "cells": cells,
        "data": {k.replace("_", "-"): v for k, v in data.items()},
    }


def table(
    table_id: str,
    title: str,
    caption: str,
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


# ---- report.json: the headline and each kind --------------------------------------------

HEADLINE_METRICS = (
    ("accuracy", "Accuracy", "share of test images given the right kind"),
    ("balanced_accuracy", "Balanced accuracy", "the mean of the per-kind sensitivities"),
    ("macro_auc", "Mean AUC", "ranking quality averaged over the kinds"),
    ("macro_f1", "Mean F1", "balance of precision and sensitivity, averaged"),
)


def _label_names(metadata: dict) -> dict[str, str]:
    return {label["id"]: label["name"] for label in metadata.get("labels", [])}


def headline(report: dict, metadata: dict) -> tuple[dict, list[dict]]:
    evaluated = [v for v in VARIANTS if isinstance(report.get(v), dict)]
    if not evaluated:
        raise ValueError("report.json holds no evaluation")
    fields = field_names(metadata)
    several = len(evaluated) > 1
    n_labels = len(metadata.get("labels") or report["labels"])
    n = report[evaluated[0]].get("n")
    rows = []
    for key, name, help_text in HEADLINE_METRICS:
        cells = []
        for variant in evaluated:
            value = _measure(report[variant].get(key))
            text = decimals(value) if key in ("macro_auc", "macro_f1") else percent(value)
            cells.append(
                cell(
                    text,
                    VARIANT_NAMES[variant] if several else "Test result",
                    metric=key,
                    variant=variant,
                )
            )
        rows.append(row(name, cells, help_text))
    given = ", ".join(fields).lower()
    caption = (
        f"On {n} test images"
        + (f", given the image only and the image with the details ({given})" if several else "")
        + f". With {n_labels} kinds, guessing would give a balanced accuracy of "
        f"{100 / n_labels:.1f}% and an AUC of 0.50."
    )
    columns = [column("Measure", numeric=False)] + [
        column(VARIANT_NAMES[v] if several else "Test result") for v in evaluated
    ]
    facts = {"n": n, "evaluated": evaluated, "given": given}
    return facts, [
        table("headline", "In brief", caption, columns, rows, "headline-table", stack=False)
    ]


def per_class(report: dict, metadata: dict) -> list[dict]:
    """One table per evaluated variant: each label of metadata.json with its test figures."""
    evaluated = [v for v in VARIANTS if isinstance(report.get(v), dict)]
    tables = []
    for variant in evaluated:
        measured_all = report[variant].get("per_class") or {}
        rows = []
        for label in metadata.get("labels") or [{"id": i, "name": i} for i in report["labels"]]:
            measured = measured_all.get(label["id"]) or {}
            value = {
                key: _measure(measured.get(key))
                for key in ("support", "sensitivity", "specificity", "precision", "auc")
            }
            rows.append(
                row(
                    label["name"],
                    [
                        cell(count(value["support"]), "Test images", metric="support"),
                        cell(percent(value["sensitivity"]), "Sensitivity", metric="sensitivity"),
                        cell(percent(value["specificity"]), "Specificity", metric="specificity"),
                        cell(percent(value["precision"]), "Precision", metric="precision"),
                        cell(decimals(value["auc"]), "AUC", metric="auc"),
                    ],
                    label_id=label["id"],
                )
            )
        name = VARIANT_NAMES[variant] if len(evaluated) > 1 else "Test results"
        tables.append(
            table(
                f"per-class-{variant}",
                "Kind by kind",
                (
                    f"{name}: of the test images of each kind, the share the model found "
                    "(sensitivity); of the others, the share it rightly did not call that kind "
                    "(specificity); of the images it called that kind, the share that were "
                    "(precision)."
                ),
                [
                    column("Kind", numeric=False),
                    column("Test images"),
                    column("Sensitivity"),
                    column("Specificity"),
                    column("Precision"),
                    column("AUC"),
                ],
                rows,
                "per-class-table",
            )
        )
    return tables


def reports_match_model(metadata: dict, report: dict | None) -> bool:
    """False when report.json visibly comes from another run than the installed model."""
    shipped = ((metadata.get("metrics") or {}).get("test") or {}).get("without_metadata")
    measured = (report or {}).get("without_metadata")
    if not isinstance(shipped, dict) or not isinstance(measured, dict):
        return True
    same_n = shipped.get("n") == measured.get("n")
    a, b = shipped.get("balanced_accuracy"), measured.get("balanced_accuracy")
    return same_n and (not _is_number(a) or not _is_number(b) or math.isclose(a, b, abs_tol=1e-9))


def _installed(metadata: dict, section: str, key: str, measured: float, what: str) -> str | None:
    """``what`` with the installed model's value when metadata.json's ``section`` holds
    another ``key`` than the measured one (the reports of another run), else None."""
    value = (metadata.get(section) or {}).get(key)
    if not _is_number(value) or math.isclose(value, measured, rel_tol=1e-6, abs_tol=1e-9):
        return None
    return f"{what} ({value:.4g}, not {measured:.4g})"


# ---- history.json and data.json ---------------------------------------------------------


def training(history: dict, metadata: dict) -> dict:
    return {
        "epochs": len(history["epochs"]["loss"]),
        "duration": duration(history.get("train_seconds")),
        "selected_epoch": history.get("selected_epoch"),
    }


def data_summary(data: dict | None, split: dict | None, metadata: dict) -> tuple[dict, list]:
    """The data page's counts per kind (data.json, the split from it or report.json) and
    the facts the data page and the model card print."""
    group = metadata.get("split_group") or "case"
    labels = metadata.get("labels") or [
        {"id": i, "name": i} for i in (data or {}).get("labels", [])
    ]
    columns = [column("Kind", numeric=False)]
    parts = []
    if data:
        parts += [
            ("images", "Images", data.get("images_per_label") or {}),
            ("groups", f"{group.capitalize()}s", data.get("groups_per_label") or {}),
        ]
    if split:
        parts += [
            (part, name, split.get(part) or {})
            for part, name in (("train", "Training"), ("val", "Validation"), ("test", "Test"))
        ]
    columns += [column(name) for _, name, _ in parts]
    rows = [
        row(
            label["name"],
            [
                cell(count(_measure(counts.get(label["id"]))), name, count=key)
                for key, name, counts in parts
            ],
            label_id=label["id"],
        )
        for label in labels
    ]
    tables = [
        table(
            "counts",
            "Counts per kind",
            (
                f"Images per kind, the distinct {group}s they show, and how the saved split divides "
                "the images into training, validation and test."
            ),
            columns,
            rows,
            "counts-table",
        )
    ]
    facts = {}
    if data:
        facts = {
            "n_images": count(_number(data["n_images"])),
            "n_groups": count(_measure(data.get("n_groups"))),
            "per_label": [
                {
                    "name": label["name"],
                    "count": count(_measure((data.get("images_per_label") or {}).get(label["id"]))),
                }
                for label in labels
            ],
            "recorded": ", ".join(
                (["age"] if data.get("age") else [])
                + [
                    str(c.get("title", k)).lower()
                    for k, c in (data.get("categories") or {}).items()
                ]
            )
            or None,
        }
    return facts, tables


# ---- calibration.json, risk.json, doubt.json, unsure.json --------------------------------

CALIBRATION_SPLITS = (("validation", "Validation (T fitted here)"), ("test", "Test"))


def calibration(calibration: dict, metadata: dict) -> tuple[dict, list]:
    rows, worse = [], []
    for split, name in CALIBRATION_SPLITS:
        measured = {when: calibration[split][when] for when in ("before", "after")}
        n = sum(int(_number(b["count"])) for b in measured["after"]["bins"])
        cells = [cell(count(n), "Answers", metric="n")]
        for key in ("ece", "nll"):
            value = {when: _number(measured[when][key]) for when in ("before", "after")}
            if value["after"] > value["before"]:
                worse.append(f"the {key.upper()} on {split}")
            cells += [
                cell(decimals(value[when]), f"{key.upper()} {when}", metric=key, when=when)
                for when in ("before", "after")
            ]
        rows.append(row(name, cells, split=split))
    temperature = _number(calibration["temperature"])
    facts = {
        "temperature": f"{temperature:.2f}",
        "softens": temperature > 1,
        "worse": " or ".join(worse) or None,
        "installed": _installed(metadata, "calibration", "temperature", temperature, "temperature"),
    }
    columns = [column("Images", numeric=False), column("Answers")] + [
        column(f"{key} {when}") for key in ("ECE", "NLL") for when in ("before", "after")
    ]
    return facts, [
        table(
            "calibration",
            "Calibration",
            (
                f"Before and after dividing the scores by T = {temperature:.2f}; lower is better for "
                "both."
            ),
            columns,
            rows,
            "calibration-table",
        )
    ]


def _rule_table(
    table_id: str, css: str, caption: str, test: list[dict], shares: list, counts: list
) -> dict:
    """A rule's test figures, one column per variant: shares (key, name, help), then counts."""
    several = len(test) > 1
    names = [VARIANT_NAMES[c["variant"]] if several else "Test result" for c in test]
    rows = [
        row(
            name,
            [
                cell(percent(c[key]), names[i], metric=key, variant=c["variant"])
                for i, c in enumerate(test)
            ],
            help_text,
        )
        for key, name, help_text in shares
    ]
    rows += [
        row(
            name,
            [
                cell(
                    count(c[key]) if c[key] is not None else None,
                    names[i],
                    metric=key,
                    variant=c["variant"],
                )
                for i, c in enumerate(test)
            ],
        )
        for key, name in counts
    ]
    return table(
        table_id,
        "On the test images",
        caption,
        [column("Measure", numeric=False)] + [column(n) for n in names],
        rows,
        css,
        stack=False,
    )


RISK_THRESHOLD_CAP = 0.5  # training.risk never sets the threshold above one half

# training.shifts.HELD_OUT, in words: (row name, help).
SHIFT_NAMES = {
    "equalize": ("Grey levels spread evenly", "global histogram equalisation"),
    "clahe": (
        "Local contrast evened out",
        "contrast-limited adaptive histogram equalisation (CLAHE), as many X-ray systems apply",
    ),
    "sharpen": ("Edges sharpened", "an unsharp mask, like a vendor's edge enhancement"),
    "jpeg_25": ("Strongly compressed", "saved again as a JPEG of quality 25"),
    "crop_10": ("Tighter field", "a tenth of the image cut from every side"),
    "pad_12": ("Wider field", "a black border of 12% on every side"),
}


def _shift_figures(measured: dict) -> tuple[list, dict | None]:
    """(per shift: (name, focus sensitivity, specificity)), and their means and worst
    (None without shifts), of one risk.json-like ``shifts.test``."""
    rows = [
        (name, _measure(m["focus_sensitivity"]), _measure(m["specificity"]))
        for name, m in measured.items()
    ]
    if not rows:
        return rows, None
    return rows, {
        "focus_sensitivity": sum(r[1] for r in rows) / len(rows),
        "specificity": sum(r[2] for r in rows) / len(rows),
        "worst_focus_sensitivity": min(r[1] for r in rows),
        "worst_specificity": min(r[2] for r in rows),
    }


def risk_shifts(risk: dict, focus_name: str) -> tuple[dict, list]:
    """Facts and the table of the risk rule on the test images under the held-out shifts
    (risk.json → shifts), if it has them."""
    shifts = risk.get("shifts")
    if not shifts:
        return {}, []
    rows, summary = _shift_figures(shifts["test"])
    if summary is None:
        return {}, []
    unshifted = risk["test"]["without_metadata"]
    per_condition = shifts["threshold_per_condition"]
    threshold = _number(risk["threshold"])
    names = ("Images", f"{focus_name} flagged", "Others not flagged")

    def line(header, sensitivity, specificity, help_text=None, **data):
        return row(
            header,
            [
                cell(percent(sensitivity), names[1], metric="focus_sensitivity"),
                cell(percent(specificity), names[2], metric="specificity"),
            ],
            help_text,
            **data,
        )

    table_rows = [
        line(
            "As they are",
            _measure(unshifted["focus_sensitivity"]),
            _measure(unshifted["specificity"]),
            condition="none",
        )
    ]
    for name, sensitivity, specificity in rows:
        title, help_text = SHIFT_NAMES.get(name, (name, None))
        table_rows.append(line(title, sensitivity, specificity, help_text, condition=name))
    table_rows += [
        line(
            "Mean of the processed",
            summary["focus_sensitivity"],
            summary["specificity"],
            condition="mean",
        ),
        line(
            "Worst of the processed",
            summary["worst_focus_sensitivity"],
            summary["worst_specificity"],
            "the lowest figure of each column, not always from the same processing",
            condition="worst",
        ),
    ]
    facts = {
        "shifts": len(rows),
        "set_by_shifts": threshold < RISK_THRESHOLD_CAP
        and threshold < _number(per_condition["none"]),
        "shift_mean_sensitivity": percent(summary["focus_sensitivity"]),
        "shift_mean_specificity": percent(summary["specificity"]),
    }
    return facts, [
        table(
            "risk-shifts",
            "On the test images, processed",
            "On the test images as they are and processed as another hospital's equipment "
            "might: how many of the serious cases got the sentence, and how many of the "
            "others did not.",
            [column(names[0], numeric=False), column(names[1]), column(names[2])],
            table_rows,
            "risk-shifts-table",
            stack=False,
        )
    ]


def risk_change(previous: dict, risk: dict, focus_name: str) -> tuple[dict, list]:
    """Facts and the table of the risk rule before (risk_previous.json: the version it
    replaced, the same images) and now, unshifted and under the held-out shifts."""
    before_rows, before = _shift_figures((previous.get("shifts") or {}).get("test") or {})
    after_rows, after = _shift_figures((risk.get("shifts") or {}).get("test") or {})
    if before is None or after is None or [r[0] for r in before_rows] != [r[0] for r in after_rows]:
        raise ValueError("risk_previous.json and risk.json are not of the same shifts")
    b0, a0 = previous["test"]["without_metadata"], risk["test"]["without_metadata"]
    columns = [
        column("Test images", numeric=False),
        column(f"Before: {focus_name} caught"),
        column("Before: others spared"),
        column(f"Now: {focus_name} caught"),
        column("Now: others spared"),
    ]

    def line(header, figures, **data):
        return row(
            header,
            [
                cell(percent(value), columns[i + 1]["name"], metric=metric, version=version)
                for i, (value, metric, version) in enumerate(figures)
            ],
            **data,
        )

    def four(b_sens, b_spec, a_sens, a_spec):
        return [
            (b_sens, "focus_sensitivity", "before"),
            (b_spec, "specificity", "before"),
            (a_sens, "focus_sensitivity", "now"),
            (a_spec, "specificity", "now"),
        ]

    rows = [
        line(
            "As they are",
            four(
                _measure(b0["focus_sensitivity"]),
                _measure(b0["specificity"]),
                _measure(a0["focus_sensitivity"]),
                _measure(a0["specificity"]),
            ),
            condition="none",
        ),
        line(
            "Processed: mean",
            four(
                before["focus_sensitivity"],
                before["specificity"],
                after["focus_sensitivity"],
                after["specificity"],
            ),
            condition="mean",
        ),
        line(
            "Processed: worst",
            four(
                before["worst_focus_sensitivity"],
                before["worst_specificity"],
                after["worst_focus_sensitivity"],
                after["worst_specificity"],
            ),
            condition="worst",
        ),
    ]
    facts = {
        "previous_version": str(previous["version"]),
        "previous_threshold": percent(_number(previous["threshold"])),
    }
    return facts, [
        table(
            "risk-change",
            "Before and now",
            "The risk sentence of the version before and of this one on the same test images, "
            "as they are and processed as in the table above.",
            columns,
            rows,
            "risk-change-table",
            stack=False,
        )
    ]


def risk(risk: dict, metadata: dict, previous: dict | None = None) -> tuple[dict, list]:
    names = _label_names(metadata)
    focus = risk["focus"]
    serious = [label for label in risk["labels"] if label != focus]
    if focus not in risk["labels"]:
        raise ValueError(f"the focus label {focus!r} is not among {risk['labels']!r}")
    threshold = _number(risk["threshold"])
    figures = ("focus_sensitivity", "sensitivity", "specificity", "flagged")
    test = [
        {
            "variant": variant,
            **{key: _measure(measured[key]) for key in figures},
            **{key: measured.get(key) for key in ("n", "n_focus", "n_malignant")},
        }
        for variant, measured in ((v, risk["test"].get(v)) for v in VARIANTS)
        if measured
    ]
    if not test:
        raise ValueError("risk.json holds no test figures")
    validation = risk["validation"]
    focus_name = names.get(focus, focus)
    labels = in_words([names.get(i, i) for i in [focus, *serious]])
    high = str(risk["messages"]["high"])
    shares = [
        (
            "focus_sensitivity",
            f"{focus_name} flagged",
            f"sensitivity for {focus_name} (of {test[0]['n_focus']} images)",
        )
    ]
    if serious:
        shares.append(
            (
                "sensitivity",
                "Serious kinds flagged",
                f"sensitivity for {labels} together (of {test[0]['n_malignant']})",
            )
        )
    shares += [
        (
            "specificity",
            "Others not flagged",
            "specificity: the images of every other kind that got the reassuring sentence",
        ),
        ("flagged", "All images flagged", f"the share of all test images that got “{high}”"),
    ]
    facts = {
        "high": high,
        "low": str(risk["messages"]["low"]),
        "labels": labels,
        "several": bool(serious),
        "focus": focus_name,
        "threshold": percent(threshold),
        "target": f"{_number(risk['target_focus_sensitivity']) * 100:.0f}%",
        "capped": math.isclose(threshold, RISK_THRESHOLD_CAP),
        "validation_flagged": percent(_measure(validation.get("focus_sensitivity"))),
        "validation_n_focus": validation.get("n_focus"),
        "installed": _installed(metadata, "risk", "threshold", threshold, "risk threshold"),
    }
    shifted_facts, shifted_tables = risk_shifts(risk, focus_name)
    facts.update(shifted_facts)
    if previous is not None and shifted_tables:
        change_facts, change_tables = risk_change(previous, risk, focus_name)
        facts.update(change_facts)
        shifted_tables += change_tables
    return facts, [
        _rule_table(
            "risk",
            "risk-table",
            (
                "On the test images: how many of the serious cases got the sentence, and how many of "
                "the others did not."
            ),
            test,
            shares,
            [("n", "Test images")],
        ),
        *shifted_tables,
    ]


DOUBT_METHODS = {
    "in_kind_head": (
        "In-kind check",
        "a small extra output of the network, trained to tell "
        "images of this kind from other images",
    ),
    "max_probability": ("Top-probability rule", "doubt when no kind gets a high probability"),
}


def doubt(doubt: dict, metadata: dict) -> tuple[dict, list]:
    chosen = doubt["method"]
    ids = [chosen] + [m for m in DOUBT_METHODS if m != chosen and isinstance(doubt.get(m), dict)]
    tests = {m: doubt[m]["test"] for m in ids}
    kinds = [
        {
            "id": kind,
            "name": str(name),
            "n": tests[chosen]["n_per_kind"].get(kind),
            "rates": {m: _measure(tests[m]["detection_rate"].get(kind)) for m in ids},
        }
        for kind, name in doubt["kind_names"].items()
    ]
    methods = []
    for m in ids:
        rates = [kind["rates"][m] for kind in kinds if kind["rates"][m] is not None]
        name, help_text = DOUBT_METHODS.get(m, (m.replace("_", " ").capitalize(), ""))
        methods.append(
            {
                "id": m,
                "name": name,
                "help": help_text,
                "false_alarm_rate": _number(tests[m]["false_alarm_rate"]),
                "n_in_kind": tests[m]["n_in_kind"],
                "lowest": min(rates),
                "mean": sum(rates) / len(rates),
            }
        )
    first = methods[0]
    target = _measure(doubt.get("false_alarm_target"))
    facts = {
        "target": f"{(target or first['false_alarm_rate']) * 100:.0f}%",
        # The head warns below its own decision boundary (training.doubt.HEAD_THRESHOLD),
        # not at a quantile of validation scores (a model made before that rule: False).
        "boundary": doubt.get("threshold_rule") == "boundary",
        "chosen": {
            "name": first["name"].lower(),
            "help": first["help"],
            "caught_all": first["lowest"] >= 1,
            "lowest": percent(first["lowest"]),
            "false_alarms": percent(first["false_alarm_rate"]),
            "n_in_kind": first["n_in_kind"],
        },
        "others": [
            {
                "name": m["name"].lower(),
                "help": m["help"],
                "lowest": percent(m["lowest"]),
                "mean": percent(m["mean"]),
                "false_alarms": percent(m["false_alarm_rate"]),
            }
            for m in methods[1:]
        ],
        "better": all(first["mean"] > other["mean"] for other in methods[1:]),
        "synthetic": any(kind["id"] in ("photo", "document") for kind in kinds),
        "installed": _installed(
            metadata, "doubt", "threshold", _number(tests[chosen]["threshold"]), "doubt threshold"
        ),
    }
    names = [m["name"] + (" (used)" if m["id"] == chosen else "") for m in methods]
    rows = [
        row(
            sentence(kind["name"]),
            [cell(kind["n"] if kind["n"] is not None else None, "Images", metric="n")]
            + [cell(percent(kind["rates"][m["id"]]), m["name"], method=m["id"]) for m in methods],
            kind=kind["id"],
        )
        for kind in kinds
    ]
    rows.append(
        row(
            "Its own test images, doubted by mistake",
            [cell(first["n_in_kind"], "Images", metric="n")]
            + [cell(percent(m["false_alarm_rate"]), m["name"], method=m["id"]) for m in methods],
            css="doubt-false-alarms",
            kind="in_kind",
        )
    )
    return facts, [
        table(
            "doubt",
            "The wrong kind of image",
            (
                "Share of each kind of image the checks caught (higher is better), and the share of the "
                "model's own test images they doubted by mistake (lower is better)."
            ),
            [column("Kind of image", numeric=False), column("Images")] + [column(n) for n in names],
            rows,
            "doubt-table",
        )
    ]


def unsure(unsure: dict, metadata: dict) -> tuple[dict, list]:
    threshold = unsure["threshold"]
    if threshold is not None:
        threshold = _number(threshold)
    figures = ("flagged", "accuracy_flagged", "accuracy_not_flagged", "accuracy_all")
    test = [
        {
            "variant": variant,
            "n": int(_number(measured["n"])),
            "n_flagged": int(_number(measured["n_flagged"])),
            **{key: _measure(measured[key]) for key in figures},
        }
        for variant, measured in ((v, unsure["test"].get(v)) for v in VARIANTS)
        if measured
    ]
    if not test:
        raise ValueError("unsure.json holds no test figures")
    validation = unsure["validation"]
    # A threshold of None (never unsure) is compared too: metadata.json's copy may have one.
    installed = (metadata.get("unsure") or {}).get("threshold", threshold)
    if threshold is not None and installed is not None:
        other = _installed(metadata, "unsure", "threshold", threshold, "unsure threshold")
    elif installed != threshold:

        def words(value):
            return "none" if value is None else f"{value:.4g}"

        other = f"unsure threshold ({words(installed)}, not {words(threshold)})"
    else:
        other = None
    facts = {
        "threshold": percent(threshold),
        "validation_right": percent(_measure(validation.get("accuracy_flagged"))),
        "validation_n_flagged": validation.get("n_flagged"),
        "test_right": percent(test[0]["accuracy_all"]),
        "test_n": test[0]["n"],
        "installed": other,
    }
    tables = []
    if threshold is not None:
        tables.append(
            _rule_table(
                "unsure",
                "unsure-table",
                (
                    "On the test images: how many got the warning, and how often the top answer was "
                    "right with and without it."
                ),
                test,
                [
                    (
                        "flagged",
                        "Images called unsure",
                        "the share of all test images that got the warning",
                    ),
                    (
                        "accuracy_flagged",
                        "Right when unsure",
                        "top answer right, on the images with the warning",
                    ),
                    (
                        "accuracy_not_flagged",
                        "Right otherwise",
                        "top answer right, on the images without it",
                    ),
                    ("accuracy_all", "Right overall", "top answer right, on all test images"),
                ],
                [("n_flagged", "Test images called unsure"), ("n", "Test images")],
            )
        )
    return facts, tables


# ---- views.json, leave_one_source_out.json, cv_final.json ---------------------------------

VIEWS = {
    "as_given": ("As given", "the image as it is, answered as the site answers it"),
    "one_view": (
        "One view",
        "the image alone, without the mirror images the site adds: a quarter of the work",
    ),
    "centre_square_crop": (
        "Centre-square crop",
        "the image cut to its centred square first, i.e. framed more tightly",
    ),
    "mean_of_4_mirrors": (
        "Mean of 4 mirrors",
        "the mean answer for the image and its three mirror images; not used by the site",
    ),
}


def _view_figures(measured: dict) -> dict:
    return {
        "n": int(_number(measured["n"])),
        "accuracy": _number(measured["accuracy"]),
        "balanced_accuracy": _number(measured["balanced_accuracy"]),
        "macro_auc": _measure(measured["macro_auc"]),
    }


def _change(before: dict, after: dict, key: str) -> float | None:
    if before[key] is None or after[key] is None:
        return None
    return after[key] - before[key]


def views(views: dict, metadata: dict) -> tuple[dict, list]:
    """The model on other views of the same images (views.json), given the image alone."""
    measured = views["views"]
    ids = [v for v in VIEWS if v in measured] + [v for v in measured if v not in VIEWS]
    if "as_given" not in ids:
        raise ValueError("views.json does not measure the images as given")
    rows, test = [], {}
    for view in ids:
        name, help_text = VIEWS.get(view, (view.replace("_", " ").capitalize(), ""))
        val = measured[view].get("val")
        test[view] = _view_figures(measured[view]["test"])
        val = _view_figures(val) if val is not None else None
        rows.append(
            row(
                name,
                [
                    cell(
                        percent(test[view]["balanced_accuracy"]),
                        "Balanced accuracy (test)",
                        split="test",
                        metric="balanced_accuracy",
                    ),
                    cell(
                        decimals(test[view]["macro_auc"]),
                        "Mean AUC (test)",
                        split="test",
                        metric="macro_auc",
                    ),
                    cell(
                        percent(test[view]["accuracy"]),
                        "Accuracy (test)",
                        split="test",
                        metric="accuracy",
                    ),
                    cell(
                        percent(val["balanced_accuracy"] if val else None),
                        "Balanced accuracy (validation)",
                        split="val",
                        metric="balanced_accuracy",
                    ),
                    cell(
                        decimals(val["macro_auc"] if val else None),
                        "Mean AUC (validation)",
                        split="val",
                        metric="macro_auc",
                    ),
                ],
                help_text,
                view=view,
            )
        )
    given = test["as_given"]

    def compared(view):
        if view not in test:
            return None
        ba = _change(given, test[view], "balanced_accuracy")
        auc = _change(given, test[view], "macro_auc")
        return {
            "balanced_accuracy": percent(test[view]["balanced_accuracy"]),
            "change": points_lower(-ba),
            "signed_change": signed(ba, 1, 100),
            "macro_auc": decimals(test[view]["macro_auc"]) if auc is not None else None,
            "signed_auc_change": signed(auc, 3) if auc is not None else None,
        }

    image_only = views.get("metadata", "none") == "none"
    shipped = ((metadata.get("metrics") or {}).get("test") or {}).get("without_metadata") or {}
    installed = shipped.get("balanced_accuracy")
    same = (
        not image_only
        or not _is_number(installed)
        or (
            shipped.get("n") == given["n"]
            and math.isclose(installed, given["balanced_accuracy"], abs_tol=1e-9)
        )
    )
    facts = {
        "n": count(given["n"]),
        "balanced_accuracy": percent(given["balanced_accuracy"]),
        "macro_auc": decimals(given["macro_auc"]),
        "image_only": image_only,
        "crop": compared("centre_square_crop"),
        "mirrors": compared("mean_of_4_mirrors"),
        "one_view": compared("one_view"),
        "installed": None if same else percent(installed),
    }
    columns = [
        column("View", numeric=False, spans_rows=True),
        column("Balanced accuracy"),
        column("Mean AUC"),
        column("Accuracy"),
        column("Balanced accuracy", small=True),
        column("Mean AUC", small=True),
    ]
    groups = [
        {"column": 0},
        {"name": "Test images", "span": 3},
        {"name": "Validation images", "span": 2, "small": True},
    ]
    return facts, [
        table(
            "views",
            "Framed differently",
            (
                ("Given the image alone. " if image_only else "")
                + "On the test images, and in smaller print on the validation images (used in choosing "
                "the model)."
            ),
            columns,
            rows,
            "views-table",
            groups,
        )
    ]


FEW_TEST_IMAGES = 100  # a collection with fewer: a single image moves its figures a lot


def _source_figures(measured: dict) -> dict:
    labels = measured["labels"]
    if not isinstance(labels, list) or not labels:
        raise ValueError(f"no labels: {labels!r}")
    return {**_view_figures(measured), "labels": [str(label) for label in labels]}


def _mean(values: list) -> float | None:
    values = [value for value in values if value is not None]
    return sum(values) / len(values) if values else None


def source_names(task_id: str) -> dict[str, tuple[str, str]]:
    """{source id: (short name, where)} of the task registry (training.tasks), if it knows
    the task; a source not listed there is shown under its own id."""
    from training.tasks import TASKS

    task = TASKS.get(task_id)
    return {source: (name, where) for source, name, where in (task.sources if task else ())}


def sources(loso: dict, metadata: dict, known: dict[str, tuple[str, str]]) -> tuple[dict, list]:
    """What leaving one collection out of training cost (leave_one_source_out.json)."""
    names = _label_names(metadata)
    rows = []
    for source, measured in loso["sources"].items():
        test = measured["test_split"]
        reference, held_out = (
            _source_figures(test["reference"]),
            _source_figures(test["held_out"]),
        )
        if (reference["n"], reference["labels"]) != (held_out["n"], held_out["labels"]):
            raise ValueError(f"{source}: the two models were not tested on the same images")
        name, where = known.get(source, (source, ""))
        rows.append(
            {
                "id": source,
                "name": name,
                "where": where,
                "run": str(measured["run"]),
                "n_images": int(_number(measured["n_images"])),
                "labels": [
                    {"id": label, "name": names.get(label, label)} for label in reference["labels"]
                ],
                "reference": reference,
                "held_out": held_out,
                "all": _source_figures(measured["all_images_held_out"]),
                "drop": reference["balanced_accuracy"] - held_out["balanced_accuracy"],
                "auc_drop": _change(held_out, reference, "macro_auc"),
            }
        )
    if not rows:
        raise ValueError("leave_one_source_out.json holds no source")
    n_test = sum(r["reference"]["n"] for r in rows)
    mean_auc_drop = _mean([r["auc_drop"] for r in rows])
    auc_drops = [r["auc_drop"] for r in rows if r["auc_drop"] is not None]
    largest = max(rows, key=lambda r: r["drop"])
    epochs = _measure(loso.get("epochs"))
    shipped_epochs = _measure((metadata.get("training") or {}).get("epochs"))
    facts = {
        "count": len(rows),
        "fell": sum(r["drop"] > 0 for r in rows),
        "auc_fell": sum(drop > 0 for drop in auc_drops),
        "auc_measured": len(auc_drops),
        "weighted_drop": points_lower(sum(r["drop"] * r["reference"]["n"] for r in rows) / n_test),
        "mean_drop": points_lower(_mean([r["drop"] for r in rows])),
        "mean_held_out": percent(_mean([r["held_out"]["balanced_accuracy"] for r in rows])),
        "mean_reference": percent(_mean([r["reference"]["balanced_accuracy"] for r in rows])),
        "mean_auc_drop": None
        if mean_auc_drop is None
        else (
            f"{mean_auc_drop:.3f} lower" if mean_auc_drop >= 0 else f"{-mean_auc_drop:.3f} higher"
        ),
        "largest": (
            {"name": largest["name"], "drop": points_lower(largest["drop"])}
            if largest["drop"] > 0
            else None
        ),
        "few": in_words(
            [
                f"{r['name']} ({r['reference']['n']} test images of {len(r['labels'])} kinds)"
                for r in rows
                if r["reference"]["n"] < FEW_TEST_IMAGES
            ]
        )
        if any(r["reference"]["n"] < FEW_TEST_IMAGES for r in rows)
        else None,
        "epochs": f"{epochs:.0f}" if epochs else None,
        "shipped_epochs": f"{shipped_epochs:.0f}" if shipped_epochs else None,
        "reference": str(loso["reference"]),
        "runs": in_words([f"“{r['run']}”" for r in rows]),
        "names": {r["id"]: r["name"] for r in rows},
    }
    models = (
        ("reference", "trained with it"),
        ("held_out", "never saw it"),
        ("all", "never saw it, all its images"),
    )
    table_rows = []
    for r in rows:
        cells = [
            cell(count(r["n_images"]), "Images", metric="n_images"),
            cell(count(r["reference"]["n"]), "Test images", metric="n"),
            {
                **cell(None, "Kinds present", metric="labels"),
                "numeric": False,
                "abbrs": [{"text": label["id"], "title": label["name"]} for label in r["labels"]],
            },
        ]
        for metric, short in (("balanced_accuracy", "Bal. acc."), ("macro_auc", "AUC")):
            for key, name in models:
                value = r[key][metric]
                cells.append(
                    cell(
                        percent(value) if metric == "balanced_accuracy" else decimals(value),
                        f"{short}, {name}",
                        model=key,
                        metric=metric,
                    )
                )
        table_rows.append(row(r["name"], cells, r["where"], source=r["id"]))
    columns = [
        column("Collection left out", numeric=False, spans_rows=True),
        column("Images", spans_rows=True),
        column("Test images", spans_rows=True),
        column("Kinds present", numeric=False, spans_rows=True),
    ] + [column(sentence(name), small=True) for _ in range(2) for _, name in models]
    groups = [
        {"column": 0},
        {"column": 1},
        {"column": 2},
        {"column": 3},
        {"name": "Balanced accuracy", "span": 3},
        {"name": "Mean AUC", "span": 3},
    ]
    return facts, [
        table(
            "sources",
            "A clinic or camera it never saw",
            (
                "Given the image alone, on each collection's test images: the model trained with it "
                "and the one that never saw it; and that one on all the collection's images."
            ),
            columns,
            table_rows,
            "sources-table",
            groups,
        )
    ]


def cross_validation(cv: dict, metadata: dict) -> tuple[dict, list]:
    """The recipe on other splits of the same images (cv_final.json)."""

    def figures(measured):
        if not isinstance(measured, dict):
            return None
        return {
            "balanced_accuracy": _number(measured["balanced_accuracy"]),
            "macro_auc": _measure(measured.get("macro_auc")),
        }

    folds = []
    for fold, measured in sorted(cv["folds"].items(), key=lambda item: int(item[0])):
        folds.append(
            {
                "fold": int(fold) + 1,
                "n": int(_number(measured["n_test"])),
                **{variant: figures(measured.get(variant)) for variant in VARIANTS},
            }
        )
    if not folds or any(fold["without_metadata"] is None for fold in folds):
        raise ValueError("the cross-validation holds no image-only figures")
    mean = {variant: figures(cv["mean"].get(variant)) for variant in VARIANTS}
    if mean["without_metadata"] is None:
        raise ValueError("the cross-validation holds no mean of the image-only figures")
    sd = {
        key: _measure((cv["sd"].get("without_metadata") or {}).get(key))
        for key in ("balanced_accuracy", "macro_auc")
    }
    image_only = [fold["without_metadata"]["balanced_accuracy"] for fold in folds]
    shipped = metadata.get("training") or {}
    epochs, shipped_epochs = _measure(cv.get("epochs")), _measure(shipped.get("epochs"))
    views = str(cv.get("test_time_views") or "none")
    shipped_views = str(shipped.get("test_time_views") or "none")
    image = mean["without_metadata"]
    total = int(_number(cv.get("folds_total", len(folds))))
    facts = {
        "epochs": f"{epochs:.0f}" if epochs else None,
        "shipped_epochs": (
            f"{shipped_epochs:.0f}"
            if epochs and shipped_epochs and shipped_epochs != epochs
            else None
        ),
        "folds": len(folds),
        "folds_total": total,
        "partial": len(folds) < total,
        "views": (
            "mirrors" if views == "mirrors" else "one_view" if shipped_views == "mirrors" else None
        ),
        "balanced_accuracy": percent(image["balanced_accuracy"]),
        "sd": f"{sd['balanced_accuracy'] * 100:.1f}"
        if sd["balanced_accuracy"] is not None
        else None,
        "low": percent(min(image_only)),
        "high": percent(max(image_only)),
        "macro_auc": decimals(image["macro_auc"]),
        "sd_auc": decimals(sd["macro_auc"]),
    }
    given = ", ".join(field_names(metadata)).lower()
    variants = ["without_metadata"] + (["with_metadata"] if mean["with_metadata"] else [])
    words = {"without_metadata": "image only", "with_metadata": f"with {given}"}
    columns = [column("Split", numeric=False), column("Test images")]
    for variant in variants:
        columns += [
            column(f"Balanced accuracy, {words[variant]}"),
            column(f"Mean AUC, {words[variant]}"),
        ]
    rows = []
    for fold in folds:
        cells = [cell(count(fold["n"]), "Test images", metric="n")]
        for variant in variants:
            measured = fold[variant] or {}
            cells += [
                cell(
                    percent(measured.get("balanced_accuracy")),
                    f"Balanced accuracy, {words[variant]}",
                    variant=variant,
                    metric="balanced_accuracy",
                ),
                cell(
                    decimals(measured.get("macro_auc")),
                    f"Mean AUC, {words[variant]}",
                    variant=variant,
                    metric="macro_auc",
                ),
            ]
        rows.append(row(str(fold["fold"]), cells, fold=fold["fold"]))
    return facts, [
        table(
            "cross-validation",
            "Each split",
            "Balanced accuracy and mean AUC on each split's test images.",
            columns,
            rows,
            "cv-table",
        )
    ]


def run_names(rows: list[dict]) -> list[str]:
    """The plain name of each run of backbones.json, for the page: the network and how long
    it trained ("MobileNet V1 α 0.75, 4 epochs"), never the run's folder name
    ("a075_4 (issue 21)"), which stays in the docs and in the row's data. The run marked
    "(shipped)" is "(this model)"; a run named like an earlier one trained with other
    settings: its ``settings`` in words where backbones.json has them, else "other settings"."""
    names, seen = [], set()
    for found in rows:
        name = f"{found['backbone']}, {int(_number(found['epochs']))} epochs"
        if name in seen:
            name = f"{name}, {found.get('settings') or 'other settings'}"
        seen.add(name)
        names.append(f"{name} (this model)" if "(shipped)" in str(found["run"]) else name)
    return names


def backbones(compared: dict, metadata: dict) -> tuple[dict, list]:
    """The networks tried for this task, side by side (backbones.json, written by
    research's ``compare_backbones`` of the task). Each row is named in plain words
    (:func:`run_names`); its run's name is the row's data."""
    shipped = (metadata.get("training") or {}).get("backbone")
    columns = [
        column("Run", numeric=False),
        column("Backbone", numeric=False),
        column("Epochs"),
        column("Validation balanced accuracy"),
        column("Validation mean AUC"),
        column("Test balanced accuracy"),
        column("Test mean AUC"),
        column("Weights, float16"),
        column("Training"),
    ]
    rows = []
    for found, name in zip(compared["rows"], run_names(compared["rows"])):
        cells = [
            cell(found["backbone"], "Backbone"),
            cell(str(int(_number(found["epochs"]))), "Epochs"),
            cell(
                percent(found["val_balanced_accuracy"]),
                "Validation balanced accuracy",
                metric="val_balanced_accuracy",
            ),
            cell(decimals(found["val_macro_auc"]), "Validation mean AUC"),
            cell(
                percent(found["test_balanced_accuracy"]),
                "Test balanced accuracy",
                metric="test_balanced_accuracy",
            ),
            cell(decimals(found.get("test_macro_auc")), "Test mean AUC"),
            cell(f"{_number(found['float16_mb']):.1f} MB", "Weights, float16"),
            cell(f"{_number(found['minutes']):.0f} min", "Training"),
        ]
        rows.append(row(name, cells, run=str(found["run"])))
    facts = {
        "shipped": shipped,
        "count": len(rows),
        "selection": str(compared.get("selection", "")),
    }
    return facts, [
        table(
            "backbones",
            "Backbones compared",
            "One view, image only, on this task's own split; chosen on validation, "
            "the test column for reference only.",
            columns,
            rows,
            "backbone-table",
        )
    ]


# ---- the whole file -----------------------------------------------------------------------


def _read(folder: Path, name: str) -> tuple[dict | None, str | None]:
    """(content, None), (None, "missing") or (None, "damaged")."""
    path = folder / SOURCE_FILES[name][0]
    try:
        content = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None, "missing"
    except (OSError, ValueError):
        return None, "damaged"
    return (content, None) if isinstance(content, dict) else (None, "damaged")


def problem(name: str, reason: str) -> str:
    """Why the part made from file ``name`` is not shown: a sentence for the page."""
    file_name, what = SOURCE_FILES[name]
    if reason == "malformed":
        return f"This part could not be shown: {file_name} does not hold what it needs."
    return f"The {what} of this model ({file_name}) is {reason}, so it cannot be shown here."


def site_tables(task_id: str, reports_dir, metadata: dict | None = None) -> dict:
    """The content of tables.json for the report files in ``reports_dir`` (the task's folder).

    ``metadata``: the installed model's metadata.json (its labels' names, its details, the
    thresholds it carries); None: the task registry's labels, and no comparison with an
    installed model.
    """
    folder = Path(reports_dir)
    if metadata is None:
        from training.tasks import get_task

        task = get_task(task_id)
        metadata = {
            "task": task_id,
            "split_group": task.group_name,
            "labels": [{"id": label.id, "name": label.name} for label in task.labels],
            "metadata_encoding": {
                "fields": [{"name": f.name, "label": f.label} for f in task.metadata_fields]
            },
        }
    files, reasons = {}, {}
    for name in SOURCE_FILES:
        files[name], reason = _read(folder, name)
        if reason:
            reasons[name] = reason
    out = {
        "format": FORMAT,
        "task": task_id,
        "model_version": metadata.get("version"),
        "matches_model": reports_match_model(metadata, files["report"]),
        "tables": [],
        "facts": {},
        "problems": {},
    }

    def section(key: str, name: str, build, *args):
        """Facts and tables of one section from file ``name``, or the problem with it."""
        if files[name] is None:
            if reasons.get(name) == "damaged":
                out["problems"][key] = problem(name, "damaged")
            return
        try:
            made = build(files[name], *args)
        except MALFORMED:
            out["problems"][key] = problem(name, "malformed")
            return
        facts, tables = made if isinstance(made, tuple) else (made, [])
        out["facts"][key] = facts
        out["tables"] += tables

    def report_tables(report, meta):
        facts, tables = headline(report, meta)
        return facts, tables + per_class(report, meta)

    section("headline", "report", report_tables, metadata)
    section("training", "history", training, metadata)
    split = (files["data"] or {}).get("split") or (files["report"] or {}).get("split")
    if files["data"] is not None or split:
        try:
            facts, tables = data_summary(
                files["data"], split if isinstance(split, dict) else None, metadata
            )
            out["facts"]["data"] = facts
            out["tables"] += tables
        except MALFORMED:
            out["problems"]["data"] = problem("data", "malformed")
    section("calibration", "calibration", calibration, metadata)
    section("risk", "risk", risk, metadata, files["risk_previous"])
    section("doubt", "doubt", doubt, metadata)
    section("unsure", "unsure", unsure, metadata)
    section("views", "views", views, metadata)
    section("sources", "leave_one_source_out", sources, metadata, source_names(task_id))
    section("cross_validation", "cross_validation", cross_validation, metadata)
    section("backbones", "backbones", backbones, metadata)
    return out


def installed_metadata(task_id: str) -> dict | None:
    """The metadata.json of the model the site ships (static/tfjs_model/<task>), if any."""
    path = PROJECT_ROOT / "static" / "tfjs_model" / task_id / "metadata.json"
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def write_site_tables(task_id: str, reports_dir, metadata=None) -> Path:
    """Write ``<reports_dir>/tables.json`` from the report files beside it; return its path.

    ``metadata``: the model's metadata.json as a dict or a path; None: the installed copy
    (static/tfjs_model/<task>/metadata.json) if there is one, else the task registry.
    """
    if metadata is None:
        metadata = installed_metadata(task_id)
    elif not isinstance(metadata, dict):
        metadata = json.loads(Path(metadata).read_text(encoding="utf-8"))
    path = Path(reports_dir) / TABLES_FILE
    content = site_tables(task_id, reports_dir, metadata)
    path.write_text(json.dumps(content, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    return path


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("task", help="the task id (training.tasks)")
    parser.add_argument(
        "--reports", type=Path, help="the task's report folder (default: reports/<task>)"
    )
    parser.add_argument(
        "--metadata",
        type=Path,
        help="the model's metadata.json (default: "
        "static/tfjs_model/<task>/metadata.json, else the task registry)",
    )
    args = parser.parse_args(argv)
    path = write_site_tables(
        args.task, args.reports or PROJECT_ROOT / "reports" / args.task, args.metadata
    )
    content = json.loads(path.read_text(encoding="utf-8"))
    print(
        f"{path}: {len(content['tables'])} tables; sections {', '.join(content['facts'])}"
        + (f"; not shown: {', '.join(content['problems'])}" if content["problems"] else "")
    )


if __name__ == "__main__":
    main()
