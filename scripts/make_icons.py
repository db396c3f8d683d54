#!/usr/bin/env python
"""Draw the PNG icons of the web app manifest from static/img/icon.svg.

    python scripts/make_icons.py

Writes static/img/icon-192.png and icon-512.png, rendered by Debian's Chromium
(the browser the tests use), so the SVG stays the only drawing of the icon.
"""

from __future__ import annotations

import base64
import sys
from pathlib import Path

IMAGES = Path(__file__).resolve().parent.parent / "static" / "img"
SIZES = (192, 512)


def main() -> int:
    from playwright.sync_api import sync_playwright

    from training.exporting.browser import launch_chromium

    svg = base64.b64encode((IMAGES / "icon.svg").read_bytes()).decode()
    with sync_playwright() as playwright:
        browser = launch_chromium(playwright)
        try:
            for size in SIZES:
                page = browser.new_page(viewport={"width": size, "height": size})
                page.set_content(
                    f'<html><body style="margin:0;background:transparent">'
                    f'<img src="data:image/svg+xml;base64,{svg}" width="{size}" height="{size}">'
                    f'</body></html>'
                )
                page.wait_for_function("document.images[0].complete")
                out = IMAGES / f"icon-{size}.png"
                page.screenshot(path=str(out), omit_background=True)
                page.close()
                print(f"[done] {out}")
        finally:
            browser.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
