"""The public JavaScript API (static/js/classifier.js), driven in Chromium.

One page and one model load for the whole module: the page is a blank document
on the live server's origin (with the site's Content-Security-Policy), test
images are served to it under /test-data/, and the loaded classifier is kept in
``window.classifier``.
"""

from __future__ import annotations

import mimetypes

import numpy as np
import pytest

from conftest import open_recorded_page
from webapp.config import Config

pytestmark = pytest.mark.browser

LABEL_IDS = ["akiec", "bcc", "bkl", "df", "mel", "nv", "vasc"]
HOST_PAGE = "/__api_test__"

LOAD = """
async (options) => {
  const { loadClassifier } = await import('/static/js/classifier.js');
  window.loadClassifier = loadClassifier;
  window.fetchBlob = async (name) => {
    const response = await fetch('/test-data/' + name);
    if (!response.ok) throw new Error('test file missing: ' + name);
    return response.blob();
  };
  window.classifier = await loadClassifier('skin_lesion', options || undefined);
  return true;
}
"""

# Turns a served test file into the requested kind of image source, then classifies it.
CLASSIFY_AS = """
async ([kind, name, values]) => {
  const blob = await fetchBlob(name);
  let source = blob;
  if (kind !== 'blob') {
    const img = new Image();
    img.src = URL.createObjectURL(blob);
    await img.decode();
    if (kind === 'image') source = img;
    if (kind === 'canvas') {
      source = document.createElement('canvas');
      source.width = img.naturalWidth;
      source.height = img.naturalHeight;
      source.getContext('2d').drawImage(img, 0, 0);
    }
    if (kind === 'bitmap') source = await createImageBitmap(blob);
  }
  return classifier.classify(source, values);
}
"""

# Runs CODE (a statement with `blob` and `classifier` in scope) and reports how it
# failed. The code is spliced in here, in Python: Playwright compiles the string
# outside the page, whereas new Function() in the page would be refused by the
# site's Content-Security-Policy (no 'unsafe-eval').
REJECTION = """
async (name) => {
  const blob = await fetchBlob(name);
  try {
    CODE;
  } catch (error) {
    return { isError: error instanceof Error, message: error.message };
  }
  return { isError: false, message: 'resolved' };
}
"""


def rejection(page, name, code):
    return page.evaluate(REJECTION.replace("CODE", code), name)


def open_host_page(browser, live_server, files, init_script=None, options=None):
    """A recorded blank page on the live server's origin with the site's policy; the
    ``files`` ({name: path}) are served to it under /test-data/; ``window.classifier``
    is loaded with ``options`` (loadClassifier's)."""
    recorded = open_recorded_page(browser)
    page = recorded.page

    def serve_test_file(route):
        name = route.request.url.rsplit("/", 1)[1]
        if name not in files:
            return route.fulfill(status=404, body="no such test file")
        kind = mimetypes.guess_type(name)[0] or "application/octet-stream"
        return route.fulfill(status=200, body=files[name].read_bytes(), content_type=kind)

    def serve_host_page(route):
        route.fulfill(
            status=200,
            content_type="text/html",
            headers={"Content-Security-Policy": Config.CONTENT_SECURITY_POLICY},
            body="<!doctype html><html lang=en><title>API test</title></html>",
        )

    if init_script:
        page.add_init_script(init_script)
    page.route(f"{live_server}/test-data/*", serve_test_file)
    page.route(f"{live_server}{HOST_PAGE}", serve_host_page)
    page.goto(live_server + HOST_PAGE)
    assert page.evaluate(LOAD, options) is True
    return recorded


@pytest.fixture(scope="module")
def api(browser, live_server, sample_paths, odd_files):
    """A recorded page with ``window.classifier`` loaded; checked clean at the end."""
    files = {path.name: path for path in [*sample_paths, *odd_files.values()]}
    recorded = open_host_page(browser, live_server, files)
    yield recorded
    try:
        recorded.assert_clean()
    finally:
        recorded.page.context.close()


def check_results(results, metadata):
    names = {label["id"]: label["name"] for label in metadata["labels"]}
    assert len(results) == len(LABEL_IDS)
    assert sorted(result["id"] for result in results) == sorted(LABEL_IDS)
    for result in results:
        assert set(result) == {"id", "name", "probability"}
        assert result["name"] == names[result["id"]]
        assert 0.0 <= result["probability"] <= 1.0
    probabilities = [result["probability"] for result in results]
    assert probabilities == sorted(probabilities, reverse=True)
    assert sum(probabilities) == pytest.approx(1.0, abs=1e-4)


