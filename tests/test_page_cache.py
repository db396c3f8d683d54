"""The report pages are made once and kept (webapp.page_cache), not made for each request.

A kept page must be the very page its view would make now: per address, query and
language, and made again as soon as a file it was made from changes. What belongs to one
response (the language cookie, the chart pages' policy, compression) stays per response.
Whether a page was made again is seen by counting the calls of a chart builder (or of the
model card's reader) through monkeypatch.
"""

from __future__ import annotations

import gzip
import json
import shutil

import brotli
import pytest

from conftest import MODELS_DIR, REPORTS_DIR, ROOT, TEST_CONFIG
from webapp import create_app, data_charts, performance_charts, report_pages
from webapp.page_cache import EXTENSION, PageCache

TASK = json.loads((MODELS_DIR / "index.json").read_text())["tasks"][0]["id"]


@pytest.fixture
def made(monkeypatch):
    """``made[name]``: how many times the chart builder (or reader) ``name`` has run."""
    counts = dict.fromkeys(("roc", "class_distribution", "model_card_text"), 0)

    def counting(module, name):
        inner = getattr(module, name)

        def wrapper(*args, **kwargs):
            counts[name] += 1
            return inner(*args, **kwargs)

        monkeypatch.setattr(module, name, wrapper)

    counting(performance_charts, "roc")
    counting(data_charts, "class_distribution")
    counting(report_pages, "model_card_text")
    return counts


@pytest.fixture
def reports(tmp_path):
    """A copy of the shipped reports, to edit."""
    folder = tmp_path / "reports"
    shutil.copytree(REPORTS_DIR, folder)
    return folder


def test_a_second_request_gets_the_kept_page(client, made):
    first = client.get(f"/performance/{TASK}")
    second = client.get(f"/performance/{TASK}")
    assert first.status_code == second.status_code == 200
    assert made["roc"] == 1
    assert second.data == first.data
    # The chart pages' own policy (style hashes for plotly.js) comes with the kept page.
    assert "sha256-" in second.headers["Content-Security-Policy"]
    assert second.headers["Content-Security-Policy"] == first.headers["Content-Security-Policy"]
    for page, counted in (("/data", "class_distribution"), ("/model-card", "model_card_text")):
        bodies = {client.get(f"{page}/{TASK}").data for _ in range(3)}
        assert len(bodies) == 1 and made[counted] == 1, page


def test_the_kept_page_is_the_page_as_made(made):
    """Byte for byte what the view makes without a cache, for every report page."""
    fresh = create_app({**TEST_CONFIG, "PAGE_CACHE_SIZE": 0}).test_client()
    kept = create_app(TEST_CONFIG).test_client()
    for page in ("/performance", "/data", "/model-card"):
        for query in ("", "?lang=de", "?details=given"):
            address = f"{page}/{TASK}{query}"
            expected = fresh.get(address)
            for _ in range(2):
                got = kept.get(address)
                assert got.data == expected.data, address
                assert got.headers.get("Content-Security-Policy") == expected.headers.get(
                    "Content-Security-Policy"
                )
    assert made["roc"] == 3 + 3  # each made once without a cache, once to be kept


def test_a_cache_of_size_0_keeps_nothing(made):
    client = create_app({**TEST_CONFIG, "PAGE_CACHE_SIZE": 0}).test_client()
    client.get(f"/performance/{TASK}")
    client.get(f"/performance/{TASK}")
    assert made["roc"] == 2


def test_german_and_english_are_kept_apart(made):
    client = create_app(TEST_CONFIG).test_client()
    english = client.get(f"/performance/{TASK}").data
    german = client.get(f"/performance/{TASK}?lang=de").data
    assert english != german and b'lang="de"' in german and b'lang="en"' in english
    assert made["roc"] == 2
    # ?lang=de remembered the choice: the same address in German, and kept.
    assert client.get(f"/performance/{TASK}").data != english
    fresh = create_app(TEST_CONFIG).test_client()  # no cookie
    assert fresh.get(f"/performance/{TASK}").data == english
    assert fresh.get(f"/performance/{TASK}?lang=en").data != german
    count = made["roc"]
    assert fresh.get(f"/performance/{TASK}").data == english
    assert client.get(f"/performance/{TASK}?lang=de").data == german
    assert made["roc"] == count


def test_the_browsers_language_chooses_the_kept_page(made):
    client = create_app(TEST_CONFIG).test_client()
    english = client.get(f"/data/{TASK}").data
    german = client.get(f"/data/{TASK}", headers={"Accept-Language": "de-DE,de;q=0.9"}).data
    assert b'lang="de"' in german and german != english
    client.set_cookie("lang", "de")
    assert client.get(f"/data/{TASK}").data == german
    client.delete_cookie("lang")
    assert client.get(f"/data/{TASK}").data == english
    assert made["class_distribution"] == 2


def test_details_given_is_a_page_of_its_own(client, made):
    without = client.get(f"/performance/{TASK}").data
    given = client.get(f"/performance/{TASK}?details=given").data
    assert without != given and made["roc"] == 2
    assert client.get(f"/performance/{TASK}?details=given").data == given
    assert client.get(f"/performance/{TASK}").data == without
    assert made["roc"] == 2


