"""The lesion outline's figures as the performance page shows them: its Dice and Jaccard
through the JS API on the test split (``reports/<task>/outline.json``, ``training.steps.outline
report``) and its worst test cases (``training.steps.outline pictures``). The words are the
template's (``_outline.html``).
"""

from __future__ import annotations


def outline_figures(outline: dict | None, metadata: dict) -> dict | None:
    """The outline model's Dice and Jaccard on the test split (``reports/<task>/outline.json``,
    ``training.steps.outline report``), while it measured the outline model the task ships."""
    shipped = (metadata.get("outline") or {}).get("version")
    if not outline or not shipped or outline.get("model_version") != shipped:
        return None
    below = outline.get("share_dice_below") or {}
    return {
        "n": outline.get("images"),
        "dice": outline.get("dice") or {},
        "jaccard": outline.get("jaccard") or {},
        "below": [{"dice": float(k), "share": v} for k, v in sorted(below.items())],
        "none_found": (outline.get("no_outline") or {}).get("count", 0),
        # The worst test cases drawn with both outlines (training.steps.outline pictures).
        "pictures": [
            {**item, "path": (outline.get("pictures") or {}).get("folder", "") + item["file"]}
            for item in (outline.get("pictures") or {}).get("images", [])
        ],
    }
