"""Settings of the site, in one place.

Defaults live in :class:`Config`; any of them can be overridden from the
environment as ``SCREENER_<NAME>`` (Flask's ``from_prefixed_env``: values are
parsed as JSON when they can be, so ``SCREENER_DEFAULT_TASK=malaria`` and
``SCREENER_SEND_FILE_MAX_AGE_DEFAULT=3600`` both work), and then by the
``config`` argument of :func:`webapp.create_app`.
"""

from __future__ import annotations

ENV_PREFIX = "SCREENER"


class Config:
    # The site's name (header, web app manifest) and the colour of the browser's
    # title bar when it is installed (the accent of static/css/site.css).
    SITE_NAME = "In-browser screener"
    THEME_COLOR = "#2f6f73"

    # The languages of the site's text (webapp/i18n.py, docs/languages.md), the first the
    # default: each with its own name and whether a native speaker has reviewed its
    # catalogue (the pages of one that is not say so in the footer).
    LANGUAGES = {
        "en": {"name": "English", "reviewed": True},
        "de": {"name": "Deutsch", "reviewed": False},
    }

    # The featured task (None: the first task listed in index.json): the home
    # page (/) lists every screener of index.json with this one first, and the
    # addresses without a task (/performance, /data, /model-card) show it. Each
    # task has its own pages at /screen/<task>, /performance/<task>, and so on.
    DEFAULT_TASK = None

    # Folder of the exported models (index.json, <task>/metadata.json, weights).
    # None: static/tfjs_model. Pages are described from it and the browser loads
    # the models from it (at /static/tfjs_model/, whatever the folder).
    MODELS_FOLDER = None

    # Folder with one sub-folder of report files per task (report.json,
    # history.json, curves.json, data.json), written by training. The
    # performance and data pages plot them. None: the repository's reports/.
    REPORTS_FOLDER = None

    # Folder of the hand-written model cards, <task>.md (Markdown): intended use,
    # known gaps, licences. None: the repository's docs/model_cards/.
    MODEL_CARDS_FOLDER = None

    # Bootstrap's CSS comes from the Bootstrap-Flask package, never from a CDN.
    BOOTSTRAP_SERVE_LOCAL = True

    # Sent with every page: no inline scripts, no eval, no other host.
    # 'wasm-unsafe-eval' lets the TF.js WebAssembly backend compile its module
    # (the vendored ES2017 bundles of TF.js use no eval or Function()). blob: URLs
    # show the chosen image, and in script-src and worker-src they let the
    # threaded WebAssembly backend start its worker threads: tf-backend-wasm
    # builds each worker and the script it imports from Blobs of its own code
    # (only a script already running on the page can make a blob: URL, so no
    # markup can bring one in). Set to "" to send no policy.
    CONTENT_SECURITY_POLICY = (
        "default-src 'self'; script-src 'self' 'wasm-unsafe-eval' blob:; "
        "style-src 'self'; img-src 'self' blob: data:; connect-src 'self'; "
        "worker-src 'self' blob:; object-src 'none'; base-uri 'self'; "
        "form-action 'self'; frame-ancestors 'none'"
    )

    # Sent with every response (pages, static files, models, errors, /sw.js);
    # a header a view sets itself is kept. Cross-origin isolation (COOP, COEP,
    # CORP) gives the page SharedArrayBuffer, so the TF.js WebAssembly backend
    # runs its SIMD build with several threads; the site loads nothing from other
    # hosts, so requiring CORP costs nothing. Permissions-Policy: the camera for
    # this site only (the "Take a photo" button), every other sensor denied.
    # From the environment: SCREENER_RESPONSE_HEADERS='{"…": "…"}' replaces the
    # whole mapping.
    RESPONSE_HEADERS = {
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "no-referrer",
        "Cross-Origin-Opener-Policy": "same-origin",
        "Cross-Origin-Embedder-Policy": "require-corp",
        "Cross-Origin-Resource-Policy": "same-origin",
        "Permissions-Policy": (
            "camera=(self), microphone=(), geolocation=(), display-capture=(), "
            "accelerometer=(), gyroscope=(), magnetometer=(), payment=(), usb=(), "
            "serial=(), hid=(), midi=(), screen-wake-lock=(), "
            "idle-detection=(), xr-spatial-tracking=(), browsing-topics=()"
        ),
    }

    # Compression (Flask-Compress, webapp/app.py): every text response
    # (pages, scripts, styles, JSON, model.json, the service worker, the
    # manifest) and the WebAssembly files, in brotli when the browser accepts it,
    # else gzip, with Vary: Accept-Encoding. Weight shards (.bin,
    # application/octet-stream) are left as they are: quantised weights shrink
    # by 7 % at best, not worth the CPU. Partial (206) and error responses are
    # never compressed. Files are compressed as they stream out; brotli's level
    # 4 takes about 0.1 s for plotly.js (the 1.5 MB partial bundle) and a few ms for the rest.
    COMPRESS_ALGORITHM = ["br", "gzip"]
    COMPRESS_ALGORITHM_STREAMING = ["br", "gzip"]
    COMPRESS_MIMETYPES = [
        "text/html",
        "text/css",
        "text/plain",
        "text/javascript",
        "application/javascript",
        "application/json",
        "application/manifest+json",
        "image/svg+xml",
        "application/wasm",
    ]
    # File responses answer If-None-Match with 304 for the compressed ETag too.
    COMPRESS_STREAMING_ENDPOINT_CONDITIONAL = [
        "static",
        "bootstrap.static",
        "screen.model_file",
        "reports.plotly_js",
    ]

    # The service worker (/sw.js, webapp/offline.py) precaches these pages for
    # each task of index.json besides the home page (the list of screeners) and
    # the "needs a connection" page, plus everything they load. The
    # performance and data pages are left out on purpose: their charts need
    # plotly.js (1.5 MB, loaded as a chart comes into view); offline
    # they give way to a page saying so. Endpoints of routes taking task_id.
    OFFLINE_PAGES = ("screen.screen", "reports.model_card")

    # Added to the policy's style-src on the chart pages (performance, data)
    # only; scripts stay as strict as above. plotly.js styles its charts by
    # creating *empty* <style> elements and filling them through the CSSOM
    # (insertRule), which no policy restricts; the first hash is that of the
    # empty string, so it admits exactly those empty elements and no styles of
    # any content (style="" attributes stay blocked too). The second is the
    # fixed stylesheet of the map library bundled in plotly.js 4.1.1, injected
    # whenever plotly.js loads (the cartesian partial bundle has it too);
    # tests/test_report_pages.py recomputes it from the vendored bundle
    # (static/vendor/plotly), so an upgrade that changes it fails there.
    CHART_STYLE_SOURCES = (
        "'sha256-47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=' "
        "'sha256-ji27qzEtxXZW+7dun6UwjHXJ18e6WAin1VvNtkzIE/o='"
    )
