"""Languages: the catalogues are complete, the language is chosen and remembered, and the
German pages in Chromium show no English left, with <html lang="de"> and no sideways
scrolling on a phone (webapp/i18n.py, docs/languages.md)."""

from __future__ import annotations

import html
import json
import re
from pathlib import Path

import pytest
import test_history
from playwright.sync_api import expect

from conftest import BROWSER_TIMEOUT_MS, MODELS_DIR, READY_DE, ROOT, SAMPLES_DIR, open_recorded_page
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


# A script's t('…') or msg('…') with one literal, wherever it stands (also inside a
# template literal's ${…}, where the extractor once missed three of the screener's).
SCRIPT_CALL = re.compile(r"\b(?:t|msg)\(\s*'((?:[^'\\\n]|\\.)*)'\s*[,)]")


def test_every_scripts_string_is_in_the_german_catalogue():
    translated = {m.id: m.string for m in german_catalogue() if m.id and m.string}
    calls = [
        (path.name, text.replace("\\'", "'"))
        for path in sorted((ROOT / "static" / "js").glob("*.js"))
        for text in SCRIPT_CALL.findall(path.read_text())
    ]
    assert len(calls) > 50  # the pattern still finds the scripts' strings
    assert [call for call in calls if call[1] not in translated] == []


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


def test_report_tables_hold_no_words():
    """tables.json holds figures, ids and keys: the words are the site's
    (webapp/report_words.py), so a release changes no catalogue."""

    def strings(value):
        if isinstance(value, dict):
            for item in value.values():
                yield from strings(item)
        elif isinstance(value, list):
            for item in value:
                yield from strings(item)
        elif isinstance(value, str):
            yield value

    for task in TASKS:
        content = json.loads((ROOT / "reports" / task / "tables.json").read_text())
        # words: tokens with a letter (a network's name "3 × MobileNet V1 α 0.25" has three)
        long = [
            text
            for text in strings(content)
            if sum(any(c.isalpha() for c in token) for token in text.split()) >= 6
        ]
        assert not long, f"{task}: {long}"


def test_every_report_table_is_worded_in_german(app):
    """Each table of every tables.json, worded for a German page: every caption, column,
    row name and help in German, none of them a key."""
    from webapp.report_words import WORDS, Words

    for task in TASKS:
        content = json.loads((ROOT / "reports" / task / "tables.json").read_text())
        metadata = json.loads((MODELS_DIR / task / "metadata.json").read_text())
        for stored in content["tables"]:
            with app.test_request_context("/?lang=en"):
                english = Words(metadata).table(stored)
            with app.test_request_context("/?lang=de"):
                german = Words(metadata).table(stored)
            assert german["caption"] != english["caption"], (task, stored["id"])
            texts = [german["caption"]] + [c["name"] for c in german["columns"]]
            texts += [row["header"] for row in german["rows"]]
            texts += [row["help"] for row in german["rows"] if row["help"]]
            assert not set(texts) & set(WORDS), (task, stored["id"])


# ---- the charts -------------------------------------------------------------------------

CHART_PAGES = [f"/{page}/{task}" for task in TASKS for page in ("performance", "data")] + [
    f"/performance/{task}?details=given" for task in TASKS
]
# Where a figure holds text a person reads: titles (figure, axes), annotations, legend and
# trace names, hover labels, tick labels, categories (x, y) and the hover labels' data.
FIGURE_TEXT = {"text", "name", "hovertemplate", "texttemplate", "ticktext", "x", "y", "customdata"}
PLOTLY_REFERENCE = re.compile(r"%\{[^}]*\}")


def page_charts(client, path: str, lang: str) -> dict[str, dict]:
    """``{chart id: {"title", "caption", "figure"}}`` of a page in ``lang``, as served."""
    query = "&" if "?" in path else "?"
    body = client.get(f"{path}{query}lang={lang}").get_data(as_text=True)
    charts = {}
    for block in re.findall(r'<figure class="chart.*?</figure>', body, re.S):
        plot = re.search(r'class="chart-plot" id="([^"]+)" data-figure="([^"]*)"', block)
        if not plot:
            continue
        title = re.search(r'class="chart-title[^>]*>(.*?)</h\d>', block, re.S).group(1)
        caption = re.search(r"<figcaption[^>]*>(.*?)</figcaption>", block, re.S).group(1)
        charts[plot.group(1)] = {
            "title": html.unescape(title),
            "caption": html.unescape(caption),
            "figure": json.loads(html.unescape(plot.group(2))),
        }
    return charts


def figure_texts(figure: dict) -> list[str]:
    """Every string of a figure a person may read, Plotly's references (%{x:.1%}) and tags
    (<br>) taken out."""
    texts = []

    def walk(value, key=None) -> None:
        if isinstance(value, dict):
            for name, item in value.items():
                walk(item, name)
        elif isinstance(value, list):
            for item in value:
                walk(item, key)
        elif isinstance(value, str) and key in FIGURE_TEXT:
            texts.append(" ".join(re.sub(r"%\{[^}]*\}|<[^>]+>", " ", value).split()))

    walk(figure["data"])
    walk({name: item for name, item in figure["layout"].items() if name != "template"})
    return [text for text in texts if text]


CHART_MODULES = ("webapp/charts.py", "webapp/performance_charts.py", "webapp/data_charts.py")


