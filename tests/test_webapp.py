"""The Flask site through its test client: pages, static files, errors, no outside hosts."""

from __future__ import annotations

import html as html_module
import json
import math
import re
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import pytest

from webapp import create_app
from webapp.i18n import measured as figure


class _Collector(HTMLParser):
    """Collects tags with their attributes, and inline script bodies."""

    def __init__(self):
        super().__init__()
        self.tags: list[tuple[str, dict]] = []
        self.inline_scripts: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        self.tags.append((tag, attributes))
        self._in_script = tag == "script" and "src" not in attributes

    def handle_endtag(self, tag):
        if tag == "script":
            self._in_script = False

    def handle_data(self, data):
        if self._in_script and data.strip():
            self.inline_scripts.append(data)


def parse(html: str) -> _Collector:
    collector = _Collector()
    collector.feed(html)
    return collector


def text_of(html: str) -> str:
    """The visible words of a page, whitespace collapsed."""
    without_scripts = re.sub(r"<(script|style)\b.*?</\1>", " ", html, flags=re.S)
    return html_module.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", without_scripts)))


@pytest.fixture
def screener(client):
    """The skin-lesion screener's page (the home page, /, lists the screeners: test_home.py)."""
    response = client.get("/screen/skin_lesion")
    assert response.status_code == 200
    return response.get_data(as_text=True)


def test_screener_page_says_what_it_is(screener, task_metadata):
    page = parse(screener)
    main = [attrs for tag, attrs in page.tags if tag == "main"][0]
    assert main["data-task"] == "skin_lesion"
    text = text_of(screener)
    assert task_metadata["title"] in text
    assert "This is not a diagnosis" in text
    assert "see a doctor" in text
    assert "never leaves your device" in text
    assert "Loading model…" in text
    assert [attrs["src"] for tag, attrs in page.tags if tag == "script"] == [
        "/static/js/offline.js",
        "/static/js/screen-page.js",
    ]


def test_screener_has_file_camera_and_status_controls(screener):
    page = parse(screener)
    files = [attrs for tag, attrs in page.tags if tag == "input" and attrs.get("type") == "file"]
    assert len(files) == 2
    assert all(attrs["accept"] == "image/*" for attrs in files)
    assert [attrs.get("capture") for attrs in files] == [None, "environment"]
    labels = {attrs.get("for") for tag, attrs in page.tags if tag == "label"}
    assert {attrs["id"] for attrs in files} <= labels
    roles = [attrs.get("role") for tag, attrs in page.tags]
    assert "status" in roles and "alert" in roles
    assert 'id="drop-zone"' in screener


def test_details_form_is_built_from_metadata(screener, task_metadata):
    page = parse(screener)
    fields = {field["name"]: field for field in task_metadata["metadata_encoding"]["fields"]}
    age = [attrs for tag, attrs in page.tags if tag == "input" and attrs.get("data-field") == "age"]
    assert len(age) == 1
    assert age[0]["type"] == "number"
    assert (float(age[0]["min"]), float(age[0]["max"])) == (
        fields["age"]["minimum"],
        fields["age"]["maximum"],
    )
    for name in ("sex", "site"):
        match = re.search(rf'<select[^>]*data-field="{name}"[^>]*>(.*?)</select>', screener, re.S)
        assert match, name
        values = re.findall(r'<option value="([^"]*)"', match.group(1))
        assert values == ["", *fields[name]["values"]]
        assert "Unknown / prefer not to say" in match.group(1)
        for value_name in fields[name]["value_names"]:
            assert f">{value_name}</option>" in match.group(1)


def test_every_label_is_explained_from_metadata(screener, task_metadata):
    text = text_of(screener)
    for label in task_metadata["labels"]:
        assert label["name"] in text
        assert label["description"] in text


# ---- per-kind test results ("What the model tells apart") -----------------------------


def results_rows(html: str) -> dict[str, dict]:
    """{label id: {"header", "support", "sensitivity", "specificity", "auc", "classes"}}: the
    visible text of each row of the results table."""
    rows = {}
    for label_id, attributes, body in re.findall(
        r'<tr[^>]*data-label-id="([^"]+)"([^>]*)>(.*?)</tr>', html, re.S
    ):
        row = {
            "header": text_of(re.search(r"<th\b.*?</th>", body, re.S).group(0)).strip(),
            "classes": re.search(r'class="([^"]*)"', attributes).group(1).split()
            if "class=" in attributes
            else [],
            "support": text_of(
                re.search(r'data-label="Test images">(.*?)</td>', body, re.S).group(1)
            ).strip(),
        }
        for metric, cell in re.findall(r'data-metric="(\w+)">(.*?)</td>', body, re.S):
            row[metric] = text_of(cell).strip()
        rows[label_id] = row
    return rows


