"""The map's vendored scripts: present, as fetched, and served by the API without a token."""

from __future__ import annotations

import hashlib
import re

from ingest_api.maps import assets as map_assets
from tests.ingest_api.apps import running_app


def test_the_vendored_files_are_those_fetch_sh_listed():
    listed = (map_assets.VENDOR_DIR / "SHA256SUMS").read_text().splitlines()

    for line in listed:
        digest, path = line.split(maxsplit=1)
        data = (map_assets.VENDOR_DIR / path).read_bytes()
        assert hashlib.sha256(data).hexdigest() == digest, path
    paths = {line.split(maxsplit=1)[1] for line in listed}
    assert {*map_assets.SCRIPTS, *map_assets.STYLESHEETS} <= paths


def test_the_page_links_only_the_apis_own_files_which_need_no_token(stack_settings):
    with running_app(stack_settings) as app:
        anonymous = app.test_client(token=None)
        page = anonymous.get("/map").get_data(as_text=True)
        linked = re.findall(r'(?:src|href)="([^"]+)"', page)

        assert linked and all(url.startswith("/static/") for url in linked), linked
        for url in linked:
            response = anonymous.get(url)
            assert response.status_code == 200, url
            response.close()
