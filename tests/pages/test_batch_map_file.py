"""batch.map's HTML file, opened in headless chromium with no network at all: the dots show,
and a dot opens its popup."""

from __future__ import annotations

import re

import pandas as pd
from playwright.sync_api import expect

from batch.image_map import render_map


def test_the_map_file_shows_its_dots_offline(browser, tmp_path):
    rows = [
        {"image_id": "maize-1", "label": "maize", "status": "processed",
         "lat": 42.03, "lon": -93.63},
        {"image_id": "wheat-1", "label": "wheat", "status": "processed",
         "lat": 38.84, "lon": -97.61},
    ]
    render_map(pd.DataFrame(rows), tmp_path / "map.html")
    context = browser.new_context(offline=True)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))

    page.goto((tmp_path / "map.html").as_uri())

    expect(page.locator("path.leaflet-interactive")).to_have_count(2)
    expect(page.locator("#legend")).to_contain_text("wheat (1)")
    page.locator("path.leaflet-interactive").first.click()
    popup = page.locator(".leaflet-popup-content")
    expect(popup).to_contain_text(re.compile(r"(maize|wheat)-1"))
    expect(popup).to_contain_text("capture time unknown")
    assert not errors, errors
    context.close()
