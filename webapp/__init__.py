"""The site: serves the screener pages and the files the browser needs.

All classification happens in the visitor's browser (static/js/classifier.js);
this package only renders pages from the exported models' metadata.json and
the report files training wrote (charts drawn in the browser by plotly.js).

    from webapp import create_app
    app = create_app({"TESTING": True})   # or create_app() for the real settings
"""
from __future__ import annotations

import mimetypes
from pathlib import Path

from flask import Flask
from flask_bootstrap import Bootstrap5

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

    from webapp import errors, report_pages, views
    app.register_blueprint(views.bp)
    app.register_blueprint(report_pages.bp)
    errors.register(app)
    app.after_request(_security_headers)
    return app


def _register_mimetypes() -> None:
    # ES modules and WebAssembly are refused by browsers under a wrong type, and
    # some hosts' mime tables (or Windows' registry) get these wrong.
    mimetypes.add_type("text/javascript", ".js")
    mimetypes.add_type("application/wasm", ".wasm")


def _security_headers(response):
    from flask import current_app

    policy = current_app.config.get("CONTENT_SECURITY_POLICY")
    if policy and response.mimetype == "text/html":
        response.headers.setdefault("Content-Security-Policy", policy)
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "no-referrer")
    return response