def shows_percent(text: str, fraction) -> bool:
    """True when ``text`` is how the page should show ``fraction`` (None: not measured)."""
    if fraction is None:
        return "not measured" in text
    if text == "<1%":
        return 0 < fraction < 0.005
    if text == ">99%":
        return 0.995 <= fraction < 1
    match = re.fullmatch(r"(\d+)%", text)
    return bool(match) and int(match.group(1)) == math.floor(fraction * 100 + 0.5)


def shown_task_metadata(html: str) -> dict:
    """The metadata.json of the task the page says it is, read from the models folder."""
    from conftest import MODELS_DIR

    task_id = re.search(r'<main[^>]*data-task="([^"]+)"', html).group(1)
    return json.loads((MODELS_DIR / task_id / "metadata.json").read_text())


def assert_rows_match(html: str, metadata: dict) -> dict:
    results = metadata["metrics"]["test"]["without_metadata"]
    rows = results_rows(html)
    assert list(rows) == [label["id"] for label in metadata["labels"]]
    for label in metadata["labels"]:
        row, measured = rows[label["id"]], results["per_class"][label["id"]]
        assert row["header"].startswith(label["name"]), label["id"]
        assert row["support"] == str(measured["support"]), label["id"]
        for metric in ("sensitivity", "specificity"):
            assert shows_percent(row[metric], measured[metric]), (label["id"], metric, row[metric])
        if measured["auc"] is None:
            assert "not measured" in row["auc"]
        else:
            assert row["auc"] == figure(measured["auc"], 2), label["id"]  # never "1.00"
        missed = measured["sensitivity"] is not None and measured["sensitivity"] < 0.5
        assert ("often missed" in row["header"]) == missed, label["id"]
    return rows


def test_every_kind_shows_the_test_figures_of_metadata(screener):
    metadata = shown_task_metadata(screener)
    text = text_of(screener)
    results = ((metadata.get("metrics") or {}).get("test") or {}).get("without_metadata")
    if not results:
        assert "has no measured results" in text
        assert results_rows(screener) == {}
        return
    assert_rows_match(screener, metadata)
    assert f"How the model did on {results['n']} test images" in text
    group = metadata.get("split_group") or "case"
    assert f"None of them comes from a {group} it saw in training" in text
    for term in ("Sensitivity:", "Specificity:"):
        assert term in text


def test_a_poorly_found_kind_is_marked_often_missed(client_with_metadata):
    def edit(metadata):
        per_class = metadata["metrics"]["test"]["without_metadata"]["per_class"]
        poor, good, untested, *rest = [label["id"] for label in metadata["labels"]]
        for label_id in rest:
            per_class[label_id].update(sensitivity=0.5, specificity=0.9, auc=0.8)  # not below
        per_class[poor].update(support=10, sensitivity=0.2, specificity=0.9991, auc=0.61)
        per_class[good].update(support=10, sensitivity=0.9, specificity=0.004, auc=0.9)
        per_class[untested].update(
            support=0, sensitivity=None, specificity=0.95, precision=None, auc=None
        )

    client, metadata = client_with_metadata(edit)
    html = client.get(f"/screen/{metadata['task']}").get_data(as_text=True)
    rows = assert_rows_match(html, metadata)
    poor, good, untested, *_ = [label["name"] for label in metadata["labels"]]
    poor_id, good_id, untested_id, *_ = rows
    assert "often missed" in rows[poor_id]["header"]
    assert "is-often-missed" in rows[poor_id]["classes"]
    assert [rows[poor_id]["sensitivity"], rows[poor_id]["specificity"]] == ["20%", ">99%"]
    assert rows[good_id]["specificity"] == "<1%"
    assert "not tested" in rows[untested_id]["header"]
    assert [row_id for row_id, row in rows.items() if "often missed" in row["header"]] == [poor_id]
    summary = text_of(re.search(r'<p class="often-missed-summary">.*?</p>', html, re.S).group(0))
    assert poor in summary and good not in summary and untested not in summary


