"""The performance, data and model-card pages through Flask's test client.

What they show must be what the report files say: numbers are compared with
reports/<task>/*.json, and pages must keep working when a file is missing or
damaged, and for a task with other labels and no details input. The pages print the
finished tables of tables.json (training.reporting.site_tables, tested on its own in
test_site_tables.py): a test that changes a report file makes its tables again, as the
release does, before it opens a page (``bare_reports``).
"""

from __future__ import annotations

import base64
import hashlib
import html as html_module
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from test_webapp import parse, text_of

from conftest import MODELS_DIR, REPORTS_DIR, ROOT, SECOND_TASK, TEST_CONFIG, load_script
from training.inputs.tasks import get_task
from training.reporting.site_tables import TABLES_FILE, write_site_tables
from webapp import create_app
from webapp.i18n import measured as share_written
from webapp.report_files import REPORT_FILES

# The collections of the first task, as the task registry names them.
SOURCES = {source: (name, where) for source, name, where in get_task("skin_lesion").sources}

TASK = json.loads((MODELS_DIR / "index.json").read_text())["tasks"][0]["id"]
PAGES = ("/performance", "/data", "/model-card")
CHART_PAGES = ("/performance", "/data")


def report_file(name: str, task: str = TASK) -> dict:
    """The report file the pages call ``name`` (webapp.reports.REPORT_FILES), or any other."""
    file = REPORT_FILES[name] if name in REPORT_FILES else f"{name}.json"
    return json.loads((REPORTS_DIR / task / file).read_text())


def figures(html: str) -> dict[str, dict]:
    """{element id: Plotly figure} of every chart the page will draw."""
    return {
        chart_id: json.loads(html_module.unescape(figure))
        for chart_id, figure in re.findall(
            r'<div class="chart-plot" id="([^"]+)" data-figure="([^"]*)"', html
        )
    }


def percent1(fraction: float) -> str:
    return f"{fraction * 100:.1f}%"


def cell(html: str, attribute: str, row: str | None = None) -> str:
    """The text of the table cell carrying ``attribute`` (in the row of label ``row``)."""
    if row is not None:
        html = re.search(rf'<tr[^>]*data-label-id="{row}"[^>]*>(.*?)</tr>', html, re.S).group(1)
    return text_of(re.search(rf'<td[^>]*{attribute}[^>]*>(.*?)</td>', html, re.S).group(1)).strip()


@pytest.fixture
def site(two_task_folders):
    models, reports = two_task_folders
    for task in (TASK, SECOND_TASK):
        write_site_tables(task, reports / task, models / task / "metadata.json")
    app = create_app({**TEST_CONFIG, "MODELS_FOLDER": str(models), "REPORTS_FOLDER": str(reports)})
    return app.test_client()


class ReleasedClient:
    """A test client that makes the task's tables.json from its report files before each
    page, as the release does after it writes them (so a test may change a file first)."""

    def __init__(self, client, folder, metadata=MODELS_DIR / TASK / "metadata.json"):
        self.client, self.folder, self.metadata = client, folder, metadata

    def get(self, *args, **kwargs):
        write_site_tables(TASK, self.folder, self.metadata)
        return self.client.get(*args, **kwargs)


@pytest.fixture
def bare_reports(tmp_path):
    """``make(names, damaged=())`` → a client whose reports folder holds only ``names`` of
    the first task's report files (plus ``damaged`` ones holding broken JSON), and the
    tables made from them."""

    def make(names, damaged=()):
        folder = tmp_path / "reports" / TASK
        folder.mkdir(parents=True, exist_ok=True)
        for name in names:
            shutil.copy(REPORTS_DIR / TASK / REPORT_FILES[name], folder)
        for name in damaged:
            (folder / REPORT_FILES[name]).write_text('{"labels": [')
        app = create_app({**TEST_CONFIG, "REPORTS_FOLDER": str(tmp_path / "reports")})
        return ReleasedClient(app.test_client(), folder)

    return make


# ---- every page, as shipped --------------------------------------------------------------


@pytest.mark.parametrize("path", [*PAGES, *(f"{page}/{TASK}" for page in PAGES)])
def test_pages_answer_with_their_task(client, path):
    response = client.get(path)
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert f'data-task="{TASK}"' in html
    assert "Traceback" not in html


@pytest.mark.parametrize("path", CHART_PAGES)
def test_chart_pages_have_at_least_four_charts_each_with_a_caption(client, path):
    html = client.get(path).get_data(as_text=True)
    charts = figures(html)
    assert len(charts) >= 4
    for chart_id, figure in charts.items():
        assert figure["data"], chart_id
        block = re.search(rf'id="{chart_id}".*?</figure>', html, re.S).group(0)
        caption = text_of(re.search(r"<figcaption[^>]*>(.*?)</figcaption>", block, re.S).group(1))
        assert caption.strip().endswith("."), chart_id
        assert len(caption.split()) >= 8, chart_id
    assert "report-missing" not in html


def test_performance_shows_every_figure_the_issue_asks_for(client):
    charts = figures(client.get("/performance").get_data(as_text=True))
    # One reliability diagram: before and after calibration where the model was calibrated.
    calibrated = (REPORTS_DIR / TASK / "calibration.json").is_file()
    expected = {
        "chart-loss",
        "chart-accuracy",
        "chart-balanced-accuracy",
        "chart-schedule",
        "chart-confusion-counts",
        "chart-confusion-normalised",
        "chart-roc",
        "chart-precision-recall",
        "chart-calibration" if calibrated else "chart-reliability",
    }
    if "with_metadata" in report_file("report"):
        expected.add("chart-metadata-effect")
    if (REPORTS_DIR / TASK / "leave_one_source_out.json").is_file():
        expected.add("chart-held-out-sources")
    assert set(charts) == expected


def test_data_page_shows_every_recorded_column(client):
    data = report_file("data")
    charts = figures(client.get("/data").get_data(as_text=True))
    expected = {"chart-classes", "chart-groups", "chart-split"}
    expected |= {f"chart-{key}" for key in data.get("categories", {})}
    expected |= {"chart-age"} if data.get("age") else set()
    assert set(charts) == expected


def test_headline_and_per_kind_numbers_are_the_report_numbers(client):
    report = report_file("report")
    html = client.get("/performance").get_data(as_text=True)
    for variant in ("without_metadata", "with_metadata"):
        if variant not in report:
            continue
        result = report[variant]
        for key in ("accuracy", "balanced_accuracy"):
            assert cell(html, f'data-metric="{key}" data-variant="{variant}"') == percent1(
                result[key]
            )
        assert cell(html, f'data-metric="macro_auc" data-variant="{variant}"') == (
            f"{result['macro_auc']:.3f}"
        )
    # The table and figures default to the image alone, as when no details are given.
    for label, measured in report["without_metadata"]["per_class"].items():
        assert cell(html, 'data-metric="support"', label) == str(measured["support"])
        for metric in ("sensitivity", "specificity"):
            assert cell(html, f'data-metric="{metric}"', label) == percent1(measured[metric])


