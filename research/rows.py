"""Row filters for ``training.fitting.train.train(rows=…)``: train on fewer images than the split has.

- ``hold_out_source(S)``: train and select the epoch without the image collection S (the
  ``source`` column of HAM10000); the test split stays whole. Used by
  ``research.leave_one_source_out`` (skin_lesion/experiments.md, "Other collections").
- ``train_fraction(f)``: train on about f of each label's training lesions, nested (a
  smaller share is part of a larger one): the learning curve
  (docs/skin_lesion_learning_curve.md).
"""

from __future__ import annotations

import numpy as np


def hold_out_source(source: str):
    """A filter leaving the images of ``source`` out of training and validation."""

    def rows(part, name):
        if name == "test":
            return part
        if name == "train" and (
            "source" not in part.columns or not (part["source"] == source).any()
        ):
            known = sorted(part["source"].dropna().unique()) if "source" in part.columns else []
            raise SystemExit(
                f"--hold_out_source {source!r}: no such source among the training "
                f"images (sources: {known})"
            )
        kept = part[part["source"] != source]
        print(
            f"[data] holding out source {source}: {len(part) - len(kept)} {name} images left out",
            flush=True,
        )
        return kept

    return rows


def share_of_groups(rows, fraction: float) -> set:
    """About ``fraction`` of the groups (lesions) of each label, at least one per label,
    always drawn in the same order, so a smaller share is part of a larger one."""
    if not 0 < fraction <= 1:
        raise SystemExit(f"--train_fraction {fraction}: must be in (0, 1]")
    chosen = set()
    for _, groups in rows.groupby("label")["group"]:
        order = np.random.default_rng(0).permutation(sorted(groups.unique()))
        chosen.update(order[: max(1, round(fraction * len(order)))])
    return chosen


def train_fraction(fraction: float):
    """A filter keeping about ``fraction`` of each label's training lesions (whole lesions)."""
    if not 0 < fraction <= 1:
        raise SystemExit(f"--train_fraction {fraction}: must be in (0, 1]")

    def rows(part, name):
        if name != "train":
            return part
        kept = part[part["group"].isin(share_of_groups(part, fraction))]
        print(
            f"[data] training on {kept['group'].nunique()} lesions ({len(kept)} images): "
            f"--train_fraction {fraction:g}",
            flush=True,
        )
        return kept

    return rows


def both(*filters):
    """Filters applied one after the other (None ones skipped); None if there are none."""
    filters = [f for f in filters if f is not None]
    if not filters:
        return None

    def rows(part, name):
        for f in filters:
            part = f(part, name)
        return part

    return rows
