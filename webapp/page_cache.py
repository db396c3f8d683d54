"""Pages made once and kept: the report pages are built on their first request, not on each.

A report page (performance, data, model card) turns a few hundred kilobytes of report
files into charts and tables: tens of milliseconds of work whose result changes only
with a release. :func:`cached` keeps what a view made, per app (``app.extensions
["page_cache"]``, so apps with their own folders never share pages), in a small LRU of
``PAGE_CACHE_SIZE`` pages (0: none kept).

A kept page is found by everything of the request it depends on: the address (the
application's root, the path with its task, the query string as written, whose order the
language switch's links keep) and the chosen language (from ``?lang=``, the cookie or
Accept-Language; see :mod:`webapp.i18n`). It is used only while every file its making
read is as it was then: the readers (:mod:`webapp.reports`, the report pages' models and
model cards) name each file to :func:`depends_on` before reading it, which notes its
size, times and inode (a missing file too, so one that appears counts). Each later request
looks at those again (a ``stat`` each, no reading), so a new release or an edited report
shows on the next request, without a restart.

What belongs to one response stays per response: a kept page is the view's body, status
and own headers (the chart pages' Content-Security-Policy, made from the settings; a view
response that sets a cookie, or is not a whole 200 page, is never kept), and each request
gets a new response of them that the app's ``after_request`` steps finish as any other
(the language cookie, Vary, the site's headers, compression). Its compressed forms are
kept beside it as Flask-Compress first makes them (:func:`remember_encoded`) and given to
the next response asking for the same (:func:`use_encoded`), so the same bytes are not
compressed again for each visitor.

While templates reload by themselves (``flask --debug``), nothing is kept: an edited
template shows at once there too.
"""

from __future__ import annotations

import functools
import os
import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from pathlib import Path

from flask import current_app, g, make_response, request

from webapp.i18n import current_language

EXTENSION = "page_cache"
# Pages kept per app when PAGE_CACHE_SIZE is not set: the report pages of a few tasks in
# two languages with and without ?details= (a performance page is about 190 KB, plus
# about 35 KB per compressed form), so some 15 MB at most.
DEFAULT_SIZE = 64
# Pages made at the same time at most (one per stripe of keys): visitors who ask for a page
# being made wait for it instead of each making it again (after a start or a release).
MAKING_STRIPES = 8
# Accept-Encoding headers whose compression a kept page remembers (browsers send a few).
ACCEPT_ENCODINGS_KEPT = 16
# Where a response made from a kept page carries it, for use_encoded and remember_encoded.
RESPONSE_ATTRIBUTE = "kept_page"


@dataclass
class Page:
    """A page as its view made it, and the files it was made from."""

    body: bytes
    status: int
    headers: tuple[tuple[str, str], ...]
    files: tuple[tuple[str, tuple | None], ...]
    # Content-Encoding → the body so compressed; Accept-Encoding → the Content-Encoding
    # Flask-Compress chose for it. Filled in as visitors ask.
    encoded: dict[str, bytes] = field(default_factory=dict)
    chosen: dict[str, str] = field(default_factory=dict)

    def is_current(self) -> bool:
        return all(_signature(path) == signature for path, signature in self.files)


class PageCache:
    """The last ``size`` pages used, safe to share between a server's threads."""

    def __init__(self, size: int = DEFAULT_SIZE):
        self.size = max(0, int(size))
        self._pages: OrderedDict[tuple, Page] = OrderedDict()
        self._lock = threading.Lock()
        self._making = [threading.Lock() for _ in range(MAKING_STRIPES)]

    def making(self, key: tuple) -> threading.Lock:
        """The lock held while the page of ``key`` is being made."""
        return self._making[hash(key) % MAKING_STRIPES]

    def __len__(self) -> int:
        return len(self._pages)

    def get(self, key: tuple) -> Page | None:
        with self._lock:
            page = self._pages.get(key)
            if page is not None:
                self._pages.move_to_end(key)
            return page

    def put(self, key: tuple, page: Page) -> None:
        if not self.size:
            return
        with self._lock:
            self._pages[key] = page
            self._pages.move_to_end(key)
            while len(self._pages) > self.size:
                self._pages.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._pages.clear()