def test_details_given_shows_the_evaluation_with_details(client):
    report = report_file("report")
    if "with_metadata" not in report:
        pytest.skip("the shipped model takes no details")
    html = client.get("/performance?details=given").get_data(as_text=True)
    for label, measured in report["with_metadata"]["per_class"].items():
        assert cell(html, 'data-metric="sensitivity"', label) == percent1(measured["sensitivity"])
    charts = figures(html)
    assert (
        charts["chart-confusion-counts"]["data"][0]["z"]
        == report["with_metadata"]["confusion_matrix"]
    )


def test_figures_plot_the_report_numbers(client, task_metadata):
    report, curves, history = report_file("report"), report_file("curves"), report_file("history")
    charts = figures(client.get("/performance").get_data(as_text=True))
    assert (
        charts["chart-confusion-counts"]["data"][0]["z"]
        == report["without_metadata"]["confusion_matrix"]
    )
    rows = report["without_metadata"]["confusion_matrix"]
    shares = charts["chart-confusion-normalised"]["data"][0]["z"]
    for row, shared in zip(rows, shares):
        assert shared == pytest.approx([n / sum(row) for n in row])
    roc = {trace["name"]: trace for trace in charts["chart-roc"]["data"]}
    names = {label["id"]: label["name"] for label in task_metadata["labels"]}
    for label, curve in curves["without_metadata"]["per_class"].items():
        if curve is None:
            continue
        [trace] = [
            t
            for name, t in roc.items()
            if name.startswith(names[label])
            and f"(AUC {share_written(curve['roc']['auc'], 2)})" in name
        ]
        assert trace["x"] == curve["roc"]["fpr"] and trace["y"] == curve["roc"]["tpr"]
    loss = charts["chart-loss"]["data"]
    assert [trace["y"] for trace in loss] == [
        history["epochs"]["loss"],
        history["epochs"]["val_loss"],
    ]
    assert charts["chart-schedule"]["data"][0]["y"] == history["schedule"]["learning_rate"]


def test_without_calibration_json_the_reliability_diagram_comes_from_curves(bare_reports):
    html = bare_reports(["report", "history", "curves"]).get("/performance").get_data(as_text=True)
    reliability = report_file("curves")["without_metadata"]["reliability"]
    bars = figures(html)["chart-reliability"]["data"][0]
    assert bars["y"] == reliability["accuracy"]
    assert f"{reliability['ece']:.3f}" in text_of(html)
    assert "calibration was not measured" in text_of(html)
    assert "chart-calibration" not in html


def test_data_figures_and_counts_are_the_data_numbers(client, task_metadata):
    data = report_file("data")
    html = client.get("/data").get_data(as_text=True)
    assert f"{data['n_images']:,} images" in text_of(html)
    for label in (label["id"] for label in task_metadata["labels"]):
        assert cell(html, 'data-count="images"', label) == f"{data['images_per_label'][label]:,}"
        assert cell(html, 'data-count="groups"', label) == f"{data['groups_per_label'][label]:,}"
        assert cell(html, 'data-count="test"', label) == f"{data['split']['test'][label]:,}"
    charts = figures(html)
    assert charts["chart-classes"]["data"][0]["x"] == [
        data["images_per_label"][i] for i in data["labels"]
    ]


def test_model_card_has_its_prose_metrics_and_licence(client, task_metadata):
    html = client.get("/model-card").get_data(as_text=True)
    text = text_of(html)
    report = report_file("report")
    for heading in (
        "Intended use",
        "Must not be used",
        "Training data",
        "Known gaps",
        "Licences and citations",
    ):
        assert re.search(rf"<h2[^>]*>{heading}</h2>", html), heading
    assert "CC BY-NC-SA 4.0" in text and "doi:10.1038/sdata.2018.161" in text
    assert "not a diagnosis" in text
    assert cell(html, 'data-metric="balanced_accuracy" data-variant="without_metadata"') == (
        percent1(report["without_metadata"]["balanced_accuracy"])
    )
    assert task_metadata["version"] in text
    for label in task_metadata["labels"]:
        assert label["name"] in text
    mirrors = task_metadata["training"].get("tta") == "mirrors"
    assert ("The mean of four views" in text) == mirrors


def test_header_links_every_page_of_the_task(client):
    html = client.get(f"/screen/{TASK}").get_data(as_text=True)
    nav = re.search(r'<nav aria-label="Site">(.*?)</nav>', html, re.S).group(1)
    links = dict(
        (text_of(name).strip(), href)
        for href, name in re.findall(
            r'<a class="nav-link" href="([^"]+)"[^>]*>(.*?)</a>', nav, re.S
        )
    )
    assert links == {
        "All screeners": "/",
        "History": "/history",
        "Screener": f"/screen/{TASK}",
        "Performance": f"/performance/{TASK}",
        "Data": f"/data/{TASK}",
        "Model card": f"/model-card/{TASK}",
    }
    for path in links.values():
        assert client.get(path).status_code == 200
    current = re.search(
        r'<nav aria-label="Site">.*?</nav>', client.get("/data").get_data(as_text=True), re.S
    ).group(0)
    assert re.search(r'aria-current="page">Data<', current)


# ---- the policy, the scripts and other hosts ----------------------------------------------


@pytest.mark.parametrize("path", PAGES)
def test_no_inline_script_and_scripts_stay_strict(client, path):
    response = client.get(path)
    assert parse(response.get_data(as_text=True)).inline_scripts == []
    policy = dict(
        part.strip().split(" ", 1)
        for part in response.headers["Content-Security-Policy"].split(";")
    )
    site = dict(
        part.strip().split(" ", 1)
        for part in create_app().config["CONTENT_SECURITY_POLICY"].split(";")
    )
    assert "unsafe" not in policy["style-src"]
    assert "'unsafe-inline'" not in policy["script-src"]
    assert "'unsafe-eval'" not in policy["script-src"]
    assert {k: v for k, v in policy.items() if k != "style-src"} == {
        k: v for k, v in site.items() if k != "style-src"
    }
    if path in CHART_PAGES:
        assert (
            policy["style-src"]
            == site["style-src"] + " " + create_app().config["CHART_STYLE_SOURCES"]
        )
    else:
        assert policy["style-src"] == site["style-src"]


def test_the_screener_keeps_the_site_policy(client):
    policy = client.get(f"/screen/{TASK}").headers["Content-Security-Policy"]
    assert policy == create_app().config["CONTENT_SECURITY_POLICY"]


PLOTLY = ROOT / "static" / "vendor" / "plotly"


def test_chart_style_hashes_fit_the_vendored_plotly():
    """The empty string, and the stylesheet plotly.js injects as it loads (see webapp.config)."""

    def digest(text: str) -> str:
        return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode()).digest()).decode() + "'"

    script = (PLOTLY / "plotly-cartesian.min.js").read_text()
    injected = re.findall(r"createElement\(\"style\"\);[^;]*?textContent='([^']*)'", script)
    assert len(injected) == 1, "plotly.js now injects other stylesheets; review CHART_STYLE_SOURCES"
    assert create_app().config["CHART_STYLE_SOURCES"].split() == [digest(""), digest(injected[0])]