def test_an_edited_report_file_shows_at_once(reports, made):
    client = create_app({**TEST_CONFIG, "REPORTS_FOLDER": str(reports)}).test_client()
    before = client.get(f"/performance/{TASK}").data
    assert client.get(f"/performance/{TASK}").data == before and made["roc"] == 1

    path = reports / TASK / "curves.json"
    curves = json.loads(path.read_text())
    # A point of a ROC curve, moved: the chart's data in the page must follow.
    curves["without_metadata"]["per_class"][curves["labels"][0]]["roc"]["tpr"][1] = 0.123456789
    path.write_text(json.dumps(curves))
    after = client.get(f"/performance/{TASK}").data
    assert after != before and b"0.123456789" in after and made["roc"] == 2

    # A file taken away (and one that appears) changes the page too.
    path.unlink()
    gone = client.get(f"/performance/{TASK}").data
    assert gone != after and b"curves.json" in gone
    shutil.copy(REPORTS_DIR / TASK / "curves.json", path)
    assert client.get(f"/performance/{TASK}").data == before


def test_a_new_model_or_card_shows_at_once(tmp_path, made):
    models, cards = tmp_path / "models", tmp_path / "cards"
    shutil.copytree(MODELS_DIR, models, ignore=shutil.ignore_patterns("*.bin", "model.json"))
    shutil.copytree(ROOT / "docs" / "model_cards", cards)
    app = create_app(
        {**TEST_CONFIG, "MODELS_FOLDER": str(models), "MODEL_CARDS_FOLDER": str(cards)}
    )
    client = app.test_client()
    before = client.get(f"/model-card/{TASK}").data
    assert client.get(f"/model-card/{TASK}").data == before and made["model_card_text"] == 1

    card = cards / f"{TASK}.md"
    card.write_text(card.read_text() + "\nA sentence added by the test.\n")
    edited = client.get(f"/model-card/{TASK}").data
    assert b"A sentence added by the test." in edited

    path = models / TASK / "metadata.json"
    metadata = json.loads(path.read_text())
    metadata["title"] = "A title given by the test"
    path.write_text(json.dumps(metadata))
    assert b"A title given by the test" in client.get(f"/model-card/{TASK}").data
    # The German card is its own file: a German page is made from it, and kept apart.
    german = client.get(f"/model-card/{TASK}?lang=de").data
    assert b"A sentence added by the test." not in german


def test_each_app_keeps_its_own_pages(reports, made):
    shipped = create_app(TEST_CONFIG).test_client()
    page = shipped.get(f"/performance/{TASK}").data
    (reports / TASK / "curves.json").unlink()
    other = create_app({**TEST_CONFIG, "REPORTS_FOLDER": str(reports)})
    assert other.test_client().get(f"/performance/{TASK}").data != page
    assert made["roc"] == 1  # the second app had no curves to draw
    assert isinstance(other.extensions[EXTENSION], PageCache)
    assert other.extensions[EXTENSION] is not create_app(TEST_CONFIG).extensions[EXTENSION]


def test_the_cache_keeps_the_last_pages_used(made):
    app = create_app({**TEST_CONFIG, "PAGE_CACHE_SIZE": 2})
    client = app.test_client()
    for query in ("", "?details=given", "?lang=de"):
        client.get(f"/performance/{TASK}{query}")
    assert len(app.extensions[EXTENSION]) == 2 and made["roc"] == 3
    client.get(f"/performance/{TASK}?lang=de")  # kept
    client.get(f"/performance/{TASK}")  # put out by the third page: made again
    assert made["roc"] == 4


def test_an_unknown_task_is_never_kept(client):
    for _ in range(2):
        assert client.get("/performance/no_such_task").status_code == 404
    assert len(client.application.extensions[EXTENSION]) == 0


def test_nothing_is_kept_while_templates_reload(made):
    client = create_app({**TEST_CONFIG, "TEMPLATES_AUTO_RELOAD": True}).test_client()
    client.get(f"/performance/{TASK}")
    client.get(f"/performance/{TASK}")
    assert made["roc"] == 2


def test_the_language_cookie_is_set_on_each_response(client):
    for _ in range(2):
        response = client.get(f"/model-card/{TASK}?lang=de")
        assert response.headers["Set-Cookie"].startswith("lang=de")
        assert {"Cookie", "Accept-Language"} <= set(response.vary)
    # The service worker's own copies set no cookie, kept page or not.
    copy = client.get(f"/model-card/{TASK}?lang=de", headers={"X-Offline-Copy": "1"})
    assert "Set-Cookie" not in copy.headers
    assert "Set-Cookie" not in client.get(f"/model-card/{TASK}").headers


@pytest.mark.parametrize(
    "encoding, decompress", [("br", brotli.decompress), ("gzip", gzip.decompress)]
)
def test_a_kept_page_is_compressed_once_and_the_same(client, encoding, decompress, monkeypatch):
    plain = client.get(f"/performance/{TASK}").data
    compressed = client.get(f"/performance/{TASK}", headers={"Accept-Encoding": encoding})
    assert compressed.headers["Content-Encoding"] == encoding
    assert decompress(compressed.data) == plain

    from flask_compress import flask_compress

    def refuse(*args):
        raise AssertionError("compressed again")

    monkeypatch.setattr(flask_compress, "_compress_data", refuse)
    again = client.get(f"/performance/{TASK}", headers={"Accept-Encoding": encoding})
    assert again.data == compressed.data
    assert again.headers["Content-Encoding"] == encoding
    assert again.headers["Content-Length"] == str(len(compressed.data))
    assert "Accept-Encoding" in again.vary
    assert client.get(f"/performance/{TASK}").data == plain


def test_visitors_at_once_wait_for_one_making(made):
    """After a start or a release, the first visitors to a page get the one page made for
    the first of them, not a page each."""
    from concurrent.futures import ThreadPoolExecutor

    app = create_app(TEST_CONFIG)

    def visit(_):
        return app.test_client().get(f"/performance/{TASK}").data

    with ThreadPoolExecutor(max_workers=6) as pool:
        bodies = set(pool.map(visit, range(6)))
    assert len(bodies) == 1 and made["roc"] == 1
