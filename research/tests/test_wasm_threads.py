"""research.wasm_threads: the browser told it has more cores gives tfjs more WASM threads,
and each setting's forward passes are timed."""

from __future__ import annotations

import os

import pytest

from research.tests.conftest import research_report


@pytest.mark.browser
def test_more_pretended_cores_give_more_threads():
    cores = os.cpu_count() or 1
    arguments = f"--task malaria --rounds 1 --runs 2 --cores {2 * cores}".split()
    report = research_report("wasm_threads", *arguments)
    medians = report["median_ms_per_turn"]
    assert all(len(times) == 1 and times[0] > 0 for times in medians.values())
    # tfjs takes half the cores it is told of: told twice the real ones, it takes all of
    # them, more than by default (one thread on 2 cores, two when told of 4).
    threads = sorted(int(key.split()[0]) for key in medians)
    assert threads == [max(cores // 2, 1), cores], medians
