#!/usr/bin/env python
"""Screenshots of the report pages, from the reports as they are now.

    python scripts/page_screenshots.py               # docs/img/performance.png, for the README
    python scripts/page_screenshots.py --pages out/  # and every page, desktop and phone width

Serves the site on a loopback port, opens it in Debian's Chromium and waits for
every chart to be drawn. Run it again after new reports are copied in, so the
README's picture shows the shipped model's numbers.
"""

from __future__ import annotations

import argparse
import threading
from pathlib import Path

from training.inputs.data import PROJECT_ROOT

PAGES = ("/performance", "/data", "/model-card")
SIZES = {
    "desktop": {"viewport": {"width": 1280, "height": 900}},
    "phone": {
        "viewport": {"width": 390, "height": 844},
        "device_scale_factor": 2,
        "is_mobile": True,
        "has_touch": True,
    },
}


def serve():
    from werkzeug.serving import WSGIRequestHandler, make_server

    from webapp import create_app

    class Quiet(WSGIRequestHandler):
        def log_request(self, *args, **kwargs):
            pass

    server = make_server("127.0.0.1", 0, create_app(), threaded=True, request_handler=Quiet)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_port}"


def open_drawn(context, url):
    """The page with every topic opened and every chart drawn: charts are drawn as they come
    into view, and the long topics are closed at first."""
    from playwright.sync_api import expect

    page = context.new_page()
    page.goto(url)
    closed = page.locator("details.report-details:not([open]) > summary")
    for _ in range(closed.count()):
        closed.first.click()
    charts = page.locator("[data-figure]")
    for index in range(charts.count()):
        charts.nth(index).scroll_into_view_if_needed()
    expect(page.locator('[data-drawn="true"]')).to_have_count(charts.count(), timeout=60_000)
    page.evaluate("window.scrollTo(0, 0)")
    return page


def main(argv=None) -> int:
    from playwright.sync_api import sync_playwright

    from training.exporting.browser import launch_chromium

    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--chart", default="chart-roc", help="id of the chart for the README (default: chart-roc)"
    )
    parser.add_argument(
        "--out", type=Path, default=PROJECT_ROOT / "docs" / "img" / "performance.png"
    )
    parser.add_argument(
        "--pages",
        type=Path,
        default=None,
        help="also save full pages at desktop and phone width in this folder",
    )
    args = parser.parse_args(argv)

    server, base = serve()
    try:
        with sync_playwright() as playwright:
            browser = launch_chromium(playwright)
            context = browser.new_context(
                viewport={"width": 1100, "height": 900}, device_scale_factor=1.5
            )
            page = open_drawn(context, base + "/performance")
            args.out.parent.mkdir(parents=True, exist_ok=True)
            page.locator(f"#{args.chart}-figure").screenshot(path=str(args.out))
            print(f"wrote {args.out} ({args.out.stat().st_size / 1024:.0f} KB)")
            context.close()
            if args.pages:
                args.pages.mkdir(parents=True, exist_ok=True)
                for size, options in SIZES.items():
                    context = browser.new_context(**options)
                    for path in PAGES:
                        page = open_drawn(context, base + path)
                        out = args.pages / f"{path.strip('/')}_{size}.png"
                        page.screenshot(path=str(out), full_page=True)
                        print(f"wrote {out}")
                    context.close()
            browser.close()
    finally:
        server.shutdown()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
