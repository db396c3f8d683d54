"""The report pages, rendered from the committed reports and models, are the committed
snapshots (tests/snapshots/, written by ``python scripts/page_snapshots.py``): the words,
tables and charts of every task's performance, data and model-card page, in every
language, change only where a commit says so by writing the snapshots again."""

from __future__ import annotations

import difflib

import pytest

from conftest import load_script

snapshots = load_script("page_snapshots")


@pytest.fixture(scope="module")
def made() -> dict[str, str]:
    return snapshots.render()


def test_every_page_is_its_snapshot(made):
    assert len(made) == len(snapshots.pages()) >= 24
    changed = snapshots.differing(made)
    if changed:
        name = changed[0]
        path = snapshots.SNAPSHOTS / name
        kept = path.read_text(encoding="utf-8").splitlines() if path.is_file() else []
        diff = "\n".join(
            list(difflib.unified_diff(kept, made[name].splitlines(), name, "now", lineterm=""))[:60]
        )
        pytest.fail(
            f"{len(changed)} pages differ from tests/snapshots/ ({', '.join(changed)}); "
            f"if meant, run python scripts/page_snapshots.py and review the diff.\n{diff}"
        )


def test_no_snapshot_is_left_of_a_page_that_is_gone(made):
    assert {path.name for path in snapshots.SNAPSHOTS.glob("*.html")} == set(made)


def test_a_changed_chart_changes_its_snapshot():
    page = '<div data-figure="{&#34;data&#34;:[1]}"></div>'
    other = '<div data-figure="{&#34;data&#34;:[2]}"></div>'
    assert snapshots.normalised(page) != snapshots.normalised(other)
    assert snapshots.normalised(page).startswith('<div data-figure="sha256:')


def test_a_changed_table_figure_fails_the_comparison(made):
    """What the comparison sees: one figure of one page, other than in the snapshot."""
    name = next(name for name in made if ".performance." in name and name.endswith(".en.html"))
    first = next(line for line in made[name].splitlines() if "metric-value" in line)
    assert snapshots.differing({name: made[name].replace(first, first + " ")}) == [name]
