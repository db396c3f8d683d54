"""Make a task's shipped model in one command: ``python -m training.release TASK``.

Reads the task's recipe (``training/recipes/TASK.json``: the shipped hyper-parameters,
reviewed like code) and runs every step that makes the site's model, each into its
own folder of one run folder (default ``runs/TASK/release``)::

    1-train        fitting.train        model.keras, config.json, history.json, report.json …
                                        (recipe members > 1: each trained into run/members,
                                        averaged)
    2-tta          steps.tta            the test-time mirrors in the graph (if the recipe has them)
    3-calibration  steps.calibration    temperature scaling of the softmax layer
    4-risk         steps.risk           the risk summary's threshold
    5-wrong_kind   steps.wrong_kind     the wrong-kind-of-image head
    6-unsure       steps.unsure         the "model is unsure" threshold
    7-outline      steps.outline        the lesion-outline network, trained and exported beside
                                        the classifier (a task with lesion masks only)
    8-export       exporting.convert    TF.js graph model + metadata.json, browser parity check,
                   exporting.outside    the outside check (images from other clinics, measured
                                        only),
                   steps.outline        the outline's Dice through the JS API (outline.json),
                   reporting            the reports the site reads, their finished tables

(modules of ``training``.)

A step starts from a copy of the previous step's folder and writes only into its own,
so nothing is overwritten in place; it is done when its ``step.json`` exists. A rerun
skips the done steps and redoes an interrupted one (and every step after it), so a
release resumes after an interruption; a run folder made from another recipe is refused. At the end the export
is installed into ``static/tfjs_model/TASK/`` and ``reports/TASK/`` (``--no-install``:
leave it in the run folder).

``--quick`` runs the whole chain on a few dozen images for one epoch at 64×64 (the tests
run it); it never installs. ``--compare`` trains nothing: it prints the exported release's
test, calibration, threshold and outside-check figures beside the installed model's
(``reports/TASK``).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import time
from pathlib import Path

from training.inputs.data import PROJECT_ROOT

RECIPES = PROJECT_ROOT / "training" / "recipes"
PICTURES = "outline_pictures"  # the export step's drawings of the outline's worst cases
STEPS = ("train", "tta", "calibration", "risk", "wrong_kind", "unsure", "outline", "export")
QUICK = {
    "limit": 40,
    "epochs": 1,
    "batch_size": 8,
    "cache_dir": "",
    "model": {"image_size": [64, 64]},
}
QUICK_OTHER_KINDS, QUICK_PARITY_IMAGES, QUICK_OUTSIDE_IMAGES = 12, 7, 12
# The outline network's quick settings (training.steps.outline_net.OutlineConfig fields).
QUICK_OUTLINE = {"limit": 16, "epochs": 1, "batch_size": 8, "height": 64, "width": 64}


def read_recipe(task_id: str, path: Path | None = None) -> dict:
    """The task's recipe; unknown top-level keys and a recipe for another task are errors."""
    path = path or RECIPES / f"{task_id}.json"
    if not path.is_file():
        known = sorted(p.stem for p in RECIPES.glob("*.json"))
        raise SystemExit(f"no recipe {path}; recipes: {', '.join(known)}")
    recipe = json.loads(path.read_text())
    allowed = {
        "task",
        "about",
        "train",
        "tta",
        "quantization",
        "parity_images",
        "wrong_kind_images",
        "outline",
    }
    if set(recipe) - allowed:
        raise SystemExit(f"{path}: unknown keys {sorted(set(recipe) - allowed)}")
    if recipe.get("task") != task_id:
        raise SystemExit(f"{path} is the recipe of {recipe.get('task')!r}, not {task_id!r}")
    return recipe


def merged(base: dict, extra: dict) -> dict:
    """``base`` with ``extra``'s keys set (nested dicts merged)."""
    out = dict(base)
    for key, value in extra.items():
        out[key] = merged(out.get(key, {}), value) if isinstance(value, dict) else value
    return out


def train_config(recipe: dict, out: Path, quick: bool):
    """The recipe's ``TrainConfig`` (its fields over the defaults), writing into ``out``."""
    from training.fitting.config import config_from_settings

    fields = merged(recipe["train"], QUICK) if quick else recipe["train"]
    settings = merged({"task": recipe["task"], "out": str(out)}, fields)
    # The one place that knows a config's fields and defaults.
    config, retired = config_from_settings(settings, f"the {recipe['task']} recipe")
    if retired:
        raise ValueError(f"the {recipe['task']} recipe uses experiment settings: {retired}")
    return config


