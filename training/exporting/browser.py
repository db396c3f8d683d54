"""Start Debian's Chromium under Playwright (no browser download needed).

Used by the conversion check and by the browser tests. ``$CHROMIUM_PATH``
overrides the executable (default: the first of chromium, chromium-browser on PATH).
"""

from __future__ import annotations

import os
import shutil

# Without the background-networking flags Chromium tries to reach Google's hosts.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]


def chromium_path() -> str:
    path = (
        os.environ.get("CHROMIUM_PATH")
        or shutil.which("chromium")
        or shutil.which("chromium-browser")
    )
    if not path:
        raise RuntimeError(
            "Chromium not found: install Debian's chromium "
            "(apt-get install chromium) or set CHROMIUM_PATH"
        )
    return path


def launch_chromium(playwright, **kwargs):
    return playwright.chromium.launch(
        executable_path=chromium_path(), args=CHROMIUM_ARGS, headless=True, **kwargs
    )