def test_plotly_js_is_the_pinned_partial_bundle_loaded_by_charts_js(client):
    """No plotly.js <script> on the page: charts.js loads the vendored partial bundle (the
    version package.json pins) when the first chart nears the screen."""
    html = client.get("/performance").get_data(as_text=True)
    scripts = [attrs for tag, attrs in parse(html).tags if tag == "script"]
    assert [attrs["src"] for attrs in scripts] == [
        "/static/js/offline.js",
        "/static/js/charts.js",
        "/static/js/report-topics.js",
    ]
    pinned = json.loads((ROOT / "package.json").read_text())["dependencies"][
        "plotly.js-cartesian-dist-min"
    ]
    assert json.loads((PLOTLY / "VERSIONS.json").read_text()) == {
        "plotly.js-cartesian-dist-min": pinned
    }
    source = scripts[1]["data-plotly"]
    assert source == f"/vendor/plotly.min.js?v=cartesian-{pinned}"
    response = client.get(source)
    try:
        assert response.status_code == 200 and response.mimetype == "text/javascript"
        assert response.get_data() == (PLOTLY / "plotly-cartesian.min.js").read_bytes()
        assert response.get_data().startswith(
            f"/**\n* plotly.js (cartesian - minified) v{pinned}".encode()
        )
    finally:
        response.close()
    assert client.get("/model-card").get_data(as_text=True).count("charts.js") == 0


def test_the_partial_bundle_draws_every_trace_type_the_pages_use(client, site):
    bundle = (PLOTLY / "plotly-cartesian.min.js").read_text()
    drawable = set(re.findall(r'moduleType:"trace",name:"(\w+)"', bundle))
    used = set()
    for app, paths in ((client, CHART_PAGES), (site, [f"{p}/{SECOND_TASK}" for p in CHART_PAGES])):
        for path in paths:
            for figure in figures(app.get(path).get_data(as_text=True)).values():
                used |= {trace.get("type", "scatter") for trace in figure["data"]}
    assert used == {"scatter", "bar", "heatmap"}
    assert used <= drawable


@pytest.mark.parametrize("path", PAGES)
def test_nothing_is_loaded_from_another_host(client, path):
    html = client.get(path).get_data(as_text=True)
    for tag, attrs in parse(html).tags:
        for name in ("src", "action"):
            if attrs.get(name) is not None:
                assert attrs[name].startswith("/"), (tag, name, attrs[name])
        if tag == "link":
            assert attrs["href"].startswith("/"), attrs
        if tag == "a" and not attrs["href"].startswith(("/", "#")):
            # Only the model card cites its sources, as links a person may follow.
            assert path == "/model-card", attrs
            assert re.match(r"https://(doi\.org|creativecommons\.org)/", attrs["href"]), attrs


def test_pages_never_import_training_or_tensorflow():
    code = (
        "import sys, webapp; client = webapp.create_app({'TESTING': True}).test_client(); "
        "assert all(client.get(p).status_code == 200 for p in "
        f"{PAGES!r}); "
        "bad = [m for m in sys.modules "
        "       if m.split('.')[0] in ('training', 'tensorflow', 'keras')]; "
        "print(bad); sys.exit(1 if bad else 0)"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=120
    )
    assert result.returncode == 0, result.stdout + result.stderr


# ---- missing, damaged, unknown ------------------------------------------------------------


@pytest.mark.parametrize("path", PAGES)
def test_without_any_report_the_pages_say_so(bare_reports, path):
    response = bare_reports([]).get(f"{path}/{TASK}")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    text = text_of(html)
    assert "is missing, so it cannot be shown here" in text
    assert figures(html) == {}
    if path == "/performance":
        for name in ("report.json", "history.json", "curves.json"):
            assert f"({name}) is missing" in text


def test_each_missing_file_hides_only_its_own_figures(bare_reports):
    client = bare_reports(["report"], damaged=["curves"])
    html = client.get("/performance").get_data(as_text=True)
    text = text_of(html)
    assert set(figures(html)) >= {"chart-confusion-counts", "chart-confusion-normalised"}
    assert "(history.json) is missing" in text
    assert "(curves.json) is damaged" in text
    assert "chart-roc" not in figures(html)


def test_data_page_without_data_json_shows_the_split_from_the_report(bare_reports):
    html = bare_reports(["report"]).get("/data").get_data(as_text=True)
    assert "(data.json) is missing" in text_of(html)
    assert set(figures(html)) == {"chart-split"}


def test_a_report_lacking_a_field_costs_one_chart_not_the_page(bare_reports, tmp_path):
    client = bare_reports(["report", "history", "curves"])
    history = report_file("history")
    del history["schedule"]
    (tmp_path / "reports" / TASK / "history.json").write_text(json.dumps(history))
    response = client.get("/performance")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "chart-schedule" not in figures(html) and "chart-loss" in figures(html)
    assert "history.json does not hold what it needs" in text_of(html)


def test_model_card_without_its_text_says_so(tmp_path):
    client = create_app({**TEST_CONFIG, "MODEL_CARDS_FOLDER": str(tmp_path)}).test_client()
    response = client.get("/model-card")
    assert response.status_code == 200
    assert "written part of this model card" in text_of(response.get_data(as_text=True))


@pytest.mark.parametrize("path", PAGES)
def test_unknown_task_is_a_readable_404(client, path):
    response = client.get(f"{path}/not_a_task")
    assert response.status_code == 404
    text = text_of(response.get_data(as_text=True))
    assert "not_a_task" in text and TASK in text and "Page not found" in text


def released_for(client, task_metadata_path, tmp_path):
    """A client of the same models as ``client`` whose reports are a copy of the first
    task's, with tables.json made for the metadata.json at ``task_metadata_path``."""
    folder = tmp_path / "released" / TASK
    shutil.copytree(REPORTS_DIR / TASK, folder)
    write_site_tables(TASK, folder, task_metadata_path)
    return create_app(
        {
            **TEST_CONFIG,
            "MODELS_FOLDER": client.application.config["MODELS_FOLDER"],
            "REPORTS_FOLDER": str(folder.parent),
        }
    ).test_client()


@pytest.mark.parametrize("other_run", [False, True])
def test_reports_of_another_run_are_flagged(client_with_metadata, other_run, tmp_path):
    report = report_file("report")

    def edit(metadata):
        metadata["metrics"] = {
            "test": {v: report[v] for v in ("with_metadata", "without_metadata") if v in report}
        }
        if other_run:
            metadata["metrics"]["test"]["without_metadata"] = {
                **report["without_metadata"],
                "n": report["without_metadata"]["n"] + 1,
            }

    client, _ = client_with_metadata(edit)
    models = Path(client.application.config["MODELS_FOLDER"])
    client = released_for(client, models / TASK / "metadata.json", tmp_path)
    for path in ("/performance", "/model-card"):
        html = client.get(path).get_data(as_text=True)
        assert ("These reports do not match the installed model" in html) is other_run, path


def test_tables_made_for_another_model_version_are_flagged(client_with_metadata):
    """The site compares one thing: the version tables.json was made for."""
    client, metadata = client_with_metadata(lambda m: m.update(version="another0run"))
    for path in ("/performance", "/model-card"):
        html = client.get(path).get_data(as_text=True)
        assert "These reports do not match the installed model" in html, path


