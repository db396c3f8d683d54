"""The site's tables: every figure the report pages print, computed once.

The performance, data and model-card pages (``webapp/``) render; they do not
analyse. Means, differences, ranges and consistency checks are worked out here, when the
reports are made, from the raw report files training and the experiments write into
``reports/<task>/`` (the names of ``webapp.report_files``), and stored as
``reports/<task>/tables.json``:

    {"format": 2, "task", "model_version", "matches_model",
     "tables": [{"id", "title", "caption", "class", "stack", "columns", "groups", "rows"}],
     "facts": {section: {name: figure, flag, id or key}},
     "problems": {section: {"file": report file's name, "reason": "damaged" | "malformed"}}}

It holds figures, ids and keys, never words: the site words them in the page's language
(``webapp.report_words``: the English and its translations are the site's, so a new
release changes no catalogue). Every figure is already formatted the English way ("63.1%",
"0.912", "1,431"), which the site writes the way of the page's language; a figure that was
not measured is ``null`` (the page prints a dash read as "not measured"). A section whose
file is missing is in neither ``facts`` nor ``problems`` (the model was not measured that
way); a damaged file or one lacking what the section needs is in ``problems``.

A word is a key (``"accuracy"``), a key with its figures and ids (``{"key":
"focus_flagged", "label": "mel"}``), or an id the site names: ``{"label": id}`` (a kind of
the model), ``{"kind": id}`` (a kind of image of the wrong-kind check), ``{"source": id}``
and ``{"where": id}`` (a collection of the task), ``{"figure": text}``, ``{"run": {...}}`` (a
network compared). A table: ``columns[0]`` names the row headers, each row's ``cells``
follow ``columns[1:]`` (a cell's ``label``, its name in a phone's stacked layout, is its
column's unless given); ``groups`` (optional) is a header row above the columns, each
``{"name", "span"}`` (a word) or ``{"column": i}`` (that column, two rows high). Rows and cells
carry ``data`` (``data-*`` attributes the pages and tests find them by).

    python -m training.reporting.site_tables TASK [--reports reports/TASK]
        [--metadata static/tfjs_model/TASK/metadata.json]

The release pipeline calls :func:`write_site_tables` after it writes the reports.
Only the standard library, the task registry and the report files' names and shapes
(``webapp.report_files``, ``webapp.report_shapes``): no TensorFlow.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from training.reporting.elsewhere_tables import backbones, cross_validation, framings, sources
from training.reporting.rule_tables import risk, unsure, wrong_kind
from training.reporting.table_format import (
    MALFORMED,
    VARIANTS,
    cell,
    column,
    count,
    decimals,
    duration,
    installed_differs,
    label_ids,
    measure,
    number,
    percent,
    reports_match_model,
    row,
    table,
    word,
)
from webapp.report_files import REPORT_FILES
from webapp.report_shapes import ShapeError
from webapp.report_shapes import check as check_shape

PROJECT_ROOT = Path(__file__).resolve().parents[2]
FORMAT = 2
TABLES_FILE = REPORT_FILES["tables"]
# The report files tables.json is made from (names of webapp.report_files).
SOURCES = (
    "report",
    "history",
    "data",
    "calibration",
    "risk",
    "risk_previous",
    "wrong_kind",
    "unsure",
    "framings",
    "leave_one_source_out",
    "cross_validation",
    "backbones",
)


# ---- report.json: the headline and each kind --------------------------------------------

HEADLINE_METRICS = ("accuracy", "balanced_accuracy", "macro_auc", "macro_f1")


def headline(report: dict, metadata: dict) -> tuple[dict, list[dict]]:
    evaluated = [v for v in VARIANTS if isinstance(report.get(v), dict)]
    if not evaluated:
        raise ValueError("report.json holds no evaluation")
    several = len(evaluated) > 1
    n_labels = len(metadata.get("labels") or report["labels"])
    n = report[evaluated[0]].get("n")
    names = [word("variant", variant=v) if several else "test_result" for v in evaluated]
    rows = []
    for key in HEADLINE_METRICS:
        cells = []
        for variant in evaluated:
            value = measure(report[variant].get(key))
            text = decimals(value) if key in ("macro_auc", "macro_f1") else percent(value)
            cells.append(cell(text, metric=key, variant=variant))
        rows.append(row(key, cells, f"{key}_help"))
    caption = word(
        "headline_caption_details" if several else "headline_caption",
        n=n,
        kinds=n_labels,
        chance=f"{100 / n_labels:.1f}%",
    )
    columns = [column("measure", numeric=False)] + [column(name) for name in names]
    facts = {"n": n, "evaluated": evaluated}
    return facts, [
        table("headline", "in_brief", caption, columns, rows, "headline-table", stack=False)
    ]


PER_CLASS = ("support", "sensitivity", "specificity", "precision", "auc")


def per_class(report: dict, metadata: dict) -> list[dict]:
    """One table per evaluated variant: each label of metadata.json with its test figures."""
    evaluated = [v for v in VARIANTS if isinstance(report.get(v), dict)]
    tables = []
    for variant in evaluated:
        measured_all = report[variant].get("per_class") or {}
        rows = []
        for label in label_ids(metadata, report["labels"]):
            measured = measured_all.get(label) or {}
            value = {key: measure(measured.get(key)) for key in PER_CLASS}
            formats = (count, percent, percent, percent, decimals)
            cells = [
                cell(written(value[key]), metric=key) for key, written in zip(PER_CLASS, formats)
            ]
            rows.append(row({"label": label}, cells, label_id=label))
        name = word("variant", variant=variant) if len(evaluated) > 1 else "test_results"
        columns = [column("kind", numeric=False), column("test_images")]
        columns += [column(key) for key in PER_CLASS[1:]]
        tables.append(
            table(
                f"per-class-{variant}",
                "kind_by_kind",
                word("per_class_caption", variant=name),
                columns,
                rows,
                "per-class-table",
            )
        )
    return tables


# ---- history.json and data.json ---------------------------------------------------------


def training(history: dict, metadata: dict) -> dict:
    facts = {
        "epochs": len(history["epochs"]["loss"]),
        "duration": duration(history.get("train_seconds")),
        "selected_epoch": history.get("selected_epoch"),
    }
    if history.get("members"):  # several networks averaged; the curves are the first's
        facts["members"] = len(history["members"])
        facts["selected_epochs"] = ", ".join(str(m["selected_epoch"]) for m in history["members"])
    return facts


def data_summary(data: dict | None, split: dict | None, metadata: dict) -> tuple[dict, list]:
    """The data page's counts per kind (data.json, the split from it or report.json) and
    the facts the data page and the model card print."""
    labels = label_ids(metadata, (data or {}).get("labels", []))
    columns = [column("kind", numeric=False)]
    parts = []
    if data:
        parts += [
            ("images", data.get("images_per_label") or {}),
            ("groups", data.get("groups_per_label") or {}),
        ]
    if split:
        parts += [(part, split.get(part) or {}) for part in ("train", "val", "test")]
    columns += [column(f"count_{key}") for key, _ in parts]
    rows = [
        row(
            {"label": label},
            [cell(count(measure(counts.get(label))), count=key) for key, counts in parts],
            label_id=label,
        )
        for label in labels
    ]
    tables = [table("counts", "counts_per_kind", "counts_caption", columns, rows, "counts-table")]
    facts = {}
    if data:
        facts = {
            "n_images": count(number(data["n_images"])),
            "n_groups": count(measure(data.get("n_groups"))),
            "per_label": [
                {
                    "id": label,
                    "count": count(measure((data.get("images_per_label") or {}).get(label))),
                }
                for label in labels
            ],
            # What data.json records beside the kind: "age", then its categories' keys.
            "recorded": (["age"] if data.get("age") else [])
            + list((data.get("categories") or {}).keys()),
        }
    return facts, tables


# ---- calibration.json, risk.json, wrong_kind.json, unsure.json --------------------------------


def calibration(calibration: dict, metadata: dict) -> tuple[dict, list]:
    rows, worse = [], []
    for split in ("validation", "test"):
        measured = {when: calibration[split][when] for when in ("before", "after")}
        n = sum(int(number(b["count"])) for b in measured["after"]["bins"])
        cells = [cell(count(n), metric="n")]
        for key in ("ece", "nll"):
            value = {when: number(measured[when][key]) for when in ("before", "after")}
            if value["after"] > value["before"]:
                worse.append({"metric": key, "split": split})
            cells += [
                cell(decimals(value[when]), metric=key, when=when) for when in ("before", "after")
            ]
        rows.append(row(f"calibration_{split}", cells, split=split))
    temperature = number(calibration["temperature"])
    facts = {
        "temperature": f"{temperature:.2f}",
        "softens": temperature > 1,
        "worse": worse,
        "installed": installed_differs(
            metadata, "calibration", "temperature", temperature, "temperature"
        ),
    }
    columns = [column("images", numeric=False), column("answers")] + [
        column(f"{key}_{when}") for key in ("ece", "nll") for when in ("before", "after")
    ]
    caption = word("calibration_caption", temperature=f"{temperature:.2f}")
    return facts, [table("calibration", "calibration", caption, columns, rows, "calibration-table")]


# ---- the whole file -----------------------------------------------------------------------


def _read(folder: Path, name: str) -> tuple[dict | None, str | None]:
    """(content, None), (None, "missing"), (None, "damaged") or, for a file the experiments
    write that lacks what its shape promises (``webapp.report_shapes``), (None, "malformed")."""
    path = folder / REPORT_FILES[name]
    try:
        content = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None, "missing"
    except (OSError, ValueError):
        return None, "damaged"
    if not isinstance(content, dict):
        return None, "damaged"
    try:
        check_shape(name, content)
    except ShapeError as error:
        print(f"[site_tables] {path}: {error}", file=sys.stderr)
        return None, "malformed"
    return content, None


def site_tables(task_id: str, reports_dir, metadata: dict | None = None) -> dict:
    """The content of tables.json for the report files in ``reports_dir`` (the task's folder).

    ``metadata``: the installed model's metadata.json (its labels, the thresholds it
    carries); None: the task registry's labels, and no comparison with an installed model.
    """
    folder = Path(reports_dir)
    if metadata is None:
        from training.inputs.tasks import get_task

        task = get_task(task_id)
        metadata = {"task": task_id, "labels": [{"id": label.id} for label in task.labels]}
    files, reasons = {}, {}
    for name in SOURCES:
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

    def section(key: str, name: str, build, *args, also=()):
        """Facts and tables of one section from file ``name`` (and the files named ``also``,
        passed after ``args``; None where missing), or the problem with one of them."""
        for used in (name, *also):
            if reasons.get(used) in ("damaged", "malformed"):
                out["problems"][key] = {"file": used, "reason": reasons[used]}
                return
        if files[name] is None:
            return
        try:
            made = build(files[name], *args, *(files[used] for used in also))
        except MALFORMED:
            out["problems"][key] = {"file": name, "reason": "malformed"}
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
            out["problems"]["data"] = {"file": "data", "reason": "malformed"}
    section("calibration", "calibration", calibration, metadata)
    section("risk", "risk", risk, metadata, also=("risk_previous",))
    section("wrong_kind", "wrong_kind", wrong_kind, metadata)
    section("unsure", "unsure", unsure, metadata)
    section("framings", "framings", framings, metadata)
    section("sources", "leave_one_source_out", sources, metadata)
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
    parser.add_argument("task", help="the task id (training.inputs.tasks)")
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
