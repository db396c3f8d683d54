"""Temperature scaling: ``python -m training.steps.calibration --run RUN``.

A network's probabilities are often over- or under-confident. Temperature
scaling divides the logits by one number ``T`` fitted on the **validation**
split (lowest negative log-likelihood, images with and without metadata), which
leaves every arg-max (accuracy, balanced accuracy) unchanged. Dividing the
kernel and bias of the softmax layer by ``T`` does exactly that inside the
graph, so the browser shows calibrated probabilities with nothing new to run.

Reports the expected calibration error (ECE, 15 equal-width bins of top-class
confidence) and a reliability diagram before and after, on validation and
test. The run's ``model.keras`` is replaced (the original is kept as
``model_uncalibrated.keras``), its test report is rewritten, and
``calibration.json`` records ``T`` and the figures.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np

BINS = 15


def logits_of(probabilities: np.ndarray) -> np.ndarray:
    """Logits up to a per-row constant (all softmax needs)."""
    return np.log(np.clip(np.asarray(probabilities, np.float64), 1e-12, 1.0))


def softmax(z: np.ndarray) -> np.ndarray:
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


def logit_mean(probabilities) -> np.ndarray:
    """Softmax of the mean log-probability of several answers (what averaging linear
    heads' logits gives): how answers of views and of networks are combined."""
    return softmax(np.mean([logits_of(p) for p in probabilities], axis=0))


def nll(probabilities: np.ndarray, y_true: np.ndarray) -> float:
    return float(-np.mean(np.log(np.clip(probabilities[np.arange(len(y_true)), y_true], 1e-12, 1))))


def fit_temperature(probabilities: np.ndarray, y_true: np.ndarray) -> float:
    """The ``T`` in [0.05, 20] minimising the NLL of softmax(log p / T) (golden-section on log T)."""
    z = logits_of(probabilities)

    def loss(log_t: float) -> float:
        return nll(softmax(z / np.exp(log_t)), y_true)

    lo, hi = np.log(0.05), np.log(20.0)
    ratio = (np.sqrt(5) - 1) / 2
    a, b = hi - ratio * (hi - lo), lo + ratio * (hi - lo)
    fa, fb = loss(a), loss(b)
    for _ in range(80):
        if fa < fb:
            hi, b, fb = b, a, fa
            a = hi - ratio * (hi - lo)
            fa = loss(a)
        else:
            lo, a, fa = a, b, fb
            b = lo + ratio * (hi - lo)
            fb = loss(b)
    return float(np.exp((lo + hi) / 2))


def apply_temperature(probabilities: np.ndarray, temperature: float) -> np.ndarray:
    return softmax(logits_of(probabilities) / temperature)


def reliability(probabilities: np.ndarray, y_true: np.ndarray, bins: int = BINS) -> dict:
    """ECE and the reliability diagram (per confidence bin: mean confidence, accuracy, count)."""
    confidence = probabilities.max(axis=1)
    correct = probabilities.argmax(axis=1) == y_true
    edges = np.linspace(0, 1, bins + 1)
    which = np.clip(np.digitize(confidence, edges[1:-1]), 0, bins - 1)
    rows, ece = [], 0.0
    for b in range(bins):
        mask = which == b
        if not mask.any():
            continue
        conf, acc = float(confidence[mask].mean()), float(correct[mask].mean())
        ece += mask.mean() * abs(conf - acc)
        rows.append(
            {
                "low": float(edges[b]),
                "high": float(edges[b + 1]),
                "confidence": conf,
                "accuracy": acc,
                "count": int(mask.sum()),
            }
        )
    return {"ece": float(ece), "nll": nll(probabilities, y_true), "bins": rows}


def scale_output_layer(model, temperature: float, layer_name: str = "probabilities") -> None:
    """softmax((xW + b) / T) = softmax(x (W/T) + b/T)."""
    layer = model.get_layer(layer_name)
    kernel, bias = layer.get_weights()
    layer.set_weights([kernel / temperature, bias / temperature])


def main(argv=None) -> int:
    from training.fitting.runs import run_arguments

    calibrate(run_arguments(__doc__, argv))
    return 0


def calibrate(run: Path, data: tuple | None = None) -> dict:
    """Fit the temperature of ``run``'s model and scale its softmax layer by it (the
    model before: ``model_uncalibrated.keras``); writes ``calibration.json``.
    ``data``: the run's images (``training.fitting.runs.load_run_data``), if already loaded."""
    from training.fitting.evaluate import predict, predict_without_metadata
    from training.fitting.runs import load_run, rewrite_test_report

    if (run / "calibration.json").is_file():
        raise SystemExit(f"{run} is already calibrated (calibration.json)")
    task, table, split, parts, model = load_run(run, data=data)

    def probabilities_of(name: str) -> tuple[np.ndarray, np.ndarray]:
        """Probabilities with the recorded metadata and with it blanked (stacked), and labels."""
        images, meta, y = parts[name]
        found = [predict_without_metadata(model, task, images)]
        if task.metadata_size:
            found.append(predict(model, images, meta))
        return np.concatenate(found), np.concatenate([y] * len(found))

    val_p, val_y = probabilities_of("val")
    test_p, test_y = probabilities_of("test")
    temperature = fit_temperature(val_p, val_y)
    result = {
        "method": "temperature scaling of the softmax layer, fitted on validation",
        "temperature": temperature,
        "bins": BINS,
    }
    for name, (p, y) in {"validation": (val_p, val_y), "test": (test_p, test_y)}.items():
        result[name] = {
            "before": reliability(p, y),
            "after": reliability(apply_temperature(p, temperature), y),
        }
    print(
        f"[calibration] T = {temperature:.3f}; ECE validation "
        f"{result['validation']['before']['ece']:.4f} → {result['validation']['after']['ece']:.4f}, "
        f"test {result['test']['before']['ece']:.4f} → {result['test']['after']['ece']:.4f}",
        flush=True,
    )

    shutil.copy2(run / "model.keras", run / "model_uncalibrated.keras")
    scale_output_layer(model, temperature)
    model.save(run / "model.keras")
    rewrite_test_report(
        model,
        task,
        table,
        split,
        parts,
        run,
        calibration={
            "temperature": temperature,
            "test_ece_before": result["test"]["before"]["ece"],
            "test_ece_after": result["test"]["after"]["ece"],
        },
    )
    (run / "calibration.json").write_text(json.dumps(result, indent=1) + "\n")
    return result


if __name__ == "__main__":
    raise SystemExit(main())
