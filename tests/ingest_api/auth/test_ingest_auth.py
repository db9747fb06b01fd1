"""Bearer tokens per device: who may call the API, and which device a photo comes from."""

from __future__ import annotations

import io
from dataclasses import replace

import pytest

from infra.processes import free_port
from ingest_api import create_app
from ingest_api.auth.store import TokenStore
from kit.uploads import jpeg
from photo.messages import upload_from_message
from tests.ingest_api.apps import TEST_DEVICE, device_token, running_app

IMAGE_ID = "ab" * 32


def post(client, seed: int = 0, headers: dict | None = None, **fields):
    data = {"file": (io.BytesIO(jpeg(seed=seed)), "a.jpg"), **fields}
    return client.post("/post_image", data=data, headers=headers or {})


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def assert_refused(response, status: int, error: str) -> None:
    assert response.status_code == status, response.get_data(as_text=True)
    body = response.get_json()
    assert body["error"] == error
    assert body["message"]


@pytest.fixture
def nothing_reaches_kafka(topic):
    before = topic.highwaters()
    yield
    assert topic.highwaters() == before


@pytest.fixture
def store(ingest_settings) -> TokenStore:
    """The token store the session's apps read."""
    return TokenStore.from_settings(ingest_settings)


@pytest.mark.usefixtures("nothing_reaches_kafka")
class TestRefusedRequestsNeverReachKafka:
    def test_an_upload_without_a_token_is_401_with_a_bearer_challenge(self, anonymous_client):
        response = post(anonymous_client)

        assert_refused(response, 401, "missing_token")
        assert response.headers["WWW-Authenticate"] == 'Bearer realm="ingest_api"'

    def test_a_lookup_without_a_token_is_401(self, anonymous_client):
        assert_refused(anonymous_client.get(f"/images/{IMAGE_ID}"), 401, "missing_token")

    def test_an_unknown_path_without_a_token_is_401_not_404(self, anonymous_client):
        assert_refused(anonymous_client.get("/no/such/page"), 401, "missing_token")

    def test_a_token_that_was_never_issued_is_401_invalid_token(self, anonymous_client):
        never_issued = "A" * 43

        response = post(anonymous_client, headers=bearer(never_issued))

        assert_refused(response, 401, "unknown_token")
        assert 'error="invalid_token"' in response.headers["WWW-Authenticate"]

    @pytest.mark.parametrize(
        "header",
        [
            "Basic dXNlcjpwYXNz",
            "Bearer",
            "Bearer ",
            "Bearer two words",
            "Token abcdef",
            "Bearer tökén",
            "Bearer " + "a" * 300,
        ],
    )
    def test_a_malformed_authorization_header_is_401(self, anonymous_client, header):
        response = post(anonymous_client, headers={"Authorization": header})

        assert_refused(response, 401, "malformed_token")
        assert response.headers["WWW-Authenticate"].startswith("Bearer ")

    def test_a_revoked_token_is_403(self, anonymous_client, store):
        token = store.issue("revoked-phone")
        store.revoke("revoked-phone")

        response = post(anonymous_client, headers=bearer(token))

        assert_refused(response, 403, "revoked_token")
        assert "revoked-phone" in response.get_json()["message"]

    def test_a_token_replaced_by_a_new_one_is_403(self, anonymous_client, store):
        old = store.issue("rotated-phone")
        new = store.issue("rotated-phone")

        assert_refused(post(anonymous_client, headers=bearer(old)), 403, "revoked_token")
        assert anonymous_client.get("/images/x", headers=bearer(new)).status_code == 400


def test_the_scheme_name_is_case_insensitive(anonymous_client, ingest_settings):
    token = device_token(ingest_settings.api_token_store)

    response = post(anonymous_client, seed=3, headers={"Authorization": f"bearer {token}"})

    assert response.status_code == 202


def test_health_probes_need_no_token(anonymous_client):
    assert anonymous_client.get("/is_alive").status_code == 200
    assert anonymous_client.get("/readyz").status_code == 200


def test_the_device_id_on_the_message_is_the_tokens_not_the_forms(anonymous_client, store, topic):
    token = store.issue("field-phone-7")

    response = post(anonymous_client, seed=1, headers=bearer(token), device_id="someone-else")

    assert response.status_code == 202
    body = response.get_json()
    record = topic.record_at(body["partition"], body["offset"])
    assert upload_from_message(record.value, record.headers, "kafka").device_id == "field-phone-7"
    assert [value for name, value in record.headers if name == "device_id"] == [b"field-phone-7"]


def test_the_default_test_client_authenticates_as_the_test_device(client, topic):
    body = post(client, seed=2).get_json()

    record = topic.record_at(body["partition"], body["offset"])
    assert dict(record.headers)["device_id"] == TEST_DEVICE.encode()


def test_tokens_outlive_the_app_and_a_revocation_reaches_a_running_app(ingest_settings, tmp_path):
    settings = replace(ingest_settings, api_token_store=str(tmp_path / "tokens.sqlite3"))
    token = TokenStore.from_settings(settings).issue("restarted-phone")

    with running_app(settings) as first:
        assert first.test_client(token=token).get("/images/x").status_code == 400
    with running_app(settings) as second:
        client = second.test_client(token=token)
        assert client.get("/images/x").status_code == 400

        TokenStore.from_settings(settings).revoke("restarted-phone")

        assert_refused(client.get("/images/x"), 403, "revoked_token")


def test_with_auth_off_anyone_may_upload_and_no_device_is_claimed(ingest_settings, topic):
    with running_app(replace(ingest_settings, auth=False)) as app:
        response = post(app.test_client(token=None), seed=4, device_id="claimed")

    assert response.status_code == 202
    body = response.get_json()
    record = topic.record_at(body["partition"], body["offset"])
    assert "device_id" not in dict(record.headers)


@pytest.mark.timeout(60)
def test_an_upload_while_elasticsearch_and_s3_are_unreachable_authenticates_and_is_accepted(
    ingest_settings, topic
):
    nowhere = f"http://127.0.0.1:{free_port()}"
    s3 = replace(ingest_settings.s3, endpoint_url=nowhere)
    settings = replace(ingest_settings, elasticsearch_url=nowhere, s3=s3)
    with running_app(settings) as app:
        client = app.test_client()
        upload = post(client, seed=5)
        lookup = client.get(f"/images/{IMAGE_ID}")

    assert upload.status_code == 202, upload.get_data(as_text=True)
    body = upload.get_json()
    assert dict(topic.record_at(body["partition"], body["offset"]).headers)["device_id"]
    assert_refused(lookup, 503, "elasticsearch_unavailable")  # authenticated, then ES is asked


def test_a_token_store_that_cannot_be_opened_is_503_with_retry_after(ingest_settings, tmp_path):
    not_a_folder = tmp_path / "file"
    not_a_folder.write_text("")
    settings = replace(ingest_settings, api_token_store=str(not_a_folder / "tokens.sqlite3"))

    response = create_app(settings).test_client().get("/images/x", headers=bearer("A" * 43))

    assert_refused(response, 503, "auth_unavailable")
    assert response.headers["Retry-After"].isdigit()