@pytest.mark.parametrize("damaged", [False, True])
def test_without_tables_json_the_pages_say_so_and_keep_their_charts(tmp_path, damaged):
    folder = tmp_path / "reports" / TASK
    shutil.copytree(REPORTS_DIR / TASK, folder)
    if damaged:
        (folder / TABLES_FILE).write_text('{"tables": [')
    else:
        (folder / TABLES_FILE).unlink()
    client = create_app({**TEST_CONFIG, "REPORTS_FOLDER": str(tmp_path / "reports")}).test_client()
    state = "damaged" if damaged else "missing"
    for path in PAGES:
        response = client.get(f"{path}/{TASK}")
        assert response.status_code == 200
        text = text_of(response.get_data(as_text=True))
        assert f"(tables.json) is {state}" in text, path
        assert f"python -m training.reporting.site_tables {TASK}" in text
    html = client.get("/performance").get_data(as_text=True)
    assert {"chart-roc", "chart-confusion-counts"} <= set(figures(html))
    assert "data-table=" not in html


# ---- a second task: other labels, no details, a data.json without age or sex -------------


def test_several_tasks_get_a_selector_and_pages_each(site, client_with_metadata):
    for path in PAGES:
        html = site.get(f"{path}/{SECOND_TASK}").get_data(as_text=True)
        selector = re.search(r'<nav class="task-selector[^>]*>(.*?)</nav>', html, re.S).group(1)
        assert f'href="{path}/{TASK}"' in selector
        assert re.search(rf'href="{path}/{SECOND_TASK}"\s+aria-current="page"', selector)
    single_task_site, _ = client_with_metadata(lambda metadata: None)
    assert "task-selector" not in single_task_site.get("/performance").get_data(as_text=True)


def test_a_task_without_details_has_no_details_figures(site, two_task_folders):
    _, reports = two_task_folders
    report = json.loads((reports / SECOND_TASK / "report.json").read_text())
    html = site.get(f"/performance/{SECOND_TASK}").get_data(as_text=True)
    text = text_of(html)
    charts = figures(html)
    assert "chart-metadata-effect" not in charts and len(charts) == 9
    assert "This model takes the image only" in text
    assert "Image and details" not in text and "details=given" not in html
    assert "validation, no details" not in json.dumps(charts["chart-balanced-accuracy"])
    assert cell(html, 'data-metric="sensitivity"', "yes") == percent1(
        report["without_metadata"]["per_class"]["yes"]["sensitivity"]
    )
    assert "none of them from a slide it trained on" in text
    # Asking for details it cannot take shows the only evaluation there is.
    assert site.get(f"/performance/{SECOND_TASK}?details=given").status_code == 200


def test_a_data_json_without_age_or_sex(site):
    html = site.get(f"/data/{SECOND_TASK}").get_data(as_text=True)
    assert set(figures(html)) == {"chart-classes", "chart-groups", "chart-split"}
    assert "Slides" in text_of(html)
    card = text_of(site.get(f"/model-card/{SECOND_TASK}").get_data(as_text=True))
    assert "Nothing but the image" in card and "written part of this model card" in card


# ---- calibration, risk summary, wrong-kind check, unsure (calibration/risk/wrong_kind/unsure.json) --

MEASURED = ("calibration", "risk", "wrong_kind", "unsure")
HEADINGS = {
    "calibration": "Calibration: how far to trust a percentage",
    "risk": "The risk summary",
    "wrong_kind": "The wrong kind of image",
    "unsure": "When the model is unsure",
}


def section(html: str, name: str) -> str:
    """The HTML of the page's section headed ``<name>-heading`` (a report's name, e.g.
    ``wrong_kind``, is its section's anchor with hyphens: ``wrong-kind``)."""
    anchor = name.replace("_", "-")
    return re.search(
        rf'<section[^>]*aria-labelledby="{anchor}-heading".*?</section>', html, re.S
    ).group(0)


@pytest.fixture(scope="module")
def performance_html() -> str:
    return create_app(TEST_CONFIG).test_client().get(f"/performance/{TASK}").get_data(as_text=True)


def test_calibration_shows_t_ece_and_nll_of_calibration_json(performance_html):
    calibration = report_file("calibration")
    html = section(performance_html, "calibration")
    text = text_of(html)
    assert re.search(r'data-fact="temperature">T&nbsp;=&nbsp;([\d.]+)<', html).group(1) == (
        f"{calibration['temperature']:.2f}"
    )
    for split in ("validation", "test"):
        row = re.search(rf'<tr[^>]*data-split="{split}"[^>]*>(.*?)</tr>', html, re.S).group(1)
        for key in ("ece", "nll"):
            for when in ("before", "after"):
                assert cell(row, f'data-metric="{key}" data-when="{when}"') == (
                    f"{calibration[split][when][key]:.3f}"
                ), (split, key, when)
        answers = sum(b["count"] for b in calibration[split]["after"]["bins"])
        assert cell(row, 'data-metric="n"') == f"{answers:,}"
    assert "calibrated" in text and "never changes which kind comes out on top" in text


def test_the_reliability_diagram_is_calibration_json_before_and_after(performance_html):
    calibration = report_file("calibration")["test"]
    html = section(performance_html, "calibration")
    drawn = figures(html)
    assert set(drawn) == {"chart-calibration"}
    traces = {trace["name"].split(":")[0]: trace for trace in drawn["chart-calibration"]["data"]}
    before = traces["before calibration"]
    [after] = [trace for name, trace in traces.items() if name.startswith("after")]
    for trace, when in ((before, "before"), (after, "after")):
        bins = calibration[when]["bins"]
        assert trace["x"] == [b["confidence"] for b in bins]
        assert trace["y"] == [b["accuracy"] for b in bins]
        assert [row[2] for row in trace["customdata"]] == [b["count"] for b in bins]
        assert f"ECE {calibration[when]['ece']:.3f}" in trace["name"]
    assert "perfectly calibrated" in traces
    # curves.json's diagram of the calibrated model alone would contradict it (other bins).
    assert "chart-reliability" not in figures(performance_html)


def test_risk_summary_states_the_rule_and_the_test_figures(performance_html, task_metadata):
    risk = report_file("risk")
    html = section(performance_html, "risk")
    text = text_of(html)
    names = {label["id"]: label["name"] for label in task_metadata["labels"]}
    rule = text_of(re.search(r'<p class="risk-rule">(.*?)</p>', html, re.S).group(1))
    for message in risk["messages"].values():
        assert f"“{message}”" in rule
    assert f"at least {percent1(risk['threshold'])}" in rule
    for label in risk["labels"]:
        assert names[label] in rule
    target = risk["target_focus_sensitivity"]
    assert f"at least {target * 100:.0f}% of the {names[risk['focus']]} images" in text
    assert f"it flagged {percent1(risk['validation']['focus_sensitivity'])}" in text
    assert "validation images" in text
    for variant, measured in risk["test"].items():
        for key in ("focus_sensitivity", "sensitivity", "specificity", "flagged"):
            assert cell(html, f'data-metric="{key}" data-variant="{variant}"') == percent1(
                measured[key]
            ), (variant, key)
        assert cell(html, f'data-metric="n" data-variant="{variant}"') == f"{measured['n']:,}"
    assert ("Image and details" in text) is ("with_metadata" in risk["test"])


