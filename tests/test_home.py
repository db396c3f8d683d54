"""The home page (/) listing every screener, the old addresses, the header, and a
screener of the image alone (no details), through Flask's test client and in Chromium.

A site with several tasks is made in temporary folders (``two_task_folders`` in
conftest.py: the shipped first task's metadata and reports, plus a made-up task of
two kinds that takes no details); the browser tests give that task a tiny
hand-made TF.js graph model, so its page really loads a model and classifies.
"""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import struct

import pytest
from test_webapp import parse, text_of

from conftest import (
    BROWSER_TIMEOUT_MS,
    MODELS_DIR,
    READY,
    SECOND_TASK,
    TEST_CONFIG,
    open_recorded_page,
    serve,
)
from webapp import create_app

INDEX = json.loads((MODELS_DIR / "index.json").read_text())["tasks"]
FIRST = INDEX[0]["id"]
PAGES = ("/screen/{}", "/performance/{}", "/data/{}", "/model-card/{}")


def two_task_app(two_task_folders, **config):
    models, reports = two_task_folders
    return create_app(
        {**TEST_CONFIG, "MODELS_FOLDER": str(models), "REPORTS_FOLDER": str(reports), **config}
    )


@pytest.fixture
def site(two_task_folders):
    """A test client of the site with two tasks; the second takes no details."""
    return two_task_app(two_task_folders).test_client()


def cards(html: str) -> dict[str, str]:
    """{task id: the HTML of its card}, in the order of the page."""
    return dict(
        re.findall(
            r'<article class="card screener-card"[^>]*data-task="([^"]+)">(.*?)</article>',
            html,
            re.S,
        )
    )


def card_links(card: str) -> dict[str, str]:
    return {
        text_of(name).strip(): href
        for href, name in re.findall(r'<a (?:class="[^"]*" )?href="([^"]+)">(.*?)</a>', card, re.S)
    }


def metric(card: str, key: str) -> str:
    return text_of(re.search(rf'data-metric="{key}">(.*?)</td>', card, re.S).group(1)).strip()


def index_of(models) -> list[dict]:
    return json.loads((models / "index.json").read_text())["tasks"]


# ---- the list of screeners ------------------------------------------------------------


@pytest.mark.parametrize("which", ["shipped", "two tasks"])
def test_home_lists_every_task_with_pages_that_open(client, site, two_task_folders, which):
    client, tasks = (client, INDEX) if which == "shipped" else (site, index_of(two_task_folders[0]))
    response = client.get("/")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    shown = cards(html)
    assert list(shown) == [task["id"] for task in tasks]
    for task in tasks:
        card = shown[task["id"]]
        assert task["title"] in text_of(card)
        links = card_links(card)
        assert links == {
            name: page.format(task["id"])
            for name, page in zip(("Open the screener", "Performance", "Data", "Model card"), PAGES)
        }
        for path in links.values():
            page = client.get(path)
            assert page.status_code == 200, path
            assert f'data-task="{task["id"]}"' in page.get_data(as_text=True), path
    text = text_of(html)
    assert "This is not a diagnosis." in text and "see a doctor" in text
    assert "Your images never leave your device." in text


@pytest.mark.parametrize("which", ["shipped", "two tasks"])
def test_each_card_says_what_it_looks_at_and_its_image_only_results(
    client, site, two_task_folders, which
):
    client, models = (client, MODELS_DIR) if which == "shipped" else (site, two_task_folders[0])
    shown = cards(client.get("/").get_data(as_text=True))
    for task in index_of(models):
        metadata = json.loads((models / task["id"] / "metadata.json").read_text())
        card, text = shown[task["id"]], text_of(shown[task["id"]])
        kind = metadata["image_kind"]
        assert f"Looks at {kind[0].upper()}{kind[1:]}." in text
        for label in metadata["labels"]:
            assert label["name"] in text
        fields = metadata.get("metadata_encoding", {}).get("fields") or []
        assert ("Nothing but the image" in text) is (not fields)
        measured = ((metadata.get("metrics") or {}).get("test") or {}).get("without_metadata")
        if not measured:
            assert [
                metric(card, key) for key in ("accuracy", "balanced_accuracy", "macro_auc")
            ] == ["not measured"] * 3
            continue
        assert f"Tested on {measured['n']:,} images" in text
        assert ("given the image only" in text) is bool(fields)
        assert metric(card, "accuracy") == f"{measured['accuracy'] * 100:.1f}%"
        assert metric(card, "balanced_accuracy") == f"{measured['balanced_accuracy'] * 100:.1f}%"
        assert metric(card, "macro_auc") == f"{measured['macro_auc']:.3f}"


