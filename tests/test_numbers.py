"""Figures in the page's language: German pages write 0,664 and 74,4 % where English
pages write 0.664 and 74.4% (webapp.i18n.localise_figures, static/js/i18n.js), on the
server's pages and in the screener's result; English pages are unchanged."""

from __future__ import annotations

import json
import re

import pytest
from playwright.sync_api import expect

from conftest import BROWSER_TIMEOUT_MS, MODELS_DIR, SAMPLES_DIR, open_recorded_page
from webapp.i18n import localise_figures

NBSP = "\u00a0"


@pytest.mark.parametrize(
    ("english", "german"),
    [
        ("1,431", "1.431"),
        ("0.664 ± 0.008", "0,664 ± 0,008"),
        ("63.1%", f"63,1{NBSP}%"),
        ("<1%", f"<1{NBSP}%"),
        ("−2.4", "−2,4"),
        ("0.88–0.92", "0,88–0,92"),
        ("1,234.5", "1.234,5"),
        ("12", "12"),
        # Not numbers written the English way: left as they are.
        ("4.22.0", "4.22.0"),
        ("1,2", "1,2"),
        ("ISIC_0024306", "ISIC_0024306"),
        ("doi:10.1038/sdata.2018.161", "doi:10.1038/sdata.2018.161"),
        ("MobileNet V1 α 0.25", "MobileNet V1 α 0,25"),
    ],
)
def test_figures_are_written_the_german_way(english, german):
    assert localise_figures(english, "de") == german
    assert localise_figures(english, "en") == english


def page_text(client, path: str) -> str:
    html = client.get(path).get_data(as_text=True)
    text = re.sub(r"<script.*?</script>|<[^>]+>", " ", html, flags=re.DOTALL)
    return re.sub(r"[ \t\r\n]+", " ", text.replace("&nbsp;", NBSP))


@pytest.mark.parametrize("task", sorted(p.parent.name for p in MODELS_DIR.glob("*/metadata.json")))
def test_home_page_metrics_in_each_language(client, task):
    metadata = json.loads((MODELS_DIR / task / "metadata.json").read_text())
    metrics = metadata["metrics"]["test"]["without_metadata"]
    balanced, auc = metrics["balanced_accuracy"] * 100, metrics["macro_auc"]
    english = page_text(client, "/?lang=en")
    assert f"{balanced:.1f}%" in english and f"{auc:.3f}" in english
    german = page_text(client, "/?lang=de")
    assert f"{balanced:.1f}{NBSP}%".replace(".", ",") in german
    assert f"{auc:.3f}".replace(".", ",") in german
    assert f"{metrics['n']:,}".replace(",", ".") in german


def test_a_templates_placeholder_figure_in_german(client):
    """The calibration temperature, a {% trans %} placeholder on the performance page."""
    task = "chest_xray"
    temperature = json.loads((MODELS_DIR / task / "metadata.json").read_text())["calibration"][
        "temperature"
    ]
    written = f"{temperature:.2f}"
    english = page_text(client, f"/performance/{task}?lang=en")
    assert f"T{NBSP}={NBSP}{written}" in english
    german = page_text(client, f"/performance/{task}?lang=de")
    assert f"T{NBSP}={NBSP}{written.replace('.', ',')}" in german
    assert f"T{NBSP}={NBSP}{written}" not in german


@pytest.mark.browser
def test_german_screener_writes_its_percentages_the_german_way(browser, live_server):
    recorded = open_recorded_page(browser, locale="de-DE")
    page = recorded.page
    try:
        page.goto(f"{live_server}/screen/skin_lesion?lang=de")
        expect(page.get_by_role("status")).to_have_text(
            re.compile(r"Modell bereit"), timeout=BROWSER_TIMEOUT_MS
        )
        image = sorted(SAMPLES_DIR.glob("*.jpg"))[0]
        page.get_by_label("Bild auswählen").set_input_files(image)
        expect(page.get_by_text(f"Ergebnis für „{image.name}“")).to_be_visible()
        meters = page.get_by_role("meter")
        shown = [meters.nth(i).get_attribute("aria-valuetext") for i in range(meters.count())]
        assert shown and all(re.fullmatch(rf"<?\d+,\d{NBSP}%", text) for text in shown), shown
        # The heatmap's opacity too.
        opacity = page.locator("#heatmap-opacity")
        if opacity.count():
            assert re.fullmatch(rf"\d+{NBSP}%", opacity.get_attribute("aria-valuetext"))
        recorded.assert_clean()
    finally:
        page.context.close()


def test_figures_are_written_the_german_way_only_once():
    once = localise_figures("3,250 and 1.5%", "de")
    assert once == f"3.250 and 1,5{NBSP}%"
    assert localise_figures(once, "de") == once  # not 3,250 (three and a quarter)


def test_charts_write_their_figures_in_the_pages_language(client):
    """Plotly's own numbers (axes, hover labels) through the layout's separators, and the
    figures the captions and legends carry; English charts as they were."""
    import test_i18n

    calibration = json.loads((MODELS_DIR / "skin_lesion" / "metadata.json").read_text())[
        "calibration"
    ]
    ece = f"{calibration['test_ece']['after']:.3f}"
    for lang, separators, written in (("en", None, ece), ("de", ",.", ece.replace(".", ","))):
        charts = test_i18n.page_charts(client, "/performance/skin_lesion", lang)
        assert charts
        for chart in charts.values():
            assert chart["figure"]["layout"].get("separators") == separators
        texts = test_i18n.figure_texts(charts["chart-calibration"]["figure"])
        assert any(f"ECE {written}" in text for text in texts), texts
        assert written in charts["chart-calibration"]["caption"]