def test_caption_names_what_the_split_kept_apart(client_with_metadata):
    client, metadata = client_with_metadata(lambda metadata: metadata.update(split_group="slide"))
    text = text_of(client.get(f"/screen/{metadata['task']}").get_data(as_text=True))
    assert "None of them comes from a slide it saw in training" in text


def test_without_metrics_the_kinds_are_still_listed(client_with_metadata):
    client, metadata = client_with_metadata(lambda metadata: metadata.update(metrics={}))
    html = client.get(f"/screen/{metadata['task']}").get_data(as_text=True)
    text = text_of(html)
    assert "has no measured results" in text
    assert "has not been evaluated" in text
    assert "often missed" not in text and results_rows(html) == {}
    for label in metadata["labels"]:
        assert label["name"] in text and label["description"] in text


@pytest.mark.parametrize(
    ("fraction", "shown"),
    [
        (0.0, "0%"),
        (0.004, "<1%"),
        (0.005, "1%"),
        (0.125, "13%"),
        (0.5, "50%"),
        (0.8, "80%"),
        (0.994, "99%"),
        (0.995, ">99%"),
        (0.9999, ">99%"),
        (1.0, "100%"),
        (1, "100%"),
        (None, "–"),
        (float("nan"), "–"),
        (True, "–"),
    ],
)
def test_percent_never_rounds_a_miss_away(fraction, shown):
    from webapp.catalog import format_percent

    assert format_percent(fraction) == shown


def test_models_folder_setting_is_what_pages_and_browser_get(client_with_metadata):
    client, metadata = client_with_metadata(lambda metadata: metadata.update(title="Edited copy"))
    assert "Edited copy" in text_of(client.get("/").get_data(as_text=True))
    assert "Edited copy" in text_of(
        client.get(f"/screen/{metadata['task']}").get_data(as_text=True)
    )
    response = client.get(f"/static/tfjs_model/{metadata['task']}/metadata.json")
    try:
        assert response.status_code == 200 and response.mimetype == "application/json"
        assert response.get_json()["title"] == "Edited copy"
    finally:
        response.close()
    assert client.get("/static/tfjs_model/no_such_file.json").status_code == 404


def test_model_facts_come_from_metadata(screener, task_metadata):
    assert task_metadata["version"] in screener
    test = (task_metadata.get("metrics") or {}).get("test") or {}
    if test.get("with_metadata"):
        assert f"Tested on {test['with_metadata']['n']} images" in text_of(screener)
    else:
        assert "has not been evaluated" in screener


def test_screener_page_per_task(client):
    assert client.get("/screen/skin_lesion").status_code == 200
    response = client.get("/screen/not_a_task")
    assert response.status_code == 404
    body = text_of(response.get_data(as_text=True))
    assert "not_a_task" in body and "skin_lesion" in body


def test_no_inline_script_and_a_strict_policy(client, screener):
    assert parse(screener).inline_scripts == []
    policy = client.get("/").headers["Content-Security-Policy"]
    assert "default-src 'self'" in policy
    assert "unsafe-inline" not in policy
    assert "'unsafe-eval'" not in policy
    assert client.get("/").headers["X-Content-Type-Options"] == "nosniff"


@pytest.mark.parametrize("path", ["/", "/screen/skin_lesion", "/no/such/page"])
def test_no_url_to_another_host(client, path):
    html = client.get(path).get_data(as_text=True)
    urls = re.findall(r"(?:https?:)?//[^\s\"'<>)]+", html)
    assert urls == []
    for tag, attrs in parse(html).tags:
        for name in ("src", "href", "action"):
            value = attrs.get(name)
            if value is not None:
                assert value.startswith(("/", "#")), (tag, name, value)


@pytest.mark.parametrize(
    ("path", "mimetype"),
    [
        ("/static/js/classifier.js", "text/javascript"),
        ("/static/js/screen-page.js", "text/javascript"),
        ("/static/vendor/tfjs/tf-core.es2017.min.js", "text/javascript"),
        ("/static/vendor/tfjs/tfjs-backend-wasm.wasm", "application/wasm"),
        ("/static/tfjs_model/index.json", "application/json"),
        ("/static/tfjs_model/skin_lesion/model.json", "application/json"),
        ("/static/tfjs_model/skin_lesion/metadata.json", "application/json"),
        ("/static/css/site.css", "text/css"),
        ("/bootstrap/static/css/bootstrap.min.css", "text/css"),
    ],
)
def test_static_files_are_served(client, path, mimetype):
    response = client.get(path)
    try:
        assert response.status_code == 200
        assert response.mimetype == mimetype
        assert len(response.get_data()) > 100
    finally:
        response.close()


