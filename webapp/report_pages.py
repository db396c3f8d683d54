"""The performance, data and model-card pages, and the plotly.js they draw with.

Each page describes one exported task (``/performance/<task>``; without a task,
the featured one, ``DEFAULT_TASK`` or the first of index.json) from its metadata.json and the report files training wrote
(``webapp.reports``). A missing or damaged report file makes the page say so
where the figures would be; it is never an error of the page.
"""
from __future__ import annotations

import importlib.metadata
import importlib.resources
import math
from pathlib import Path

from flask import (Blueprint, current_app, make_response, render_template, request,
                   send_from_directory)
from markupsafe import Markup

from webapp import charts
from webapp.catalog import default_task_id, field_names, list_tasks, load_task
from webapp.reports import PROJECT_ROOT, REPORT_FILES, load_reports

bp = Blueprint("reports", __name__)

# The figures a page can show for a variant of the test evaluation.
VARIANTS = ("without_metadata", "with_metadata")
# ?details=given shows the evaluation with the details a person may enter.
DETAILS_GIVEN = "given"
# The numbers shown at the top of the performance page and on the model card.
HEADLINE_METRICS = (("accuracy", "Accuracy", "share of test images given the right kind"),
                    ("balanced_accuracy", "Balanced accuracy",
                     "the mean of the per-kind sensitivities"),
                    ("macro_auc", "Mean AUC", "ranking quality averaged over the kinds"),
                    ("macro_f1", "Mean F1", "balance of precision and sensitivity, averaged"))


@bp.get("/vendor/plotly.min.js")
def plotly_js():
    """plotly.js as shipped inside the ``plotly`` Python package: no CDN, one version."""
    folder = importlib.resources.files("plotly") / "package_data"
    return send_from_directory(str(folder), "plotly.min.js",
                               max_age=current_app.get_send_file_max_age("plotly.min.js"))


def _with_charts(page: str):
    """A page that draws charts: the site's policy with CHART_STYLE_SOURCES added to
    style-src (see webapp.config); every other page keeps the policy as it is."""
    response = make_response(page)
    policy = current_app.config.get("CONTENT_SECURITY_POLICY")
    extra = current_app.config.get("CHART_STYLE_SOURCES")
    if policy and extra and response.mimetype == "text/html":
        directives = [part.strip() for part in policy.split(";") if part.strip()]
        directives = [f"{part} {extra}" if part.split()[0] == "style-src" else part
                      for part in directives]
        response.headers["Content-Security-Policy"] = "; ".join(directives)
    return response


@bp.app_template_filter("duration")
def format_duration(seconds) -> str:
    """42 → "42 seconds", 1077.6 → "18 minutes", 9000 → "2.5 hours"."""
    if not _is_number(seconds):
        return "an unknown time"
    if seconds < 90:
        return f"{seconds:.0f} seconds"
    if seconds < 90 * 60:
        return f"{seconds / 60:.0f} minutes"
    return f"{seconds / 3600:.1f} hours"


@bp.app_context_processor
def _plotly_version():
    # Part of the script's URL, so a new plotly package is fetched, not an old cached copy.
    return {"plotly_version": importlib.metadata.version("plotly")}


def _task(task_id: str | None) -> dict:
    return load_task(task_id or default_task_id())


# What reading a report file that lacks a field, or holds the wrong type, raises.
MALFORMED = (KeyError, TypeError, ValueError, IndexError, ZeroDivisionError, AttributeError)


def _attempt(what: str, source: str, build, *args):
    """What ``build`` makes of a report file, or None (logged) when the file lacks what it needs."""
    try:
        return build(*args)
    except MALFORMED as error:
        current_app.logger.warning("cannot show %s from %s: %r", what, source, error)
        return None


def _safely(chart_id: str, title: str, source: str, build, *args) -> list[charts.Chart]:
    """The chart(s) ``build`` makes, or one placeholder saying the file lacks what it needs."""
    made = _attempt(chart_id, source, build, *args)
    if made is None:
        return [charts.Chart(chart_id, title, problem=(
            f"This chart could not be drawn: {source} does not hold what it needs."))]
    return made if isinstance(made, list) else [made]