def by_id(results) -> np.ndarray:
    table = {result["id"]: result["probability"] for result in results}
    return np.array([table[label_id] for label_id in LABEL_IDS])


def test_labels_follow_the_metadata(api, task_metadata):
    info = api.page.evaluate(
        "() => ({task: classifier.task, labels: classifier.labels, backend: classifier.backend,"
        " metadataLabels: classifier.metadata.labels})"
    )
    assert info["task"] == "skin_lesion"
    assert [label["id"] for label in info["labels"]] == LABEL_IDS
    assert info["labels"] == [
        {"id": label["id"], "name": label["name"]} for label in task_metadata["labels"]
    ]
    assert info["metadataLabels"] == task_metadata["labels"]
    assert info["backend"] in ("wasm", "webgl", "cpu")


@pytest.mark.parametrize("kind", ["blob", "image", "canvas", "bitmap"])
def test_classify_each_kind_of_image(api, task_metadata, sample_paths, kind):
    results = api.page.evaluate(CLASSIFY_AS, [kind, sample_paths[0].name, None])
    check_results(results, task_metadata)


@pytest.mark.parametrize("backend", ["cpu", "webgl"])
def test_fallback_backends_load_and_answer_as_wasm(
    api, browser, live_server, sample_paths, backend
):
    """Only the WASM backend is loaded up front (tf-loader.js); asked for another, the
    classifier loads that backend's bundle and gives the same answer."""
    assert api.page.evaluate("() => classifier.backend") == "wasm"
    name = sample_paths[0].name
    expected = by_id(api.page.evaluate(CLASSIFY_AS, ["blob", name, None]))
    recorded = open_host_page(
        browser, live_server, {name: sample_paths[0]}, options={"backend": backend}
    )
    try:
        assert recorded.page.evaluate("() => classifier.backend") == backend
        answer = by_id(recorded.page.evaluate(CLASSIFY_AS, ["blob", name, None]))
        np.testing.assert_allclose(answer, expected, atol=1e-3)
        assert any(
            url.endswith(f"/tf-backend-{backend}.es2017.min.js") for url in recorded.requests
        )
        recorded.assert_clean()
    finally:
        recorded.page.context.close()


def test_only_the_wasm_backend_is_loaded_when_it_starts(api):
    loaded = [url.rsplit("/", 1)[1] for url in api.requests if "/static/vendor/tfjs/" in url]
    assert "tf-backend-wasm.es2017.min.js" in loaded
    assert not [name for name in loaded if name.startswith(("tf-backend-cpu", "tf-backend-webgl"))]


def test_kinds_of_image_agree(api, sample_paths):
    """The same photo gives the same answer whichever way it is handed over."""
    runs = {
        kind: by_id(api.page.evaluate(CLASSIFY_AS, [kind, sample_paths[1].name, None]))
        for kind in ("blob", "image", "canvas", "bitmap")
    }
    for kind, probabilities in runs.items():
        np.testing.assert_allclose(probabilities, runs["blob"], atol=0.03, err_msg=kind)


def test_every_sample_with_its_metadata(api, task_metadata, samples):
    for sample in samples:
        values = {"age": sample.age, "sex": sample.sex, "site": sample.site}
        results = api.page.evaluate(CLASSIFY_AS, ["blob", sample.path.name, values])
        check_results(results, task_metadata)


def test_metadata_changes_the_input(api, sample_paths):
    """Different details give a different metadata vector, hence (slightly) other outputs."""
    name = sample_paths[2].name
    plain = by_id(api.page.evaluate(CLASSIFY_AS, ["blob", name, {}]))
    again = by_id(api.page.evaluate(CLASSIFY_AS, ["blob", name, None]))
    detailed = by_id(
        api.page.evaluate(CLASSIFY_AS, ["blob", name, {"age": 80, "sex": "female", "site": "face"}])
    )
    np.testing.assert_allclose(plain, again, atol=1e-6)
    assert np.abs(plain - detailed).max() > 1e-6


