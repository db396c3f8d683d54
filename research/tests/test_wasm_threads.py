"""research.wasm_threads: the browser told it has more cores gives tfjs more WASM threads,
and each setting's forward passes are timed."""

from __future__ import annotations

import json
import os

import pytest

from research import wasm_threads


@pytest.mark.browser
def test_more_pretended_cores_give_more_threads(capsys):
    cores = os.cpu_count() or 1
    argv = ["--task", "malaria", "--rounds", "1", "--runs", "2", "--cores", str(2 * cores)]
    assert wasm_threads.main(argv) == 0
    out = capsys.readouterr().out
    report = json.loads(out[out.index("{") : out.rindex("}") + 1])
    medians = report["median_ms_per_turn"]
    # tfjs takes half the cores it is told of: told twice the real ones, it takes all of
    # them, more than by default (one thread on 2 cores, two when told of 4).
    threads = sorted(int(key.split()[0]) for key in medians)
    assert threads == [max(cores // 2, 1), cores], medians
    assert all(len(times) == 1 and times[0] > 0 for times in medians.values())