def _measured(reports, name: str, build, *args) -> dict | None:
    """A section of the page from report file ``name``: ``{"data": what build made}``, or
    ``{"problem": a sentence}`` when the file is damaged or lacks what ``build`` needs;
    None when the file is missing (the model was not measured that way)."""
    if reports.get(name) is None:
        return {"problem": reports.problem(name)} if reports.problems.get(name) == "damaged" \
            else None
    source = REPORT_FILES[name][0]
    made = _attempt(name, source, build, reports.get(name), *args)
    if made is None:
        return {"problem": f"This part could not be shown: {source} does not hold what it needs."}
    return {"data": made}


def _missing(chart_id: str, title: str, problem: str) -> list[charts.Chart]:
    return [charts.Chart(chart_id, title, problem=problem)]


def headline(report: dict | None, variants=VARIANTS) -> list[dict]:
    """``[{"variant", "n", "metrics": [{"key", "name", "help", "value"}]}]`` for each
    evaluated variant in ``report``."""
    rows = []
    for variant in variants:
        result = (report or {}).get(variant)
        if not isinstance(result, dict):
            continue
        rows.append({"variant": variant, "n": result.get("n"), "metrics": [
            {"key": key, "name": name, "help": help_text, "value": result.get(key)
             if _is_number(result.get(key)) else None}
            for key, name, help_text in HEADLINE_METRICS]})
    return rows


def per_class_rows(result: dict, metadata: dict) -> list[dict]:
    """One row per label of metadata.json with its test figures (None where not measured)."""
    per_class = result.get("per_class") or {}
    colours = charts.Labels(metadata.get("labels", []))
    rows = []
    for label in metadata.get("labels", []):
        measured = per_class.get(label["id"]) or {}
        rows.append({"label": label, "colour": colours.colour(label["id"]), **{
            key: measured.get(key) if _is_number(measured.get(key)) else None
            for key in ("support", "sensitivity", "specificity", "precision", "auc")}})
    return rows


def reports_match_model(metadata: dict, report: dict | None) -> bool:
    """False when report.json visibly comes from another run than the installed model."""
    shipped = ((metadata.get("metrics") or {}).get("test") or {}).get("without_metadata")
    measured = (report or {}).get("without_metadata")
    if not isinstance(shipped, dict) or not isinstance(measured, dict):
        return True
    same_n = shipped.get("n") == measured.get("n")
    a, b = shipped.get("balanced_accuracy"), measured.get("balanced_accuracy")
    return same_n and (not _is_number(a) or not _is_number(b) or math.isclose(a, b, abs_tol=1e-9))


def _is_number(value) -> bool:
    return (isinstance(value, (int, float)) and not isinstance(value, bool)
            and math.isfinite(value))


def _number(value):
    """``value`` if it is a finite number; a report that holds anything else is malformed."""
    if not _is_number(value):
        raise ValueError(f"not a number: {value!r}")
    return value


def _measure(value):
    """A measured figure, or None where the file says it was not measured."""
    return value if _is_number(value) else None


def _in_words(names: list[str]) -> str:
    """["A"] → "A", ["A", "B", "C"] → "A, B and C"."""
    return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} and {names[-1]}"


def _installed(metadata: dict, section: str, key: str, measured: float, what: str) -> str | None:
    """``what`` with the installed model's value when metadata.json's ``section`` holds
    another ``key`` than the measured one (the reports of another run), else None."""
    value = (metadata.get(section) or {}).get(key)
    if not _is_number(value) or math.isclose(value, measured, rel_tol=1e-6, abs_tol=1e-9):
        return None
    return f"{what} ({value:.4g}, not {measured:.4g})"


def _label_names(metadata: dict) -> dict[str, str]:
    return {label["id"]: label["name"] for label in metadata.get("labels", [])}


# The splits calibration.json reports, in the words of the page.
CALIBRATION_SPLITS = (("validation", "Validation (T fitted here)"), ("test", "Test"))


