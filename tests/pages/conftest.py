"""The pages' tests: Debian's chromium, headless, driven by Playwright.

live_site.py serves an app to it and cuts a browser context off from every other address.

The browser is /usr/bin/chromium (./setup.sh --dev installs it); Playwright's own browser
download is never used. One browser serves the session; each test gets a fresh context
(cookies, localStorage) from `browser.new_context()`.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, sync_playwright

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    """Headless chromium for the whole session (Playwright gives it a fresh temporary profile)."""
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()