def test_wrong_kind_check_shows_both_methods_per_kind(performance_html):
    wrong_kind = report_file("wrong_kind")
    html = section(performance_html, "wrong_kind")
    text = text_of(html)
    for kind, name in wrong_kind["kind_names"].items():
        row = re.search(rf'<tr[^>]*data-kind="{kind}"[^>]*>(.*?)</tr>', html, re.S).group(1)
        assert name.lower() in text_of(row).lower()
        for method in ("in_kind_head", "max_probability"):
            assert cell(row, f'data-method="{method}"') == percent1(
                wrong_kind[method]["test"]["detection_rate"][kind]
            ), (kind, method)
        assert cell(row, 'data-metric="n"') == str(
            wrong_kind["in_kind_head"]["test"]["n_per_kind"][kind]
        )
    own = re.search(r'<tr[^>]*data-kind="in_kind"[^>]*>(.*?)</tr>', html, re.S).group(1)
    for method in ("in_kind_head", "max_probability"):
        assert cell(own, f'data-method="{method}"') == percent1(
            wrong_kind[method]["test"]["false_alarm_rate"]
        )
    assert wrong_kind["method"] == "in_kind_head"
    choice = text_of(re.search(r'<p class="wrong-kind-choice">(.*?)</p>', html, re.S).group(1))
    assert choice.startswith("The screener uses the in-kind check")
    assert percent1(wrong_kind["in_kind_head"]["test"]["false_alarm_rate"]) in choice
    assert "That is why the site uses the in-kind check" in choice
    assert percent1(wrong_kind["max_probability"]["test"]["false_alarm_rate"]) in choice
    assert "partly synthetic" in text
    assert "another training run" not in performance_html


def test_unsure_section_states_the_threshold_and_the_test_figures(performance_html):
    unsure = report_file("unsure")
    html = section(performance_html, "unsure")
    text = text_of(html)
    assert HEADINGS["unsure"] in text
    if unsure["threshold"] is None:
        pytest.skip(f"the {TASK} model is never called unsure (see the next test)")
    assert re.search(r'data-fact="unsure-threshold">([^<]+)<', html).group(1) == percent1(
        unsure["threshold"]
    )
    validation = unsure["validation"]
    assert (
        f"right on {percent1(validation['accuracy_flagged'])} of the "
        f"{validation['n_flagged']} validation images below it"
    ) in text
    for variant, measured in unsure["test"].items():
        for key in ("flagged", "accuracy_flagged", "accuracy_not_flagged", "accuracy_all"):
            assert cell(html, f'data-metric="{key}" data-variant="{variant}"') == percent1(
                measured[key]
            ), (variant, key)
        for key in ("n_flagged", "n"):
            assert cell(html, f'data-metric="{key}" data-variant="{variant}"') == (
                f"{measured[key]:,}"
            )
    assert ("Image and details" in text) is ("with_metadata" in unsure["test"])
    assert "another training run" not in html


NEVER_UNSURE = [
    task["id"]
    for task in json.loads((MODELS_DIR / "index.json").read_text())["tasks"]
    if (REPORTS_DIR / task["id"] / "unsure.json").is_file()
    and report_file("unsure", task["id"])["threshold"] is None
]


@pytest.mark.parametrize("task", NEVER_UNSURE)
def test_a_model_never_called_unsure_says_so(client, task):
    html = section(client.get(f"/performance/{task}").get_data(as_text=True), "unsure")
    text = text_of(html)
    assert "never warns that the model is unsure" in text
    measured = report_file("unsure", task)["test"]["without_metadata"]
    assert f"{measured['n']} test images" in text
    assert re.search(r'data-metric="accuracy_all">([^<]+)<', html).group(1) == percent1(
        measured["accuracy_all"]
    )
    assert "<table" not in html  # no table of zeros
    assert "another training run" not in html


def test_a_task_without_these_files_has_no_such_sections(site):
    response = site.get(f"/performance/{SECOND_TASK}")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert 'id="risk-heading"' not in html and 'id="wrong-kind-heading"' not in html
    assert 'id="unsure-heading"' not in html
    assert "calibration was not measured" in text_of(section(html, "calibration"))
    assert "chart-reliability" in figures(section(html, "calibration"))
    assert "report-missing" not in html


@pytest.mark.parametrize("name", MEASURED)
def test_a_damaged_file_costs_its_section_not_the_page(bare_reports, name):
    client = bare_reports(
        ["report", "history", "curves", *(m for m in MEASURED if m != name)], damaged=[name]
    )
    response = client.get("/performance")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert f"({name}.json) is damaged" in text_of(section(html, name))
    for other in MEASURED:
        if other != name:
            assert "report-missing" not in section(html, other), other
    # Without calibration.json, the diagram of curves.json.
    assert ("chart-reliability" in figures(html)) is (name == "calibration")


BROKEN = {
    "calibration": [
        {"temperature": "warm"},
        {"temperature": 1.2, "test": []},
        {**report_file("calibration"), "validation": {"before": {}}},
    ],
    "risk": [
        {"labels": ["mel"]},
        {**report_file("risk"), "threshold": None},
        {**report_file("risk"), "test": {}},
        {**report_file("risk"), "focus": "nv"},
    ],
    "wrong_kind": [
        {"method": "in_kind_head"},
        {**report_file("wrong_kind"), "kind_names": []},
        {**report_file("wrong_kind"), "in_kind_head": {"test": {"detection_rate": 1}}},
    ],
    "unsure": [
        {"threshold": 0.5},
        {**report_file("unsure"), "threshold": "low"},
        {**report_file("unsure"), "test": {}},
        {**report_file("unsure"), "validation": None},
    ],
}


@pytest.mark.parametrize("name,content", [(n, c) for n, cases in BROKEN.items() for c in cases])
def test_a_file_lacking_what_it_needs_costs_its_section_not_the_page(
    bare_reports, tmp_path, name, content
):
    client = bare_reports(["report", "history", "curves", *MEASURED])
    (tmp_path / "reports" / TASK / f"{name}.json").write_text(json.dumps(content))
    response = client.get("/performance")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert f"{name}.json does not hold what it needs" in text_of(section(html, name))
    assert "Traceback" not in html


@pytest.mark.parametrize(
    "section_name,key,value",
    [
        ("risk", "threshold", 0.3),
        ("wrong_kind", "threshold", 0.7),
        ("calibration", "temperature", 2.0),
        ("unsure", "threshold", 0.3),
        ("unsure", "threshold", None),
    ],
)
def test_measurements_of_another_run_are_flagged(
    client_with_metadata, section_name, key, value, tmp_path
):
    def edit(metadata):
        metadata.setdefault(section_name, {})[key] = value

    client, _ = client_with_metadata(edit)
    models = Path(client.application.config["MODELS_FOLDER"])
    client = released_for(client, models / TASK / "metadata.json", tmp_path)
    html = client.get("/performance").get_data(as_text=True)
    assert "another training run" in text_of(section(html, section_name))
    others = [name for name in MEASURED if name != section_name]
    assert all("another training run" not in section(html, name) for name in others)


# ---- other framings and other clinics (framings.json, leave_one_source_out.json) -------------

ELSEWHERE = {"framings": "framings", "leave_one_source_out": "sources"}  # file → its part's heading
LABEL_IDS = [
    label["id"] for label in json.loads((MODELS_DIR / TASK / "metadata.json").read_text())["labels"]
]


