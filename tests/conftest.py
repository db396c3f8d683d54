"""Shared fixtures: the Flask app, a live server on a loopback port, and Chromium pages.

Browser pages record every request URL and every console error so that tests
can assert that nothing left 127.0.0.1 and nothing went wrong silently.
"""

from __future__ import annotations

import csv
import json
import re
import threading
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from werkzeug.serving import WSGIRequestHandler, make_server

from webapp import create_app

ROOT = Path(__file__).resolve().parent.parent
SAMPLES_DIR = ROOT / "tests" / "data" / "ham10000"
MODELS_DIR = ROOT / "static" / "tfjs_model"
LOOPBACK = "127.0.0.1"
TEST_CONFIG = {"TESTING": True}

# Generous: the machine is small and a training job may be running beside the tests.
BROWSER_TIMEOUT_MS = 90_000
# The screener's status once its model is loaded (the backend is in its tooltip).
READY = re.compile(r"^Model ready\.")
READY_DE = re.compile(r"^Modell bereit\.")


def load_script(name: str):
    """The module of ``scripts/<name>.py`` (scripts are not a package), to test its functions."""
    import importlib.util

    spec = importlib.util.spec_from_file_location(name, ROOT / "scripts" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def app():
    return create_app(TEST_CONFIG)


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture(scope="session")
def task_metadata() -> dict:
    """The skin-lesion model's contract, as the site serves it."""
    return json.loads((MODELS_DIR / "skin_lesion" / "metadata.json").read_text())


@pytest.fixture
def client_with_metadata(tmp_path):
    """``make(edit)`` → (test client, metadata) of an app whose models folder is a copy.

    The copy holds the site's index.json cut to its first task, and that task's metadata.json (no
    weights), after ``edit(metadata)`` has changed it in place; the app reads it
    through the ``MODELS_FOLDER`` setting.
    """

    def make(edit):
        index = json.loads((MODELS_DIR / "index.json").read_text())
        index["tasks"] = index["tasks"][:1]
        task_id = index["tasks"][0]["id"]
        metadata = json.loads((MODELS_DIR / task_id / "metadata.json").read_text())
        edit(metadata)
        (tmp_path / task_id).mkdir()
        (tmp_path / "index.json").write_text(json.dumps(index))
        (tmp_path / task_id / "metadata.json").write_text(json.dumps(metadata))
        app = create_app({**TEST_CONFIG, "MODELS_FOLDER": str(tmp_path), "DEFAULT_TASK": None})
        return app.test_client(), metadata

    return make


@dataclass(frozen=True)
class Sample:
    path: Path
    dx: str
    age: float | None
    sex: str
    site: str


@pytest.fixture(scope="session")
def samples() -> list[Sample]:
    """The seven real HAM10000 images (one per class) with their metadata."""
    with open(SAMPLES_DIR / "samples.csv", newline="") as handle:
        rows = list(csv.DictReader(handle))
    return [
        Sample(
            SAMPLES_DIR / f"{row['image_id']}.jpg",
            row["dx"],
            float(row["age"]) if row["age"] else None,
            row["sex"],
            row["localization"],
        )
        for row in rows
    ]


@pytest.fixture(scope="session")
def sample_paths(samples) -> list[Path]:
    return [sample.path for sample in samples]


class _QuietHandler(WSGIRequestHandler):
    def log_request(self, *args, **kwargs):
        pass


def _closing_responses(app):
    """``app``, whose response bodies are closed even when the browser drops the connection.

    werkzeug's server cleans up a dropped connection by reading the socket first; when
    that raises (reset by the peer) it never closes the response, and a file being sent
    is left open: under ``-W error`` its ResourceWarning fails whichever test runs then.
    A service worker still downloading when a test closes its browser context does that.
    """

    def wrapped(environ, start_response):
        body = app(environ, start_response)
        try:
            yield from body
        finally:  # on werkzeug's close(), or when the dropped response is collected
            if hasattr(body, "close"):
                body.close()

    return wrapped


@contextmanager
def serve(app):
    """Base URL of ``app`` served by werkzeug on a free loopback port, while in the block."""
    server = make_server(
        LOOPBACK, 0, _closing_responses(app), threaded=True, request_handler=_QuietHandler
    )
    thread = threading.Thread(target=server.serve_forever, name="live-server", daemon=True)
    thread.start()
    try:
        yield f"http://{LOOPBACK}:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


@pytest.fixture(scope="session")
def live_server():
    """Base URL of the real app served by werkzeug on a free loopback port."""
    with serve(create_app(TEST_CONFIG)) as url:
        yield url


def is_local(url: str) -> bool:
    """True for URLs that stay on this machine's loopback server (or in the page)."""
    parts = urlsplit(url)
    if parts.scheme in ("data", "about"):
        return True
    if parts.scheme == "blob":
        return is_local(url[len("blob:") :])
    return parts.scheme in ("http", "https", "ws", "wss") and parts.hostname == LOOPBACK


@dataclass
class RecordedPage:
    """A Playwright page plus what it did: request URLs, console errors, uncaught errors."""

    page: object
    requests: list[str] = field(default_factory=list)
    console_errors: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)

    def outside_requests(self) -> list[str]:
        return [url for url in self.requests if not is_local(url)]

    def assert_clean(self) -> None:
        assert self.requests, "the page made no request at all"
        assert self.outside_requests() == [], "requests left 127.0.0.1"
        assert self.page_errors == [], "uncaught errors in the page"
        assert self.console_errors == [], "console errors in the page"