def calibration_summary(calibration: dict, metadata: dict) -> dict:
    """``{"temperature", "rows": [{"split", "name", "n", "ece"/"nll": {"before", "after"}}],
    "worse", "installed"}`` from calibration.json; ``worse`` lists the measures that
    calibration did not improve on some split (T minimises the validation NLL, not the ECE)."""
    rows, worse = [], []
    for split, name in CALIBRATION_SPLITS:
        measured = {when: calibration[split][when] for when in ("before", "after")}
        row = {"split": split, "name": name,
               "n": sum(int(_number(b["count"])) for b in measured["after"]["bins"])}
        for key in ("ece", "nll"):
            row[key] = {when: _number(measured[when][key]) for when in ("before", "after")}
            if row[key]["after"] > row[key]["before"]:
                worse.append(f"the {key.upper()} on {split}")
        rows.append(row)
    temperature = _number(calibration["temperature"])
    return {"temperature": temperature, "rows": rows, "worse": worse,
            "installed": _installed(metadata, "calibration", "temperature", temperature,
                                    "temperature")}


# training.risk never sets the threshold above one half (NEVER_ABOVE).
RISK_THRESHOLD_CAP = 0.5


def risk_summary(risk: dict, metadata: dict) -> dict:
    """The risk-summary rule of risk.json in words and its measured figures.

    ``{"high", "low", "labels", "several", "focus", "threshold", "target", "capped",
    "validation", "test": [{"variant", figures…}], "installed"}``; names come from
    metadata.json.
    """
    names = _label_names(metadata)
    focus = risk["focus"]
    serious = [label for label in risk["labels"] if label != focus]
    if focus not in risk["labels"]:
        raise ValueError(f"the focus label {focus!r} is not among {risk['labels']!r}")
    threshold = _number(risk["threshold"])
    figures = ("focus_sensitivity", "sensitivity", "specificity", "flagged")
    test = [{"variant": variant, **{key: _measure(measured[key]) for key in figures},
             **{key: measured.get(key) for key in ("n", "n_focus", "n_malignant")}}
            for variant, measured in ((v, risk["test"].get(v)) for v in VARIANTS) if measured]
    if not test:
        raise ValueError("risk.json holds no test figures")
    validation = risk["validation"]
    return {
        "high": str(risk["messages"]["high"]), "low": str(risk["messages"]["low"]),
        "labels": _in_words([names.get(i, i) for i in [focus, *serious]]),
        "several": bool(serious), "focus": names.get(focus, focus),
        "threshold": threshold, "target": _number(risk["target_focus_sensitivity"]),
        "capped": math.isclose(threshold, RISK_THRESHOLD_CAP),
        "validation": {"focus_sensitivity": _measure(validation.get("focus_sensitivity")),
                       "n_focus": validation.get("n_focus")},
        "test": test,
        "installed": _installed(metadata, "risk", "threshold", threshold, "risk threshold")}


# The wrong-kind checks doubt.json measures, in the words of the page.
DOUBT_METHODS = {
    "in_kind_head": ("In-kind check", "a small extra output of the network, trained to tell "
                                      "images of this kind from other images"),
    "max_probability": ("Top-probability rule", "doubt when no kind gets a high probability"),
}


