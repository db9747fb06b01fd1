"""GET /: the upload page is open, and everything it loads comes from the API itself."""

from __future__ import annotations

import re

URL = re.compile(r"https?://")
REFERENCE = re.compile(r'(?:src|href)="([^"]+)"')
TILE_URL = re.compile(r'data-tile-url="[^"]*"')


def test_the_page_needs_no_token(anonymous_client):
    response = anonymous_client.get("/")

    assert response.status_code == 200
    assert response.mimetype == "text/html"


def test_the_page_references_no_other_host_and_every_asset_is_served(anonymous_client):
    html = anonymous_client.get("/").get_data(as_text=True)
    assets = [path for path in REFERENCE.findall(html) if path.startswith("/static/")]

    assert not URL.search(TILE_URL.sub("", html)), "the tile URL is the only URL of the page"
    assert len(assets) >= 4
    for asset in assets:
        assert anonymous_client.get(asset).status_code == 200, asset


def test_every_input_has_a_label(anonymous_client):
    html = anonymous_client.get("/").get_data(as_text=True)

    for input_id in re.findall(r'<input id="([^"]+)"', html):
        assert f'for="{input_id}"' in html, input_id
