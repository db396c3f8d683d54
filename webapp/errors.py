"""Error pages a person can read, with a way back."""

from __future__ import annotations

from flask import render_template
from flask_babel import lazy_gettext as _l
from werkzeug.exceptions import HTTPException

TITLES = {
    404: _l("Page not found"),
    405: _l("That action is not possible here"),
    500: _l("Something went wrong on the site"),
    503: _l("The screener is not available"),
}

DEFAULT_MESSAGES = {
    404: _l("There is nothing at this address. It may have moved, or the link may be mistyped."),
    405: _l("This page can only be viewed; it does not accept submitted data."),
}


def render_error(error: HTTPException):
    code = error.code or 500
    # Keep headers such as Allow (405); the body is ours.
    headers = [(k, v) for k, v in error.get_headers() if k.lower() != "content-type"]
    message = (
        error.description if _described(error) else DEFAULT_MESSAGES.get(code, error.description)
    )
    body = render_template(
        "error.html", code=code, title=str(TITLES.get(code, error.name)), message=str(message)
    )
    return body, code, headers


def _described(error: HTTPException) -> bool:
    """True when the code that raised the error gave its own message."""
    return error.description != type(error).description


def register(app) -> None:
    app.register_error_handler(HTTPException, render_error)
