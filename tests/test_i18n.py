"""Languages: the catalogues are complete, the language is chosen and remembered, and the
German pages in Chromium show no English left, with <html lang="de"> and no sideways
scrolling on a phone (webapp/i18n.py, docs/languages.md)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import test_history
from playwright.sync_api import expect

from conftest import BROWSER_TIMEOUT_MS, MODELS_DIR, ROOT, SAMPLES_DIR, open_recorded_page
from webapp import i18n, messages

lesion_export = test_history.lesion_export  # a fixture: an export of a lesion followed over time
PLACEHOLDER = re.compile(r"%\(\w+\)s|\{\w+\}")
TASKS = [task["id"] for task in json.loads((MODELS_DIR / "index.json").read_text())["tasks"]]
# A real image of each task's kind, from the test data the other tests use.
SAMPLE_IMAGES = {
    "skin_lesion": SAMPLES_DIR / "ISIC_0025661.jpg",
    "chest_xray": ROOT / "tests" / "data" / "chest_xray" / "IM-0125-0001.jpeg",
    "malaria": next((ROOT / "tests" / "data" / "malaria").glob("*.png")),
}
PHONE = {"width": 390, "height": 844}


def german_catalogue():
    from babel.messages.pofile import read_po

    with i18n.po_path("de").open("rb") as handle:
        return read_po(handle)


# ---- the catalogues --------------------------------------------------------------------


def test_every_string_has_a_german_translation():
    """Every msgid of the templates, the site's Python, the scripts, the models' metadata
    and the report tables (extracted afresh) is translated in the German .po."""
    assert messages.missing("de") == []


def test_translations_keep_their_placeholders():
    for message in german_catalogue():
        if not message.id:
            continue
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        wanted = sorted(set(PLACEHOLDER.findall(ids[-1])))
        for string in strings:
            assert sorted(set(PLACEHOLDER.findall(string))) == wanted, message.id


def test_catalogues_are_compiled_when_the_app_starts(app):
    mo = i18n.po_path("de").with_suffix(".mo")
    assert mo.exists() and mo.stat().st_mtime >= i18n.po_path("de").stat().st_mtime
    assert i18n.compile_catalogues() == []  # nothing left to do


def test_every_model_card_has_a_german_card():
    """docs/model_cards/de/<task>.md for each card: its sections, links and figures the
    English card's (a translation that drops a section or a citation fails)."""
    cards = ROOT / "docs" / "model_cards"
    for task in TASKS:
        english = (cards / f"{task}.md").read_text(encoding="utf-8")
        german = (cards / "de" / f"{task}.md").read_text(encoding="utf-8")
        assert german.count("\n## ") == english.count("\n## "), task
        assert re.findall(r"\]\((.*?)\)", german) == re.findall(r"\]\((.*?)\)", english), task
        # The same figures, written the German way (0.671 → 0,671; 27,558 → 27.558).
        swap = str.maketrans(".,", ",.")
        prose = re.sub(
            r"\(http.*?\)|doi:\S+|arXiv:\S+|CC BY[\w-]* [\d.]+|Apache-[\d.]+", "", english
        )
        figures = re.findall(r"\d[\d.,]*\d|\d", prose)
        for figure in figures:
            assert figure.translate(swap) in german, f"{task}: {figure}"


def test_every_report_table_string_is_translated(app):
    with app.test_request_context("/?lang=de"):
        for task in TASKS:
            content = json.loads((ROOT / "reports" / task / "tables.json").read_text())
            for text in messages.table_strings(content):
                assert i18n._translate(text)[1], f"{task}: {text!r}"
            # Whole sentences with figures in them come through the patterns.
            for table in content["tables"]:
                caption = i18n.translate_text(table["caption"])
                assert caption != table["caption"], caption


# ---- choosing the language -------------------------------------------------------------


def html_lang(response) -> str:
    return re.search(r'<html lang="([^"]+)"', response.get_data(as_text=True)).group(1)


@pytest.mark.parametrize(
    "path", ["/", "/history", "/offline", "/nowhere"] + [f"/screen/{t}" for t in TASKS]
)
def test_html_lang_follows_accept_language(client, path):
    assert html_lang(client.get(path)) == "en"
    german = client.get(path, headers={"Accept-Language": "de-AT,de;q=0.9,en;q=0.5"})
    assert html_lang(german) == "de"
    assert "Diese Übersetzung wurde" in german.get_data(as_text=True)