def chart_english() -> list[str]:
    """The English of the charts' own strings (webapp/*charts.py) and of the models' kinds and
    recorded values (metadata.json), as the runs of words between placeholders, where the
    German differs."""
    german = {message.id: message.string for message in german_catalogue() if message.id}
    texts = [
        message.id
        for message in german_catalogue()
        if isinstance(message.id, str)
        and any(place in CHART_MODULES for place, _line in message.locations)
    ]
    for task in TASKS:
        metadata = json.loads((MODELS_DIR / task / "metadata.json").read_text())
        texts += [label["name"] for label in metadata["labels"]]
        for field in (metadata.get("metadata_encoding") or {}).get("fields") or []:
            texts += list(field.get("value_names") or [])
    runs = set()
    for text in texts:
        if german.get(text) == text:
            continue
        for part in re.split(r"%\(\w+\)s|<[^>]+>", text):
            part = " ".join(part.split()).strip(" ,;:.()")
            if re.search(r"[A-Za-z]{3}", part):
                runs.add(part)
    return sorted(runs)


def english_in(text: str, runs: list[str]) -> list[str]:
    return [run for run in runs if re.search(rf"(?<!\w){re.escape(run)}(?!\w)", text)]


def test_german_charts_have_no_english(client):
    """Every chart of the German performance and data pages of each task: its title, caption,
    axes, legend, hover labels, notes and categories hold no English of the charts' strings,
    the kinds or the catalogue (a sentence of four words or more); the English pages keep
    theirs."""
    runs, phrases = chart_english(), english_phrases()
    assert {"Epoch", "Model said", "True kind", "validation"} <= set(runs)
    for path in CHART_PAGES:
        german = page_charts(client, path, "de")
        english = page_charts(client, path, "en")
        assert german.keys() == english.keys() and len(german) >= 3, path
        for chart_id, chart in german.items():
            texts = [chart["title"], chart["caption"], *figure_texts(chart["figure"])]
            left = [(text, english_in(text, runs)) for text in texts if english_in(text, runs)]
            left += [(text, phrase) for text in texts for phrase in phrases if phrase in text]
            assert left == [], f"{path} {chart_id}: English left"
            assert chart["caption"] != english[chart_id]["caption"], f"{path} {chart_id}"
    english_text = " ".join(
        text
        for path in CHART_PAGES
        for chart in page_charts(client, path, "en").values()
        for text in figure_texts(chart["figure"])
    )
    for words in ("Epoch", "Model said", "True kind", "validation", "images"):
        assert words in english_text


def test_german_hover_labels_keep_every_plotly_reference(client):
    """The figures are the same in both languages but for their words: every trace's
    hover label and text template names the same %{…} values in German as in English."""
    compared = 0
    for path in CHART_PAGES:
        german = page_charts(client, path, "de")
        for chart_id, chart in page_charts(client, path, "en").items():
            traces = zip(chart["figure"]["data"], german[chart_id]["figure"]["data"], strict=True)
            for english_trace, german_trace in traces:
                for key in ("hovertemplate", "texttemplate"):
                    english = sorted(PLOTLY_REFERENCE.findall(english_trace.get(key) or ""))
                    assert sorted(PLOTLY_REFERENCE.findall(german_trace.get(key) or "")) == (
                        english
                    ), f"{path} {chart_id} {key}"
                    compared += bool(english)
    assert compared > 50


def test_every_recorded_column_of_the_data_is_translated(app):
    """The data page's charts show each column of data.json (its title, its values) in
    German: the catalogue knows each, but a collection's name (the sources of metadata.json),
    which stays as it is."""
    from webapp.charts import value_name

    with app.test_request_context("/?lang=de"):
        for task in TASKS:
            data = json.loads((ROOT / "reports" / task / "data.json").read_text())
            metadata = json.loads((MODELS_DIR / task / "metadata.json").read_text())
            names = {source["id"] for source in metadata.get("sources") or []}
            columns = list((data.get("categories") or {}).values())
            if data.get("age"):
                columns.append({"title": "Age (years)", "values": data["age"]["bins"]})
            for column in columns:
                assert i18n._translate(column["title"])[1], f"{task}: {column['title']}"
                for value in column["values"]:
                    shown = str(value).replace("_", " ")
                    if value in names:
                        continue
                    assert value_name(shown) != shown or i18n._translate(shown)[1], (
                        f"{task}: {column['title']}: {value}"
                    )


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


def test_one_service_worker_keeps_both_languages(client):
    """Both languages' pages and catalogues, in one worker (tests/test_offline.py)."""
    script = client.get("/sw.js").get_data(as_text=True)
    assert '"/?lang=de"' in script and "/i18n/de.json" in script
    assert client.get("/sw.js?lang=de").get_data(as_text=True) == script


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
  // Parts the page marks as English (and says so).
  for (const node of document.querySelectorAll('[lang="en"]')) {
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


# The one part of a German report page marked English: the switch's own "English".
STILL_ENGLISH = ".language-switch a"


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
            # Nothing is left in English: the performance page's explaining paragraphs,
            # the charts (test_german_charts_have_no_english) and the model card's prose
            # are German too.
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
    expect(page.get_by_role("status")).to_have_text(READY_DE, timeout=BROWSER_TIMEOUT_MS)
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
    # The saved English, translated, its figures written the German way.
    expect(series).to_contain_text("94,0\u00a0% der Fälle von Melanom")
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
    expect(entry).to_contain_text("KörperstelleRücken")  # once, in the entry's facts
    expect(entry.get_by_role("definition").filter(has_text="Rücken")).to_have_count(1)
    expect(entry).to_contain_text("70,0 %")
    # A text saved as shown that the catalogue cannot translate stays, marked as English.
    expect(page.locator("#entry-limits [lang=en]")).to_have_text(
        "Tested on 1431 images from two clinics."
    )
    check_german(page, "/history#entry=… (one entry)")
    page.emulate_media(media="print")
    check_german(page, "/history#entry=… printed")
