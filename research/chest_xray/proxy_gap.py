"""How large the outside change is in the model's own units, beside the proxy's shifts:
``python -m research.chest_xray.proxy_gap research/chest_xray/results/release_squash.predictions.json
--normal_recall 0.782 --pneumonia_recall 0.992``.

The outside figures (normal and pneumonia recall at p(pneumonia) ≥ 0.5, measured elsewhere
through the JS API) are read as if every outside X-ray of a kind were one of our test X-rays
of that kind with its logit moved by one constant: ``needed`` is the move that reproduces the
outside recall (positive: towards pneumonia). Beside it, for every proxy condition, the
median move of the same test images' logits under that shift. A crude model (a shift moves
images unequally, and outside images are not ours), but it says in one unit whether a
proxy condition is of the size of the outside change.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np


def logit(p) -> np.ndarray:
    p = np.clip(np.asarray(p, np.float64), 1e-7, 1 - 1e-7)
    return np.log(p) - np.log1p(-p)


def needed_move(logits: np.ndarray, share_called: float) -> float:
    """The constant δ with mean(logits + δ ≥ 0) = ``share_called``."""
    return float(-np.quantile(logits, 1.0 - share_called))


def gap(predictions: dict, normal_recall: float, pneumonia_recall: float) -> dict:
    y = np.asarray(predictions["y"])
    z = {c: logit(p) for c, p in predictions["p_pneumonia"].items()}
    normal, pneumonia = y == 0, y == 1
    moves = {
        c: {
            "normal": float(np.median(z[c][normal] - z["none"][normal])),
            "pneumonia": float(np.median(z[c][pneumonia] - z["none"][pneumonia])),
            "normal_recall": float((z[c][normal] < 0).mean()),
        }
        for c in z
        if c != "none"
    }
    return {
        "needed": {
            "normal": needed_move(z["none"][normal], 1.0 - normal_recall),
            "pneumonia": needed_move(z["none"][pneumonia], pneumonia_recall),
        },
        "unshifted": {
            "normal_median_logit": float(np.median(z["none"][normal])),
            "pneumonia_median_logit": float(np.median(z["none"][pneumonia])),
        },
        "proxy": moves,
    }


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m research.chest_xray.proxy_gap",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("predictions", type=Path, help="outside_proxy's NAME.predictions.json")
    parser.add_argument("--normal_recall", type=float, required=True)
    parser.add_argument("--pneumonia_recall", type=float, required=True)
    args = parser.parse_args(argv)
    found = gap(json.loads(args.predictions.read_text()), args.normal_recall, args.pneumonia_recall)
    n = found["needed"]
    print(
        f"unshifted test medians: normal logit {found['unshifted']['normal_median_logit']:.2f}, "
        f"pneumonia {found['unshifted']['pneumonia_median_logit']:.2f}"
    )
    print(
        f"outside (normal recall {args.normal_recall}, pneumonia recall {args.pneumonia_recall}) "
        f"as one move of the logits: normal images {n['normal']:+.2f}, pneumonia images "
        f"{n['pneumonia']:+.2f}"
    )
    print("\n| condition | median move, normal | median move, pneumonia | normal recall |")
    print("| --- | ---: | ---: | ---: |")
    for c, m in sorted(found["proxy"].items(), key=lambda kv: -kv[1]["normal"]):
        print(f"| {c} | {m['normal']:+.2f} | {m['pneumonia']:+.2f} | {m['normal_recall']:.3f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
