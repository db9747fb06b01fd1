"""Debian's chromium, headless: the browser the page tests and docs/screenshots/take.py drive.

It is /usr/bin/chromium (./setup.sh --dev installs it), driven by Playwright (a dev
requirement); Playwright's own browser download is never used.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Playwright

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]


def launch(playwright: Playwright) -> Browser:
    """Headless chromium with a fresh temporary profile."""
    return playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