def test_a_model_without_results_is_not_measured(client_with_metadata):
    client, _ = client_with_metadata(lambda metadata: metadata.update(metrics={}))
    [card] = cards(client.get("/").get_data(as_text=True)).values()
    assert [metric(card, key) for key in ("accuracy", "balanced_accuracy", "macro_auc")] == [
        "not measured"
    ] * 3
    assert "this model has no test results" in text_of(card)


def test_a_task_whose_description_is_missing_keeps_the_home_page_up(two_task_folders, tmp_path):
    models = tmp_path / "models"
    shutil.copytree(two_task_folders[0], models)
    (models / SECOND_TASK / "metadata.json").unlink()
    client = create_app({**TEST_CONFIG, "MODELS_FOLDER": str(models)}).test_client()
    response = client.get("/")
    assert response.status_code == 200
    shown = cards(response.get_data(as_text=True))
    assert "Open the screener" in card_links(shown[FIRST])
    assert card_links(shown[SECOND_TASK]) == {}
    assert "is missing from this site" in text_of(shown[SECOND_TASK])


def test_no_model_installed_is_a_readable_503(tmp_path):
    (tmp_path / "index.json").write_text('{"tasks": []}')
    client = create_app({**TEST_CONFIG, "MODELS_FOLDER": str(tmp_path)}).test_client()
    response = client.get("/")
    assert response.status_code == 503
    assert "No screening model has been installed" in response.get_data(as_text=True)


def test_home_keeps_the_site_policy_and_loads_no_screener_script(client):
    response = client.get("/")
    assert (
        response.headers["Content-Security-Policy"]
        == create_app().config["CONTENT_SECURITY_POLICY"]
    )
    page = parse(response.get_data(as_text=True))
    assert page.inline_scripts == []
    assert [attrs["src"] for tag, attrs in page.tags if tag == "script"] == [
        "/static/js/offline.js"
    ]


# ---- the featured task (DEFAULT_TASK) ---------------------------------------------------


def test_default_task_is_listed_first_and_shown_by_addresses_without_a_task(two_task_folders):
    client = two_task_app(two_task_folders, DEFAULT_TASK=SECOND_TASK).test_client()
    assert list(cards(client.get("/").get_data(as_text=True))) == [SECOND_TASK, FIRST]
    for path in ("/performance", "/data", "/model-card"):
        assert f'data-task="{SECOND_TASK}"' in client.get(path).get_data(as_text=True), path


def test_an_unknown_default_task_leaves_home_up_and_bare_addresses_404(two_task_folders):
    client = two_task_app(two_task_folders, DEFAULT_TASK="nope").test_client()
    assert list(cards(client.get("/").get_data(as_text=True))) == [FIRST, SECOND_TASK]
    response = client.get("/performance")
    assert response.status_code == 404
    text = text_of(response.get_data(as_text=True))
    assert "nope" in text and FIRST in text and SECOND_TASK in text


# ---- old addresses -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "target"),
    [
        (f"/?task={FIRST}", f"/screen/{FIRST}"),
        (f"/?task={SECOND_TASK}", f"/screen/{SECOND_TASK}"),
        ("/screen", "/"),
        ("/screen/", "/"),
    ],
)
def test_old_addresses_redirect(site, path, target):
    response = site.get(path)
    assert response.status_code == 302
    assert response.headers["Location"] == target
    assert site.get(path, follow_redirects=True).status_code == 200


def test_an_old_link_to_an_unknown_task_ends_in_a_readable_404(site):
    response = site.get("/?task=nope", follow_redirects=True)
    assert response.status_code == 404
    assert "nope" in text_of(response.get_data(as_text=True))


# ---- the header and the task selector --------------------------------------------------------


