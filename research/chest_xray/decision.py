"""The X-ray screener's decision and operating point (issue 33):
``python -m research.chest_xray.decision --model RUN/model.keras --out
research/chest_xray/results/NAME.json``.

``--model`` is a trained network *before* the release's temperature step (a release's
``1-train/model.keras``). On the VALIDATION split, unshifted and under the proxy's six
held-out shifts (``training.inputs.shifts.HELD_OUT``), it builds the candidates of
``research/chest_xray/decision.md`` from the same network's scores:

- K0: softmax(z / T), ``T`` as ``training.steps.calibration`` fits it (the shipped decision);
- K1: softmax(z / T − log π), π the training split's class shares (the prior correction);
- K2: softmax(a·z + b), ``a`` and ``b`` fitted on validation by class-balanced log-loss;

and for each: the argmax figures per condition, the rule's numbers (``BA_shift``, unshifted
accuracy and pneumonia recall) and its risk threshold (the highest with validation pneumonia
recall ≥ 0.95 on every condition, never above 0.5). Prints the verdict by the rule.

``--test`` then reports (never chooses) every candidate on the TEST split under every proxy
condition (the squash model's ``aspect_*`` as uploads), at the argmax and at its risk
threshold; ``--before PRED.json`` adds a released model's stored proxy predictions
(``outside_proxy``'s ``NAME.predictions.json``) at its own operating point (argmax 0.5, the
risk threshold 0.5) as "before".
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

from research.chest_xray import outside_proxy as proxy
from training.inputs.shifts import HELD_OUT
from training.steps.calibration import fit_temperature
from training.steps.risk import NEVER_ABOVE
from webapp.report_shapes import write as write_report

PNEUMONIA = proxy.PNEUMONIA
VALIDATION_CONDITIONS = ("none", *HELD_OUT)
CANDIDATES = ("K0", "K1", "K2")
TARGET_RECALL = 0.95
MIN_ACCURACY, MIN_PNEUMONIA_RECALL, MIN_GAIN = 0.97, 0.95, 0.005


def logit(p: np.ndarray) -> np.ndarray:
    """log p(pneumonia) − log p(normal) of probabilities p(pneumonia)."""
    p = np.clip(np.asarray(p, np.float64), 1e-12, 1 - 1e-12)
    return np.log(p) - np.log1p(-p)


def sigmoid(d: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-np.asarray(d, np.float64)))


def balanced_nll(d: np.ndarray, y: np.ndarray) -> float:
    """Log-loss of σ(d) with each class weighing one half."""
    pos = y == PNEUMONIA
    return float(0.5 * np.mean(np.logaddexp(0, -d[pos])) + 0.5 * np.mean(np.logaddexp(0, d[~pos])))


def fit_balanced(d: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    """(a, b) minimising the class-balanced log-loss of σ(a·d + b), a > 0."""
    from scipy.optimize import minimize

    def loss(theta):
        return balanced_nll(np.exp(theta[0]) * d + theta[1], y)

    found = minimize(
        loss,
        x0=np.array([0.0, 0.0]),
        method="Nelder-Mead",
        options={"xatol": 1e-6, "fatol": 1e-9, "maxiter": 4000},
    )
    return float(np.exp(found.x[0])), float(found.x[1])


def candidates(raw_val_none: np.ndarray, val_y: np.ndarray, train_shares: np.ndarray) -> dict:
    """Each candidate as (a, b): its p(pneumonia) is σ(a·d + b), d the raw network's
    logit difference. K0 = (1/T, 0); K1 = (1/T, −log(π₁/π₀)); K2 fitted."""
    probabilities = np.stack([1 - raw_val_none, raw_val_none], axis=1)
    temperature = fit_temperature(probabilities, val_y)
    prior = -float(np.log(train_shares[PNEUMONIA] / train_shares[1 - PNEUMONIA]))
    a2, b2 = fit_balanced(logit(raw_val_none), val_y)
    return {
        "temperature": temperature,
        "prior_shift": prior,
        "K0": {"a": 1 / temperature, "b": 0.0},
        "K1": {"a": 1 / temperature, "b": prior},
        "K2": {"a": a2, "b": b2},
    }


def transformed(p_raw: np.ndarray, a: float, b: float) -> np.ndarray:
    return sigmoid(a * logit(p_raw) + b)


def risk_threshold(y: np.ndarray, p_by_condition: dict) -> tuple[float, dict]:
    """The highest t with pneumonia recall ≥ TARGET_RECALL on every condition, ≤ NEVER_ABOVE;
    and each condition's own highest such t."""
    own = {
        name: proxy.highest_threshold_for_recall(p[y == PNEUMONIA], TARGET_RECALL)
        for name, p in p_by_condition.items()
    }
    return min(NEVER_ABOVE, min(own.values())), own


