"""The lesion's outline in the private history: saved with a result, drawn over each check
of a lesion's series with its measures and what changed in words, kept by export and import."""

from __future__ import annotations

import json
import re

import pytest
from playwright.sync_api import expect

from conftest import open_recorded_page

# ---- the history: saved with the result, side by side, exported and imported ---------------------


def _classify_and_save(page, path, lesion):
    page.get_by_label("Body site").select_option("back")
    page.get_by_label("Choose an image").set_input_files(path)
    expect(page.get_by_text(f"Result for “{path.name}”")).to_be_visible()
    expect(page.locator("#outline-panel")).to_be_visible()
    page.get_by_label("Name to group it by (optional)").fill(lesion)
    page.get_by_role("button", name="Save to history", exact=True).click()
    expect(page.get_by_text("Saved in this browser only")).to_be_visible()


@pytest.mark.browser
def test_the_history_keeps_the_outline(browser, live_server, sample_paths, tmp_path):
    recorded = open_recorded_page(browser, viewport={"width": 1280, "height": 900})
    page = recorded.page
    try:
        page.goto(live_server + "/screen/skin_lesion")
        _classify_and_save(page, sample_paths[0], "spot on the back")
        _classify_and_save(page, sample_paths[3], "spot on the back")
        page.goto(live_server + "/history")
        page.get_by_role("link", name=re.compile("spot on the back")).first.click()
        series = page.locator("#history-series")
        expect(series.locator(".series-check")).to_have_count(2)
        expect(series.locator(".series-check svg.outline-overlay path")).to_have_count(4)
        expect(series.locator(".series-outline")).to_have_count(2)
        expect(series.locator(".series-outline").first).to_contain_text("Outline:")
        expect(page.locator("#series-changes")).to_contain_text("compare photos taken the same way")
        series.locator(".series-check").first.get_by_role("link").click()
        entry = page.get_by_role("article")
        expect(entry.locator("#entry-outline")).to_be_visible()
        expect(entry.locator("#entry-outline-measures dt")).to_have_count(4)
        expect(entry.locator("#entry-outline-svg path")).to_have_count(2)
        page.get_by_role("link", name="Back to all saved results").click()
        with page.expect_download() as download:
            page.get_by_role("button", name="Export all").click()
        exported = tmp_path / "export.json"
        download.value.save_as(exported)
        entries = json.loads(exported.read_text())["entries"]
        assert len(entries) == 2
        for saved in entries:
            outline = saved["outline"]
            assert len(outline["polygon"]) >= 3 and max(outline["width"], outline["height"]) <= 400
            assert 0 < outline["areaFraction"] < 1 and set(outline["asymmetry"]) == {
                "major",
                "minor",
            }
        # a bad outline in an imported file is refused, in words
        problem = page.evaluate(
            """async (entry) => {
              const { checkEntry } = await import('/static/js/history-store.js');
              return [checkEntry(entry), checkEntry({ ...entry, outline: { polygon: 'x' } }),
                      checkEntry({ ...entry, outline: null })];
            }""",
            entries[0],
        )
        assert problem[0] is None and problem[2] is None
        assert problem[1].startswith("“outline” must be")
        recorded.assert_clean()
    finally:
        page.context.close()

    # imported into another browser, the outline is drawn again
    other = open_recorded_page(browser, viewport={"width": 1280, "height": 900})
    try:
        other.page.goto(live_server + "/history")
        other.page.get_by_label("Import a file").set_input_files(exported)
        other.page.get_by_role("link", name=re.compile("spot on the back")).first.click()
        expect(other.page.locator(".series-check svg.outline-overlay path")).to_have_count(4)
        other.assert_clean()
    finally:
        other.page.context.close()