def header_links(html: str) -> dict[str, str]:
    nav = re.search(r'<nav aria-label="Site">(.*?)</nav>', html, re.S).group(1)
    return {
        text_of(name).strip(): href
        for href, name in re.findall(
            r'<a class="nav-link" href="([^"]+)"[^>]*>(.*?)</a>', nav, re.S
        )
    }


def current_link(html: str, label: str) -> str:
    nav = re.search(rf'<nav aria-label="{label}">(.*?)</nav>', html, re.S).group(1)
    [name] = re.findall(r'aria-current="page">(.*?)</a>', nav, re.S)
    return text_of(name).strip()


@pytest.mark.parametrize("task_id", [FIRST, SECOND_TASK])
@pytest.mark.parametrize("page", PAGES)
def test_header_leads_home_and_to_the_task_pages(site, task_id, page):
    html = site.get(page.format(task_id)).get_data(as_text=True)
    assert header_links(html) == {
        "All screeners": "/",
        "History": "/history",
        **{
            name: other.format(task_id)
            for name, other in zip(("Screener", "Performance", "Data", "Model card"), PAGES)
        },
    }
    assert (
        current_link(html, "Site")
        == dict(zip(PAGES, ("Screener", "Performance", "Data", "Model card")))[page]
    )
    # Every page of a task can switch to the same page of the other task.
    selector = re.search(r'<nav class="task-selector[^>]*>(.*?)</nav>', html, re.S).group(1)
    for other in (FIRST, SECOND_TASK):
        assert f'href="{page.format(other)}"' in selector
    assert re.search(rf'href="{re.escape(page.format(task_id))}"\s+aria-current="page"', selector)


def test_home_header_has_no_task_pages(site):
    html = site.get("/").get_data(as_text=True)
    assert header_links(html) == {"All screeners": "/", "History": "/history"}
    assert current_link(html, "Site") == "All screeners"
    assert "task-selector" not in html


def test_one_task_has_no_task_selector(client_with_metadata):
    client, metadata = client_with_metadata(lambda metadata: None)
    assert "task-selector" not in client.get(f"/screen/{metadata['task']}").get_data(as_text=True)


# ---- a screener of the image alone ------------------------------------------------------------


def test_a_task_without_details_has_no_details_form(site, two_task_folders):
    html = site.get(f"/screen/{SECOND_TASK}").get_data(as_text=True)
    text = text_of(html)
    assert "details-form" not in html and "data-field" not in html
    assert "Details (optional)" not in text
    assert "Choose an image" in text and "Take a photo" in text
    metadata = json.loads((two_task_folders[0] / SECOND_TASK / "metadata.json").read_text())
    n = metadata["metrics"]["test"]["without_metadata"]["n"]
    # Nothing to say about details in the results' caption either.
    assert f"How the model did on {n} test images. None of them comes from a slide" in text
    for label in metadata["labels"]:
        assert label["name"] in text and label["description"] in text
    # The task with details keeps its form on the same site.
    assert 'id="details-form"' in site.get(f"/screen/{FIRST}").get_data(as_text=True)


# ---- offline copy ---------------------------------------------------------------------------------


def test_the_offline_copy_keeps_home_and_every_screener(two_task_folders):
    from webapp.offline import precache_list

    app = two_task_app(two_task_folders)
    with app.test_request_context():
        urls = {url for entries in precache_list()["caches"].values() for url, _ in entries}
    assert {
        "/",
        "/offline",
        f"/screen/{FIRST}",
        f"/screen/{SECOND_TASK}",
        f"/model-card/{FIRST}",
        f"/model-card/{SECOND_TASK}",
    } <= urls
    assert not any(url.startswith(("/performance", "/data")) for url in urls)


def test_manifest_starts_at_home(client):
    manifest = json.loads(client.get("/manifest.webmanifest").get_data(as_text=True))
    assert manifest["start_url"] == "/" and manifest["scope"] == "/"


# ---- in Chromium ----------------------------------------------------------------------------------