def init_app(app) -> None:
    app.config.setdefault("PAGE_CACHE_SIZE", DEFAULT_SIZE)
    app.extensions[EXTENSION] = PageCache(app.config["PAGE_CACHE_SIZE"])


def _signature(path: str) -> tuple | None:
    """What changes when the file is written or replaced; None for no file."""
    try:
        info = os.stat(path)
    except (FileNotFoundError, NotADirectoryError):
        return None
    except OSError as error:
        return ("unreadable", error.errno)
    return (info.st_mtime_ns, info.st_ctime_ns, info.st_size, info.st_ino)


def depends_on(*paths: Path | str) -> None:
    """The page being made reads these files (called before reading them, so that a file
    written meanwhile is read again next time). Outside the making of a kept page, nothing."""
    files = g.get("_page_files")
    if files is None:
        return
    for path in paths:
        path = os.fspath(path)
        if path not in files:
            files[path] = _signature(path)


def _key() -> tuple:
    return (
        request.endpoint,
        request.script_root,
        request.path,
        tuple(request.args.items(multi=True)),
        current_language(),
    )


def _cache() -> PageCache | None:
    cache = current_app.extensions.get(EXTENSION)
    if cache is None or not cache.size or current_app.jinja_env.auto_reload:
        return None
    return cache


def cached(view):
    """Keep the pages ``view`` makes (see the module's docstring). An error it raises
    (a 404 for an unknown task) is not kept: it is raised again on each request."""

    @functools.wraps(view)
    def wrapper(*args, **kwargs):
        cache = _cache()
        if cache is None:
            return view(*args, **kwargs)
        key = _key()
        page = cache.get(key)
        if page is None or not page.is_current():
            with cache.making(key):
                page = cache.get(key)  # made meanwhile by another request?
                if page is None or not page.is_current():
                    response, page = _make(view, args, kwargs)
                    if page is None:
                        return response
                    cache.put(key, page)
        response = current_app.response_class(page.body, status=page.status, headers=page.headers)
        setattr(response, RESPONSE_ATTRIBUTE, page)
        return response

    return wrapper


def _make(view, args, kwargs):
    """(the view's response, the page to keep of it or None)."""
    g._page_files = {}
    try:
        response = make_response(view(*args, **kwargs))
        files = tuple(g._page_files.items())
    finally:
        del g._page_files
    if (
        response.status_code != 200
        or response.is_streamed
        or response.direct_passthrough
        or "Set-Cookie" in response.headers
    ):
        return response, None
    headers = tuple((name, value) for name, value in response.headers if name != "Content-Length")
    return response, Page(response.get_data(), response.status_code, headers, files)


def use_encoded(response) -> None:
    """Before compression: a kept page's response gets the compressed body kept for the
    request's Accept-Encoding, if there is one (Flask-Compress leaves a response with a
    Content-Encoding as it is)."""
    page = getattr(response, RESPONSE_ATTRIBUTE, None)
    if page is None:
        return
    encoding = page.chosen.get(request.headers.get("Accept-Encoding", ""))
    body = page.encoded.get(encoding) if encoding else None
    if body is not None:
        response.set_data(body)
        response.headers["Content-Encoding"] = encoding
        # What Flask-Compress does after compressing (here: it adds the Date header).
        if current_app.config.get("COMPRESS_EVALUATE_CONDITIONAL_REQUEST", True):
            response.make_conditional(request)


def remember_encoded(response) -> None:
    """After compression: keep the compressed body of a kept page's response, and which
    compression the request's Accept-Encoding got."""
    page = getattr(response, RESPONSE_ATTRIBUTE, None)
    encoding = response.headers.get("Content-Encoding")
    if page is None or not encoding or response.status_code != 200 or response.is_streamed:
        return
    page.encoded.setdefault(encoding, response.get_data())
    if len(page.chosen) < ACCEPT_ENCODINGS_KEPT:
        page.chosen.setdefault(request.headers.get("Accept-Encoding", ""), encoding)