def doubt_summary(doubt: dict, metadata: dict) -> dict:
    """Detection rate per other kind of image and false alarms, for each check of doubt.json.

    ``{"chosen", "methods": [{"id", "name", "help", "false_alarm_rate", "n_in_kind",
    "lowest", "mean"}], "kinds": [{"id", "name", "n", "rates": {method: rate}}],
    "target", "better", "installed"}``, the check the site uses first; ``better`` is whether
    it caught more of the other images, on average, than every other check.
    """
    chosen = doubt["method"]
    ids = [chosen] + [m for m in DOUBT_METHODS if m != chosen and isinstance(doubt.get(m), dict)]
    tests = {m: doubt[m]["test"] for m in ids}
    kinds = [{"id": kind, "name": str(name),
              "n": tests[chosen]["n_per_kind"].get(kind),
              "rates": {m: _measure(tests[m]["detection_rate"].get(kind)) for m in ids}}
             for kind, name in doubt["kind_names"].items()]
    methods = []
    for m in ids:
        rates = [kind["rates"][m] for kind in kinds if kind["rates"][m] is not None]
        name, help_text = DOUBT_METHODS.get(m, (m.replace("_", " ").capitalize(), ""))
        methods.append({"id": m, "name": name, "help": help_text,
                        "false_alarm_rate": _number(tests[m]["false_alarm_rate"]),
                        "n_in_kind": tests[m]["n_in_kind"],
                        "lowest": min(rates), "mean": sum(rates) / len(rates)})
    return {"chosen": methods[0], "methods": methods, "kinds": kinds,
            "target": _measure(doubt.get("false_alarm_target")),
            "better": all(methods[0]["mean"] > other["mean"] for other in methods[1:]),
            "installed": _installed(metadata, "doubt", "threshold",
                                    _number(tests[chosen]["threshold"]), "doubt threshold")}


def unsure_summary(unsure: dict, metadata: dict) -> dict:
    """The "model is unsure" rule of unsure.json and its measured figures.

    ``{"threshold" (None: the model is never called unsure), "validation": {"n",
    "n_flagged", "accuracy_flagged"}, "test": [{"variant", "n", "n_flagged", "flagged",
    "accuracy_flagged", "accuracy_not_flagged", "accuracy_all"}], "installed"}``.
    """
    threshold = unsure["threshold"]
    if threshold is not None:
        threshold = _number(threshold)
    figures = ("flagged", "accuracy_flagged", "accuracy_not_flagged", "accuracy_all")
    test = [{"variant": variant, "n": int(_number(measured["n"])),
             "n_flagged": int(_number(measured["n_flagged"])),
             **{key: _measure(measured[key]) for key in figures}}
            for variant, measured in ((v, unsure["test"].get(v)) for v in VARIANTS) if measured]
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
    return {"threshold": threshold,
            "validation": {"n": validation.get("n"), "n_flagged": validation.get("n_flagged"),
                           "accuracy_flagged": _measure(validation.get("accuracy_flagged"))},
            "test": test, "installed": other}


# The views of the images views.json measures (scripts/evaluate_views.py), in the words
# of the page; a view not listed here is shown under its own name, after these.
VIEWS = {
    "as_given": ("As given", "the image as it is, answered as the site answers it"),
    "one_view": ("One view", "the image alone, without the mirror images the site adds: "
                             "a quarter of the work"),
    "centre_square_crop": ("Centre-square crop", "the image cut to its centred square first, "
                                                 "i.e. framed more tightly"),
    "mean_of_4_mirrors": ("Mean of 4 mirrors", "the mean answer for the image and its three "
                                               "mirror images; not used by the site"),
}


def _view_figures(measured: dict) -> dict:
    return {"n": int(_number(measured["n"])), "accuracy": _number(measured["accuracy"]),
            "balanced_accuracy": _number(measured["balanced_accuracy"]),
            "macro_auc": _measure(measured["macro_auc"])}


def _change(before: dict, after: dict, key: str) -> float | None:
    """``after[key] - before[key]``, or None where either was not measured."""
    if before[key] is None or after[key] is None:
        return None
    return after[key] - before[key]


