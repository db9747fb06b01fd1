"""The app's long-lived clients are closed once, when the process serving it ends
(ingest_api/ops/closing.py): by close_app, which gunicorn's worker_exit hook calls."""

from __future__ import annotations

import io
import json
from dataclasses import replace

from infra.processes import free_port
from ingest_api.ops.closing import close_app
from kit.api_client import ApiClient
from kit.uploads import unique_jpeg
from tests.ingest_api.apps import device_token, running_app
from tests.ingest_api.gunicorn import internal_url, serving


def test_closing_the_app_closes_the_producer_that_stored_an_upload(ingest_settings):
    with running_app(ingest_settings) as app:
        response = app.test_client().post(
            "/post_image", data={"file": (io.BytesIO(unique_jpeg()), "p.jpg")}
        )
        publisher = app.extensions["kafka_publisher"]
        producer = publisher._producer

        assert response.status_code == 202
        assert producer is not None and not producer._closed
        close_app(app)
        assert producer._closed
        assert publisher._producer is None
        close_app(app)  # a second close, as atexit may make after gunicorn's: nothing to do


def test_a_gunicorn_worker_closes_its_apps_clients_as_it_stops(ingest_settings, tmp_path):
    settings = replace(ingest_settings, api_host="127.0.0.1", api_internal_port=free_port(),
                       api_workers=1)
    log_path = tmp_path / "gunicorn.log"
    token = device_token(settings.api_token_store)
    with serving(settings, log_path):
        response = ApiClient(internal_url(settings), token).post_image(unique_jpeg(), "p.jpg")
        assert response.status == 202

    lines = [json.loads(line) for line in log_path.read_text().splitlines()
             if line.startswith("{")]
    closed = [line for line in lines if line["logger"] == "ingest_api.ops.closing"]
    assert [line["message"] for line in closed] == ["closed the app's 3 clients: the worker stops"]
