"""Judge a candidate against the shipped X-ray model on the outside proxy by the rule of
research/chest_xray/README.md: ``python -m research.chest_xray.compare
research/chest_xray/results/shipped.json research/chest_xray/results/robust.json``
(a retrained candidate, B's rule) or ``… results/squash.json --rule resize`` (the same
network with another resize mode, C's rule).

Prints a side-by-side markdown table, each point of the rule with its numbers, a paired
bootstrap over test patients (2,000 resamples) of the primary difference, and the verdict.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

from research.chest_xray.outside_proxy import PNEUMONIA, predictions_path

MARGIN = 0.02  # primary: held-out mean NORMAL recall, at least this much higher
MIN_ACCURACY = 0.97  # unshifted test accuracy of the candidate
MIN_PNEUMONIA_RECALL = 0.95  # unshifted test pneumonia recall of the candidate
AUC_SLACK = 0.005  # mean AUC over all shifts, at most this much lower


def normal_recall_by_patient(predictions: dict, conditions: list[str]):
    """(patients, correct NORMAL calls (patients × conditions), NORMAL images per patient)
    at the argmax (p(pneumonia) < 0.5), over the NORMAL test images."""
    y = np.asarray(predictions["y"])
    groups = np.asarray(predictions["group"], dtype=object)
    normal = y != PNEUMONIA
    patients, index = np.unique(groups[normal], return_inverse=True)
    n = np.bincount(index, minlength=len(patients)).astype(np.float64)
    correct = np.stack(
        [
            np.bincount(
                index,
                weights=(np.asarray(predictions["p_pneumonia"][c])[normal] < 0.5).astype(
                    np.float64
                ),
                minlength=len(patients),
            )
            for c in conditions
        ],
        axis=1,
    )
    return patients, correct, n


def bootstrap_difference(
    a: dict, b: dict, conditions: list[str], resamples: int = 2000, seed: int = 0
) -> dict:
    """Paired patient bootstrap of B − A in the mean NORMAL recall over ``conditions``."""
    if a["image_id"] != b["image_id"]:
        raise ValueError("the two results were measured on different test images")
    _, correct_a, n = normal_recall_by_patient(a, conditions)
    _, correct_b, _ = normal_recall_by_patient(b, conditions)
    rng = np.random.default_rng(seed)
    draws = rng.multinomial(len(n), np.full(len(n), 1 / len(n)), size=resamples).astype(float)
    total = draws @ n  # (resamples,)
    diff = ((draws @ correct_b) - (draws @ correct_a)).mean(axis=1) / total
    point = float(((correct_b.sum(0) - correct_a.sum(0)) / n.sum()).mean())
    low, high = np.percentile(diff, [2.5, 97.5])
    return {
        "difference": point,
        "ci95": [float(low), float(high)],
        "resamples": resamples,
        "patients": int(len(n)),
    }


def judge(a: dict, b: dict, pa: dict, pb: dict) -> dict:
    sa, sb = a["summary"], b["summary"]
    held = sa["held_out"]["conditions"]
    boot = bootstrap_difference(pa, pb, held)
    primary_a = sa["held_out"]["argmax"]["mean_normal_recall"]
    primary_b = sb["held_out"]["argmax"]["mean_normal_recall"]
    none_b = b["conditions"]["none"]["argmax"]
    floor = min(0.95, sa["all_shifts"]["argmax"]["mean_pneumonia_recall"] - 0.01)
    checks = {
        "1 primary: held-out mean NORMAL recall B − A ≥ 0.02, bootstrap CI above 0": {
            "A": primary_a,
            "B": primary_b,
            "bootstrap": boot,
            "pass": primary_b - primary_a >= MARGIN and boot["ci95"][0] > 0,
        },
        "2 unshifted: B accuracy ≥ 0.97 and pneumonia recall ≥ 0.95": {
            "B accuracy": none_b["accuracy"],
            "B pneumonia recall": none_b["pneumonia_recall"],
            "pass": none_b["accuracy"] >= MIN_ACCURACY
            and none_b["pneumonia_recall"] >= MIN_PNEUMONIA_RECALL,
        },
        "3 all shifts: B mean pneumonia recall ≥ min(0.95, A − 0.01)": {
            "A": sa["all_shifts"]["argmax"]["mean_pneumonia_recall"],
            "B": sb["all_shifts"]["argmax"]["mean_pneumonia_recall"],
            "floor": floor,
            "pass": sb["all_shifts"]["argmax"]["mean_pneumonia_recall"] >= floor,
        },
        "4 all shifts: B mean AUC ≥ A − 0.005": {
            "A": sa["all_shifts"]["mean_auc"],
            "B": sb["all_shifts"]["mean_auc"],
            "pass": sb["all_shifts"]["mean_auc"] >= sa["all_shifts"]["mean_auc"] - AUC_SLACK,
        },
    }
    return {"checks": checks, "more_robust": all(c["pass"] for c in checks.values())}


SQUARE_TOLERANCE = 1e-4  # C's p(pneumonia) on square images: the same as A's


def judge_resize(a: dict, b: dict, pa: dict, pb: dict) -> dict:
    """C's rule (README: "The candidate (C)"): the same network with another resize mode."""
    if pa["image_id"] != pb["image_id"]:
        raise ValueError("the two results were measured on different test images")
    square = [c for c in a["conditions"] if a["conditions"][c]["group"] != "added"]
    square = [c for c in square if c in b["conditions"]]
    aspects = [c for c in a["conditions"] if a["conditions"][c]["group"] == "added"]
    missing = [c for c in aspects if c not in b["conditions"]]
    if missing or not aspects:
        raise ValueError(f"the candidate lacks the aspect conditions {missing or 'aspect_*'}")
    largest = max(
        float(np.max(np.abs(np.subtract(pa["p_pneumonia"][c], pb["p_pneumonia"][c]))))
        for c in square
    )

    def mean(results, point, key):
        return float(np.mean([results["conditions"][c][point][key] for c in aspects]))

    def worst(results):
        return min(results["conditions"][c]["argmax"]["normal_recall"] for c in aspects)

    def aspect_auc(results):
        return float(np.mean([results["conditions"][c]["auc"] for c in aspects]))

    boot = bootstrap_difference(pa, pb, aspects)
    none_b = b["conditions"]["none"]["argmax"]
    held_a = a["summary"]["held_out"]["argmax"]["mean_normal_recall"]
    held_b = b["summary"]["held_out"]["argmax"]["mean_normal_recall"]
    normal_a, normal_b = (mean(r, "argmax", "normal_recall") for r in (a, b))
    pneu_a, pneu_b = (mean(r, "argmax", "pneumonia_recall") for r in (a, b))
    checks = {
        "1 square conditions: the same p(pneumonia) (max |Δ| ≤ 1e-4); unshifted accuracy "
        "≥ 0.97; held-out mean NORMAL recall ≥ A − 0.01": {
            "conditions": len(square),
            "max |Δp|": largest,
            "B accuracy": none_b["accuracy"],
            "held-out NORMAL recall A": held_a,
            "held-out NORMAL recall B": held_b,
            "pass": largest <= SQUARE_TOLERANCE
            and none_b["accuracy"] >= MIN_ACCURACY
            and held_b >= held_a - 0.01,
        },
        "2 primary: aspect mean NORMAL recall B − A ≥ 0.02, bootstrap CI above 0, worst "
        "aspect NORMAL recall higher": {
            "A": normal_a,
            "B": normal_b,
            "worst A": worst(a),
            "worst B": worst(b),
            "bootstrap": boot,
            "pass": normal_b - normal_a >= MARGIN and boot["ci95"][0] > 0 and worst(b) > worst(a),
        },
        "3 aspect: B mean pneumonia recall ≥ A − 0.01": {
            "A": pneu_a,
            "B": pneu_b,
            "pass": pneu_b >= pneu_a - 0.01,
        },
        "4 aspect: B mean AUC ≥ A − 0.005": {
            "A": aspect_auc(a),
            "B": aspect_auc(b),
            "pass": aspect_auc(b) >= aspect_auc(a) - AUC_SLACK,
        },
    }
    return {"checks": checks, "adopted": all(c["pass"] for c in checks.values())}


