"""The app's shape and its health endpoints: alive always, ready only when Kafka answers."""

from __future__ import annotations

from dataclasses import replace

import pytest

from ingest_api import FORM_OVERHEAD_BYTES, create_app
from ingest_api.ops.request_ids import RequestIdFilter
from settings import Settings


def test_create_app_reads_settings_from_the_environment_and_connects_to_nothing(monkeypatch):
    monkeypatch.setenv("KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:1")
    monkeypatch.setenv("MAX_UPLOAD_BYTES", "1000")

    app = create_app()

    settings = app.config["SETTINGS"]
    assert settings.kafka_bootstrap_servers == "127.0.0.1:1"
    assert app.config["MAX_CONTENT_LENGTH"] == 1000 + FORM_OVERHEAD_BYTES


def test_create_app_takes_settings_or_a_config_mapping():
    settings = replace(Settings(), kafka_topic="other")

    assert create_app(settings).config["SETTINGS"] is settings
    app = create_app({"TESTING": True, "SETTINGS": settings})
    assert app.testing and app.config["SETTINGS"] is settings


def test_is_alive_answers_without_kafka(kafka_down_client):
    response = kafka_down_client.get("/is_alive")

    assert response.status_code == 200
    body = response.get_json()
    assert body["status"] == "ok" and body["service"] == "ingest_api" and body["version"]


def test_readyz_is_ready_when_the_broker_answers(client):
    response = client.get("/readyz")

    assert response.status_code == 200
    assert response.get_json() == {"status": "ready"}


@pytest.mark.timeout(30)
def test_readyz_is_503_with_retry_after_when_nothing_listens_on_the_broker_port(
    kafka_down_client,
):
    response = kafka_down_client.get("/readyz")

    assert response.status_code == 503
    assert response.headers["Retry-After"].isdigit()
    assert response.get_json()["error"] == "kafka_unavailable"


def test_readyz_is_503_when_the_topic_does_not_exist_and_the_log_names_it(
    ingest_settings, caplog
):
    app = create_app(replace(ingest_settings, kafka_topic="ingest-api-no-such-topic"))
    stamp = RequestIdFilter()  # as the API's own log handler does
    caplog.handler.addFilter(stamp)  # pytest keeps one capture handler for the whole session
    try:
        response = app.test_client().get("/readyz")
    finally:
        caplog.handler.removeFilter(stamp)

    assert response.status_code == 503
    body = response.get_json()
    assert body["message"].startswith("not ready")
    # Records of no request (the worker's model thread logs too) carry no request id.
    logged = [r for r in caplog.records if getattr(r, "request_id", None) == body["request_id"]]
    assert any("ingest-api-no-such-topic" in r.getMessage() for r in logged)


def test_unknown_routes_are_json_404(client):
    response = client.get("/no/such/page")

    assert response.status_code == 404
    assert response.get_json()["error"] == "not_found"


def test_wrong_methods_are_json_405_with_allow(client):
    response = client.get("/post_image")

    assert response.status_code == 405
    assert response.get_json()["error"] == "method_not_allowed"
    assert "POST" in response.headers["Allow"]
