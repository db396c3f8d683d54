"""research.wasm_threads: the browser told it has more cores gives tfjs more WASM threads,
and each setting's forward passes are timed."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from training.data import PROJECT_ROOT


@pytest.mark.browser
def test_more_pretended_cores_give_more_threads():
    cores = os.cpu_count() or 1
    # Its own process: the suite's browser tests keep Playwright's sync API busy here.
    result = subprocess.run(
        [sys.executable, "-m", "research.wasm_threads", "--task", "malaria", "--rounds", "1"]
        + ["--runs", "2", "--cores", str(2 * cores)],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    out = result.stdout
    medians = json.loads(out[out.index("{") : out.rindex("}") + 1])["median_ms_per_turn"]
    assert all(len(times) == 1 and times[0] > 0 for times in medians.values())
    # tfjs takes half the cores it is told of: told twice the real ones, it takes all of
    # them, more than by default (one thread on 2 cores, two when told of 4).
    threads = sorted(int(key.split()[0]) for key in medians)
    assert threads == [max(cores // 2, 1), cores], medians
