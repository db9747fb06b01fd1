"""GET /docs: Swagger UI over /openapi.json, open like the probes, nothing from the internet."""

from __future__ import annotations

import re

URL = re.compile(r"https?://")
REFERENCE = re.compile(r'(?:src|href)="([^"]+)"')


def test_the_contract_and_its_page_need_no_token(anonymous_client):
    assert anonymous_client.get("/openapi.json").status_code == 200
    assert anonymous_client.get("/docs").status_code == 200


def test_the_pages_people_type_answer_with_a_trailing_slash_too(anonymous_client):
    for page in ("/docs/", "/map/"):
        response = anonymous_client.get(page)
        assert response.status_code == 200, page
        assert response.mimetype == "text/html"


def test_the_docs_page_references_no_url_of_another_host(anonymous_client):
    html = anonymous_client.get("/docs").get_data(as_text=True)

    assert "SwaggerUIBundle" in html
    assert not URL.search(html), URL.search(html)


def test_every_asset_the_page_references_is_served(anonymous_client):
    html = anonymous_client.get("/docs").get_data(as_text=True)
    assets = REFERENCE.findall(html)

    assert len(assets) >= 3
    for asset in assets:
        assert anonymous_client.get(asset).status_code == 200, asset


def test_the_page_loads_the_contract_of_this_api(anonymous_client):
    html = anonymous_client.get("/docs").get_data(as_text=True)

    assert 'url: "/openapi.json"' in html


def test_other_files_of_the_assets_folder_are_json_404(anonymous_client):
    response = anonymous_client.get("/docs/assets/oauth2-redirect.html")

    assert response.status_code == 404
    assert response.get_json()["error"] == "not_found"
