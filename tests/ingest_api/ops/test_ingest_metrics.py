"""GET /metrics under real gunicorn with two workers: every worker's requests, added up.

prometheus_client's multiprocess mode is what makes the sum right; without it each answer
would hold only the counts of the worker that happened to answer.
"""

from __future__ import annotations

from dataclasses import replace

import pytest
from prometheus_client.parser import text_string_to_metric_families

from infra.processes import free_port
from kit.api_client import ApiClient, upload_form
from kit.uploads import jpeg
from tests.ingest_api.apps import device_token
from tests.ingest_api.gunicorn import internal_url, serving

REQUESTS = 60


@pytest.fixture(scope="module")
def server(ingest_settings, tmp_path_factory):
    """gunicorn as deployed (two workers) called without a token, and the directory its
    workers' metric files go to."""
    settings = replace(ingest_settings, api_host="127.0.0.1", api_internal_port=free_port(),
                       upload_rate_limit="10000/minute")
    log_path = tmp_path_factory.mktemp("gunicorn-metrics") / "gunicorn.log"
    with serving(settings, log_path):
        yield ApiClient(internal_url(settings), timeout=10), log_path.parent / "metrics"


@pytest.fixture(scope="module")
def device(server, ingest_settings) -> ApiClient:
    """The server, called with the session's device token."""
    return replace(server[0], token=device_token(ingest_settings.api_token_store))


def scrape(api: ApiClient) -> dict[tuple[str, frozenset], float]:
    """Every sample of /metrics, by name and labels; read without a token."""
    response = api.metrics()
    assert response.status == 200
    assert response.headers["Content-Type"].startswith("text/plain")
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(response.text)
        for sample in family.samples
    }


def value(samples, name: str, **labels) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


@pytest.mark.timeout(120)
def test_requests_answered_by_both_workers_are_all_counted_by_route_and_status(server):
    api, metrics_dir = server
    before = value(scrape(api), "ingest_api_requests_total", route="/is_alive", method="GET",
                   status="200")

    for _ in range(REQUESTS):  # a new connection each: the two workers take turns accepting
        assert api.request("GET", "/is_alive", headers={"Connection": "close"}).status == 200

    workers = {path.stem.rsplit("_", 1)[1] for path in metrics_dir.glob("counter_*.db")}
    assert len(workers) == 2, "both workers should have answered some requests"
    for _ in range(4):  # whichever worker answers /metrics, it reports all of them
        samples = scrape(api)
        counted = value(samples, "ingest_api_requests_total", route="/is_alive", method="GET",
                        status="200")
        assert counted - before == REQUESTS


@pytest.mark.timeout(60)
def test_routes_are_labelled_by_their_rule_not_the_raw_path(device):
    device.image("not-an-id")
    device.request("GET", "/no/such/page")

    samples = scrape(device)
    assert value(samples, "ingest_api_requests_total", route="/images/<image_id>",
                 method="GET", status="400") >= 1
    assert value(samples, "ingest_api_requests_total", route="unmatched", method="GET",
                 status="404") >= 1
    assert not any("not-an-id" in str(labels) for _, labels in samples)


@pytest.mark.timeout(60)
def test_latency_is_a_histogram_with_buckets_per_route(server):
    api, _ = server
    api.is_alive()

    samples = scrape(api)

    route = {"route": "/is_alive", "method": "GET"}
    fast = value(samples, "ingest_api_request_duration_seconds_bucket", le="0.1", **route)
    everything = value(samples, "ingest_api_request_duration_seconds_bucket", le="+Inf", **route)
    assert 0 < fast <= everything
    assert everything == value(samples, "ingest_api_request_duration_seconds_count", **route)


@pytest.mark.timeout(120)
def test_an_upload_counts_its_bytes_and_its_kafka_publish(device):
    before = scrape(device)
    body, form_type = upload_form(jpeg(seed=31), "p.jpg", label="maize")

    response = device.request("POST", "/post_image", body=body, timeout=30,
                              headers={"Content-Type": form_type})

    assert response.status == 202, response.text
    sent = len(body)
    after = scrape(device)

    def grew(name, **labels):
        return value(after, name, **labels) - value(before, name, **labels)

    assert grew("ingest_api_upload_bytes_count", status="202") == 1
    assert grew("ingest_api_upload_bytes_sum", status="202") == sent
    assert grew("ingest_api_kafka_publish_seconds_count", outcome="ok") == 1
    assert 0 < grew("ingest_api_kafka_publish_seconds_sum", outcome="ok") < 5


def test_a_single_process_serves_its_own_values_read_as_the_app_was_built(
    anonymous_client, monkeypatch, tmp_path
):
    """The workers' directory is read once, with the app; a later environment changes nothing."""
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(tmp_path))
    anonymous_client.get("/is_alive")

    text = anonymous_client.get("/metrics").get_data(as_text=True)

    assert 'ingest_api_requests_total{method="GET",route="/is_alive",status="200"}' in text