def test_lang_parameter_is_remembered_and_beats_the_browser(client):
    response = client.get("/?lang=de", headers={"Accept-Language": "en"})
    assert html_lang(response) == "de"
    assert "lang=de" in response.headers["Set-Cookie"]
    assert html_lang(client.get("/data/malaria", headers={"Accept-Language": "en"})) == "de"
    assert html_lang(client.get("/?lang=en")) == "en"
    assert html_lang(client.get("/", headers={"Accept-Language": "de"})) == "en"
    assert html_lang(client.get("/?lang=xx")) == "en"  # not offered: ignored


def test_every_page_has_the_switch(client):
    for path in ["/", "/history", f"/screen/{TASKS[0]}", f"/performance/{TASKS[0]}"]:
        body = client.get(path).get_data(as_text=True)
        switch = re.search(r'<nav class="language-switch[^>]*>(.*?)</nav>', body, re.S).group(1)
        assert 'hreflang="de"' in switch and "Deutsch" in switch and "English" in switch
        assert f'href="{path}?lang=de"' in switch


def test_browser_catalogue_holds_the_scripts_and_labels(client):
    served = client.get("/i18n/de.json").get_json()
    assert served["lang"] == "de"
    assert served["messages"]["Ready to work offline"] == "Bereit für die Offline-Nutzung"
    assert served["messages"]["Melanoma"] == "Melanom"
    assert "The closest match is {name} ({percent})." in served["messages"]
    assert client.get("/i18n/xx.json").status_code == 404


def test_german_service_worker_keeps_german_pages(client):
    script = client.get("/sw.js?lang=de").get_data(as_text=True)
    assert '"/?lang=de"' in script and "/i18n/de.json" in script
    english = client.get("/sw.js").get_data(as_text=True)
    assert "const SOURCES = {};" in english and '"/i18n/' not in english


# ---- German pages in Chromium ----------------------------------------------------------


def english_phrases() -> list[str]:
    """The English text of every translated msgid, as runs of at least four words between
    its placeholders and tags (a translation that is the English itself is left out)."""
    phrases = set()
    for message in german_catalogue():
        if not message.id:
            continue
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        for english in ids:
            if english in strings:
                continue
            for part in re.split(r"%\(\w+\)s|\{\w+\}|<[^>]+>|%%", english):
                part = " ".join(part.split()).strip(" ,;:.()")
                if len(part.split()) >= 4:
                    phrases.add(part)
    return sorted(phrases)


VISIBLE_TEXT = """() => {
  document.querySelectorAll('details').forEach((d) => { d.open = true; });
  let text = document.body.innerText;
  // Parts the page marks as English (and says so), and the charts' own drawing.
  for (const node of document.querySelectorAll('[lang="en"], .chart-plot')) {
    const part = node.innerText.trim();
    if (part) text = text.split(part).join(' ');
  }
  return text.replace(/\\s+/g, ' ');
}"""


