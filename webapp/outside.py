"""The outside check beside the model's own test, as the pages show it.

``reports/<task>/outside.json`` (``training.exporting.outside``: the exported model through the
browser on images of its kind from other clinics, measured only) holds the figures; this
module lines them up with the same figures of the model's own test split (``report.json``
and ``metadata.json``'s thresholds, measured there) as rows of numbers and ids. The words
are the templates' (``_outside.html``).
"""

from __future__ import annotations

FIGURES = (
    "n",
    "balanced_accuracy",
    "macro_auc",
    "focus_recall",
    "risk_focus",
    "risk_specificity",
    "wrong_kind",
    "unsure",
)


def _own_test(report: dict, metadata: dict, focus: str | None) -> dict:
    """The own test split's figures, without details, as a visitor's photo is seen."""
    test = report.get("without_metadata") or {}
    risk = ((metadata.get("risk") or {}).get("test") or {}).get("without_metadata") or {}
    unsure = ((metadata.get("unsure") or {}).get("test") or {}).get("without_metadata") or {}
    per_class = test.get("per_class") or {}
    return {
        "n": test.get("n"),
        "balanced_accuracy": test.get("balanced_accuracy"),
        "macro_auc": test.get("macro_auc"),
        "focus_recall": (per_class.get(focus) or {}).get("sensitivity") if focus else None,
        "risk_focus": risk.get("focus_sensitivity"),
        "risk_specificity": risk.get("specificity"),
        "wrong_kind": (metadata.get("wrong_kind") or {}).get("false_alarm_rate"),
        "unsure": unsure.get("flagged"),
        "recall": {k: v.get("sensitivity") for k, v in per_class.items()},
    }


def _outside(group: dict, focus: str | None) -> dict:
    risk = group.get("risk") or {}
    recall = group.get("recall") or {}
    return {
        "n": group.get("n"),
        "balanced_accuracy": group.get("balanced_accuracy"),
        "macro_auc": group.get("macro_auc"),
        "focus_recall": recall.get(focus) if focus else None,
        "risk_focus": risk.get("focus_sensitivity"),
        "risk_specificity": risk.get("specificity"),
        "wrong_kind": group.get("wrong_kind"),
        "unsure": group.get("unsure"),
        "recall": recall,
        "n_per_kind": group.get("n_per_kind") or {},
    }


def comparison(outside: dict | None, report: dict | None, metadata: dict) -> dict | None:
    """``{"rows": [own test, other clinics, each source], "kinds": [...], "focus", …}`` for
    the pages, or None without an outside check for this model."""
    if not outside or not report or outside.get("model_version") != metadata.get("version"):
        return None
    focus = (metadata.get("risk") or {}).get("focus")
    names = {label["id"]: label["name"] for label in metadata.get("labels", [])}
    own = _own_test(report, metadata, focus)
    overall = _outside(outside["overall"], focus)
    sources = [
        {"id": source, "name": group.get("name", source), **_outside(group, focus)}
        for source, group in sorted(outside.get("sources", {}).items())
    ]
    rows = [{"id": "own_test", **own}, {"id": "outside", **overall}, *sources]
    kinds = [
        {
            "id": label,
            "name": names.get(label, label),
            "own": own["recall"].get(label),
            "outside": overall["recall"].get(label),
            "n_outside": overall["n_per_kind"].get(label, 0),
        }
        for label in names
    ]
    return {
        "rows": rows,
        "kinds": kinds,
        "focus": focus,
        "focus_name": names.get(focus, focus) if focus else None,
        "n": overall["n"],
        "sources": [row["name"] for row in sources],
        "missing_kinds": [k["name"] for k in kinds if not k["n_outside"]],
        "has_risk": any(row["risk_focus"] is not None for row in rows),
        # Said on the page: the outside balanced accuracy is more than WORSE below the own.
        "worse": _below(overall["balanced_accuracy"], own["balanced_accuracy"], WORSE),
    }


WORSE = 0.05


def _below(value, reference, margin: float) -> bool:
    return value is not None and reference is not None and value < reference - margin