def test_tensors_do_not_leak(api, sample_paths):
    counts = api.page.evaluate(
        """
      async (name) => {
        const blob = await fetchBlob(name);
        await classifier.classify(blob);
        const before = (await classifier.memory()).numTensors;
        for (let i = 0; i < 5; i++) {
          await classifier.classify(blob, { age: 30 + i, sex: 'male', site: 'back' });
          await classifier.classify(blob, { age: 500 }).catch(() => null);
        }
        return [before, (await classifier.memory()).numTensors];
      }""",
        sample_paths[3].name,
    )
    assert counts[0] > 0  # the model's weights: the count is read where the model runs
    assert counts[1] == counts[0]


def test_the_model_runs_in_a_worker(api, task_metadata, sample_paths):
    """TF.js, the model and inference live in a dedicated worker: the page never
    loads TF.js, so it never blocks on it."""
    results = api.page.evaluate(CLASSIFY_AS, ["blob", sample_paths[0].name, None])
    check_results(results, task_metadata)
    assert api.page.evaluate("() => classifier.runtime.worker") is True
    assert api.page.evaluate("() => typeof globalThis.tf") == "undefined"
    assert [w.url.rsplit("/", 1)[1] for w in api.page.workers] == ["model-worker.js"]
    assert api.page.workers[0].evaluate("() => tf.getBackend()") == api.page.evaluate(
        "() => classifier.backend"
    )


# Makes the model's worker fail as it starts (as where workers are blocked or
# module workers unsupported), before any script of the page runs.
BREAK_WORKER = """
const Real = Worker;
globalThis.Worker = class extends Real {
  constructor(url, options) {
    const broken = URL.createObjectURL(new Blob(['throw new Error("no worker here")'],
                                                { type: 'text/javascript' }));
    super(String(url).endsWith('/model-worker.js') ? broken : url, options);
  }
};
"""


def test_without_a_worker_the_page_runs_the_model(
    browser, live_server, api, task_metadata, sample_paths
):
    name = sample_paths[0].name
    recorded = open_host_page(browser, live_server, {name: sample_paths[0]}, BREAK_WORKER)
    page = recorded.page
    try:
        results = page.evaluate(CLASSIFY_AS, ["blob", name, None])
        check_results(results, task_metadata)
        assert page.evaluate("() => classifier.runtime.worker") is False
        assert page.evaluate("() => typeof globalThis.tf") == "object"
        # The same answer as in the worker.
        expected = api.page.evaluate(CLASSIFY_AS, ["blob", name, None])
        np.testing.assert_allclose(by_id(results), by_id(expected), atol=1e-5)
        recorded.assert_clean()
    finally:
        page.context.close()


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        (
            "await classifier.classify(42)",
            [
                "classify() needs",
                "File/Blob",
                "HTMLImageElement",
                "HTMLCanvasElement",
                "ImageBitmap",
                "got Number",
            ],
        ),
        ("await classifier.classify(null)", ["classify() needs", "got null"]),
        ("await classifier.classify()", ["classify() needs", "got nothing"]),
        ("await classifier.classify(blob, {age: 200})", ["Age", "between 0 and 120", "200"]),
        ("await classifier.classify(blob, {age: -3})", ["Age", "between 0 and 120", "-3"]),
        ("await classifier.classify(blob, {age: 'abc'})", ["Age", "must be a number", "abc"]),
        (
            "await classifier.classify(blob, {sex: 'x'})",
            ["Sex", "male", "female", "unknown", '"x"'],
        ),
        ("await classifier.classify(blob, {site: 'moon'})", ["Body site", "back", "scalp", "moon"]),
        ("await classifier.classify(blob, {colour: 'red'})", ["colour", "age, sex, site"]),
        ("await classifier.classify(blob, 'female')", ["Metadata must be an object"]),
        ("await loadClassifier(123)", ["loadClassifier()", "skin_lesion", "123"]),
        ("await loadClassifier()", ["loadClassifier()", "skin_lesion"]),
    ],
)
def test_wrong_input_is_rejected_readably(api, sample_paths, code, expected):
    outcome = rejection(api.page, sample_paths[0].name, code)
    assert outcome["isError"], outcome
    for fragment in expected:
        assert fragment in outcome["message"], outcome["message"]


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("not_image.txt", "is not an image"),
        ("empty.jpg", "empty (0 bytes)"),
        ("corrupt.jpg", "could not be read as an image"),
        ("tiny.png", "too small (20 × 20 pixels)"),
    ],
)
def test_bad_files_are_rejected_readably(api, name, expected):
    outcome = rejection(api.page, name, "await classifier.classify(blob)")
    assert outcome["isError"], outcome
    assert expected in outcome["message"]