def judge(val_y: np.ndarray, raw_val: dict, params: dict) -> dict:
    """Every candidate on validation: argmax figures per condition, the rule's numbers,
    its risk threshold and the figures there; and the verdict."""
    out = {}
    for name in CANDIDATES:
        a, b = params[name]["a"], params[name]["b"]
        p = {c: transformed(raw_val[c], a, b) for c in VALIDATION_CONDITIONS}
        argmax = {c: proxy.at_threshold(val_y, p[c], 0.5) for c in VALIDATION_CONDITIONS}
        t, own = risk_threshold(val_y, p)
        at_t = {c: proxy.at_threshold(val_y, p[c], t) for c in VALIDATION_CONDITIONS}
        shifted = [argmax[c] for c in HELD_OUT]
        out[name] = {
            **params[name],
            "argmax": argmax,
            "ba_shift": float(np.mean([r["balanced_accuracy"] for r in shifted])),
            "mean_shift_pneumonia_recall": float(np.mean([r["pneumonia_recall"] for r in shifted])),
            "mean_shift_normal_recall": float(np.mean([r["normal_recall"] for r in shifted])),
            "accuracy": argmax["none"]["accuracy"],
            "pneumonia_recall": argmax["none"]["pneumonia_recall"],
            "eligible": argmax["none"]["accuracy"] >= MIN_ACCURACY
            and argmax["none"]["pneumonia_recall"] >= MIN_PNEUMONIA_RECALL,
            "risk_threshold": t,
            "risk_threshold_per_condition": own,
            "at_risk_threshold": at_t,
            "at_risk_threshold_mean_shift_normal_recall": float(
                np.mean([at_t[c]["normal_recall"] for c in HELD_OUT])
            ),
        }
    return {"candidates": out, "verdict": verdict(out)}


def verdict(judged: dict) -> dict:
    """The rule of decision.md: the eligible candidate with the highest BA_shift, if it beats
    K0 by MIN_GAIN; K1 over K2 within MIN_GAIN of each other."""
    eligible = [n for n in CANDIDATES if judged[n]["eligible"]]
    base = judged["K0"]["ba_shift"] if "K0" in eligible else -np.inf
    better = [n for n in eligible if n != "K0" and judged[n]["ba_shift"] >= base + MIN_GAIN]
    if not better:
        chosen = "K0"
    else:
        chosen = max(better, key=lambda n: judged[n]["ba_shift"])
        if (
            chosen == "K2"
            and "K1" in better
            and judged["K2"]["ba_shift"] - judged["K1"]["ba_shift"] < MIN_GAIN
        ):
            chosen = "K1"
    return {"eligible": eligible, "chosen": chosen, "k0_ba_shift": base}


def report_test(
    test_y, raw_test: dict, params: dict, judged: dict, groups: dict, before=None
) -> dict:
    """Every candidate (and ``before``) on the test conditions: argmax and risk threshold."""

    def figures(p_by_condition, t):
        rows = {}
        for c, p in p_by_condition.items():
            rows[c] = {
                "auc": proxy.auc(test_y, p),
                "argmax": proxy.at_threshold(test_y, p, 0.5),
                "risk": proxy.at_threshold(test_y, p, t),
            }
        means = {}
        for group in ("held-out", "photometric", "added"):
            names = [c for c in rows if groups.get(c) == group]
            if names:
                means[group] = {
                    point: {
                        key: float(np.mean([rows[c][point][key] for c in names]))
                        for key in ("pneumonia_recall", "normal_recall", "accuracy")
                    }
                    for point in ("argmax", "risk")
                }
                means[group]["worst_normal_recall_risk"] = min(
                    (rows[c]["risk"]["normal_recall"], c) for c in names
                )
                means[group]["worst_pneumonia_recall_risk"] = min(
                    (rows[c]["risk"]["pneumonia_recall"], c) for c in names
                )
        return {"threshold": t, "conditions": rows, "means": means}

    out = {}
    for name in CANDIDATES:
        a, b = params[name]["a"], params[name]["b"]
        p = {c: transformed(raw, a, b) for c, raw in raw_test.items()}
        out[name] = figures(p, judged[name]["risk_threshold"])
    if before is not None:
        out["before"] = figures(before, NEVER_ABOVE)
    return out