def same_recipe(run: Path, recipe: dict, quick: bool) -> None:
    """Refuse to resume a run folder that another recipe (or mode) started."""
    saved = run / "recipe.json"
    wanted = {"recipe": recipe, "quick": quick}
    if saved.is_file():
        found = json.loads(saved.read_text())
        if found != wanted:
            raise SystemExit(
                f"{run} was started from another recipe or mode ({saved}); give a new --run folder"
            )
    else:
        run.mkdir(parents=True, exist_ok=True)
        saved.write_text(json.dumps(wanted, indent=1) + "\n")


def step_folders(run: Path, recipe: dict) -> list[tuple[str, Path]]:
    """(step, its folder) of the steps this recipe has: the mirrors only if it asks for
    them, the outline only for a task with lesion masks (``Task.masks_dir``)."""
    from training.inputs.tasks import get_task

    skipped = set()
    if recipe.get("tta", "none") == "none":
        skipped.add("tta")
    if not get_task(recipe["task"]).masks_dir:
        skipped.add("outline")
    names = [s for s in STEPS if s not in skipped]
    return [(name, run / f"{STEPS.index(name) + 1}-{name}") for name in names]


def outline_config(recipe: dict, folder: Path, quick: bool, data_dir: str | None):
    """The outline network's settings: the recipe's ``outline`` over the defaults, trained
    into ``folder/outline_run`` on the run's own split."""
    from training.steps.outline_net import OutlineConfig

    fields = {**recipe.get("outline", {}), **(QUICK_OUTLINE if quick else {})}
    return OutlineConfig(
        **{
            **fields,
            "out": str(folder / "outline_run"),
            "split_file": str(folder / "split.csv"),
            "data_dir": data_dir or "",
        }
    )


def run_step(name: str, folder: Path, previous: Path | None, action) -> bool:
    """Do one step into ``folder`` (from a copy of ``previous``) unless it is done;
    True if it ran (the steps after it must then run again too)."""
    marker = folder / "step.json"
    if marker.is_file():
        print(f"[release] {name}: done ({folder})", flush=True)
        return False
    if folder.exists():
        print(f"[release] {name}: interrupted before; starting it again", flush=True)
        shutil.rmtree(folder)
    if previous is not None:
        shutil.copytree(previous, folder, ignore=shutil.ignore_patterns("step.json", "last.keras"))
    print(f"[release] {name} → {folder}", flush=True)
    started = time.time()
    action(folder)
    marker.write_text(
        json.dumps(
            {
                "step": name,
                "seconds": round(time.time() - started, 1),
                "finished": time.strftime("%Y-%m-%dT%H:%M:%S"),
            }
        )
        + "\n"
    )
    return True