def views_summary(views: dict, metadata: dict) -> dict:
    """The model on other views of the same images (views.json), given the image alone.

    ``{"rows": [{"id", "name", "help", "test": figures, "val": figures or None}],
    "image_only", "crop", "mirrors", "one_view", "installed"}``, figures being ``{"n",
    "accuracy", "balanced_accuracy", "macro_auc"}``; ``crop``, ``mirrors`` (a mean of
    mirrors the site does not use) and ``one_view`` (the image without the mirrors the
    site uses), None when not measured, hold that view's test figures and their change
    from the image as given (``{"test", "balanced_accuracy", "macro_auc"}``);
    ``installed`` is the installed model's
    own test balanced accuracy where it differs from the one measured here as given.
    """
    measured = views["views"]
    ids = [v for v in VIEWS if v in measured] + [v for v in measured if v not in VIEWS]
    if "as_given" not in ids:
        raise ValueError("views.json does not measure the images as given")
    rows = []
    for view in ids:
        name, help_text = VIEWS.get(view, (view.replace("_", " ").capitalize(), ""))
        validation = measured[view].get("val")
        rows.append({"id": view, "name": name, "help": help_text,
                     "test": _view_figures(measured[view]["test"]),
                     "val": _view_figures(validation) if validation is not None else None})
    test = {row["id"]: row["test"] for row in rows}

    def compared(view):
        if view not in test:
            return None
        return {"test": test[view], **{key: _change(test["as_given"], test[view], key)
                                       for key in ("balanced_accuracy", "macro_auc")}}

    image_only = views.get("metadata", "none") == "none"
    shipped = ((metadata.get("metrics") or {}).get("test") or {}).get("without_metadata") or {}
    installed = shipped.get("balanced_accuracy")
    same = (not image_only or not _is_number(installed) or (
        shipped.get("n") == test["as_given"]["n"] and
        math.isclose(installed, test["as_given"]["balanced_accuracy"], abs_tol=1e-9)))
    return {"rows": rows, "image_only": image_only, "crop": compared("centre_square_crop"),
            "mirrors": compared("mean_of_4_mirrors"), "one_view": compared("one_view"),
            "installed": None if same else installed}


# The collections the images of a dataset come from (the "source" of each image), as
# scripts/leave_one_source_out.py names them: a short name and where they were taken.
# A collection not listed here is shown under its own name.
SOURCES = {
    "rosendahl": ("Queensland practice",
                  "a dermatology practice in Queensland, Australia (the Rosendahl collection)"),
    "vidir_modern": ("Vienna, newer dermatoscopes",
                     "Medical University of Vienna (ViDIR group), newer dermatoscopes"),
    "vidir_molemax": ("Vienna, MoleMax",
                      "Medical University of Vienna (ViDIR group), the MoleMax device"),
    "vienna_dias": ("Vienna, older DIAS", "Vienna, the older DIAS device"),
}


def source_name(source: str) -> str:
    return SOURCES.get(source, (source, ""))[0]


def _source_figures(measured: dict) -> dict:
    labels = measured["labels"]
    if not isinstance(labels, list) or not labels:
        raise ValueError(f"no labels: {labels!r}")
    return {**_view_figures(measured), "labels": [str(label) for label in labels]}


def _mean(values: list) -> float | None:
    values = [value for value in values if value is not None]
    return sum(values) / len(values) if values else None


# A collection with fewer test images than this may have a single image of some kind,
# which moves its balanced accuracy a lot: the page asks to read its figures with care.
FEW_TEST_IMAGES = 100