def test_unknown_task_lists_valid_tasks(api, sample_paths):
    before = len(api.console_errors)
    outcome = rejection(api.page, sample_paths[0].name, "await loadClassifier('nope')")
    assert outcome["isError"], outcome
    assert 'Unknown task "nope"' in outcome["message"]
    assert "valid tasks: skin_lesion" in outcome["message"]
    # Looking for nope/metadata.json is a 404, which Chromium reports on the console:
    # that one error is expected here and is taken off the record.
    new_errors = api.console_errors[before:]
    assert all("404" in error for error in new_errors), new_errors
    del api.console_errors[before:]


def test_usable_after_rejections(api, task_metadata, sample_paths):
    rejection(api.page, sample_paths[0].name, "await classifier.classify(42)")
    results = api.page.evaluate(CLASSIFY_AS, ["blob", sample_paths[0].name, None])
    check_results(results, task_metadata)


@pytest.mark.parametrize("name", ["alpha.png", "grayscale.jpg", "exif_rotated.jpg"])
def test_unusual_images_classify(api, task_metadata, name):
    check_results(api.page.evaluate(CLASSIFY_AS, ["blob", name, None]), task_metadata)


def test_huge_image_is_shrunk_and_classified(api, task_metadata, huge_image):
    api.page.route(
        "**/test-data/huge.jpg",
        lambda route: route.fulfill(
            status=200, body=huge_image.read_bytes(), content_type="image/jpeg"
        ),
    )
    check_results(api.page.evaluate(CLASSIFY_AS, ["blob", "huge.jpg", None]), task_metadata)


def test_exif_orientation_is_applied(api, sample_paths):
    """A phone photo stored sideways with an EXIF tag reaches the model as it is shown."""
    canvases = api.page.evaluate(
        """
      async (names) => {
        const { prepareImage, imagePixels } = await import('/static/js/image-input.js');
        const out = {};
        for (const name of names) {
          const { width, height, data } = await imagePixels(await prepareImage(await fetchBlob(name)));
          out[name] = { width, height, pixels: Array.from(data) };
        }
        return out;
      }""",
        ["exif_rotated.jpg", "upright.jpg", "sideways.jpg"],
    )
    exif, upright, sideways = (
        canvases[name] for name in ("exif_rotated.jpg", "upright.jpg", "sideways.jpg")
    )
    assert (exif["width"], exif["height"]) == (upright["width"], upright["height"])
    assert (sideways["width"], sideways["height"]) == (upright["height"], upright["width"])
    difference = np.abs(np.array(exif["pixels"], float) - np.array(upright["pixels"], float))
    assert difference.mean() < 3.0  # JPEG noise only; a wrong turn differs by tens of levels


# ---- the metadata encoding: JavaScript and Python agree ----------------------------------

ENCODE = """
async (cases) => {
  const { encodeMetadata } = await import('/static/js/encoding.js');
  const encoding = classifier.metadata.metadata_encoding;
  return cases.map((values) => {
    try {
      return { vector: encodeMetadata(encoding, values) };
    } catch (error) {
      return { error: error.message };
    }
  });
}
"""

VALID_VALUES = [
    {},
    None,
    {"age": 45},
    {"age": "45"},
    {"age": 37.5},
    {"age": 0, "sex": "male", "site": "lower extremity"},
    {"age": 120, "sex": "female", "site": "upper extremity"},
    {"sex": "FEMALE", "site": " Back "},
    {"age": None, "sex": "unknown", "site": ""},
    {"age": float("nan")},
    {"site": "scalp"},
    {"sex": "Unknown"},
]
INVALID_VALUES = [
    {"age": 200},
    {"age": -1},
    {"age": "abc"},
    {"sex": "x"},
    {"site": "moon"},
    {"colour": "red"},
]


