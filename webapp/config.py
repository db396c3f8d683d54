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