def sources_summary(loso: dict, metadata: dict) -> dict:
    """What leaving one collection out of training cost (leave_one_source_out.json).

    ``{"reference", "sources": [{"id", "name", "where", "run", "n_images", "labels":
    [{"id", "name"}], "reference", "held_out", "all" (figures, as views_summary), "drop",
    "auc_drop"}], "mean": {"reference", "held_out", "drop", "auc_drop", "weighted_drop"},
    "fell", "auc_fell", "auc_measured", "largest", "few", "epochs", "shipped_epochs"}``:
    ``reference`` and ``held_out`` are the model trained on every collection and the one
    trained without this one, on the same test images of it; ``drop`` is how much lower the
    held-out model's balanced accuracy was there (``auc_drop`` its mean AUC, None where
    either was not measured); ``mean`` averages them over the collections (``weighted_drop``
    weighs each by its test images); ``fell`` and ``auc_fell`` count the collections where
    they fell; ``largest`` is the one that lost most, ``few`` those with few test images.
    """
    names = _label_names(metadata)
    rows = []
    for source, measured in loso["sources"].items():
        test = measured["test_split"]
        reference, held_out = _source_figures(test["reference"]), _source_figures(
            test["held_out"])
        if (reference["n"], reference["labels"]) != (held_out["n"], held_out["labels"]):
            raise ValueError(f"{source}: the two models were not tested on the same images")
        name, where = SOURCES.get(source, (source, ""))
        auc_drop = _change(held_out, reference, "macro_auc")
        rows.append({"id": source, "name": name, "where": where, "run": str(measured["run"]),
                     "n_images": int(_number(measured["n_images"])),
                     "labels": [{"id": label, "name": names.get(label, label)}
                                for label in reference["labels"]],
                     "reference": reference, "held_out": held_out,
                     "all": _source_figures(measured["all_images_held_out"]),
                     "drop": reference["balanced_accuracy"] - held_out["balanced_accuracy"],
                     "auc_drop": auc_drop})
    if not rows:
        raise ValueError("leave_one_source_out.json holds no source")
    n_test = sum(row["reference"]["n"] for row in rows)
    mean = {"reference": _mean([row["reference"]["balanced_accuracy"] for row in rows]),
            "held_out": _mean([row["held_out"]["balanced_accuracy"] for row in rows]),
            "drop": _mean([row["drop"] for row in rows]),
            "auc_drop": _mean([row["auc_drop"] for row in rows]),
            "weighted_drop": sum(row["drop"] * row["reference"]["n"] for row in rows) / n_test}
    auc_drops = [row["auc_drop"] for row in rows if row["auc_drop"] is not None]
    return {"reference": str(loso["reference"]), "sources": rows, "mean": mean,
            "fell": sum(row["drop"] > 0 for row in rows),
            "auc_fell": sum(drop > 0 for drop in auc_drops), "auc_measured": len(auc_drops),
            "largest": max(rows, key=lambda row: row["drop"]),
            "few": [row for row in rows if row["reference"]["n"] < FEW_TEST_IMAGES],
            "epochs": _measure(loso.get("epochs")),
            "shipped_epochs": _measure((metadata.get("training") or {}).get("epochs"))}


def cross_validation_summary(cv: dict, metadata: dict) -> dict:
    """The recipe on other splits of the same images (cv_final.json).

    ``{"folds": [{"fold", "n", "without_metadata": {"balanced_accuracy", "macro_auc"},
    "with_metadata": … or None}], "mean" and "sd" (the same per variant; sd None for one
    fold), "low" and "high" (the range of balanced accuracy, image only), "folds_total",
    "epochs", "shipped_epochs", "reference", "views" and "shipped_views" (the test-time
    views the folds and the installed model answer with: "none" or "mirrors")}``.
    """
    def figures(measured):
        if not isinstance(measured, dict):
            return None
        return {"balanced_accuracy": _number(measured["balanced_accuracy"]),
                "macro_auc": _measure(measured.get("macro_auc"))}
    folds = []
    for fold, measured in sorted(cv["folds"].items(), key=lambda item: int(item[0])):
        folds.append({"fold": int(fold) + 1, "n": int(_number(measured["n_test"])),
                      **{variant: figures(measured.get(variant)) for variant in VARIANTS}})
    if not folds or any(fold["without_metadata"] is None for fold in folds):
        raise ValueError("the cross-validation holds no image-only figures")
    mean = {variant: figures(cv["mean"].get(variant)) for variant in VARIANTS}
    if mean["without_metadata"] is None:
        raise ValueError("the cross-validation holds no mean of the image-only figures")
    sd = {variant: {key: _measure((cv["sd"].get(variant) or {}).get(key))
                    for key in ("balanced_accuracy", "macro_auc")} for variant in VARIANTS}
    image_only = [fold["without_metadata"]["balanced_accuracy"] for fold in folds]
    shipped = metadata.get("training") or {}
    return {"folds": folds, "mean": mean, "sd": sd, "low": min(image_only), "high": max(image_only),
            "folds_total": int(_number(cv.get("folds_total", len(folds)))),
            "epochs": _measure(cv.get("epochs")), "reference": str(cv.get("reference", "")),
            "shipped_epochs": _measure(shipped.get("epochs")),
            "views": str(cv.get("test_time_views") or "none"),
            "shipped_views": str(shipped.get("test_time_views") or "none")}