def _figures(n: int, balanced_accuracy: float, auc: float | None, labels: list[str]) -> dict:
    return {
        "n": n,
        "accuracy": balanced_accuracy + 0.1,
        "balanced_accuracy": balanced_accuracy,
        "macro_auc": auc,
        "labels": labels,
        "sensitivity": {label: balanced_accuracy for label in labels},
    }


def made_up_loso() -> dict:
    """A leave_one_source_out.json of the form research/leave_one_source_out.py writes: a
    collection the site knows, one it does not, one whose model did better without it and
    one AUC not measured."""
    some, most = LABEL_IDS[2:6], LABEL_IDS[:6]
    return {
        "reference": "cmp_sampling",
        "sources": {
            "rosendahl": {
                "n_images": 2259,
                "run": "loso_rosendahl",
                "test_split": {
                    "reference": _figures(330, 0.625, 0.912, most),
                    "held_out": _figures(330, 0.481, 0.864, most),
                },
                "all_images_held_out": _figures(2259, 0.502, 0.871, LABEL_IDS),
            },
            "a_new_clinic": {
                "n_images": 439,
                "run": "loso_a_new_clinic",
                "test_split": {
                    "reference": _figures(79, 0.5, None, some),
                    "held_out": _figures(79, 0.52, 0.8, some),
                },
                "all_images_held_out": _figures(439, 0.55, 0.81, some),
            },
        },
    }


LOSO_FILES = {"made-up": made_up_loso()}
if (REPORTS_DIR / TASK / "leave_one_source_out.json").is_file():
    LOSO_FILES["computed"] = report_file("leave_one_source_out")


@pytest.fixture
def elsewhere_reports(bare_reports, tmp_path):
    """``make(views=…, loso=…)`` → a client with the report, framings.json (the real one unless
    given; None: none) and leave_one_source_out.json (made up unless given; None: none)."""

    def make(framings="real", loso="made-up", damaged=()):
        client = bare_reports(["report", "history", "curves"], damaged=damaged)
        folder = tmp_path / "reports" / TASK
        for name, content, real in (
            ("framings", framings, report_file("framings")),
            ("leave_one_source_out", loso, made_up_loso()),
        ):
            if name in damaged or content is None:
                continue
            content = real if isinstance(content, str) else content
            (folder / f"{name}.json").write_text(json.dumps(content))
        return client

    return make


def page_of(client) -> str:
    response = client.get("/performance")
    assert response.status_code == 200
    return response.get_data(as_text=True)


def test_views_part_shows_views_json(performance_html):
    views = report_file("framings")["framings"]
    html = section(performance_html, "framings")
    text = text_of(html)
    assert "Other framings and other clinics" in text_of(section(performance_html, "elsewhere"))
    assert "People frame photos differently" in text
    for view, measured in views.items():
        row = re.search(rf'<tr[^>]*data-view="{view}"[^>]*>(.*?)</tr>', html, re.S).group(1)
        for split in ("test", "val"):
            assert cell(row, f'data-split="{split}" data-metric="balanced_accuracy"') == (
                percent1(measured[split]["balanced_accuracy"])
            ), (view, split)
            assert cell(row, f'data-split="{split}" data-metric="macro_auc"') == (
                f"{measured[split]['macro_auc']:.3f}"
            ), (view, split)
        assert cell(row, 'data-split="test" data-metric="accuracy"') == percent1(
            measured["test"]["accuracy"]
        )
    given, crop = views["as_given"]["test"], views["centre_square_crop"]["test"]
    drop = (given["balanced_accuracy"] - crop["balanced_accuracy"]) * 100
    sentence = text_of(
        re.search(r'<span class="framings-crop">(.*?)</span>\s*</p>', html, re.S).group(1)
    )
    assert (
        f"balanced accuracy of {percent1(crop['balanced_accuracy'])} instead of "
        f"{percent1(given['balanced_accuracy'])} ({abs(drop):.1f} points "
        f"{'lower' if drop > 0 else 'higher'})"
    ) in sentence
    assert f"mean AUC of {crop['macro_auc']:.3f} instead of {given['macro_auc']:.3f}" in sentence
    assert "another training run" not in html


def made_up_views(mirrored: bool) -> dict:
    """A framings.json as research/evaluate_framings.py writes it for a run without test-time
    mirrors (it measures them as an option) or with them (it measures one view)."""

    def figures(balanced_accuracy, auc):
        return {
            split: {
                "n": 1431,
                "accuracy": 0.7,
                "balanced_accuracy": balanced_accuracy,
                "macro_auc": auc,
            }
            for split in ("val", "test")
        }

    other = "one_view" if mirrored else "mean_of_4_mirrors"
    return {
        "run": "made_up",
        "metadata": "none",
        "tta": "mirrors" if mirrored else "none",
        "framings": {
            "as_given": figures(0.671, 0.938),
            other: figures(0.647, 0.932),
            "centre_square_crop": figures(0.652, 0.925),
        },
    }


@pytest.mark.parametrize("mirrored", [False, True])
def test_views_part_says_whether_the_site_averages_mirrors(elsewhere_reports, mirrored):
    html = section(page_of(elsewhere_reports(framings=made_up_views(mirrored))), "framings")
    mirrors = re.search(r'<p class="framings-mirrors">(.*?)</p>', html, re.S)
    one_view = re.search(r'<p class="framings-one-view">(.*?)</p>', html, re.S)
    if mirrored:
        assert mirrors is None
        text = text_of(one_view.group(1))
        assert "The site answers with the mean of 4 mirrors" in text
        assert (
            "got a balanced accuracy of 64.7% on the test images (2.4 points lower) "
            "and a mean AUC of 0.932 instead of 0.938"
        ) in text
        assert 'data-view="one_view"' in html and "One view" in text_of(html)
    else:
        assert one_view is None
        text = text_of(mirrors.group(1))
        assert "not used by the site" in text and "balanced accuracy by −2.4 points" in text


