"""The outside check on the performance page and the model card: the figures of
reports/<task>/outside.json beside the own test's, in words, and nothing for a model the
check did not measure."""

from __future__ import annotations

import json
import re
import shutil

import pytest
from test_webapp import text_of

from conftest import MODELS_DIR, REPORTS_DIR, TEST_CONFIG
from webapp import create_app
from webapp.outside import comparison

TASK = "skin_lesion"


def outside() -> dict:
    return json.loads((REPORTS_DIR / TASK / "outside.json").read_text())


def metadata() -> dict:
    return json.loads((MODELS_DIR / TASK / "metadata.json").read_text())


def part(html: str, attribute: str, end: str) -> str:
    """The HTML from the element with ``attribute`` (e.g. 'data-row="ph2"') to ``end``."""
    match = re.search(rf"<[^>]*\b{attribute}[^>]*>.*?{end}", html, re.S)
    assert match, attribute
    return match.group(0)


def row(html: str, row_id: str) -> list[str]:
    cells = re.findall(
        r"<t[hd]\b[^>]*>(.*?)</t[hd]>", part(html, f'data-row="{row_id}"', "</tr>"), re.S
    )
    return [text_of(cell).strip() for cell in cells]


def test_the_check_is_of_the_installed_model():
    assert outside()["model_version"] == metadata()["version"]


@pytest.mark.parametrize("page", ["/performance", "/model-card"])
def test_the_page_shows_the_figures_beside_the_own_test(client, page):
    html = client.get(f"{page}/{TASK}").get_data(as_text=True)
    found, report = outside(), json.loads((REPORTS_DIR / TASK / "report.json").read_text())
    assert "On dermoscopic images from other clinics" in html
    other = row(html, "outside")
    assert other[1] == f"{found['overall']['n']:,}"
    assert other[2] == f"{found['overall']['balanced_accuracy']:.2f}"
    assert other[4] == f"{found['overall']['recall']['mel']:.0%}"
    own = row(html, "own_test")
    assert own[2] == f"{report['without_metadata']['balanced_accuracy']:.2f}"
    assert "used in training" in text_of(html)
    if page == "/performance":  # each source and each kind there; the card keeps it short
        assert row(html, "ph2")[1] == str(found["sources"]["ph2"]["n"])
        assert "none among them" in text_of(part(html, 'data-kind="akiec"', "</tr>"))
    else:
        assert 'data-row="ph2"' not in html


def test_german_words(client):
    html = client.get(f"/performance/{TASK}?lang=de").get_data(as_text=True)
    section = text_of(part(html, 'id="outside"', "</section>"))
    assert "anderen Kliniken" in section and "Balancierte Genauigkeit" in section
    assert "Other clinics" not in section


def test_no_section_without_a_check_or_for_another_model(tmp_path, client):
    assert 'id="outside"' not in client.get("/performance/chest_xray").get_data(as_text=True)
    reports = tmp_path / "reports"
    shutil.copytree(REPORTS_DIR, reports)
    stale = {**outside(), "model_version": "0123456789ab"}  # measured on an earlier model
    (reports / TASK / "outside.json").write_text(json.dumps(stale))
    app = create_app({**TEST_CONFIG, "REPORTS_FOLDER": str(reports)})
    html = app.test_client().get(f"/performance/{TASK}").get_data(as_text=True)
    assert 'id="outside"' not in html and "On dermoscopic images" not in html


def test_the_warning_follows_the_figures():
    found, report = outside(), json.loads((REPORTS_DIR / TASK / "report.json").read_text())
    assert comparison(found, report, metadata())["worse"]  # 0.43 against 0.66
    level = report["without_metadata"]["balanced_accuracy"]
    holds = {**found, "overall": {**found["overall"], "balanced_accuracy": level - 0.01}}
    assert not comparison(holds, report, metadata())["worse"]


def test_the_outline_figures_are_those_of_the_shipped_outline(client, tmp_path):
    found = json.loads((REPORTS_DIR / TASK / "outline.json").read_text())
    html = client.get(f"/performance/{TASK}").get_data(as_text=True)
    dice = [
        text_of(c).strip()
        for c in re.findall(
            r"<td\b[^>]*>(.*?)</td>", part(html, 'data-measure="dice"', "</tr>"), re.S
        )
    ]
    assert dice == [f"{found['dice'][k]:.2f}" for k in ("mean", "median", "q05")]
    assert "not shared with this project" in text_of(part(html, 'id="outline"', "</section>"))
    # An outline.json of another outline model than the one shipped is not shown.
    reports = tmp_path / "reports"
    shutil.copytree(REPORTS_DIR, reports)
    (reports / TASK / "outline.json").write_text(json.dumps({**found, "model_version": "x"}))
    app = create_app({**TEST_CONFIG, "REPORTS_FOLDER": str(reports)})
    assert 'id="outline"' not in app.test_client().get(f"/performance/{TASK}").get_data(
        as_text=True
    )


def test_the_worst_outlines_are_shown_and_served(client):
    found = json.loads((REPORTS_DIR / TASK / "outline.json").read_text())["pictures"]
    html = client.get(f"/performance/{TASK}").get_data(as_text=True)
    shown = re.findall(
        r'<img src="(/static/img/outline-worst/[^"]+)"[^>]*alt="([^"]+)"', html, re.S
    )
    assert [src.rsplit("/", 1)[1] for src, _ in shown] == [i["file"] for i in found["images"]]
    assert all("white" in alt and "magenta" in alt for _, alt in shown)
    for src, _ in shown:
        response = client.get(src)
        assert response.status_code == 200 and response.mimetype == "image/jpeg"
        response.close()