def check_german(page, path: str) -> None:
    assert page.evaluate("document.documentElement.lang") == "de", path
    text = page.evaluate(VISIBLE_TEXT)
    left = [phrase for phrase in english_phrases() if phrase in text]
    assert left == [], f"English left on {path}"
    overflow = page.evaluate(
        "document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    assert overflow <= 0, f"{path} scrolls sideways by {overflow}px at {PHONE['width']}px"


@pytest.fixture
def german_phone(browser):
    recorded = open_recorded_page(browser, viewport=PHONE, locale="de-DE")
    yield recorded
    try:
        recorded.assert_clean()
    finally:
        recorded.page.context.close()


# Parts of a German page still marked English: the charts' drawing and captions (webapp/charts.py).
STILL_ENGLISH = ".language-switch a, .chart-plot, .chart-caption, .untranslated-note"


@pytest.mark.browser
def test_german_home_and_report_pages(german_phone, live_server):
    page = german_phone.page
    page.goto(live_server + "/?lang=de")
    check_german(page, "/")
    expect(page.get_by_role("link", name="Deutsch")).to_have_attribute("aria-current", "true")
    for task in TASKS:
        for path in (f"/performance/{task}", f"/data/{task}", f"/model-card/{task}"):
            page.goto(live_server + path)
            check_german(page, path)
            # Nothing else is left in English: the performance page's explaining
            # paragraphs and the model card's prose are German too.
            english = page.locator(f'[lang="en"]:not({STILL_ENGLISH})')
            expect(english).to_have_count(0)
        expect(page.locator(".model-card-text h2").first).to_have_text("Verwendungszweck")
    # The switch back to English is remembered too.
    page.goto(live_server + page.get_by_role("link", name="English").get_attribute("href"))
    expect(page.locator("html")).to_have_attribute("lang", "en")
    page.goto(live_server + "/")
    expect(page.locator("html")).to_have_attribute("lang", "en")


@pytest.mark.browser
@pytest.mark.parametrize("task", TASKS)
def test_german_screener_with_a_real_result(german_phone, live_server, task):
    page = german_phone.page
    page.goto(f"{live_server}/screen/{task}?lang=de")
    expect(page.get_by_role("status")).to_have_text(
        re.compile(r"Modell bereit \((wasm|webgl|cpu)\)"), timeout=BROWSER_TIMEOUT_MS
    )
    image = SAMPLE_IMAGES[task]
    page.get_by_label("Bild auswählen").set_input_files(image)
    expect(page.get_by_text(f"Ergebnis für „{image.name}“")).to_be_visible()
    expect(page.get_by_text("Am ehesten passt")).to_be_visible()
    metadata = json.loads((MODELS_DIR / task / "metadata.json").read_text())
    names = page.locator(".probability-name").all_inner_texts()
    assert len(names) == len(metadata["labels"])
    assert not set(names) & {label["name"] for label in metadata["labels"]}
    check_german(page, f"/screen/{task} with a result")


@pytest.mark.browser
def test_german_error_message_for_a_bad_file(german_phone, live_server, tmp_path: Path):
    page = german_phone.page
    page.goto(f"{live_server}/screen/{TASKS[0]}?lang=de")
    empty = tmp_path / "leer.jpg"
    empty.write_bytes(b"")
    page.get_by_label("Bild auswählen").set_input_files(empty)
    expect(page.get_by_role("alert")).to_have_text(
        "Die Datei ist leer (0 Byte). Wählen Sie ein Foto."
    )


# The trust line as the English skin screener shows it (static/js/screen-page.js), filled in.
ENGLISH_TRUST = (
    "How far to trust this sentence: on 1431 test images it flagged 94.0% of Melanoma cases "
    "(sensitivity), and called 64.0% of the others harmless (specificity)."
)


@pytest.mark.browser
def test_german_history_page(german_phone, live_server, lesion_export):
    """/history in German: the empty page, the list with a lesion followed over time, its
    series (with what changed, in words), one opened entry and its print, all without
    English; the saved entries' English texts (kinds, body sites, risk sentences, the
    measured rates) shown in German through the catalogue."""
    export, metadata, harmless, serious = lesion_export
    document = json.loads(export.read_text())
    for entry in document["entries"][:3]:
        entry["risk"]["trust"] = ENGLISH_TRUST
    export.write_text(json.dumps(document))
    german = {message.id: message.string for message in german_catalogue() if message.id}

    page = german_phone.page
    page.goto(live_server + "/history?lang=de")
    expect(page.get_by_text("Noch nichts gespeichert")).to_be_visible()
    check_german(page, "/history (empty)")

    page.get_by_label("Datei importieren").set_input_files(export)
    expect(
        page.get_by_text("5 gespeicherte Ergebnisse aus „lesions.json“ importiert")
    ).to_be_visible()
    lesions = page.get_by_role("list", name="Über die Zeit verfolgte Hautveränderungen")
    expect(lesions.get_by_role("listitem")).to_have_count(2)
    expect(lesions.get_by_role("listitem").first).to_contain_text("Rücken · 3 Prüfungen")
    check_german(page, "/history (the list)")

    lesions.get_by_role("link").first.click()
    series = page.get_by_role("article")
    changes = series.get_by_role("list", name="Was sich geändert hat").get_by_role("listitem")
    expect(changes).to_have_count(3)
    expect(changes.nth(1)).to_contain_text(
        f"wechselte die wahrscheinlichste Art von {german[harmless['name']]} zu "
        f"{german[serious['name']]}, einer ernsten Art."
    )
    expect(changes.nth(2)).to_contain_text(german[metadata["risk"]["messages"]["high"]])
    expect(series).to_contain_text("94.0% der Fälle von Melanom")  # the saved English, translated
    check_german(page, "/history#lesion=… (a lesion's series)")
    page.emulate_media(media="print")
    check_german(page, "/history#lesion=… printed")
    page.emulate_media(media="screen")

    series.get_by_role("listitem").filter(has=page.get_by_role("img")).last.get_by_role(
        "link"
    ).click()
    entry = page.get_by_role("article")
    expect(entry.get_by_role("heading", level=3)).to_have_text(
        f"Alle {len(metadata['labels'])} Arten, die wahrscheinlichste zuerst"
    )
    expect(entry).to_contain_text("Körperstelle: Rücken")
    expect(entry).to_contain_text("70,0 %")
    # A text saved as shown that the catalogue cannot translate stays, marked as English.
    expect(page.locator("#entry-limits [lang=en]")).to_have_text(
        "Tested on 1431 images from two clinics."
    )
    check_german(page, "/history#entry=… (one entry)")
    page.emulate_media(media="print")
    check_german(page, "/history#entry=… printed")
