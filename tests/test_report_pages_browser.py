"""The performance, data and model-card pages in Chromium: every chart drawn by the
local plotly.js under the site's Content-Security-Policy, no console error, no other
host, the report's numbers on screen, and a phone's width. Charts are drawn as they come
into view and the long topics are closed at first, so the tests open every topic and
scroll to every chart; and a page is light until then (its DOM, no plotly.js), and
readable without any script."""

from __future__ import annotations

import json
import re

import pytest
from playwright.sync_api import expect

from conftest import REPORTS_DIR, SECOND_TASK, TEST_CONFIG, open_recorded_page, serve
from webapp import create_app
from webapp.i18n import measured as share_written

pytestmark = pytest.mark.browser

TASK_REPORTS = (
    REPORTS_DIR
    / json.loads((REPORTS_DIR.parent / "static" / "tfjs_model" / "index.json").read_text())[
        "tasks"
    ][0]["id"]
)
PHONE = {
    "viewport": {"width": 390, "height": 844},
    "device_scale_factor": 2,
    "is_mobile": True,
    "has_touch": True,
}


def open_page(recorded, url):
    response = recorded.page.goto(url)
    assert response.status == 200
    return recorded.page


def open_every_topic(page) -> None:
    closed = page.locator("details.report-details:not([open]) > summary")
    for _ in range(closed.count()):
        closed.first.click()
    expect(closed).to_have_count(0)


def expect_all_charts_drawn(page) -> int:
    """Open every topic, bring every chart into view and wait until it is drawn; return how
    many there are."""
    open_every_topic(page)
    charts = page.locator("[data-figure]")
    expected = charts.count()
    for index in range(expected):
        chart = charts.nth(index)
        chart.scroll_into_view_if_needed()
        expect(chart).to_have_attribute("data-drawn", re.compile("^(true|failed)$"))
    expect(page.locator(".js-plotly-plot")).to_have_count(expected)
    expect(page.locator('[data-drawn="true"]')).to_have_count(expected)
    expect(page.locator('[data-drawn="failed"]')).to_have_count(0)
    return expected


