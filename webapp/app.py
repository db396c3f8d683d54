"""The app factory: the site's settings, blueprints and response headers (see
:mod:`webapp`, whose ``create_app`` builds the app here)."""

from __future__ import annotations

import mimetypes
from pathlib import Path

from flask import Flask, abort, current_app, request
from flask_bootstrap import Bootstrap5
from flask_compress import Compress

from webapp import page_cache
from webapp.config import ENV_PREFIX, Config

STATIC_FOLDER = Path(__file__).resolve().parent.parent / "static"


def create_app(config=None) -> Flask:
    """Build the app. ``config``: a mapping or an object of overrides (applied last)."""
    _register_mimetypes()
    app = Flask(__name__, static_folder=str(STATIC_FOLDER), static_url_path="/static")
    app.config.from_object(Config)
    app.config.from_prefixed_env(ENV_PREFIX)
    if config is not None:
        if isinstance(config, dict):
            app.config.update(config)
        else:
            app.config.from_object(config)

    Bootstrap5(app)
    # Registered by hand (_compress) so that a partial response is never compressed.
    app.config["COMPRESS_REGISTER"] = False
    app.extensions["compress"] = Compress(app)

    from webapp import errors, i18n, offline, report_pages, views

    i18n.init_app(app)
    # The report pages, made once per address, language and report files (PAGE_CACHE_SIZE).
    page_cache.init_app(app)

    app.register_blueprint(views.bp)
    app.register_blueprint(report_pages.bp)
    app.register_blueprint(offline.bp)
    errors.register(app)
    app.before_request(_only_get_and_head)
    app.after_request(_security_headers)
    app.after_request(_compress)
    return app


def _register_mimetypes() -> None:
    # ES modules and WebAssembly are refused by browsers under a wrong type, and
    # some hosts' mime tables (or Windows' registry) get these wrong.
    mimetypes.add_type("text/javascript", ".js")
    mimetypes.add_type("application/wasm", ".wasm")
    mimetypes.add_type("application/manifest+json", ".webmanifest")


READ_ONLY_METHODS = ("GET", "HEAD")


def _only_get_and_head():
    """The site only shows things: any other method (POST, PUT, DELETE, and the
    OPTIONS Flask would answer by itself) gets the friendly 405 page."""
    if request.method not in READ_ONLY_METHODS:
        abort(405, valid_methods=READ_ONLY_METHODS)


def _security_headers(response):
    policy = current_app.config.get("CONTENT_SECURITY_POLICY")
    if policy and response.mimetype == "text/html":
        response.headers.setdefault("Content-Security-Policy", policy)
    for name, value in (current_app.config.get("RESPONSE_HEADERS") or {}).items():
        response.headers.setdefault(name, value)
    return response


def _compress(response):
    """Flask-Compress (settings COMPRESS_* in webapp.config), except on a 206: a
    byte range is a range of the file as stored, and must stay so."""
    if response.status_code == 206:
        response.vary.add("Accept-Encoding")
        return response
    # A file being sent is replaced by a compressing generator that does not close
    # it: closing the response closes the file too.
    body = response.response
    if response.is_streamed and hasattr(body, "close"):
        response.call_on_close(body.close)
    # A kept page (webapp.page_cache) is compressed once per encoding, not per request.
    page_cache.use_encoded(response)
    response = current_app.extensions["compress"].after_request(response)
    page_cache.remember_encoded(response)
    return response