def release(
    task_id: str,
    run: Path,
    quick: bool = False,
    install: bool = True,
    recipe_path: Path | None = None,
    data_dir: str | None = None,
    until: str | None = None,
) -> Path:
    """Run (or resume) every step (or those up to ``until``); returns the last step's folder
    (``8-export`` for a whole release)."""
    from training.exporting import convert
    from training.fitting.runs import load_run_data
    from training.steps import calibration, risk, tta, unsure, wrong_kind

    recipe = read_recipe(task_id, recipe_path)
    run = Path(run).resolve()
    same_recipe(run, recipe, quick)
    other_kinds = (
        QUICK_OTHER_KINDS
        if quick
        else recipe.get("wrong_kind_images", wrong_kind.OTHER_KINDS_PER_KIND)
    )
    parity_images = QUICK_PARITY_IMAGES if quick else recipe.get("parity_images", 140)

    def train(folder: Path) -> None:
        from training.fitting.train import train as train_model
        from training.fitting.train import train_members

        config = train_config(recipe, folder, quick)
        if data_dir:
            config.data_dir = data_dir
        if config.model.members > 1:  # kept beside the steps: an interrupted step resumes
            train_members(config, run / "members")
        else:
            train_model(config)

    def outline(folder: Path) -> None:
        from training.steps import outline as outlines
        from training.steps.outline_net import train as train_outline

        config = outline_config(recipe, folder, quick, data_dir)
        model_path = train_outline(config)
        outlines.export(config, model_path, folder / "tfjs_model" / task_id)

    def export(folder: Path) -> None:
        from training.exporting.outside import OUTSIDE_FILE, outside_check, summary_line
        from training.inputs.tasks import get_task
        from training.reporting.site_tables import write_site_tables

        convert.convert(
            folder,
            out=folder / "tfjs_model" / task_id,
            reports=folder / "reports" / task_id,
            quantization=recipe.get("quantization", "float32"),
            parity_images=parity_images,
            data_dir=data_dir,
        )
        # The outside check (training.exporting.outside): the exported model on images from other
        # clinics, measured only, through the browser as a visitor's photo goes.
        found = outside_check(
            get_task(task_id),
            folder / "tfjs_model" / task_id,
            data_dir,
            limit=QUICK_OUTSIDE_IMAGES if quick else 0,
        )
        if found is not None:
            (folder / "reports" / task_id / OUTSIDE_FILE).write_text(json.dumps(found, indent=1))
            print(f"[outside] {summary_line(found)}", flush=True)
        if (folder / "outline_run").is_dir():  # the outline step's network, through assess()
            from training.steps import outline as outlines
            from training.steps.outline_net import REPORT_FILE

            config = outline_config(recipe, folder, quick, data_dir)
            report_file = folder / "reports" / task_id / REPORT_FILE
            report = outlines.write_report(config, folder / "tfjs_model" / task_id, report_file)
            print(
                f"[outline] mean Dice {report['dice']['mean']:.3f} on {report['images']} test images"
            )
            # its worst test cases, drawn for the performance page (installed with the model)
            outlines.write_pictures(
                config, Path(config.out) / "model.keras", report_file, folder / PICTURES
            )
        write_site_tables(
            task_id, folder / "reports" / task_id, folder / "tfjs_model" / task_id / "metadata.json"
        )

    # The images every step after training measures on, loaded once (by the first of them).
    loaded = {}

    def images(folder: Path) -> tuple:
        if "data" not in loaded:
            loaded["data"] = load_run_data(folder, data_dir)
        return loaded["data"]

    actions = {
        "train": train,
        "tta": lambda f: tta.add_tta(f, recipe["tta"], data=images(f)),
        "calibration": lambda f: calibration.calibrate(f, data=images(f)),
        "risk": lambda f: risk.set_risk(f, data=images(f)),
        "wrong_kind": lambda f: wrong_kind.run(f, data_dir, n_other=other_kinds, data=images(f)),
        "unsure": lambda f: unsure.set_unsure(f, data=images(f)),
        "outline": outline,
        "export": export,
    }
    previous, redone = None, False
    for name, folder in step_folders(run, recipe):
        if redone and folder.exists():  # made from an earlier version of the step before it
            shutil.rmtree(folder)
        redone = run_step(name, folder, previous, actions[name]) or redone
        previous = folder
        if name == until:
            return previous
    if install and not quick:
        install_export(task_id, previous)
    return previous


def repo_relative_out(config_file: Path) -> None:
    """The run folder in the installed ``config.json`` relative to the project (``runs/…``):
    the repository never holds a path of the machine that made the release."""
    if not config_file.is_file():
        return
    config = json.loads(config_file.read_text())
    out = Path(config.get("out", ""))
    if out.is_absolute():
        try:
            config["out"] = out.resolve().relative_to(PROJECT_ROOT.resolve()).as_posix()
        except ValueError:
            config["out"] = out.name
        config_file.write_text(json.dumps(config, indent=2))


def install_export(
    task_id: str,
    export_dir: Path,
    models_root: Path | None = None,
    reports_root: Path | None = None,
    pictures_root: Path | None = None,
) -> None:
    """Copy the export into the site: the model folder (replaced whole) and the report files
    the release made (other report files of the task, e.g. research's measurements, stay)."""
    from training.exporting import export
    from training.reporting.site_tables import write_site_tables

    models_root = models_root or PROJECT_ROOT / "static" / "tfjs_model"
    reports_root = reports_root or PROJECT_ROOT / "reports"
    target = models_root / task_id
    if target.exists():
        shutil.rmtree(target)
    shutil.copytree(export_dir / "tfjs_model" / task_id, target)
    export.write_index(models_root)
    (reports_root / task_id).mkdir(parents=True, exist_ok=True)
    for path in sorted((export_dir / "reports" / task_id).iterdir()):
        shutil.copy2(path, reports_root / task_id / path.name)
    repo_relative_out(reports_root / task_id / "config.json")
    if (export_dir / PICTURES).is_dir():  # the outline's worst test cases (training.steps.outline)
        from training.steps.outline_net import PICTURES_DIR

        pictures = pictures_root / PICTURES_DIR.name if pictures_root else PICTURES_DIR
        if pictures.exists():
            shutil.rmtree(pictures)
        shutil.copytree(export_dir / PICTURES, pictures)
    # The tables again, now with the task's other measurements beside the release's.
    write_site_tables(task_id, reports_root / task_id, target / "metadata.json")
    print(f"[release] installed into {target} and {reports_root / task_id}", flush=True)