def previous_risk(predictions: dict, threshold: float, version: str) -> dict:
    """risk.json's figures (``test.without_metadata`` and ``shifts.test``) of the version
    before, from its stored proxy predictions at its own risk threshold: what
    ``training.reporting.site_tables`` prints beside the new ones (reports/chest_xray/risk_previous.json)."""
    from training.steps.risk import measure

    y = np.asarray(predictions["y"])
    malignant = np.array([False, True])

    def at(condition):
        p = np.asarray(predictions["p_pneumonia"][condition], np.float64)
        return measure(p, y, threshold, malignant, PNEUMONIA)

    return {
        "version": version,
        "threshold": threshold,
        "source": "research/chest_xray/decision.py --previous_out, from the stored proxy "
        "predictions of that version on this split's test images",
        "test": {"without_metadata": at("none")},
        "shifts": {"names": list(HELD_OUT), "test": {c: at(c) for c in HELD_OUT}},
    }


def predict_conditions(model, task, images, conditions, aspect_input="upload", log=print):
    raw = {}
    for c in conditions:
        log(f"[decision] {c}")
        x = proxy.shifted(images, c, seed=0, aspect_input=aspect_input)
        raw[c] = proxy.probabilities(model, task, x)[:, PNEUMONIA].astype(np.float64)
    return raw