def side_by_side(a: dict, b: dict, names=("A", "B")) -> str:
    def f(x):
        return "–" if x is None else f"{x:.3f}"

    lines = [
        f"A = `{a['model']}` (resize {a.get('resize', 'crop')}), "
        f"B = `{b['model']}` (resize {b.get('resize', 'crop')})",
        "",
        "| condition | group | accuracy A / B | AUC A / B | pneumonia recall A / B "
        "| NORMAL recall A / B | NORMAL @val_sens95 A / B |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    for name, ca in a["conditions"].items():
        cb = b["conditions"].get(name)
        if cb is None:
            continue
        lines.append(
            f"| {name} | {ca['group']} | {f(ca['argmax']['accuracy'])} / "
            f"{f(cb['argmax']['accuracy'])} | {f(ca['auc'])} / {f(cb['auc'])} | "
            f"{f(ca['argmax']['pneumonia_recall'])} / {f(cb['argmax']['pneumonia_recall'])} | "
            f"{f(ca['argmax']['normal_recall'])} / {f(cb['argmax']['normal_recall'])} | "
            f"{f(ca['val_sens95']['normal_recall'])} / {f(cb['val_sens95']['normal_recall'])} |"
        )
    lines += [
        "",
        "| mean over | AUC A / B | pneumonia recall A / B | NORMAL recall A / B "
        "| worst NORMAL recall A / B |",
        "| --- | ---: | ---: | ---: | ---: |",
    ]
    for group in a["summary"]:
        ga, gb = a["summary"][group], b["summary"][group]
        lines.append(
            f"| {group} | {f(ga['mean_auc'])} / {f(gb['mean_auc'])} | "
            f"{f(ga['argmax']['mean_pneumonia_recall'])} / {f(gb['argmax']['mean_pneumonia_recall'])} | "
            f"{f(ga['argmax']['mean_normal_recall'])} / {f(gb['argmax']['mean_normal_recall'])} | "
            f"{f(ga['argmax']['worst_normal_recall'])} ({ga['argmax']['worst_condition']}) / "
            f"{f(gb['argmax']['worst_normal_recall'])} ({gb['argmax']['worst_condition']}) |"
        )
    lines += [
        "",
        "| series (unshifted) | recall A / B | AUC vs pneumonia A / B |",
        "| --- | ---: | ---: |",
    ]
    for name, sa in a["conditions"]["none"]["series"].items():
        sb = b["conditions"]["none"]["series"][name]
        lines.append(
            f"| {name} (n = {sa['n']}) | {f(sa['recall'])} / {f(sb['recall'])} | "
            f"{f(sa.get('auc_vs_pneumonia'))} / {f(sb.get('auc_vs_pneumonia'))} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("shipped", type=Path)
    parser.add_argument("candidate", type=Path)
    parser.add_argument(
        "--rule",
        choices=["robust", "resize"],
        default="robust",
        help="'robust': B's rule (a retrained candidate); 'resize': C's rule (the same "
        "network, another resize mode; README.md)",
    )
    args = parser.parse_args(argv)
    a, b = (json.loads(p.read_text()) for p in (args.shipped, args.candidate))
    pa, pb = (json.loads(predictions_path(p).read_text()) for p in (args.shipped, args.candidate))
    print(side_by_side(a, b))
    verdict = (judge_resize if args.rule == "resize" else judge)(a, b, pa, pb)
    print("\nThe rule (research/chest_xray/README.md):\n")
    for name, check in verdict["checks"].items():
        shown = {
            k: (round(v, 4) if isinstance(v, float) else v)
            for k, v in check.items()
            if k not in ("pass", "bootstrap")
        }
        if "bootstrap" in check:
            boot = check["bootstrap"]
            shown["B − A"] = round(boot["difference"], 4)
            shown["95% CI"] = [round(x, 4) for x in boot["ci95"]]
            shown["patients"] = boot["patients"]
        print(f"- {'PASS' if check['pass'] else 'FAIL'} {name}: {shown}")
    if args.rule == "resize":
        print(
            f"\nVerdict: the candidate's resize mode is {'' if verdict['adopted'] else 'NOT '}adopted."
        )
    else:
        print(f"\nVerdict: B is {'' if verdict['more_robust'] else 'NOT '}more robust than A.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