@pytest.mark.parametrize("which", LOSO_FILES)
def test_sources_part_shows_leave_one_source_out_json(elsewhere_reports, task_metadata, which):
    loso = LOSO_FILES[which]
    html = section(page_of(elsewhere_reports(loso=loso)), "sources")
    text = text_of(html)
    names = {label["id"]: label["name"] for label in task_metadata["labels"]}
    drops = []
    for source, measured in loso["sources"].items():
        row = re.search(rf'<tr[^>]*data-source="{source}"[^>]*>(.*?)</tr>', html, re.S).group(1)
        assert text_of(row).split()[0] == (SOURCES.get(source) or (source,))[0].split()[0]
        assert cell(row, 'data-metric="n_images"') == f"{measured['n_images']:,}"
        test = measured["test_split"]
        assert cell(row, 'data-metric="n"') == f"{test['reference']['n']:,}"
        kinds = re.search(r'<td[^>]*data-metric="labels"[^>]*>(.*?)</td>', row, re.S).group(1)
        assert [
            (html_module.unescape(name), label)
            for name, label in re.findall(r'<abbr title="([^"]*)">([^<]*)</abbr>', kinds)
        ] == [(names[label], label) for label in test["reference"]["labels"]]
        for key, figures_of in (
            ("reference", test["reference"]),
            ("held_out", test["held_out"]),
            ("all", measured["all_images_held_out"]),
        ):
            assert cell(row, f'data-model="{key}" data-metric="balanced_accuracy"') == percent1(
                figures_of["balanced_accuracy"]
            ), (source, key)
            auc = figures_of["macro_auc"]
            assert cell(row, f'data-model="{key}" data-metric="macro_auc"') == (
                f"{auc:.3f}" if auc is not None else "– not measured"
            ), (source, key)
        drops.append(test["reference"]["balanced_accuracy"] - test["held_out"]["balanced_accuracy"])
        assert measured["run"] not in text  # a run's folder name is no name for a visitor

    def words(drop):
        return f"{abs(drop) * 100:.1f} points {'lower' if drop > 0 else 'higher'}"

    n = [m["test_split"]["reference"]["n"] for m in loso["sources"].values()]
    assert re.search(r'data-fact="mean-drop">([^<]+)<', html).group(1) == words(
        sum(drops) / len(drops)
    )
    assert re.search(r'data-fact="weighted-drop">([^<]+)<', html).group(1) == words(
        sum(d * k for d, k in zip(drops, n)) / sum(n)
    )
    assert text_of(re.search(r'data-fact="fell">(.*?)</span>', html).group(1)) == (
        f"{sum(d > 0 for d in drops)} of the {len(drops)}"
    )
    few = [source for source, k in zip(loso["sources"], n) if k < 100]
    assert ("with care" in text) is bool(few)
    assert loso["reference"] not in text
    assert re.search(
        r"comparison models (trained for \d+ epochs )?\(one on every collection, and one without "
        r"each\), not the shipped model",
        text,
    )
    assert "not the shipped model" in text and "only the kinds the collection has" in text
    assert "Expect a drop" in text
    drawn = figures(html)["chart-held-out-sources"]["data"]
    assert [trace["x"] for trace in drawn] == [
        [m["test_split"][key]["balanced_accuracy"] for m in loso["sources"].values()]
        for key in ("reference", "held_out")
    ]


def test_a_collection_the_site_does_not_know_is_shown_by_its_name(elsewhere_reports):
    html = section(page_of(elsewhere_reports()), "sources")
    row = re.search(r'<tr[^>]*data-source="a_new_clinic"[^>]*>(.*?)</tr>', html, re.S).group(1)
    assert re.search(r'<th[^>]*>a_new_clinic</th>', row)
    # It did better without its collection: not the largest drop; and it has few test images.
    text = text_of(html)
    assert "It lost most on Queensland practice (14.4 points lower)" in text
    assert "Read the figures of a_new_clinic (79 test images of 4 kinds) with care" in text
    assert "for 1 of the 2 collections, and the mean AUC for 1 of 1" in text


@pytest.mark.parametrize("framings,loso", [("real", None), (None, "made-up")])
def test_each_file_shows_only_its_own_part(elsewhere_reports, framings, loso):
    html = page_of(elsewhere_reports(framings=framings, loso=loso))
    assert 'id="elsewhere-heading"' in html
    assert ('id="framings-heading"' in html) is (framings is not None)
    assert ('id="sources-heading"' in html) is (loso is not None)
    assert ("chart-held-out-sources" in figures(html)) is (loso is not None)
    assert "report-missing" not in section(html, "elsewhere")


def test_without_either_file_there_is_no_such_section(elsewhere_reports, site):
    for html in (
        page_of(elsewhere_reports(framings=None, loso=None)),
        site.get(f"/performance/{SECOND_TASK}").get_data(as_text=True),
    ):
        assert 'id="elsewhere-heading"' not in html and 'id="framings-heading"' not in html
        assert "Other framings" not in html


@pytest.mark.parametrize("name", ELSEWHERE)
def test_a_damaged_views_or_sources_file_costs_its_part_not_the_page(elsewhere_reports, name):
    html = page_of(elsewhere_reports(damaged=[name]))
    assert f"({name}.json) is damaged" in text_of(section(html, ELSEWHERE[name]))
    other = next(part for file, part in ELSEWHERE.items() if file != name)
    assert "report-missing" not in section(html, other)
    assert ("chart-held-out-sources" in figures(html)) is (name != "leave_one_source_out")


def _edited(content: dict, edit) -> dict:
    content = json.loads(json.dumps(content))
    edit(content)
    return content


def _loso_source(content: dict) -> dict:
    return content["sources"]["rosendahl"]


BROKEN_ELSEWHERE = {
    "framings": [
        {"run": "shipped"},
        {"framings": []},
        _edited(report_file("framings"), lambda v: v["framings"].pop("as_given")),
        _edited(
            report_file("framings"),
            lambda v: v["framings"]["as_given"]["test"].update(balanced_accuracy="high"),
        ),
        _edited(
            report_file("framings"),
            lambda v: v["framings"]["centre_square_crop"].update(val={"n": 3}),
        ),
    ],
    "leave_one_source_out": [
        {"reference": "cmp_sampling"},
        {"reference": "cmp_sampling", "sources": {}},
        {"reference": "cmp_sampling", "sources": []},
        _edited(made_up_loso(), lambda m: _loso_source(m)["test_split"]["held_out"].update(n=7)),
        _edited(
            made_up_loso(), lambda m: _loso_source(m)["test_split"]["reference"].update(labels=[])
        ),
        _edited(
            made_up_loso(),
            lambda m: _loso_source(m)["all_images_held_out"].update(balanced_accuracy=None),
        ),
        _edited(made_up_loso(), lambda m: _loso_source(m).pop("n_images")),
    ],
}


@pytest.mark.parametrize(
    "name,content", [(n, c) for n, cases in BROKEN_ELSEWHERE.items() for c in cases]
)
def test_a_views_or_sources_file_lacking_what_it_needs_costs_its_part(
    elsewhere_reports, name, content
):
    html = page_of(elsewhere_reports(**{"framings" if name == "framings" else "loso": content}))
    assert f"{name}.json does not hold what it needs" in text_of(section(html, ELSEWHERE[name]))
    assert "Traceback" not in html
    other = next(part for file, part in ELSEWHERE.items() if file != name)
    assert "report-missing" not in section(html, other)


@pytest.mark.parametrize("other_run", [False, True])
def test_views_of_another_run_are_flagged(client_with_metadata, other_run, tmp_path):
    views = report_file("framings")["framings"]["as_given"]["test"]

    def edit(metadata):
        shipped = metadata["metrics"]["test"]["without_metadata"]
        shipped.update(
            n=views["n"], balanced_accuracy=views["balanced_accuracy"] - (0.1 if other_run else 0)
        )

    client, _ = client_with_metadata(edit)
    models = Path(client.application.config["MODELS_FOLDER"])
    client = released_for(client, models / TASK / "metadata.json", tmp_path)
    html = section(client.get("/performance").get_data(as_text=True), "framings")
    assert ("another training run" in html) is other_run
    if other_run:
        assert percent1(views["balanced_accuracy"] - 0.1) in text_of(html)


# ---- cross-validation (cv_final.json, research/cross_validate.py) --------------------------