def tiny_graph_model(folder, n_labels: int) -> str:
    """Write a TF.js graph model of the image alone into ``folder``: the mean colour of
    the picture, times a 3×n weight matrix, softmax. Returns its content version
    (as training/exporting/export.py's ``content_version`` computes it and model-files.js checks it)."""
    folder.mkdir(parents=True, exist_ok=True)

    def dims(*sizes):
        return {"dim": [{"size": str(size)} for size in sizes]}

    float_t, int_t = {"type": "DT_FLOAT"}, {"type": "DT_INT32"}
    kernel = [[0.02 * (i - j) for j in range(n_labels)] for i in range(3)]
    nodes = [
        {
            "name": "image",
            "op": "Placeholder",
            "attr": {"dtype": float_t, "shape": {"shape": dims(-1, -1, -1, 3)}},
        },
        {
            "name": "mean/axes",
            "op": "Const",
            "attr": {
                "dtype": int_t,
                "value": {"tensor": {"dtype": "DT_INT32", "tensorShape": dims(2)}},
            },
        },
        {
            "name": "mean",
            "op": "Mean",
            "input": ["image", "mean/axes"],
            "attr": {"T": float_t, "Tidx": int_t, "keep_dims": {"b": False}},
        },
        {
            "name": "dense/kernel",
            "op": "Const",
            "attr": {
                "dtype": float_t,
                "value": {"tensor": {"dtype": "DT_FLOAT", "tensorShape": dims(3, n_labels)}},
            },
        },
        {
            "name": "dense/MatMul",
            "op": "MatMul",
            "input": ["mean", "dense/kernel"],
            "attr": {"T": float_t, "transpose_a": {"b": False}, "transpose_b": {"b": False}},
        },
        {
            "name": "dense/Softmax",
            "op": "Softmax",
            "input": ["dense/MatMul"],
            "attr": {"T": float_t},
        },
        {"name": "Identity", "op": "Identity", "input": ["dense/Softmax"], "attr": {"T": float_t}},
    ]
    weights = struct.pack("<2i", 1, 2) + struct.pack(
        f"<{3 * n_labels}f", *[w for row in kernel for w in row]
    )
    model = {
        "format": "graph-model",
        "generatedBy": "tests/test_home.py",
        "convertedBy": "by hand",
        "signature": {
            "inputs": {
                "image": {
                    "name": "image:0",
                    "dtype": "DT_FLOAT",
                    "tensorShape": dims(-1, -1, -1, 3),
                }
            },
            "outputs": {
                "output_0": {
                    "name": "Identity:0",
                    "dtype": "DT_FLOAT",
                    "tensorShape": dims(-1, n_labels),
                }
            },
        },
        "modelTopology": {"node": nodes, "library": {}, "versions": {}},
        "weightsManifest": [
            {
                "paths": ["group1-shard1of1.bin"],
                "weights": [
                    {"name": "mean/axes", "shape": [2], "dtype": "int32"},
                    {"name": "dense/kernel", "shape": [3, n_labels], "dtype": "float32"},
                ],
            }
        ],
    }
    model_json = json.dumps(model).encode()
    (folder / "model.json").write_bytes(model_json)
    (folder / "group1-shard1of1.bin").write_bytes(weights)
    digest = hashlib.sha256(b"model.json" + model_json + b"group1-shard1of1.bin" + weights)
    return digest.hexdigest()[:12]


@pytest.fixture(scope="module")
def image_only_server(two_task_folders, tmp_path_factory):
    """The two-task site, its second task (no details) with a working tiny model."""
    models = tmp_path_factory.mktemp("image_only") / "models"
    shutil.copytree(two_task_folders[0], models)
    metadata = json.loads((models / SECOND_TASK / "metadata.json").read_text())
    metadata["version"] = tiny_graph_model(models / SECOND_TASK, len(metadata["labels"]))
    metadata["inputs"]["image"].update(min_side=32, max_side=512)
    (models / SECOND_TASK / "metadata.json").write_text(json.dumps(metadata))
    index = json.loads((models / "index.json").read_text())
    for task in index["tasks"]:
        if task["id"] == SECOND_TASK:
            task["version"] = metadata["version"]
    (models / "index.json").write_text(json.dumps(index))
    app = create_app(
        {**TEST_CONFIG, "MODELS_FOLDER": str(models), "REPORTS_FOLDER": str(two_task_folders[1])}
    )
    with serve(app) as url:
        yield url