def open_recorded_page(browser, **context_options) -> RecordedPage:
    """A page in a fresh browser context that records what it does."""
    context = browser.new_context(**context_options)
    context.set_default_timeout(BROWSER_TIMEOUT_MS)
    page = context.new_page()
    recorded = RecordedPage(page)
    page.on("request", lambda request: recorded.requests.append(request.url))
    page.on(
        "console",
        lambda message: message.type == "error" and recorded.console_errors.append(message.text),
    )
    page.on("pageerror", lambda error: recorded.page_errors.append(str(error)))
    return recorded


@pytest.fixture
def page_record(browser):
    """A recorded page; the test fails if it reached another host or logged an error."""
    recorded = open_recorded_page(browser)
    yield recorded
    try:
        recorded.assert_clean()
    finally:
        recorded.page.context.close()


@pytest.fixture
def page(page_record):
    """The Playwright page of ``page_record``."""
    return page_record.page


# ---- odd inputs a person might hand the page ------------------------------------------


@pytest.fixture(scope="session")
def odd_files(tmp_path_factory, sample_paths) -> dict[str, Path]:
    """Files for the bad-input and unusual-image cases, made with Pillow.

    not_image.txt, empty.jpg (0 bytes), corrupt.jpg (random bytes), tiny.png (20×20),
    alpha.png (RGBA with a transparent border), grayscale.jpg (mode L),
    exif_rotated.jpg (stored sideways, EXIF Orientation 6 = show rotated 90° clockwise),
    plus upright.jpg and sideways.jpg: the same pixels shown upright, and the stored
    sideways pixels without the tag.
    """
    import numpy as np
    from PIL import Image, ImageOps

    folder = tmp_path_factory.mktemp("odd_files")
    files = {}

    def path(name):
        files[name] = folder / name
        return files[name]

    path("not_image.txt").write_text("These are notes, not a photo.\n")
    path("empty.jpg").write_bytes(b"")
    path("corrupt.jpg").write_bytes(np.random.default_rng(0).bytes(20_000))
    Image.new("RGB", (20, 20), (180, 120, 110)).save(path("tiny.png"))

    with Image.open(sample_paths[0]) as source:
        photo = source.convert("RGB")
    rgba = photo.convert("RGBA")
    alpha = Image.new("L", photo.size, 0)
    alpha.paste(255, (60, 40, photo.width - 60, photo.height - 40))
    rgba.putalpha(alpha)
    rgba.save(path("alpha.png"))
    photo.convert("L").save(path("grayscale.jpg"), quality=95)

    photo.save(path("upright.jpg"), quality=100)
    stored = photo.rotate(90, expand=True)  # counter-clockwise; Orientation 6 turns it back
    stored.save(path("sideways.jpg"), quality=100)
    exif = Image.Exif()
    exif[0x0112] = 6
    stored.save(path("exif_rotated.jpg"), quality=100, exif=exif)
    with Image.open(files["exif_rotated.jpg"]) as check:
        assert ImageOps.exif_transpose(check).size == photo.size
    return files


@pytest.fixture(scope="session")
def huge_image(tmp_path_factory) -> Path:
    """A 12000×9000 JPEG (108 megapixels), a skin-coloured field with a dark oval."""
    from PIL import Image, ImageDraw

    image = Image.new("RGB", (12000, 9000), (214, 170, 150))
    ImageDraw.Draw(image).ellipse((4000, 3000, 8000, 6000), fill=(120, 70, 60))
    path = tmp_path_factory.mktemp("huge") / "huge_12000x9000.jpg"
    image.save(path, quality=85)
    return path


# ---- a site with a second, made-up task (report pages) --------------------------------

REPORTS_DIR = ROOT / "reports"
SECOND_TASK = "two_kinds"


