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
    # The task whose screener is the home page (None: the first task listed in
    # static/tfjs_model/index.json). Every listed task also has its own page at
    # /screen/<task>.
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
    # (static/js/tf-loader.js declares the global that tf.min.js's bundled
    # regenerator-runtime would otherwise create with Function()). blob: URLs
    # show the chosen image. Set to "" to send no policy.
    CONTENT_SECURITY_POLICY = (
        "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; "
        "style-src 'self'; img-src 'self' blob: data:; connect-src 'self'; "
        "worker-src 'self' blob:; object-src 'none'; base-uri 'self'; "
        "form-action 'self'; frame-ancestors 'none'"
    )

    # Added to the policy's style-src on the chart pages (performance, data)
    # only; scripts stay as strict as above. plotly.js styles its charts by
    # creating *empty* <style> elements and filling them through the CSSOM
    # (insertRule), which no policy restricts; the first hash is that of the
    # empty string, so it admits exactly those empty elements and no styles of
    # any content (style="" attributes stay blocked too). The second is the
    # fixed stylesheet of the map library bundled in plotly.js 4.1.1, injected
    # whenever plotly.js loads; tests/test_report_pages.py recomputes it from
    # the installed plotly.min.js, so an upgrade that changes it fails there.
    CHART_STYLE_SOURCES = (
        "'sha256-47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=' "
        "'sha256-ji27qzEtxXZW+7dun6UwjHXJ18e6WAin1VvNtkzIE/o='"
    )
