"""Hardening and offline plumbing, through Flask's test client: the security and
cross-origin-isolation headers on every kind of response, GET and HEAD only, the
service worker's precache list and versioning, the web app manifest and icons."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import re
import shutil

import pytest
from PIL import Image

from conftest import MODELS_DIR, ROOT, TEST_CONFIG
from webapp import create_app

EVERY_RESPONSE = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Embedder-Policy": "require-corp",
    "Cross-Origin-Resource-Policy": "same-origin",
}

TASK = json.loads((MODELS_DIR / "index.json").read_text())["tasks"][0]["id"]
SHARD = json.loads((MODELS_DIR / TASK / "model.json").read_text())["weightsManifest"][0]["paths"][0]

RESPONSE_KINDS = {
    "page": ("/", 200),
    "task page": (f"/screen/{TASK}", 200),
    "chart page": (f"/performance/{TASK}", 200),
    "offline page": ("/offline", 200),
    "script": ("/static/js/classifier.js", 200),
    "tfjs": ("/static/vendor/tfjs/tf-core.es2017.min.js", 200),
    "wasm": ("/static/vendor/tfjs/tfjs-backend-wasm-threaded-simd.wasm", 200),
    "model.json": (f"/static/tfjs_model/{TASK}/model.json", 200),
    "weight shard": (f"/static/tfjs_model/{TASK}/{SHARD}", 200),
    "bootstrap": ("/bootstrap/static/css/bootstrap.min.css", 200),
    "plotly": ("/static/vendor/plotly/plotly-cartesian.min.js", 200),
    "service worker": ("/sw.js", 200),
    "manifest": ("/manifest.webmanifest", 200),
    "404 page": ("/no/such/page", 404),
    "missing static file": ("/static/js/nothing.js", 404),
}


def header_map(response) -> dict:
    return {name: response.headers.get(name) for name in EVERY_RESPONSE}


@pytest.mark.parametrize("kind", RESPONSE_KINDS)
def test_headers_on_every_response(client, kind):
    path, status = RESPONSE_KINDS[kind]
    response = client.get(path)
    try:
        assert response.status_code == status
        assert header_map(response) == EVERY_RESPONSE
        policy = response.headers["Permissions-Policy"]
        assert "camera=(self)" in policy
        for feature in ("microphone", "geolocation", "display-capture", "usb"):
            assert f"{feature}=()" in policy
        if response.mimetype == "text/html":
            csp = response.headers["Content-Security-Policy"]
            assert "unsafe-inline" not in csp and "'unsafe-eval'" not in csp
            assert "'wasm-unsafe-eval'" in csp
    finally:
        response.close()


@pytest.mark.parametrize("method", ["post", "put", "delete", "patch", "options"])
@pytest.mark.parametrize(
    "path",
    [
        "/",
        f"/screen/{TASK}",
        "/static/js/classifier.js",
        f"/static/tfjs_model/{TASK}/model.json",
        "/sw.js",
        "/no/such/page",
    ],
)
def test_only_get_and_head(client, method, path):
    response = getattr(client, method)(path, data=b"image bytes")
    assert response.status_code == 405
    assert response.headers["Allow"] == "GET, HEAD"
    assert header_map(response) == EVERY_RESPONSE
    html = response.get_data(as_text=True)
    assert "can only be viewed" in html and 'href="/"' in html


def test_error_pages_do_not_start_the_offline_download(client):
    html = client.get("/no/such/page").get_data(as_text=True)
    assert "offline.js" not in html and "offline-status" not in html
    assert "offline.js" in client.get("/").get_data(as_text=True)


# ---- compression ------------------------------------------------------------------

CHROME_ACCEPTS = "gzip, deflate, br, zstd"
COMPRESSED_KINDS = [
    "page",
    "task page",
    "chart page",
    "offline page",
    "script",
    "tfjs",
    "wasm",
    "model.json",
    "bootstrap",
    "plotly",
    "service worker",
    "manifest",
]


def decoded(response) -> bytes:
    import gzip

    import brotli

    body = response.get_data()
    encoding = response.headers.get("Content-Encoding")
    return {"br": brotli.decompress, "gzip": gzip.decompress, None: bytes}[encoding](body)


def identity_body(client, path) -> bytes:
    response = client.get(path)
    try:
        assert "Content-Encoding" not in response.headers  # asked for nothing: none
        return response.get_data()
    finally:
        response.close()


@pytest.mark.parametrize("kind", COMPRESSED_KINDS)
@pytest.mark.parametrize(
    ("accepted", "expected"), [(CHROME_ACCEPTS, "br"), ("gzip", "gzip"), ("identity", None)]
)
def test_text_responses_are_compressed_as_the_browser_accepts(client, kind, accepted, expected):
    path, _ = RESPONSE_KINDS[kind]
    response = client.get(path, headers={"Accept-Encoding": accepted})
    try:
        assert response.status_code == 200
        assert response.headers.get("Content-Encoding") == expected
        assert "accept-encoding" in response.headers["Vary"].lower()
        assert header_map(response) == EVERY_RESPONSE
        body = decoded(response)
    finally:
        response.close()
    assert body == identity_body(client, path)
    if expected:
        assert len(response.get_data()) < 0.6 * len(body)


def test_weight_shards_are_sent_as_stored(client):
    """Quantised weights shrink by about 7 % under gzip or brotli: not worth the CPU."""
    path = RESPONSE_KINDS["weight shard"][0]
    response = client.get(path, headers={"Accept-Encoding": CHROME_ACCEPTS})
    try:
        assert "Content-Encoding" not in response.headers
        assert response.get_data() == (MODELS_DIR / TASK / SHARD).read_bytes()
    finally:
        response.close()


@pytest.mark.parametrize("kind", ["script", "model.json", "weight shard", "wasm"])
def test_a_byte_range_is_of_the_stored_file(client, kind):
    path, _ = RESPONSE_KINDS[kind]
    whole = identity_body(client, path)
    response = client.get(
        path, headers={"Accept-Encoding": CHROME_ACCEPTS, "Range": "bytes=10-109"}
    )
    try:
        assert response.status_code == 206
        assert "Content-Encoding" not in response.headers
        assert response.get_data() == whole[10:110]
        assert header_map(response) == EVERY_RESPONSE
    finally:
        response.close()


@pytest.mark.parametrize("kind", ["script", "model.json", "bootstrap", "plotly", "weight shard"])
@pytest.mark.parametrize("accepted", [CHROME_ACCEPTS, "gzip", ""])
def test_a_file_not_changed_is_not_sent_again(client, kind, accepted):
    """The ETag names the encoding ("…:br"), and If-None-Match with it gives a 304."""
    path, _ = RESPONSE_KINDS[kind]
    headers = {"Accept-Encoding": accepted}
    first = client.get(path, headers=headers)
    etag = first.headers["ETag"]
    encoding = first.headers.get("Content-Encoding")
    first.close()
    assert etag.endswith(f':{encoding}"') if encoding else ":" not in etag
    again = client.get(path, headers={**headers, "If-None-Match": etag})
    try:
        assert again.status_code == 304 and again.get_data() == b""
        assert header_map(again) == EVERY_RESPONSE
    finally:
        again.close()


# ---- the service worker ---------------------------------------------------------


def worker_constants(client) -> dict:
    response = client.get("/sw.js")
    assert response.mimetype == "text/javascript"
    assert response.headers["Cache-Control"] == "no-cache"
    script = response.get_data(as_text=True)
    found = dict(
        re.findall(
            r"^const (VERSION|PREFIX|CACHES|OFFLINE_PAGE) = (.*?);(?: //.*)?$", script, flags=re.M
        )
    )
    return {name: json.loads(value) for name, value in found.items()}


def precached(constants) -> dict[str, str]:
    return {
        url: integrity for entries in constants["CACHES"].values() for url, integrity in entries
    }


def test_worker_keeps_every_model_file_pages_and_libraries(client):
    constants = worker_constants(client)
    urls = precached(constants)
    index = json.loads((MODELS_DIR / "index.json").read_text())
    for task in index["tasks"]:
        folder = MODELS_DIR / task["id"]
        model = json.loads((folder / "model.json").read_text())
        files = [
            "metadata.json",
            "model.json",
            *[path for group in model["weightsManifest"] for path in group["paths"]],
        ]
        for name in files:
            assert f"/static/tfjs_model/{task['id']}/{name}" in urls, name
        assert f"/screen/{task['id']}" in urls and f"/model-card/{task['id']}" in urls
    for url in [
        "/",
        "/offline",
        "/static/tfjs_model/index.json",
        "/manifest.webmanifest",
        "/static/css/site.css",
        "/bootstrap/static/css/bootstrap.min.css",
        "/static/js/screen-page.js",
        "/static/js/classifier.js",
        "/static/js/offline.js",
        "/static/vendor/tfjs/tf-core.es2017.min.js",
        "/static/img/icon-192.png",
        "/static/img/icon-512.png",
    ]:
        assert url in urls, url
    for path in (ROOT / "static" / "vendor" / "tfjs").glob(
        "*.*"
    ):  # every backend, for offline fallbacks
        if path.suffix in (".js", ".wasm"):
            assert f"/static/vendor/tfjs/{path.name}" in urls
    assert constants["OFFLINE_PAGE"] == "/offline"
    assert "/vendor/plotly.min.js" not in " ".join(urls)  # chart pages are not kept


def test_worker_caches_everything_the_kept_pages_load(client):
    urls = precached(worker_constants(client))
    for page in [
        url
        for url in urls
        if not url.startswith(("/static/", "/bootstrap/")) and not url.endswith((".webmanifest",))
    ]:
        html = client.get(page).get_data(as_text=True)
        for asset in re.findall(r'<(?:script|img|link)\b[^>]*?(?:src|href)="(/[^"#]*)"', html):
            assert asset in urls, (page, asset)


def test_integrity_is_the_hash_of_what_is_served(client):
    for url, integrity in precached(worker_constants(client)).items():
        # As the worker downloads them: a page's ?lang=de sets no cookie for the next.
        response = client.get(url, headers={"X-Offline-Copy": "1"})
        try:
            body = response.get_data()
        finally:
            response.close()
        digest = base64.b64encode(hashlib.sha256(body).digest()).decode()
        assert integrity == f"sha256-{digest}", url


def test_cache_names_and_version_follow_the_content(tmp_path):
    models = tmp_path / "models"
    shutil.copytree(MODELS_DIR, models)
    client = create_app({**TEST_CONFIG, "MODELS_FOLDER": str(models)}).test_client()
    first = worker_constants(client)
    assert worker_constants(client) == first  # nothing changed: the same worker
    assert all(name.startswith(first["PREFIX"]) for name in first["CACHES"])

    shard = models / TASK / SHARD
    data = bytearray(shard.read_bytes())
    data[100] ^= 0xFF  # same size; a new file, as a deploy makes
    replacement = shard.with_suffix(".new")
    replacement.write_bytes(bytes(data))
    os.replace(replacement, shard)
    second = worker_constants(client)
    assert second["VERSION"] != first["VERSION"]
    app_caches = [sorted(n for n in c["CACHES"] if "-app-" in n) for c in (first, second)]
    vendor_caches = [sorted(n for n in c["CACHES"] if "-vendor-" in n) for c in (first, second)]
    assert app_caches[0] != app_caches[1]  # the model's cache is new
    assert vendor_caches[0] == vendor_caches[1]  # TF.js is not downloaded again


def test_a_missing_file_stays_on_the_list_so_the_install_fails(tmp_path):
    models = tmp_path / "models"
    shutil.copytree(MODELS_DIR, models)
    (models / TASK / SHARD).unlink()
    client = create_app({**TEST_CONFIG, "MODELS_FOLDER": str(models)}).test_client()
    urls = precached(worker_constants(client))
    assert urls[f"/static/tfjs_model/{TASK}/{SHARD}"] == ""


# ---- installable ------------------------------------------------------------------


def test_manifest_makes_the_site_installable(client):
    html = client.get("/").get_data(as_text=True)
    assert '<link rel="manifest" href="/manifest.webmanifest">' in html
    response = client.get("/manifest.webmanifest")
    assert response.mimetype == "application/manifest+json"
    manifest = json.loads(response.get_data(as_text=True))
    assert manifest["display"] == "standalone" and manifest["start_url"] == "/"
    assert manifest["name"] and manifest["short_name"]
    assert re.fullmatch(r"#[0-9a-f]{6}", manifest["theme_color"])
    assert f'<meta name="theme-color" content="{manifest["theme_color"]}">' in html
    sizes = set()
    for icon in manifest["icons"]:
        icon_response = client.get(icon["src"])
        try:
            assert icon_response.status_code == 200
            assert icon_response.mimetype == icon["type"]
        finally:
            icon_response.close()
        if icon["type"] == "image/png":
            path = ROOT / icon["src"].lstrip("/")
            with Image.open(path) as image:
                assert f"{image.width}x{image.height}" == icon["sizes"]
                sizes.add(image.width)
    assert {192, 512} <= sizes