def _second_task_reports(seed: int = 0) -> dict[str, dict]:
    """report.json, history.json, curves.json and data.json of a made-up task with two
    kinds and no details input, written by the training package's own functions (so a
    change of their format reaches these pages' tests); its data.json has no age, sex
    or other recorded columns."""
    import numpy as np
    import pandas as pd

    from training.fitting.evaluate import classification_metrics
    from training.fitting.schedule import one_cycle
    from training.reporting.curves import from_predictions
    from training.reporting.describe import describe

    labels = ["yes", "no"]
    rng = np.random.default_rng(seed)
    y_true = rng.integers(0, 2, 60)
    p_yes = np.clip(0.5 + (0.5 - y_true) * 0.5 + rng.normal(0, 0.25, 60), 0.01, 0.99)
    probabilities = np.stack([p_yes, 1 - p_yes], axis=1)
    table = pd.DataFrame(
        {
            "image_id": [f"im{i}" for i in range(200)],
            "group": [f"slide{i // 4}" for i in range(200)],
            "label": [labels[i % 2] for i in range(200)],
        }
    )
    split = pd.Series(["train"] * 140 + ["val"] * 30 + ["test"] * 30)
    sizes = {
        part: {label: int(((split == part) & (table["label"] == label)).sum()) for label in labels}
        for part in ("train", "val", "test")
    }
    report = {
        "labels": labels,
        "without_metadata": classification_metrics(y_true, probabilities, labels),
        "task": SECOND_TASK,
        "split": sizes,
        "selected_epoch": 2,
        "epochs": 3,
        "train_seconds": 42.0,
        "imbalance": "none",
    }
    steps = list(range(0, 31, 3))
    schedule = [one_cycle(step, 30, 1e-3) for step in steps]
    history = {
        "epochs": {
            "loss": [0.9, 0.6, 0.5],
            "accuracy": [0.6, 0.7, 0.75],
            "balanced_accuracy": [0.6, 0.7, 0.74],
            "val_loss": [0.8, 0.65, 0.66],
            "val_accuracy": [0.62, 0.7, 0.69],
            "val_balanced_accuracy": [0.61, 0.71, 0.69],
            "val_balanced_accuracy_no_metadata": [0.61, 0.71, 0.69],
            "val_macro_auc_no_metadata": [0.7, 0.8, 0.79],
            "elapsed_s": [10.0, 20.0, 30.0],
        },
        "schedule": {
            "step": steps,
            "learning_rate": [lr for lr, _ in schedule],
            "momentum": [m for _, m in schedule],
        },
        "selected_epoch": 2,
        "steps_per_epoch": 10,
        "train_seconds": 42.0,
    }
    curves = from_predictions(
        {"y_true": y_true.tolist(), "without_metadata": probabilities.tolist()}, labels
    )
    return {
        "report": report,
        "history": history,
        "curves": curves,
        "data": describe(table, labels, split),
    }


@pytest.fixture(scope="session")
def two_task_folders(tmp_path_factory) -> tuple[Path, Path]:
    """(models folder, reports folder) of a site with two tasks: the first task of the
    site as shipped (metadata.json and reports, no weights) and the made-up
    ``SECOND_TASK`` of :func:`_second_task_reports`, split by slide."""
    import shutil

    root = tmp_path_factory.mktemp("two_tasks")
    models, reports = root / "models", root / "reports"
    first = json.loads((MODELS_DIR / "index.json").read_text())["tasks"][0]
    (models / first["id"]).mkdir(parents=True)
    shutil.copy(MODELS_DIR / first["id"] / "metadata.json", models / first["id"])
    (reports / first["id"]).mkdir(parents=True)
    for name in ("report.json", "history.json", "curves.json", "data.json"):
        if (REPORTS_DIR / first["id"] / name).is_file():
            shutil.copy(REPORTS_DIR / first["id"] / name, reports / first["id"])

    files = _second_task_reports()
    (reports / SECOND_TASK).mkdir()
    for name, content in files.items():
        (reports / SECOND_TASK / f"{name}.json").write_text(json.dumps(content))
    metrics = {
        key: files["report"]["without_metadata"][key]
        for key in ("n", "accuracy", "balanced_accuracy", "macro_auc", "macro_f1", "per_class")
    }
    metadata = {
        "format": 1,
        "task": SECOND_TASK,
        "title": "Two-kind screener",
        "image_kind": "a made-up test picture",
        "version": "0123456789ab",
        "labels": [
            {
                "id": "yes",
                "name": "Something seen",
                "description": "It is there.",
                "malignant": True,
            },
            {"id": "no", "name": "Nothing seen", "description": "It is not.", "malignant": False},
        ],
        "inputs": {"image": {"name": "image", "size": [64, 64]}},
        "metadata_encoding": {"fields": []},
        "split_group": "slide",
        "training": {"epochs": 3, "selected_epoch": 2},
        "metrics": {"test": {"without_metadata": metrics}},
    }
    (models / SECOND_TASK).mkdir()
    (models / SECOND_TASK / "metadata.json").write_text(json.dumps(metadata))
    index = {
        "tasks": [
            first,
            {"id": SECOND_TASK, "title": metadata["title"], "version": metadata["version"]},
        ]
    }
    (models / "index.json").write_text(json.dumps(index))
    return models, reports
