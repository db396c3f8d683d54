"""Fixtures shared by tests/ and research/tests/: one Chromium for the whole session.

(Playwright's sync API runs one instance per thread, so the session has exactly one
``browser`` fixture, defined here where both test folders see it.)"""

import pytest

EXPECT_TIMEOUT_MS = 30_000  # how long a locator assertion waits (a loaded machine is slow)


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import expect, sync_playwright

    from training.exporting.browser import launch_chromium

    expect.set_options(timeout=EXPECT_TIMEOUT_MS)

    with sync_playwright() as playwright:
        chromium = launch_chromium(playwright)
        try:
            yield chromium
        finally:
            chromium.close()