def test_model_files_match_metadata(client, task_metadata):
    for name in task_metadata["weights"]["files"]:
        response = client.get(f"/static/tfjs_model/skin_lesion/{name}")
        assert response.status_code == 200, name
        response.close()


def test_unknown_page_is_friendly(client):
    response = client.get("/no/such/page")
    assert response.status_code == 404
    assert response.mimetype == "text/html"
    html = response.get_data(as_text=True)
    assert "Page not found" in html
    assert '<a class="btn btn-primary" href="/">Back to the screeners</a>' in html
    assert "Traceback" not in html


@pytest.mark.parametrize("method", ["post", "put", "delete", "patch"])
def test_pages_only_accept_get(client, method):
    response = getattr(client, method)("/")
    assert response.status_code == 405
    assert set(response.headers["Allow"].replace(" ", "").split(",")) >= {"GET", "HEAD"}
    assert "POST" not in response.headers["Allow"]
    html = response.get_data(as_text=True)
    assert "can only be viewed" in html and 'href="/"' in html


def test_head_is_allowed(client):
    response = client.head("/")
    assert response.status_code == 200
    assert response.get_data() == b""


def test_only_get_routes(app):
    for rule in app.url_map.iter_rules():
        assert rule.methods <= {"GET", "HEAD", "OPTIONS"}, rule


def test_config_overrides_and_environment(monkeypatch):
    assert create_app().config["BOOTSTRAP_SERVE_LOCAL"] is True
    monkeypatch.setenv("SCREENER_DEFAULT_TASK", "from_env")
    assert create_app().config["DEFAULT_TASK"] == "from_env"

    class Overrides:
        DEFAULT_TASK = "from_object"

    assert create_app(Overrides).config["DEFAULT_TASK"] == "from_object"
    assert create_app({"DEFAULT_TASK": "from_dict"}).config["DEFAULT_TASK"] == "from_dict"


def test_unknown_default_task_is_a_readable_404():
    client = create_app({"TESTING": True, "DEFAULT_TASK": "nope"}).test_client()
    assert client.get("/").status_code == 200  # the home page lists what there is
    response = client.get("/performance")  # an address without a task shows DEFAULT_TASK
    assert response.status_code == 404
    assert "skin_lesion" in response.get_data(as_text=True)


def test_webapp_never_imports_training_or_tensorflow():
    code = (
        "import sys, webapp; app = webapp.create_app({'TESTING': True}); "
        "app.test_client().get('/'); "
        "bad = [m for m in sys.modules if m.split('.')[0] in ('training', 'tensorflow', 'keras')]; "
        "print(bad); sys.exit(1 if bad else 0)"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        cwd=Path(__file__).resolve().parent.parent,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_wsgi_entry_point():
    import wsgi

    assert wsgi.application.test_client().get("/").status_code == 200


def test_every_page_describes_itself(client):
    """A meta description per page (search results, link previews): there, readable,
    and different on each page."""
    tasks = [
        task["id"]
        for task in json.loads(
            (Path(__file__).parent.parent / "static" / "tfjs_model" / "index.json").read_text()
        )["tasks"]
    ]
    pages = ["/", "/offline", "/no/such/page"] + [
        f"/{kind}/{task}"
        for task in tasks
        for kind in ("screen", "performance", "data", "model-card")
    ]
    seen = {}
    for page in pages:
        metas = [
            attributes
            for tag, attributes in parse(client.get(page).get_data(as_text=True)).tags
            if tag == "meta" and attributes.get("name") == "description"
        ]
        assert len(metas) == 1, page
        description = metas[0]["content"]
        assert 40 <= len(description) <= 300 or page == "/no/such/page", (page, description)
        assert description == description.strip() and "  " not in description
        seen.setdefault(description, []).append(page)
    assert [pages for pages in seen.values() if len(pages) > 1] == []
