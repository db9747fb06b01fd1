"""The pages' tests: Debian's chromium, headless, driven by Playwright.

live_site.py serves an app to it and cuts a browser context off from every other address.

The browser is infra/chromium.py's (/usr/bin/chromium; Playwright's own browser download is
never used). One browser serves the session; each test gets a fresh context
(cookies, localStorage) from `browser.new_context()`.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, sync_playwright

from infra.chromium import launch
from tests.model.conftest import dataset, model_settings, trained  # noqa: F401 (fixtures)


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    """Headless chromium for the whole session (Playwright gives it a fresh temporary profile)."""
    with sync_playwright() as playwright:
        browser = launch(playwright)
        yield browser
        browser.close()