# The figures a release is checked on against the installed model's reports: (what, report
# file, key path). A figure a task does not have (details, mirrors) is left out.
FIGURES = (
    ("test accuracy, image only", "report.json", "without_metadata.accuracy"),
    ("test balanced accuracy, image only", "report.json", "without_metadata.balanced_accuracy"),
    ("test macro AUC, image only", "report.json", "without_metadata.macro_auc"),
    ("test balanced accuracy, with details", "report.json", "with_metadata.balanced_accuracy"),
    (
        "validation balanced accuracy (epoch kept)",
        "report.json",
        "validation.balanced_accuracy_without_metadata",
    ),
    ("epoch kept", "report.json", "selected_epoch"),
    ("temperature", "calibration.json", "temperature"),
    ("test ECE, calibrated", "calibration.json", "test.after.ece"),
    ("risk threshold", "risk.json", "threshold"),
    (
        "risk: test sensitivity for the focus kind",
        "risk.json",
        "test.without_metadata.focus_sensitivity",
    ),
    ("risk: test specificity", "risk.json", "test.without_metadata.specificity"),
    ("unsure threshold", "unsure.json", "threshold"),
    ("unsure: share of test images", "unsure.json", "test.without_metadata.flagged"),
    ("wrong kind: test false alarms", "wrong_kind.json", "in_kind_head.test.false_alarm_rate"),
    ("outside: balanced accuracy", "outside.json", "overall.balanced_accuracy"),
    ("outside: macro AUC", "outside.json", "overall.macro_auc"),
    ("outside: melanoma recall (top answer)", "outside.json", "overall.recall.mel"),
    ("outside: risk, melanomas flagged", "outside.json", "overall.risk.focus_sensitivity"),
    ("outside: risk specificity", "outside.json", "overall.risk.specificity"),
    ("outside: wrong-kind warnings", "outside.json", "overall.wrong_kind"),
    ("outside: unsure", "outside.json", "overall.unsure"),
)


def figure(reports: Path, file: str, key: str):
    """The value at ``key`` (dotted) of ``reports/file``, or None."""
    path = reports / file
    value = json.loads(path.read_text()) if path.is_file() else None
    for part in key.split("."):
        value = value.get(part) if isinstance(value, dict) else None
    return value if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def compare(made: Path, installed: Path) -> list[tuple[str, float, float]]:
    """(what, the release's value, the installed value) for each figure both reports have."""
    rows = []
    for what, file, key in FIGURES:
        a, b = figure(made, file, key), figure(installed, file, key)
        if a is not None and b is not None:
            rows.append((what, a, b))
    return rows


def print_comparison(task_id: str, run: Path) -> None:
    made = step_folders(run, read_recipe(task_id))[-1][1] / "reports" / task_id
    installed = PROJECT_ROOT / "reports" / task_id
    if not made.is_dir():
        raise SystemExit(f"{made} does not exist: the release in {run} has not been exported")
    print(f"| {task_id} | this release ({run.name}) | installed (reports/{task_id}) | difference |")
    print("|---|---|---|---|")
    for what, a, b in compare(made, installed):
        print(f"| {what} | {a:.4g} | {b:.4g} | {a - b:+.4f} |")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m training.release",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("task", help="a task id with a recipe in training/recipes/")
    parser.add_argument(
        "--run",
        type=Path,
        default=None,
        help="the run folder (default runs/TASK/release, runs/TASK/quick)",
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help="a few dozen images, one epoch, 64×64: the whole chain in minutes",
    )
    parser.add_argument(
        "--no-install", action="store_true", help="leave the export in the run folder"
    )
    parser.add_argument(
        "--data-dir", default=None, help="default: $SCREENER_DATA_DIR or ../shared/data"
    )
    parser.add_argument(
        "--recipe",
        type=Path,
        default=None,
        help="another recipe file for TASK (a candidate, e.g. under research/); "
        "default training/recipes/TASK.json",
    )
    parser.add_argument(
        "--until",
        choices=STEPS,
        default=None,
        help="stop after this step (e.g. 'train' to judge a candidate on validation first); "
        "a later run without it resumes there",
    )
    parser.add_argument(
        "--compare",
        action="store_true",
        help="train nothing: print the exported release's figures beside the installed "
        "model's (reports/TASK), to check that a release reproduces it",
    )
    args = parser.parse_args(argv)
    os.chdir(PROJECT_ROOT)  # the recipes' paths are relative to the project
    run = args.run or PROJECT_ROOT / "runs" / args.task / ("quick" if args.quick else "release")
    if args.compare:
        print_comparison(args.task, Path(run))
        return 0
    out = release(
        args.task,
        run,
        quick=args.quick,
        install=not args.no_install,
        recipe_path=args.recipe,
        data_dir=args.data_dir,
        until=args.until,
    )
    if args.until:
        print(f"[release] {args.task}: stopped after {args.until}; in {out}", flush=True)
    else:
        print(f"[release] {args.task}: done; export in {out}", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