def test_metadata_encoding_matches_python(api, samples):
    from training.inputs.encoding import encode_metadata
    from training.inputs.tasks import get_task

    task = get_task("skin_lesion")
    cases = VALID_VALUES + [{"age": s.age, "sex": s.sex, "site": s.site} for s in samples]
    encoded = api.page.evaluate(ENCODE, cases)
    for values, js in zip(cases, encoded):
        assert "vector" in js, (values, js)
        expected = encode_metadata(task, values)
        assert len(js["vector"]) == task.metadata_size
        np.testing.assert_allclose(js["vector"], expected, atol=1e-6, err_msg=str(values))


def test_metadata_encoding_rejects_like_python(api):
    from training.inputs.encoding import encode_metadata
    from training.inputs.tasks import get_task

    task = get_task("skin_lesion")
    encoded = api.page.evaluate(ENCODE, INVALID_VALUES)
    for values, js in zip(INVALID_VALUES, encoded):
        assert "error" in js, (values, js)
        with pytest.raises(ValueError):
            encode_metadata(task, values)


# ---- test-time views: made in JavaScript, in the order the graph folds them back --------


def test_mirror_views_are_the_image_and_its_mirrors_in_the_graphs_order(api):
    """tta.js stacks what ``training.fitting.layers.MirrorViews`` makes (as given, left-right,
    up-down, both), as RGB floats; the alpha channel is dropped."""
    rng = np.random.default_rng(3)
    rgba = rng.integers(0, 256, (3, 5, 4), dtype=np.uint8)  # 3 rows, 5 columns
    got = api.page.evaluate(
        """async ([width, height, pixels]) => {
      const { stackMirrors } = await import('/static/js/tta.js');
      return Array.from(stackMirrors({ width, height, data: Uint8Array.from(pixels) }));
    }""",
        [5, 3, rgba.ravel().tolist()],
    )
    rgb = rgba[..., :3].astype(np.float32)
    want = np.stack([rgb, rgb[:, ::-1], rgb[::-1], rgb[::-1, ::-1]])
    np.testing.assert_array_equal(np.asarray(got, np.float32).reshape(4, 3, 5, 3), want)
    from training.fitting.layers import MirrorViews

    np.testing.assert_array_equal(np.asarray(MirrorViews()(rgb[None], training=False)), want)


def test_a_model_asking_for_unknown_views_is_refused_readably(api):
    answers = api.page.evaluate("""async () => {
      const { ttaCount } = await import('/static/js/tta.js');
      const out = [ttaCount(undefined), ttaCount('none'), ttaCount('mirrors')];
      try { ttaCount('rotations'); } catch (error) { out.push(error.message); }
      return out;
    }""")
    assert answers[:3] == [1, 1, 4]
    assert 'test-time augmentation "rotations"' in answers[3] and "reload the page" in answers[3]


SVG_DRAWING = (
    '<svg xmlns="http://www.w3.org/2000/svg" width="240" height="180">'
    '<rect width="240" height="180" fill="#c89080"/><circle cx="120" cy="90" r="50" fill="#704030"/>'
    "</svg>"
)


def test_an_svg_is_said_to_be_unsupported_on_the_screener(browser, live_server, tmp_path):
    """An SVG was previewed correctly and then said to be "damaged": the screener, and the
    API under it, say that SVG is not supported (issue 31)."""
    from playwright.sync_api import expect

    svg = tmp_path / "drawing.svg"
    svg.write_text(SVG_DRAWING)
    recorded = open_recorded_page(browser)
    page = recorded.page
    try:
        page.goto(f"{live_server}/screen/skin_lesion?lang=en")
        page.get_by_label("Choose an image").set_input_files(svg)
        alert = page.get_by_role("alert")
        expect(alert).to_contain_text('"drawing.svg" is an SVG image, which is not supported')
        expect(alert).not_to_contain_text("damaged")
        expect(page.get_by_role("meter")).to_have_count(0)
        # The API says the same of an SVG without a type or name it could go by.
        for blob in ("new File([svg], 'drawing.svg')", "new Blob([svg], {type: 'image/svg+xml'})"):
            message = page.evaluate(
                f"""async (svg) => {{
                  const {{ prepareImage }} = await import('/static/js/image-input.js');
                  try {{ await prepareImage({blob}); return 'accepted'; }}
                  catch (error) {{ return error.message; }}
                }}""",
                SVG_DRAWING,
            )
            assert "is an SVG image, which is not supported" in message, (blob, message)
        recorded.assert_clean()
    finally:
        page.context.close()
