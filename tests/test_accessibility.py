"""axe-core on every page of the site, in Chromium: any violation fails.

axe-core is the npm package pinned in package.json (devDependencies), copied to
tests/vendor/axe-core/ (axe.min.js and its licence, MPL-2.0) so the tests need no
node_modules; after `npm install`, `cp node_modules/axe-core/axe.min.js
tests/vendor/axe-core/` updates it, and the version test below says when the two
differ. It is put into the page by Playwright's add_init_script, which the page's
Content-Security-Policy does not govern, so the page keeps its real policy.
"""

from __future__ import annotations

import json

import pytest
from flask import url_for
from playwright.sync_api import expect

from conftest import BROWSER_TIMEOUT_MS, MODELS_DIR, READY, ROOT, TEST_CONFIG, open_recorded_page
from webapp import create_app

pytestmark = pytest.mark.browser

AXE = ROOT / "tests" / "vendor" / "axe-core" / "axe.min.js"
TASKS = [task["id"] for task in json.loads((MODELS_DIR / "index.json").read_text())["tasks"]]


def site_pages() -> list[str]:
    """Every page of the app: each GET route of a task, for every task, and each
    route without arguments or a file name (/sw.js) that answers with HTML; then
    the error page."""
    app = create_app(TEST_CONFIG)
    client = app.test_client()
    pages = []
    with app.test_request_context():
        for rule in sorted(app.url_map.iter_rules(), key=lambda rule: rule.rule):
            if (
                "GET" not in rule.methods
                or rule.arguments - {"task_id"}
                or (rule.defaults or {}).get("task_id", "") is None
            ):
                continue
            if "task_id" in rule.arguments:
                pages += [url_for(rule.endpoint, task_id=task) for task in TASKS]
            elif "." not in rule.rule.rsplit("/", 1)[-1]:
                response = client.get(url_for(rule.endpoint))
                response.close()
                if response.status_code == 200 and response.mimetype == "text/html":
                    pages.append(url_for(rule.endpoint))
    return pages + ["/no/such/page"]


PAGES = site_pages()

# Every page at a phone's size too (with touch, which shows "Take a photo" and hides
# the drag-and-drop hint), as Lighthouse's mobile profile sees it: the screener's
# contrast failure and the performance page's small contents links showed only there.
PHONE = {"viewport": {"width": 412, "height": 823}, "is_mobile": True, "has_touch": True}


def run_axe(page) -> list[dict]:
    """axe's violations on the page as it is now: rule, impact, help and the first nodes.
    Its default rules, plus target-size (WCAG 2.2), which Lighthouse also checks."""
    results = page.evaluate("""async () => await axe.run(document, {
      resultTypes: ['violations'], rules: { 'target-size': { enabled: true } } })""")
    return [
        {
            "rule": v["id"],
            "impact": v["impact"],
            "help": v["help"],
            "nodes": [node["target"] for node in v["nodes"][:5]],
        }
        for v in results["violations"]
    ]


def open_page(browser, url, **context_options):
    recorded = open_recorded_page(browser, service_workers="block", **context_options)
    recorded.page.add_init_script(path=str(AXE))
    recorded.page.goto(url)
    if "/screen/" in url:
        expect(recorded.page.get_by_role("status")).to_have_text(READY, timeout=BROWSER_TIMEOUT_MS)
    recorded.page.wait_for_load_state("networkidle")
    # Charts are drawn as they come into view (static/js/charts.js): bring each
    # visible one into view, so axe sees them drawn.
    charts = recorded.page.locator("[id^='chart-']:visible")
    for chart in charts.all():
        chart.scroll_into_view_if_needed()
    if charts.count():
        expect(recorded.page.locator(".js-plotly-plot").first).to_be_attached()
        recorded.page.wait_for_load_state("networkidle")
    return recorded


@pytest.mark.parametrize("device", ["desktop", "phone"])
@pytest.mark.parametrize("path", PAGES)
def test_no_violation(browser, live_server, path, device):
    recorded = open_page(browser, live_server + path, **(PHONE if device == "phone" else {}))
    try:
        assert run_axe(recorded.page) == []
    finally:
        recorded.page.context.close()


def test_no_violation_with_a_result_shown(browser, live_server, sample_paths):
    """The screener once it shows a result: bars, heatmap, alerts, the details form."""
    recorded = open_page(browser, f"{live_server}/screen/{TASKS[0]}")
    page = recorded.page
    try:
        sample = sample_paths[0]
        page.get_by_label("Choose an image").set_input_files(sample)
        expect(page.get_by_text(f"Result for “{sample.name}”")).to_be_visible()
        expect(page.locator("#heatmap-panel")).to_be_visible()
        assert run_axe(page) == []
        recorded.assert_clean()
    finally:
        page.context.close()


def test_vendored_axe_is_the_pinned_version():
    pinned = json.loads((ROOT / "package.json").read_text())["devDependencies"]["axe-core"]
    assert AXE.read_text(encoding="utf-8").startswith(f"/*! axe v{pinned}\n")