@bp.get("/performance", defaults={"task_id": None})
@bp.get("/performance/<task_id>")
def performance(task_id: str | None):
    metadata = _task(task_id)
    task = metadata["task"]
    labels = charts.Labels(metadata["labels"])
    reports = load_reports(task, ("report", "history", "curves", "calibration", "risk", "doubt",
                                  "unsure", "views", "leave_one_source_out",
                                  "cross_validation"))
    report, history, curves = reports.get("report"), reports.get("history"), reports.get("curves")
    fields = field_names(metadata)

    evaluated = [v for v in VARIANTS if isinstance((report or {}).get(v), dict)]
    wanted = "with_metadata" if request.args.get("details") == DETAILS_GIVEN else "without_metadata"
    variant = wanted if wanted in evaluated else (evaluated[0] if evaluated else "without_metadata")
    result = (report or {}).get(variant) if evaluated else None
    order = (report or {}).get("labels") or labels.ids

    figures = {}
    if history:
        figures["training"] = _safely("chart-training", "Training curves", "history.json",
                                      charts.training_curves, history, bool(fields))
        figures["schedule"] = _safely("chart-schedule", "Learning rate and momentum",
                                      "history.json", charts.schedule, history)
    else:
        figures["training"] = _missing("chart-training", "Training curves",
                                       reports.problem("history"))
        figures["schedule"] = []
    if result:
        figures["confusion"] = _safely("chart-confusion", "Confusion matrix", "report.json",
                                       charts.confusion_matrices, result, labels, order)
    else:
        figures["confusion"] = _missing("chart-confusion", "Confusion matrix",
                                        reports.problem("report"))
    variant_curves = (curves or {}).get(variant)
    if variant_curves:
        figures["roc"] = _safely("chart-roc", "ROC curve per kind", "curves.json",
                                 charts.roc, variant_curves, labels, labels.ids)
        figures["pr"] = _safely("chart-precision-recall", "Precision–recall curve per kind",
                                "curves.json", charts.precision_recall, variant_curves, labels,
                                labels.ids)
        reliability = _safely("chart-reliability", "Reliability (calibration)",
                              "curves.json", charts.reliability, variant_curves)
    else:
        problem = (reports.problem("curves") if not curves else
                   "The curves of this evaluation are not in curves.json, so they cannot be "
                   "shown here.")
        figures["roc"] = _missing("chart-roc", "ROC curve per kind", problem)
        figures["pr"] = _missing("chart-precision-recall", "Precision–recall curve per kind",
                                 problem)
        reliability = _missing("chart-reliability", "Reliability (calibration)", problem)
    # One reliability diagram: calibration.json's before/after one where the model was
    # calibrated (curves.json's, of the calibrated model only, would repeat its "after"
    # with other bins and another ECE), else curves.json's.
    calibration = _measured(reports, "calibration", calibration_summary, metadata)
    figures["reliability"] = reliability
    if calibration and "data" in calibration:
        figures["reliability"] = _safely("chart-calibration", "Reliability before and after "
                                         "calibration", "calibration.json", charts.calibration,
                                         reports.get("calibration"))
    if len(evaluated) == 2:
        figures["effect"] = _safely("chart-metadata-effect", "Effect of the details",
                                    "report.json", charts.metadata_effect, report, labels, fields)
    else:
        figures["effect"] = []
    sources = _measured(reports, "leave_one_source_out", sources_summary, metadata)
    figures["sources"] = []
    if sources and "data" in sources:
        figures["sources"] = _safely("chart-held-out-sources", "Trained with and without each "
                                     "collection", "leave_one_source_out.json",
                                     charts.held_out_sources, reports.get("leave_one_source_out"),
                                     source_name)

    return _with_charts(render_template(
        "performance.html", task=metadata, tasks=list_tasks(), reports=reports,
        figures=figures, headline=headline(report), variant=variant, evaluated=evaluated,
        details_given=DETAILS_GIVEN, fields=fields,
        rows=per_class_rows(result, metadata) if result else [],
        matches=reports_match_model(metadata, report), report=report, history=history,
        calibration=calibration,
        risk=_measured(reports, "risk", risk_summary, metadata),
        doubt=_measured(reports, "doubt", doubt_summary, metadata),
        unsure=_measured(reports, "unsure", unsure_summary, metadata),
        views=_measured(reports, "views", views_summary, metadata), sources=sources,
        cross_validation=_measured(reports, "cross_validation", cross_validation_summary,
                                   metadata)))