def overflow(page) -> int:
    return page.evaluate(
        "() => document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )


@pytest.fixture(scope="module")
def performance(browser, live_server):
    """The performance page at a desktop width, opened once for the module's tests."""
    recorded = open_recorded_page(browser, viewport={"width": 1280, "height": 900})
    open_page(recorded, live_server + "/performance")
    expect_all_charts_drawn(recorded.page)
    yield recorded.page
    try:
        recorded.assert_clean()
    finally:
        recorded.page.context.close()


def test_performance_draws_every_chart(performance):
    count = expect_all_charts_drawn(performance)
    assert count >= 4
    for heading in ("Kind by kind", "Ranking and confidence", "How it was trained"):
        expect(performance.get_by_role("heading", name=heading)).to_be_visible()
    roc = performance.get_by_role("group", name=re.compile(r"^ROC curve per kind\."))
    expect(roc).to_be_visible()


def test_calibration_risk_and_wrong_kind_sections(performance):
    """Drawn and shown as their files say (where the shipped model has them)."""
    for name, heading in (
        ("calibration", "Calibration: how far to trust a percentage"),
        ("risk", "The risk summary"),
        ("wrong_kind", "The wrong kind of image"),
    ):
        if (TASK_REPORTS / f"{name}.json").is_file():
            expect(performance.get_by_role("heading", name=heading)).to_be_visible()
    if (TASK_REPORTS / "calibration.json").is_file():
        bins = json.loads((TASK_REPORTS / "calibration.json").read_text())["test"]["after"]["bins"]
        drawn = performance.evaluate(
            "() => document.getElementById('chart-calibration').data.map(trace => trace.y)"
        )
        assert [b["accuracy"] for b in bins] in drawn
        expect(performance.locator("#chart-reliability")).to_have_count(0)
    if (TASK_REPORTS / "risk.json").is_file():
        risk = json.loads((TASK_REPORTS / "risk.json").read_text())
        expect(performance.locator('[data-fact="risk-threshold"]')).to_have_text(
            f"{risk['threshold'] * 100:.1f}%"
        )
    if (TASK_REPORTS / "wrong_kind.json").is_file():
        wrong_kind = json.loads((TASK_REPORTS / "wrong_kind.json").read_text())
        table = performance.get_by_role("table").filter(
            has=performance.get_by_role("columnheader", name="Kind of image")
        )
        for kind, rate in wrong_kind["in_kind_head"]["test"]["detection_rate"].items():
            expect(
                table.locator(f'tr[data-kind="{kind}"] [data-method="in_kind_head"]')
            ).to_have_text(f"{rate * 100:.1f}%")


def test_unsure_section(performance):
    """The "model is unsure" rule and its test figures, as unsure.json says."""
    if not (TASK_REPORTS / "unsure.json").is_file():
        pytest.skip("the shipped model has no unsure.json")
    unsure = json.loads((TASK_REPORTS / "unsure.json").read_text())
    heading = performance.get_by_role("heading", name="When the model is unsure")
    expect(heading).to_be_visible()
    section = performance.locator("section").filter(has=heading)
    if unsure["threshold"] is None:
        expect(section).to_contain_text("never warns that the model is unsure")
        return
    expect(section.locator('[data-fact="unsure-threshold"]')).to_have_text(
        f"{unsure['threshold'] * 100:.1f}%"
    )
    table = section.get_by_role("table")
    for variant, measured in unsure["test"].items():
        for key in ("flagged", "accuracy_flagged", "accuracy_not_flagged"):
            expect(table.locator(f'[data-metric="{key}"][data-variant="{variant}"]')).to_have_text(
                f"{measured[key] * 100:.1f}%"
            )


def test_other_framings_and_clinics(performance):
    """framings.json's figures and, where it was computed, leave_one_source_out.json's chart."""
    if not (TASK_REPORTS / "framings.json").is_file():
        pytest.skip("the shipped model has no framings.json")
    views = json.loads((TASK_REPORTS / "framings.json").read_text())["framings"]
    expect(
        performance.get_by_role("heading", name="Other framings and other clinics")
    ).to_be_visible()
    framed = performance.get_by_role("region", name="Framed differently")
    expect(framed.locator('[data-fact="crop-balanced-accuracy"]')).to_have_text(
        f"{views['centre_square_crop']['test']['balanced_accuracy'] * 100:.1f}%"
    )
    for view, measured in views.items():
        expect(
            framed.get_by_role("table").locator(
                f'tr[data-view="{view}"] [data-split="test"][data-metric="balanced_accuracy"]'
            )
        ).to_have_text(f"{measured['test']['balanced_accuracy'] * 100:.1f}%")
    if (TASK_REPORTS / "leave_one_source_out.json").is_file():
        loso = json.loads((TASK_REPORTS / "leave_one_source_out.json").read_text())
        expect(
            performance.get_by_role("region", name="A clinic or camera it never saw")
        ).to_be_visible()
        drawn = performance.evaluate(
            "() => document.getElementById('chart-held-out-sources').data.map(t => t.x)"
        )
        assert drawn == [
            [m["test_split"][key]["balanced_accuracy"] for m in loso["sources"].values()]
            for key in ("reference", "held_out")
        ]


def test_performance_numbers_are_the_report_numbers(performance):
    report = json.loads((TASK_REPORTS / "report.json").read_text())
    result = report["without_metadata"]
    shown = performance.locator(
        '.headline-table [data-metric="balanced_accuracy"][data-variant="without_metadata"]'
    )
    expect(shown).to_have_text(f"{result['balanced_accuracy'] * 100:.1f}%")
    table = performance.get_by_role("table").filter(
        has=performance.get_by_role("columnheader", name="Sensitivity")
    )
    for label_id, measured in result["per_class"].items():
        row = table.locator(f'tr[data-label-id="{label_id}"]')
        expect(row.locator('[data-metric="sensitivity"]')).to_have_text(
            f"{measured['sensitivity'] * 100:.1f}%"
        )


def test_performance_plots_the_report_numbers(performance):
    """What plotly.js drew, read back from the chart: the report's confusion matrix and AUCs."""
    report = json.loads((TASK_REPORTS / "report.json").read_text())
    curves = json.loads((TASK_REPORTS / "curves.json").read_text())
    drawn = performance.evaluate(
        "() => document.getElementById('chart-confusion-counts').data[0].z"
    )
    assert drawn == report["without_metadata"]["confusion_matrix"]
    legend = performance.locator("#chart-roc .legendtext").all_text_contents()
    for curve in curves["without_metadata"]["per_class"].values():
        if curve:
            auc = share_written(curve["roc"]["auc"], 2)  # 0.999, never 1.00
            assert any(f"(AUC {auc})" in text for text in legend), (auc, legend)


def test_details_switch_redraws_with_details(performance, live_server):
    report = json.loads((TASK_REPORTS / "report.json").read_text())
    if "with_metadata" not in report:
        pytest.skip("the shipped model takes no details")
    performance.get_by_role("link", name=re.compile(r"^Image and details")).click()
    expect(performance).to_have_url(re.compile(r"details=given"))
    expect_all_charts_drawn(performance)
    drawn = performance.evaluate(
        "() => document.getElementById('chart-confusion-counts').data[0].z"
    )
    assert drawn == report["with_metadata"]["confusion_matrix"]
    performance.goto(live_server + "/performance")
    expect_all_charts_drawn(performance)


def test_data_page_draws_every_chart(page_record, live_server):
    page = open_page(page_record, live_server + "/data")
    assert expect_all_charts_drawn(page) >= 4
    data = json.loads((TASK_REPORTS / "data.json").read_text())
    expect(page.locator('[data-fact="n_images"]')).to_have_text(f"{data['n_images']:,}")
    expect(page.get_by_role("heading", name="Images per kind", exact=True)).to_be_visible()


def test_model_card_renders(page_record, live_server):
    page = open_page(page_record, live_server + "/model-card")
    for heading in (
        "The model",
        "Headline results",
        "Intended use",
        "Must not be used",
        "Known gaps",
        "Licences and citations",
    ):
        expect(page.get_by_role("heading", name=heading, exact=True)).to_be_visible()
    expect(page.get_by_text("CC BY-NC-SA 4.0")).to_be_visible()


def test_header_leads_to_every_page(page_record, live_server):
    page = open_page(page_record, live_server + "/model-card")
    site = page.get_by_role("navigation", name="Site")
    site.get_by_role("link", name="Performance").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("How well the model does")
    expect(site.get_by_role("link", name="Performance")).to_have_attribute("aria-current", "page")
    expect_all_charts_drawn(page)
    site.get_by_role("link", name="Data").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("The data it learned from")
    expect_all_charts_drawn(page)
    site.get_by_role("link", name="Model card").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(re.compile(r"^Model card"))


@pytest.mark.parametrize("path", ["/performance", "/data", "/model-card"])
def test_phone_width(browser, live_server, path):
    recorded = open_recorded_page(browser, **PHONE)
    try:
        page = open_page(recorded, live_server + path)
        expect_all_charts_drawn(page)
        assert overflow(page) <= 0
        # No chart is wider than the screen, and a drag scrolls instead of zooming.
        widths = page.evaluate(
            "() => [...document.querySelectorAll('.js-plotly-plot')].map(e => e.scrollWidth)"
        )
        assert all(width <= 390 for width in widths), widths
        expect(page.locator(".modebar")).to_have_count(0)
        recorded.assert_clean()
    finally:
        recorded.page.context.close()


@pytest.fixture(scope="module")
def two_task_server(two_task_folders):
    models, reports = two_task_folders
    app = create_app({**TEST_CONFIG, "MODELS_FOLDER": str(models), "REPORTS_FOLDER": str(reports)})
    with serve(app) as url:
        yield url


def test_a_second_task_without_details(page_record, two_task_server):
    page = open_page(page_record, two_task_server + "/performance")
    page.get_by_role("navigation", name="Choose a model").get_by_role(
        "link", name="Two-kind screener"
    ).click()
    expect(page).to_have_url(re.compile(rf"/performance/{SECOND_TASK}$"))
    assert expect_all_charts_drawn(page) >= 4
    expect(page.get_by_text("This model takes the image only")).to_be_visible()
    page.get_by_role("navigation", name="Site").get_by_role("link", name="Data").click()
    expect(page).to_have_url(re.compile(rf"/data/{SECOND_TASK}$"))
    assert expect_all_charts_drawn(page) >= 3


# ---- light until a chart is wanted (issue 23) ---------------------------------------------

DOM_LIMIT = 1_500
PLOTLY_URL = "/vendor/plotly.min.js?v=cartesian-"  # the partial bundle


def dom_elements(page) -> int:
    return page.evaluate("document.querySelectorAll('*').length")


@pytest.mark.parametrize("path", ["/performance", "/data"])
def test_a_phone_gets_a_light_page_and_plotly_only_for_a_chart(browser, live_server, path):
    recorded = open_recorded_page(browser, **PHONE)
    page = recorded.page
    try:
        open_page(recorded, live_server + path)
        page.wait_for_load_state("networkidle")
        assert dom_elements(page) < DOM_LIMIT
        charts = page.locator("[data-figure]")
        assert charts.count() >= 4
        # The top of the page (tables, numbers) on a phone: no chart in view, no plotly.js.
        first = charts.first
        if not first.is_visible() or first.bounding_box()["y"] > 844 + 300:
            assert not any("plotly" in url for url in recorded.requests)
            expect(page.locator(".js-plotly-plot")).to_have_count(0)
        first.scroll_into_view_if_needed()
        expect(first).to_have_attribute("data-drawn", "true")
        assert sum("plotly" in url for url in recorded.requests) == 1
        assert any(PLOTLY_URL in url for url in recorded.requests)
        # A chart far below is still waiting.
        expect(charts.last).not_to_have_attribute("data-drawn", "true")
        recorded.assert_clean()
    finally:
        page.context.close()


def test_the_performance_page_is_in_topics_with_contents(performance, live_server):
    contents = performance.get_by_role("navigation", name="On this page")
    for name in ("In brief", "Kind by kind", "Calibration", "How it was trained"):
        expect(contents.get_by_role("link", name=name, exact=True)).to_be_visible()
    recorded = open_recorded_page(
        performance.context.browser, viewport={"width": 1280, "height": 900}
    )
    page = recorded.page
    try:
        open_page(recorded, live_server + "/performance")
        topics = page.locator("details.report-details")
        assert topics.count() >= 5
        expect(page.locator("details.report-details[open]")).to_have_count(0)
        # A link of the contents opens its topic.
        page.get_by_role("navigation", name="On this page").get_by_role(
            "link", name="How it was trained"
        ).click()
        expect(page.locator("#training > details")).to_have_attribute("open", "")
        expect(page.locator("#chart-loss")).to_have_attribute("data-drawn", "true")
        recorded.assert_clean()
    finally:
        page.context.close()


@pytest.mark.parametrize("path", ["/performance", "/data", "/model-card"])
def test_readable_without_any_script(browser, live_server, path):
    """Every table and number is in the page as served; scripts only draw the charts."""
    context = browser.new_context(java_script_enabled=False)
    try:
        page = context.new_page()
        assert page.goto(live_server + path).status == 200
        report = json.loads((TASK_REPORTS / "report.json").read_text())["without_metadata"]
        if path == "/data":
            data = json.loads((TASK_REPORTS / "data.json").read_text())
            expect(page.locator('[data-fact="n_images"]')).to_have_text(f"{data['n_images']:,}")
            expect(page.get_by_role("table")).to_have_count(1)
        else:
            expect(
                page.locator(
                    '.headline-table [data-metric="balanced_accuracy"]'
                    '[data-variant="without_metadata"]'
                )
            ).to_have_text(f"{report['balanced_accuracy'] * 100:.1f}%")
        open_every_topic(page)  # <details> open without any script
        for caption in page.locator("figcaption").all():
            expect(caption).to_be_visible()
    finally:
        context.close()
