"""Measurements beside the test set in ``tables.json`` (``training.reporting.site_tables``): other
framings (framings.json), collections left out (leave_one_source_out.json), other splits
(cv_final.json) and other networks (backbones.json), as the experiments wrote them."""

from __future__ import annotations

import math

from training.reporting.table_format import (
    VARIANTS,
    cell,
    column,
    count,
    decimals,
    is_number,
    measure,
    number,
    percent,
    points_lower,
    row,
    signed,
    table,
    word,
)

# ---- framings.json, leave_one_source_out.json, cv_final.json, backbones.json ------------------

# The framings of framings.json the site words, in its order (another is named by its key).
FRAMINGS = ("as_given", "one_view", "centre_square_crop", "mean_of_4_mirrors")


def _view_figures(measured: dict) -> dict:
    return {
        "n": int(number(measured["n"])),
        "accuracy": number(measured["accuracy"]),
        "balanced_accuracy": number(measured["balanced_accuracy"]),
        "macro_auc": measure(measured["macro_auc"]),
    }


def _change(before: dict, after: dict, key: str) -> float | None:
    if before[key] is None or after[key] is None:
        return None
    return after[key] - before[key]


def framings(framings: dict, metadata: dict) -> tuple[dict, list]:
    """The model on other framings of the same images (framings.json), given the image alone."""
    measured = framings["framings"]
    ids = [v for v in FRAMINGS if v in measured] + [v for v in measured if v not in FRAMINGS]
    if "as_given" not in ids:
        raise ValueError("framings.json does not measure the images as given")
    rows, test = [], {}
    for view in ids:
        val = measured[view].get("val")
        test[view] = _view_figures(measured[view]["test"])
        val = _view_figures(val) if val is not None else None
        figures = [
            ("test", "balanced_accuracy", percent(test[view]["balanced_accuracy"])),
            ("test", "macro_auc", decimals(test[view]["macro_auc"])),
            ("test", "accuracy", percent(test[view]["accuracy"])),
            ("val", "balanced_accuracy", percent(val["balanced_accuracy"] if val else None)),
            ("val", "macro_auc", decimals(val["macro_auc"] if val else None)),
        ]
        cells = [
            cell(text, word(f"{metric}_{split}"), split=split, metric=metric)
            for split, metric, text in figures
        ]
        rows.append(row(word("view", view=view), cells, word("view_help", view=view), view=view))
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

    image_only = framings.get("metadata", "none") == "none"
    shipped = ((metadata.get("metrics") or {}).get("test") or {}).get("without_metadata") or {}
    installed = shipped.get("balanced_accuracy")
    same = (
        not image_only
        or not is_number(installed)
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
        column("view", numeric=False, spans_rows=True),
        column("balanced_accuracy"),
        column("macro_auc"),
        column("accuracy"),
        column("balanced_accuracy", small=True),
        column("macro_auc", small=True),
    ]
    groups = [
        {"column": 0},
        {"name": "test_images", "span": 3},
        {"name": "validation_images", "span": 2, "small": True},
    ]
    caption = "views_caption_image_only" if image_only else "views_caption"
    return facts, [
        table("framings", "framed_differently", caption, columns, rows, "framings-table", groups)
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


def sources(loso: dict, metadata: dict) -> tuple[dict, list]:
    """What leaving one collection out of training cost (leave_one_source_out.json). A
    collection is named by its id; the site finds its name in metadata.json's ``sources``."""
    rows = []
    for source, measured in loso["sources"].items():
        test = measured["test_split"]
        reference, held_out = (
            _source_figures(test["reference"]),
            _source_figures(test["held_out"]),
        )
        if (reference["n"], reference["labels"]) != (held_out["n"], held_out["labels"]):
            raise ValueError(f"{source}: the two models were not tested on the same images")
        rows.append(
            {
                "id": source,
                "run": str(measured["run"]),
                "n_images": int(number(measured["n_images"])),
                "labels": reference["labels"],
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
    epochs = measure(loso.get("epochs"))
    shipped_epochs = measure((metadata.get("training") or {}).get("epochs"))
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
        else {
            "figure": f"{abs(mean_auc_drop):.3f}",
            "way": "lower" if mean_auc_drop >= 0 else "higher",
        },
        "largest": (
            {"source": largest["id"], "drop": points_lower(largest["drop"])}
            if largest["drop"] > 0
            else None
        ),
        "few": [
            {"source": r["id"], "n": r["reference"]["n"], "kinds": len(r["labels"])}
            for r in rows
            if r["reference"]["n"] < FEW_TEST_IMAGES
        ],
        "epochs": f"{epochs:.0f}" if epochs else None,
        "shipped_epochs": f"{shipped_epochs:.0f}" if shipped_epochs else None,
        "reference": str(loso["reference"]),
        "runs": [r["run"] for r in rows],
        "sources": [r["id"] for r in rows],
    }
    models = ("reference", "held_out", "all")
    table_rows = []
    for r in rows:
        cells = [
            cell(count(r["n_images"]), metric="n_images"),
            cell(count(r["reference"]["n"]), metric="n"),
            {**cell(None, metric="labels"), "numeric": False, "labels": r["labels"]},
        ]
        for metric, value in (("balanced_accuracy", percent), ("macro_auc", decimals)):
            cells += [
                cell(value(r[key][metric]), word(f"{metric}_{key}"), model=key, metric=metric)
                for key in models
            ]
        table_rows.append(row({"source": r["id"]}, cells, {"where": r["id"]}, source=r["id"]))
    columns = [
        column("collection_left_out", numeric=False, spans_rows=True),
        column("images", spans_rows=True),
        column("test_images", spans_rows=True),
        column("kinds_present", numeric=False, spans_rows=True),
    ] + [column(f"model_{key}", small=True) for _ in range(2) for key in models]
    groups = [{"column": i} for i in range(4)] + [
        {"name": "balanced_accuracy", "span": 3},
        {"name": "macro_auc", "span": 3},
    ]
    caption = "sources_caption"
    return facts, [
        table("sources", "never_saw", caption, columns, table_rows, "sources-table", groups)
    ]


def cross_validation(cv: dict, metadata: dict) -> tuple[dict, list]:
    """The recipe on other splits of the same images (cv_final.json)."""

    def figures(measured):
        if not isinstance(measured, dict):
            return None
        return {
            "balanced_accuracy": number(measured["balanced_accuracy"]),
            "macro_auc": measure(measured.get("macro_auc")),
        }

    folds = []
    for fold, measured in sorted(cv["folds"].items(), key=lambda item: int(item[0])):
        folds.append(
            {
                "fold": int(fold) + 1,
                "n": int(number(measured["n_test"])),
                **{variant: figures(measured.get(variant)) for variant in VARIANTS},
            }
        )
    if not folds or any(fold["without_metadata"] is None for fold in folds):
        raise ValueError("the cross-validation holds no image-only figures")
    mean = {variant: figures(cv["mean"].get(variant)) for variant in VARIANTS}
    if mean["without_metadata"] is None:
        raise ValueError("the cross-validation holds no mean of the image-only figures")
    sd = {
        key: measure((cv["sd"].get("without_metadata") or {}).get(key))
        for key in ("balanced_accuracy", "macro_auc")
    }
    image_only = [fold["without_metadata"]["balanced_accuracy"] for fold in folds]
    shipped = metadata.get("training") or {}
    epochs, shipped_epochs = measure(cv.get("epochs")), measure(shipped.get("epochs"))
    tta = str(cv.get("tta") or "none")
    shipped_tta = str(shipped.get("tta") or "none")
    image = mean["without_metadata"]
    total = int(number(cv.get("folds_total", len(folds))))
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
        "tta": (
            "mirrors" if tta == "mirrors" else "one_view" if shipped_tta == "mirrors" else None
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
    variants = ["without_metadata"] + (["with_metadata"] if mean["with_metadata"] else [])
    columns = [column("split", numeric=False), column("test_images")]
    for variant in variants:
        columns += [
            column(word("cv_balanced_accuracy", variant=variant)),
            column(word("cv_macro_auc", variant=variant)),
        ]
    rows = []
    for fold in folds:
        cells = [cell(count(fold["n"]), metric="n")]
        for variant in variants:
            measured = fold[variant] or {}
            cells += [
                cell(
                    percent(measured.get("balanced_accuracy")),
                    variant=variant,
                    metric="balanced_accuracy",
                ),
                cell(decimals(measured.get("macro_auc")), variant=variant, metric="macro_auc"),
            ]
        rows.append(row({"figure": str(fold["fold"])}, cells, fold=fold["fold"]))
    return facts, [table("cross-validation", "each_split", "cv_caption", columns, rows, "cv-table")]


def run_names(rows: list[dict]) -> list[dict]:
    """How the page names each run of backbones.json: the network and how long it trained
    ("MobileNet V1 α 0.75, 4 epochs"), never the run's folder name ("a075_4 (issue 21)"),
    which stays in the docs and in the row's data. ``this_model``: the run marked
    "(shipped)"; ``again``: a run named like an earlier one, trained with other settings
    (its ``settings`` as backbones.json has them, else None)."""
    names, seen = [], set()
    for found in rows:
        name = {"backbone": str(found["backbone"]), "epochs": int(number(found["epochs"]))}
        again = (name["backbone"], name["epochs"]) in seen
        seen.add((name["backbone"], name["epochs"]))
        names.append(
            {
                **name,
                "again": again,
                "settings": found.get("settings") if again else None,
                "this_model": "(shipped)" in str(found["run"]),
            }
        )
    return names


def backbones(compared: dict, metadata: dict) -> tuple[dict, list]:
    """The networks tried for this task, side by side (backbones.json, written by
    research's ``compare_backbones`` of the task). Each row is named in plain words
    (:func:`run_names`); its run's name is the row's data."""
    shipped = (metadata.get("training") or {}).get("backbone")
    keys = ("run", "backbone", "epochs", "val_balanced_accuracy", "val_macro_auc")
    keys += ("test_balanced_accuracy", "test_macro_auc", "weights_float16", "training_time")
    columns = [column(keys[0], numeric=False), column(keys[1], numeric=False)]
    columns += [column(key) for key in keys[2:]]
    rows = []
    for found, name in zip(compared["rows"], run_names(compared["rows"])):
        cells = [
            cell(found["backbone"]),
            cell(str(int(number(found["epochs"])))),
            cell(percent(found["val_balanced_accuracy"]), metric="val_balanced_accuracy"),
            cell(decimals(found["val_macro_auc"])),
            cell(percent(found["test_balanced_accuracy"]), metric="test_balanced_accuracy"),
            cell(decimals(found.get("test_macro_auc"))),
            {**cell(f"{number(found['float16_mb']):.1f}"), "unit": "megabytes"},
            {**cell(f"{number(found['minutes']):.0f}"), "unit": "minutes"},
        ]
        rows.append(row({"run": name}, cells, run=str(found["run"])))
    facts = {"shipped": shipped, "count": len(rows)}
    caption = "backbones_caption"
    return facts, [
        table("backbones", "backbones_compared", caption, columns, rows, "backbone-table")
    ]