@pytest.mark.browser
def test_from_home_to_a_screener_of_the_image_alone(browser, image_only_server, sample_paths):
    from playwright.sync_api import expect

    # No service worker: the first task's weights are not in this made-up site, so an
    # offline copy could not be made (that failure is tested in test_offline.py).
    recorded = open_recorded_page(browser, service_workers="block")
    page = recorded.page
    try:
        page.goto(image_only_server + "/")
        cards_shown = page.get_by_role("article")
        expect(cards_shown).to_have_count(2)
        expect(page.get_by_text("This is not a diagnosis.")).to_be_visible()
        expect(page.get_by_text("Your images never leave your device.")).to_be_visible()
        card = page.get_by_role("article", name="Two-kind screener")
        expect(card.get_by_text("Nothing but the image.")).to_be_visible()
        card.get_by_role("link", name="Open the screener").click()

        expect(page).to_have_url(f"{image_only_server}/screen/{SECOND_TASK}")
        expect(page.get_by_role("status")).to_have_text(READY, timeout=BROWSER_TIMEOUT_MS)
        expect(page.get_by_role("heading", name="Details (optional)")).to_have_count(0)
        expect(page.locator("[data-field]")).to_have_count(0)
        page.get_by_label("Choose an image").set_input_files(sample_paths[0])
        caption = page.get_by_text(f"Result for “{sample_paths[0].name}”")
        expect(caption).to_be_visible()
        expect(caption).to_have_text(f"Result for “{sample_paths[0].name}”")  # no details
        expect(page.get_by_role("meter")).to_have_count(2)
        expect(page.get_by_role("alert")).to_be_hidden()

        # The header leads back to the list; the selector to the other screener.
        page.get_by_role("navigation", name="Site").get_by_role(
            "link", name="All screeners"
        ).click()
        expect(page.get_by_role("heading", level=1)).to_have_text(
            "Screeners that run in your browser"
        )
        recorded.assert_clean()
    finally:
        page.context.close()


@pytest.mark.browser
@pytest.mark.parametrize("task", [task["id"] for task in INDEX])
def test_every_indexed_screener_opens_from_home_and_classifies(
    browser, live_server, sample_paths, task
):
    """Each shipped screener, reached from the home page, loads its model and answers."""
    from playwright.sync_api import expect

    metadata = json.loads((MODELS_DIR / task / "metadata.json").read_text())
    fields = (metadata.get("metadata_encoding") or {}).get("fields") or []
    recorded = open_recorded_page(browser, service_workers="block")
    page = recorded.page
    try:
        page.goto(live_server + "/")
        page.get_by_role("article", name=metadata["title"]).get_by_role(
            "link", name="Open the screener"
        ).click()
        expect(page).to_have_url(f"{live_server}/screen/{task}")
        expect(page.get_by_role("status")).to_have_text(READY, timeout=BROWSER_TIMEOUT_MS)
        expect(page.locator("[data-field]")).to_have_count(len(fields))
        page.get_by_label("Choose an image").set_input_files(sample_paths[1])
        expect(page.get_by_text(f"Result for “{sample_paths[1].name}”")).to_be_visible()
        expect(page.get_by_role("meter")).to_have_count(len(metadata["labels"]))
        expect(page.get_by_role("alert")).to_be_hidden()
        recorded.assert_clean()
    finally:
        page.context.close()


@pytest.mark.browser
def test_home_at_a_phone_width(browser, live_server):
    from playwright.sync_api import expect

    recorded = open_recorded_page(
        browser,
        viewport={"width": 390, "height": 844},
        device_scale_factor=2,
        is_mobile=True,
        has_touch=True,
        service_workers="block",
    )
    page = recorded.page
    try:
        page.goto(live_server + "/")
        expect(page.get_by_role("article")).to_have_count(len(INDEX))
        expect(page.get_by_role("link", name="Open the screener").first).to_be_visible()
        assert (
            page.evaluate(
                "() => document.documentElement.scrollWidth - document.documentElement.clientWidth"
            )
            <= 0
        )
        recorded.assert_clean()
    finally:
        page.context.close()
