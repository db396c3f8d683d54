"""Fixtures of the experiments' tests: a tiny training run on real images, Chromium."""

from __future__ import annotations

from pathlib import Path

import pytest

from training.inputs.data import data_root
from training.inputs.tasks import get_task

TASK = get_task("skin_lesion")
WEIGHTS = data_root() / "weights" / "mobilenet_2_5_224_tf_no_top.h5"
SAMPLES = sorted(
    (Path(__file__).resolve().parents[2] / "tests" / "data" / "ham10000").glob("*.jpg")
)


def needs_data() -> None:
    if not (data_root() / TASK.dataset_dir).is_dir() or not WEIGHTS.is_file():
        pytest.skip("dataset or weights not available (set SCREENER_DATA_DIR)")


def tiny_arguments(out, *extra) -> list[str]:
    """The flags of a 2-epoch run on 28 skin-lesion images at 64×64."""
    return [
        "--task",
        TASK.id,
        "--out",
        str(out),
        "--limit",
        "28",
        "--epochs",
        "2",
        "--batch_size",
        "8",
        "--augment",
        "none",
        "--cache_dir",
        "",
        "--model.image_size",
        "64",
        "64",
        "--model.weights",
        str(WEIGHTS),
        *extra,
    ]


def tiny_run(out, *extra):
    """Train a tiny run with ``research.train`` (experiment flags in ``extra``)."""
    from research.train import main

    needs_data()
    assert main(tiny_arguments(out, *extra)) == 0
    return Path(out)


def research_report(module: str, *args: str) -> dict:
    """Run ``python -m research.<module> ARGS`` in its own process (the suite's browser
    tests keep Playwright's sync API busy in this one) and return the JSON object it
    prints (``json.dumps(…, indent=1)``: from a line ``{`` to the next line ``}``)."""
    import json
    import subprocess
    import sys

    from training.inputs.data import PROJECT_ROOT

    result = subprocess.run(
        [sys.executable, "-m", f"research.{module}", *args],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    lines = result.stdout.splitlines()
    start = lines.index("{")
    return json.loads("\n".join(lines[start : lines.index("}", start) + 1]))
