"""Per-device rate limits: 429 JSON with Retry-After past the limit, counted per device."""

from __future__ import annotations

import io
from dataclasses import replace

import pytest

from ingest_api import create_app
from ingest_api.auth.store import TokenStore
from kit.uploads import jpeg
from settings import Settings
from tests.ingest_api.apps import running_app


def post(client, seed: int):
    return client.post("/post_image", data={"file": (io.BytesIO(jpeg(seed=seed)), "a.jpg")})


def lookup(client):
    return client.get("/images/not-an-id")  # counted like any lookup, answered 400 at once


def assert_rate_limited(response, window_s: int = 60) -> None:
    assert response.status_code == 429, response.get_data(as_text=True)
    body = response.get_json()
    assert body["error"] == "rate_limited"
    assert body["message"]
    assert 1 <= int(response.headers["Retry-After"]) <= window_s


@pytest.fixture
def limited(ingest_settings, tmp_path):
    """Settings with 2 uploads and 3 lookups per minute, on a token store of this test's own."""
    return replace(
        ingest_settings,
        api_token_store=str(tmp_path / "tokens.sqlite3"),
        upload_rate_limit="2/minute",
        lookup_rate_limit="3/minute",
    )


def test_the_upload_past_the_limit_is_429_with_retry_after_and_never_reaches_kafka(
    limited, topic
):
    with running_app(limited) as app:
        client = app.test_client()
        accepted = [post(client, seed).status_code for seed in (60, 61)]
        before = topic.highwaters()

        refused = post(client, 62)

    assert accepted == [202, 202]
    assert_rate_limited(refused)
    assert topic.highwaters() == before


def test_the_429_says_in_words_what_was_counted_and_the_limit(limited):
    with running_app(limited) as app:
        client = app.test_client()
        post(client, 64), post(client, 65)

        refused = post(client, 66)

    seconds = refused.headers["Retry-After"]
    assert refused.get_json()["message"] == (
        f"this device sent too many uploads: the limit is 2 per minute; retry in {seconds} s"
    )


def test_a_window_of_several_units_reads_naturally(limited):
    with running_app(replace(limited, lookup_rate_limit="1/5 minutes")) as app:
        client = app.test_client()
        lookup(client)

        message = lookup(client).get_json()["message"]

    assert message.startswith("this device sent too many record look-ups: the limit is 1 per "
                              "5 minutes; retry in ")


def test_every_answer_of_a_limited_route_says_where_the_device_stands(limited):
    with running_app(limited) as app:
        client = app.test_client()
        first, second, third = (post(client, seed) for seed in (67, 68, 69))

    assert [r.status_code for r in (first, second, third)] == [202, 202, 429]
    assert [r.headers["RateLimit-Limit"] for r in (first, second, third)] == ["2"] * 3
    assert [r.headers["RateLimit-Remaining"] for r in (first, second, third)] == ["1", "0", "0"]
    for response in (first, second, third):
        assert 1 <= int(response.headers["RateLimit-Reset"]) <= 60
    assert int(third.headers["RateLimit-Reset"]) <= int(third.headers["Retry-After"])


def test_unlimited_routes_and_refused_tokens_carry_no_rate_limit_headers(limited):
    with running_app(limited) as app:
        alive = app.test_client().get("/is_alive")
        refused = lookup(app.test_client(token=None))

    assert refused.status_code == 401
    for response in (alive, refused):
        assert "RateLimit-Limit" not in response.headers


def test_lookups_have_their_own_limit(limited):
    with running_app(limited) as app:
        client = app.test_client()
        answers = [lookup(client).status_code for _ in range(3)]

        assert_rate_limited(lookup(client))
        assert post(client, 63).status_code == 202

    assert answers == [400, 400, 400]


def test_the_limit_is_per_device(limited):
    other = TokenStore.from_settings(limited).issue("other-phone")
    with running_app(limited) as app:
        client = app.test_client()
        for _ in range(3):
            lookup(client)
        assert_rate_limited(lookup(client))

        assert lookup(app.test_client(token=other)).status_code == 400


def test_two_apps_on_one_token_store_share_the_count(limited):
    """As gunicorn's workers do: each builds its own app over the same file."""
    with running_app(limited) as first, running_app(limited) as second:
        assert lookup(first.test_client()).status_code == 400
        assert lookup(second.test_client()).status_code == 400
        assert lookup(first.test_client()).status_code == 400

        assert_rate_limited(lookup(second.test_client()))


def test_refused_tokens_are_answered_before_any_count(limited):
    with running_app(limited) as app:
        anonymous = app.test_client(token=None)
        for _ in range(5):
            assert lookup(anonymous).status_code == 401

        assert lookup(app.test_client()).status_code == 400


def test_with_auth_off_requests_are_counted_by_client_address(limited):
    with running_app(replace(limited, auth=False)) as app:
        client = app.test_client()
        for _ in range(3):
            assert lookup(client).status_code == 400

        assert_rate_limited(lookup(client))
        other_address = client.get("/images/x", environ_base={"REMOTE_ADDR": "10.0.0.2"})
        assert other_address.status_code == 400


@pytest.mark.parametrize("limit", ["", "sixty per minute", "60/fortnight"])
def test_a_limit_flask_limiter_cannot_read_stops_the_app_at_start(limit):
    with pytest.raises(ValueError, match="rate limit"):
        create_app(replace(Settings(), upload_rate_limit=limit))