@bp.get("/data", defaults={"task_id": None})
@bp.get("/data/<task_id>")
def data(task_id: str | None):
    metadata = _task(task_id)
    task = metadata["task"]
    labels = charts.Labels(metadata["labels"])
    group = metadata.get("split_group") or "case"
    reports = load_reports(task, ("data", "report"))
    summary, report = reports.get("data"), reports.get("report")
    order = (summary or {}).get("labels") or labels.ids

    figures = []
    if summary:
        figures += _safely("chart-classes", "Images per kind", "data.json",
                           charts.class_distribution, summary, labels)
        figures += _safely("chart-groups", f"Images and {group}s per kind", "data.json",
                           charts.images_and_groups, summary, labels, group)
        if summary.get("age"):
            figures += _safely("chart-age", "Age by kind", "data.json", charts.age_by_class,
                               summary, labels)
        for key, category in (summary.get("categories") or {}).items():
            figures += _safely(f"chart-{key}", f"{category.get('title', key)} by kind",
                               "data.json", charts.category_by_class, key, category, summary,
                               labels)
    split = (summary or {}).get("split") or (report or {}).get("split")
    if split:
        figures += _safely("chart-split", "Training, validation and test images per kind",
                           "data.json", charts.split_sizes, split, labels, order, group)

    table = []
    if summary or split:
        for label in metadata["labels"]:
            label_id = label["id"]
            table.append({"label": label,
                          "images": ((summary or {}).get("images_per_label") or {}).get(label_id),
                          "groups": ((summary or {}).get("groups_per_label") or {}).get(label_id),
                          **{part: ((split or {}).get(part) or {}).get(label_id)
                             for part in ("train", "val", "test")}})
    return _with_charts(render_template(
        "data.html", task=metadata, tasks=list_tasks(), reports=reports, summary=summary,
        figures=figures, group=group, table=table, split=split))


def model_cards_dir() -> Path:
    folder = current_app.config.get("MODEL_CARDS_FOLDER")
    return Path(folder) if folder else PROJECT_ROOT / "docs" / "model_cards"


def model_card_text(task_id: str) -> Markup | None:
    """The task's hand-written card (``<MODEL_CARDS_FOLDER>/<task>.md``) as HTML, or None.

    The prose about a particular dataset (who it represents, its licence) lives
    there, not in the site's code; the files are part of the repository and trusted.
    """
    import markdown

    path = model_cards_dir() / f"{task_id}.md"
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    except OSError as error:
        current_app.logger.error("cannot read %s: %s", path, error)
        return None
    html = markdown.markdown(text, extensions=["sane_lists", "smarty"], output_format="html")
    return Markup(html)


@bp.get("/model-card", defaults={"task_id": None})
@bp.get("/model-card/<task_id>")
def model_card(task_id: str | None):
    metadata = _task(task_id)
    task = metadata["task"]
    reports = load_reports(task, ("report", "data"))
    report = reports.get("report")
    return render_template(
        "model_card.html", task=metadata, tasks=list_tasks(), reports=reports,
        headline=headline(report), report=report, summary=reports.get("data"),
        card=model_card_text(task), fields=field_names(metadata),
        group=metadata.get("split_group") or "case",
        matches=reports_match_model(metadata, report))
