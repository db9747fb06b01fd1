"""CORS: pages of the origins in CORS_ORIGINS may call the API; preflights need no token."""

from __future__ import annotations

import io
from dataclasses import replace

import pytest

from ingest_api import create_app
from kit.uploads import jpeg
from settings import Settings
from tests.ingest_api.apps import running_app

ALLOWED = "https://fields.example.org"
OTHER = "https://elsewhere.example.com"


def preflight(client, path: str, origin: str, method: str = "POST"):
    return client.options(path, headers={
        "Origin": origin,
        "Access-Control-Request-Method": method,
        "Access-Control-Request-Headers": "authorization",
    })


@pytest.fixture
def cors_app(ingest_settings):
    origins = f"{ALLOWED}, http://localhost:5173"
    with running_app(replace(ingest_settings, cors_origins=origins)) as app:
        yield app


def test_a_preflight_from_an_allowed_origin_is_answered_without_a_token(cors_app):
    response = preflight(cors_app.test_client(token=None), "/post_image", ALLOWED)

    assert response.status_code == 204
    assert response.headers["Access-Control-Allow-Origin"] == ALLOWED
    assert "POST" in response.headers["Access-Control-Allow-Methods"]
    assert "Authorization" in response.headers["Access-Control-Allow-Headers"]
    assert "Origin" in response.headers["Vary"]


def test_a_preflight_of_a_json_correction_allows_put_and_content_type(cors_app):
    path = f"/images/{'a' * 64}/label"
    response = preflight(cors_app.test_client(token=None), path, ALLOWED, "PUT")

    assert response.status_code == 204
    assert "PUT" in response.headers["Access-Control-Allow-Methods"]
    assert "Content-Type" in response.headers["Access-Control-Allow-Headers"]


def test_a_preflight_from_another_origin_gets_no_allowance(cors_app):
    response = preflight(cors_app.test_client(token=None), "/post_image", OTHER)

    assert response.status_code == 204
    assert "Access-Control-Allow-Origin" not in response.headers
    assert "Access-Control-Allow-Methods" not in response.headers


def test_an_upload_from_an_allowed_origin_names_it_and_exposes_the_headers_a_page_needs(cors_app):
    response = cors_app.test_client().post(
        "/post_image", data={"file": (io.BytesIO(jpeg(seed=80)), "a.jpg")},
        headers={"Origin": ALLOWED},
    )

    assert response.status_code == 202
    assert response.headers["Access-Control-Allow-Origin"] == ALLOWED
    exposed = response.headers["Access-Control-Expose-Headers"].split(", ")
    assert {"X-Request-ID", "RateLimit-Remaining", "Retry-After"} <= set(exposed)


def test_an_error_answer_names_the_origin_too_so_the_page_can_read_its_message(cors_app):
    response = cors_app.test_client(token=None).get(
        f"/images/{'a' * 64}", headers={"Origin": ALLOWED}
    )

    assert response.status_code == 401
    assert response.headers["Access-Control-Allow-Origin"] == ALLOWED


def test_an_answer_to_another_origin_does_not_name_it(cors_app):
    response = cors_app.test_client().get("/is_alive", headers={"Origin": OTHER})

    assert "Access-Control-Allow-Origin" not in response.headers


def test_by_default_no_origin_is_allowed(app):
    response = preflight(app.test_client(token=None), "/post_image", ALLOWED)

    assert response.status_code == 204
    assert "Access-Control-Allow-Origin" not in response.headers


def test_a_star_allows_every_origin(ingest_settings):
    with running_app(replace(ingest_settings, cors_origins="*")) as app:
        response = app.test_client().get("/is_alive", headers={"Origin": OTHER})

    assert response.headers["Access-Control-Allow-Origin"] == "*"


def test_an_options_request_that_is_not_a_preflight_still_needs_a_token(cors_app):
    response = cors_app.test_client(token=None).options("/post_image")

    assert response.status_code == 401


@pytest.mark.parametrize("origins", ["fields.example.org", "https://fields.example.org/",
                                     "https://fields.example.org/upload"])
def test_an_origin_a_browser_never_sends_stops_the_app_at_start(origins, tmp_path):
    settings = replace(Settings(), cors_origins=origins,
                       api_token_store=str(tmp_path / "tokens.sqlite3"))
    with pytest.raises(ValueError, match="CORS_ORIGINS"):
        create_app(settings)
