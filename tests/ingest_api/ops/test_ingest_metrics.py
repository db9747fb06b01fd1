"""GET /metrics under real gunicorn with two workers: every worker's requests, added up.

prometheus_client's multiprocess mode is what makes the sum right; without it each answer
would hold only the counts of the worker that happened to answer.
"""

from __future__ import annotations

from dataclasses import replace

import pytest
import requests
from prometheus_client.parser import text_string_to_metric_families

from infra.processes import free_port
from kit.uploads import jpeg
from tests.ingest_api.apps import device_token
from tests.ingest_api.gunicorn import internal_url, serving

REQUESTS = 60


@pytest.fixture(scope="module")
def server(ingest_settings, tmp_path_factory):
    """gunicorn as deployed (two workers), and the directory its workers' metric files go to."""
    settings = replace(ingest_settings, api_host="127.0.0.1", api_internal_port=free_port(),
                       upload_rate_limit="10000/minute")
    log_path = tmp_path_factory.mktemp("gunicorn-metrics") / "gunicorn.log"
    with serving(settings, log_path):
        yield internal_url(settings), log_path.parent / "metrics"


@pytest.fixture(scope="module")
def auth(ingest_settings) -> dict[str, str]:
    return {"Authorization": f"Bearer {device_token(ingest_settings.api_token_store)}"}


def scrape(url: str) -> dict[tuple[str, frozenset], float]:
    """Every sample of /metrics, by name and labels; read without a token."""
    response = requests.get(f"{url}/metrics", timeout=10)
    assert response.status_code == 200
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
    url, metrics_dir = server
    before = value(scrape(url), "ingest_api_requests_total", route="/is_alive", method="GET",
                   status="200")

    for _ in range(REQUESTS):  # a new connection each: the two workers take turns accepting
        assert requests.get(f"{url}/is_alive", headers={"Connection": "close"},
                            timeout=10).status_code == 200

    workers = {path.stem.rsplit("_", 1)[1] for path in metrics_dir.glob("counter_*.db")}
    assert len(workers) == 2, "both workers should have answered some requests"
    for _ in range(4):  # whichever worker answers /metrics, it reports all of them
        samples = scrape(url)
        counted = value(samples, "ingest_api_requests_total", route="/is_alive", method="GET",
                        status="200")
        assert counted - before == REQUESTS


@pytest.mark.timeout(60)
def test_routes_are_labelled_by_their_rule_not_the_raw_path(server, auth):
    url, _ = server

    requests.get(f"{url}/images/not-an-id", headers=auth, timeout=10)
    requests.get(f"{url}/no/such/page", headers=auth, timeout=10)

    samples = scrape(url)
    assert value(samples, "ingest_api_requests_total", route="/images/<image_id>",
                 method="GET", status="400") >= 1
    assert value(samples, "ingest_api_requests_total", route="unmatched", method="GET",
                 status="404") >= 1
    assert not any("not-an-id" in str(labels) for _, labels in samples)


@pytest.mark.timeout(60)
def test_latency_is_a_histogram_with_buckets_per_route(server):
    url, _ = server
    requests.get(f"{url}/is_alive", timeout=10)

    samples = scrape(url)

    route = {"route": "/is_alive", "method": "GET"}
    fast = value(samples, "ingest_api_request_duration_seconds_bucket", le="0.1", **route)
    everything = value(samples, "ingest_api_request_duration_seconds_bucket", le="+Inf", **route)
    assert 0 < fast <= everything
    assert everything == value(samples, "ingest_api_request_duration_seconds_count", **route)


@pytest.mark.timeout(120)
def test_an_upload_counts_its_bytes_and_its_kafka_publish(server, auth):
    url, _ = server
    before = scrape(url)

    response = requests.post(f"{url}/post_image", files={"file": ("p.jpg", jpeg(seed=31))},
                             data={"label": "maize"}, headers=auth, timeout=30)

    assert response.status_code == 202, response.text
    sent = int(response.request.headers["Content-Length"])
    after = scrape(url)

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