def markdown(result: dict) -> str:
    lines = [
        f"temperature {result['params']['temperature']:.4f}; prior shift −log(π₁/π₀) = "
        f"{result['params']['prior_shift']:.4f}; K2: a = {result['params']['K2']['a']:.4f}, "
        f"b = {result['params']['K2']['b']:.4f} (K0: a = {result['params']['K0']['a']:.4f}, b = 0)",
        "",
        "Validation (745 images), argmax, and the rule's risk threshold:",
        "",
        "| candidate | accuracy | pneumonia recall | BA_shift (6 held-out) "
        "| mean pneu / NORMAL recall, shifts | risk threshold "
        "| NORMAL recall at it: unshifted / shift mean / worst |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for name, c in result["validation"]["candidates"].items():
        worst = min((c["at_risk_threshold"][s]["normal_recall"], s) for s in HELD_OUT)
        lines.append(
            f"| {name}{' (eligible)' if c['eligible'] else ''} | {c['accuracy']:.4f} "
            f"| {c['pneumonia_recall']:.4f} | {c['ba_shift']:.4f} "
            f"| {c['mean_shift_pneumonia_recall']:.3f} / {c['mean_shift_normal_recall']:.3f} | "
            f"{c['risk_threshold']:.4f} | {c['at_risk_threshold']['none']['normal_recall']:.3f} / "
            f"{c['at_risk_threshold_mean_shift_normal_recall']:.3f} / {worst[0]:.3f} ({worst[1]}) |"
        )
    v = result["validation"]["verdict"]
    lines += [
        "",
        f"Verdict by the rule: **{v['chosen']}** (eligible: {', '.join(v['eligible']) or 'none'}).",
    ]
    if "test" in result:
        lines += [
            "",
            "Test (reported only): unshifted, and means over each group of the proxy's conditions",
            "",
            "| model | point | threshold | unshifted pneu / NORMAL | held-out pneu / NORMAL "
            "| worst held-out NORMAL | photometric pneu / NORMAL | aspect pneu / NORMAL |",
            "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |",
        ]
        for name, r in result["test"].items():
            for point in ("argmax", "risk"):
                t = 0.5 if point == "argmax" else r["threshold"]
                none = r["conditions"]["none"][point]
                cells = []
                for group in ("held-out", "photometric", "added"):
                    m = r["means"].get(group, {}).get(point)
                    cells.append(
                        f"{m['pneumonia_recall']:.3f} / {m['normal_recall']:.3f}" if m else "–"
                    )
                worst = (
                    r["means"].get("held-out", {}).get("worst_normal_recall_risk")
                    if point == "risk"
                    else None
                )
                lines.append(
                    f"| {name} | {point} | {t:.4f} "
                    f"| {none['pneumonia_recall']:.3f} / {none['normal_recall']:.3f} | {cells[0]} "
                    f"| {f'{worst[0]:.3f} ({worst[1]})' if worst else '–'} | {cells[1]} | {cells[2]} |"
                )
    return "\n".join(lines)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m research.chest_xray.decision",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--model", type=Path, help="a trained network before calibration (RUN/1-train/model.keras)"
    )
    parser.add_argument("--split", type=Path, default=Path("reports/chest_xray/split.csv"))
    parser.add_argument("--data_dir", default=None)
    parser.add_argument(
        "--test",
        action="store_true",
        help="also report every candidate on the test split's proxy conditions",
    )
    parser.add_argument(
        "--before",
        type=Path,
        help="a released model's stored proxy predictions (NAME.predictions.json)",
    )
    parser.add_argument(
        "--out",
        type=Path,
        help="results JSON (the raw predictions beside it, NAME.predictions.json)",
    )
    parser.add_argument(
        "--print", dest="show", type=Path, help="only print the tables of an existing results JSON"
    )
    parser.add_argument(
        "--previous_out",
        type=Path,
        help="only write the version before's risk figures (risk_previous.json) from "
        "--before's stored predictions at --previous_threshold, named --previous_version",
    )
    parser.add_argument("--previous_threshold", type=float, default=NEVER_ABOVE)
    parser.add_argument("--previous_version", default="")
    args = parser.parse_args(argv)
    if args.previous_out:
        if not (args.before and args.previous_version):
            parser.error("--previous_out needs --before and --previous_version")
        found = previous_risk(
            json.loads(args.before.read_text()), args.previous_threshold, args.previous_version
        )
        write_report("risk_previous", found, args.previous_out)
        print(json.dumps(found["test"]), file=sys.stderr)
        return 0
    if args.show:
        print(markdown(json.loads(args.show.read_text())))
        return 0
    if not args.model:
        parser.error("--model is required (or --print RESULTS.json)")
    import pandas as pd

    from training.fitting.model import load_model

    def log(s):
        print(s, file=sys.stderr, flush=True)

    task, parts = proxy.load_parts(args.split, args.data_dir)
    model = load_model(args.model)
    split = pd.read_csv(args.split)
    train = split[split["split"] == "train"]["label"]
    shares = np.array([(train == label).mean() for label in task.label_ids])
    _, _, val_y, val_images = parts["val"]
    raw_val = predict_conditions(model, task, val_images, VALIDATION_CONDITIONS, log=log)
    params = candidates(raw_val["none"], val_y, shares)
    result = {
        "model": proxy.relative(args.model),
        "split": proxy.relative(args.split),
        "train_shares": dict(zip(task.label_ids, shares.tolist())),
        "params": params,
        "validation": judge(val_y, raw_val, params),
    }
    predictions = {"val": {c: p.tolist() for c, p in raw_val.items()}, "val_y": val_y.tolist()}
    if args.test:
        test_ids, _, test_y, test_images = parts["test"]
        raw_test = predict_conditions(model, task, test_images, proxy.CONDITIONS, log=log)
        before = None
        if args.before:
            stored = json.loads(args.before.read_text())
            if list(stored["image_id"]) != list(test_ids):
                raise SystemExit(f"{args.before} is not of this split's test images")
            before = {c: np.asarray(p, np.float64) for c, p in stored["p_pneumonia"].items()}
            result["before"] = proxy.relative(args.before)
        groups = {name: group for name, (_, group) in proxy.SHIFTS.items()}
        result["test"] = report_test(
            test_y, raw_test, params, result["validation"]["candidates"], groups, before
        )
        predictions.update(
            {"test": {c: p.tolist() for c, p in raw_test.items()}, "test_y": test_y.tolist()}
        )
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(result, indent=1) + "\n")
        args.out.with_suffix(".predictions.json").write_text(json.dumps(predictions) + "\n")
    print(markdown(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