def made_up_cross_validation(folds=(0.61, 0.64, 0.66), total=5) -> dict:
    """A cross-validation file as research/cross_validate.py writes it, from made-up folds."""
    if (ROOT / "research" / "cross_validate.py").is_file():
        from research import cross_validate as script
    else:
        script = load_script("cross_validate")

    def fold_report(ba):
        def figures(shift):
            return {
                "n": 2003,
                "balanced_accuracy": ba + shift,
                "macro_auc": 0.9 + ba / 10,
                "accuracy": 0.75,
                "macro_f1": 0.6,
            }

        return {"without_metadata": figures(0), "with_metadata": figures(0.02), "selected_epoch": 4}

    summary = script.summarize({i: fold_report(ba) for i, ba in enumerate(folds)})
    return json.loads(
        json.dumps({"reference": "skin_lesion", "folds_total": total, "epochs": 4, **summary})
    )


CV_FILE = REPORT_FILES["cross_validation"]
CV_FILES = {
    "made-up": made_up_cross_validation(),
    "made-up, with mirrors": {**made_up_cross_validation(), "tta": "mirrors"},
}
if (REPORTS_DIR / TASK / CV_FILE).is_file():
    CV_FILES["computed"] = report_file("cross_validation")


def cv_part(client) -> str:
    match = re.search(
        r'<div class="cross-validation.*?</details>\s*</div>|'
        r'<div class="cross-validation.*?</div>',
        page_of(client),
        re.S,
    )
    return match.group(0) if match else ""


@pytest.fixture
def cv_reports(bare_reports, tmp_path):
    """``make(content)`` → a client with the report and this cross-validation file (None:
    none; a string: that text)."""

    def make(content):
        client = bare_reports(["report", "history", "curves"])
        if content is not None:
            (tmp_path / "reports" / TASK / CV_FILE).write_text(
                content if isinstance(content, str) else json.dumps(content)
            )
        return client

    return make


@pytest.mark.parametrize("which", CV_FILES)
def test_cross_validation_shows_mean_sd_range_and_each_split(cv_reports, task_metadata, which):
    cv = CV_FILES[which]
    html = cv_part(cv_reports(cv))
    text = text_of(html)
    mean, sd = cv["mean"]["without_metadata"], cv["sd"]["without_metadata"]
    assert text_of(
        re.search(r'data-fact="cv-balanced-accuracy">(.*?)</strong>', html, re.S).group(1)
    ) == (f"{percent1(mean['balanced_accuracy'])} ± {sd['balanced_accuracy'] * 100:.1f} points")
    assert text_of(re.search(r'data-fact="cv-macro-auc">(.*?)</span>', html, re.S).group(1)) == (
        f"{mean['macro_auc']:.3f} ± {sd['macro_auc']:.3f}"
    )
    image_only = [fold["without_metadata"]["balanced_accuracy"] for fold in cv["folds"].values()]
    assert f"from {percent1(min(image_only))} to {percent1(max(image_only))}" in text
    assert f"{cv['folds_total']}-fold cross-validation" in text
    assert f"trained for {cv['epochs']} epochs" in text
    shipped = task_metadata["training"]["epochs"]
    assert (f"the installed model trained for {shipped}" in text) is (shipped != cv["epochs"])
    assert ("have been measured" in text) is (len(cv["folds"]) < cv["folds_total"])
    views = cv.get("tta", "none")
    shipped_views = task_metadata["training"].get("tta", "none")
    assert (
        "Like the site, each answered with the mean for the image and its three mirror "
        "images." in text
    ) is (views == "mirrors")
    assert (
        "Each answered from a single view of the image, without the three mirror images "
        "the site adds." in text
    ) is (views != "mirrors" and shipped_views == "mirrors")
    for fold, measured in cv["folds"].items():
        row = re.search(rf'<tr[^>]*data-fold="{int(fold) + 1}"[^>]*>(.*?)</tr>', html, re.S).group(
            1
        )
        assert cell(row, 'data-metric="n"') == f"{measured['n_test']:,}"
        for variant in ("without_metadata", "with_metadata"):
            assert cell(row, f'data-variant="{variant}" data-metric="balanced_accuracy"') == (
                percent1(measured[variant]["balanced_accuracy"])
            )
            assert cell(row, f'data-variant="{variant}" data-metric="macro_auc"') == (
                f"{measured[variant]['macro_auc']:.3f}"
            )


def test_without_a_cross_validation_file_there_is_no_such_part(cv_reports):
    assert cv_part(cv_reports(None)) == ""
    assert "cross-validation" not in page_of(cv_reports(None))


@pytest.mark.parametrize(
    "content,problem",
    [
        ('{"folds": [', f"({CV_FILE}) is damaged"),
        ({"folds": {}}, f"{CV_FILE} does not hold what it needs"),
        (
            _edited(made_up_cross_validation(), lambda c: c["folds"]["0"].pop("without_metadata")),
            f"{CV_FILE} does not hold what it needs",
        ),
        (
            _edited(
                made_up_cross_validation(),
                lambda c: c["folds"]["1"]["without_metadata"].update(balanced_accuracy="0.7"),
            ),
            f"{CV_FILE} does not hold what it needs",
        ),
    ],
)
def test_a_broken_cross_validation_file_costs_its_part_not_the_page(cv_reports, content, problem):
    client = cv_reports(content)
    html = cv_part(client)
    assert problem in text_of(html)
    page = page_of(client)
    assert "Traceback" not in page and 'id="headline-heading"' in page


def test_one_measured_split_is_worded_as_one(cv_reports):
    text = text_of(cv_part(cv_reports(made_up_cross_validation(folds=(0.6,)))))
    assert "on 1 other split," in text and "Only 1 of the 5 splits has been measured" in text
    assert "standard deviation" not in text and "±" not in text


# ---- plain names, not the names of files and runs (issue 31) ----------------------------


def test_the_backbone_table_names_each_run_in_plain_words(client):
    """The table of networks compared showed run names ("cmp_smooth", "a075_4 (issue 21)"):
    each row is the network and how long it trained; the run name stays in the row's data."""
    compared = json.loads((REPORTS_DIR / "skin_lesion" / "backbones.json").read_text())
    html = client.get("/performance/skin_lesion?lang=en").get_data(as_text=True)
    table = re.search(r'<table[^>]*data-table="backbones".*?</table>', html, re.S).group(0)
    headers = [text_of(h) for h in re.findall(r'<th role="rowheader"[^>]*>(.*?)</th>', table, re.S)]
    assert "MobileNet V1 α 0.75, 4 epochs" in headers
    assert "MobileNet V1 α 0.25, 12 epochs (this model)" in headers
    assert len(set(headers)) == len(headers) == len(compared["rows"]), headers
    shown = text_of(re.sub(r"<script.*?</script>", "", html, flags=re.S))
    for found in compared["rows"]:
        assert found["run"].split(" (")[0] not in shown, found["run"]
        assert f'data-run="{found["run"]}"' in table


@pytest.mark.parametrize("task", ["skin_lesion", "chest_xray", "malaria"])
def test_the_model_card_names_no_weights_file(client, task):
    """The model card said "starting from weights mobilenet_2_5_224_tf_no_top.h5"."""
    text = text_of(client.get(f"/model-card/{task}?lang=en").get_data(as_text=True))
    assert ".h5" not in text and "no_top" not in text
    assert "starting from weights learned on ImageNet" in text
