"""Outages behind the real server: /is_alive answers within 1 s, uploads get their 503 within 5 s.

The broker is this test's own (the `own_broker` pattern), stopped for real while uploads hammer
nginx + gunicorn. For Elasticsearch, gunicorn is pointed at a port that accepts connections
and never answers, as a hung server does. Requests carry the session's device token; the rate
limits are raised, since one hammer sends far more than a phone would.
"""

from __future__ import annotations

import shutil
import socket
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path

import pytest

from infra.processes import free_port
from infra.stack import LocalStack
from ingest_api.server import GUNICORN_OPTIONS
from kit.api_client import ApiClient
from kit.uploads import jpeg
from settings import Settings
from tests.ingest_api.apps import device_token
from tests.ingest_api.gunicorn import internal_url, serving

ALIVE_BOUND_S = 1.0
UPLOAD_503_BOUND_S = 5.0
# More clients than gunicorn has threads: without the bounds of ingest_api/ops/guard.py, requests
# waiting on the broken server would take every thread.
HAMMER_THREADS = Settings().api_workers * GUNICORN_OPTIONS["threads"] + 8
HAMMER_SECONDS = 8
UNLIMITED = {"upload_rate_limit": "1000000/minute", "lookup_rate_limit": "1000000/minute"}


@pytest.fixture
def front_on_own_broker(own_broker, es_stack):
    """nginx + gunicorn of a stack dir of this test's own, publishing to its own broker."""
    stack_dir = Path(tempfile.mkdtemp(prefix="outage-"))
    settings = replace(
        own_broker,
        stack_dir=str(stack_dir),
        api_port=free_port(),
        api_internal_port=free_port(),
        **UNLIMITED,
    )
    stack = LocalStack(settings)
    try:
        stack.up(["nginx"])  # starts the broker and the API with it
        yield settings
    finally:
        stack.down()
        shutil.rmtree(stack_dir, ignore_errors=True)


def client_of(settings, url: str | None = None) -> ApiClient:
    """The API (the public address unless `url`), with the session's device token."""
    url = url or f"http://{settings.api_host}:{settings.api_port}"
    return ApiClient(url, device_token(settings.api_token_store))


def upload(client: ApiClient, seed: int) -> tuple[float, int, str | None]:
    """(seconds, status, Retry-After) of one upload."""
    start = time.monotonic()
    response = client.post_image(jpeg(seed=seed), "p.jpg")
    return time.monotonic() - start, response.status, response.headers.get("Retry-After")


def lookup(client: ApiClient, seed: int) -> tuple[float, int, str | None]:
    """(seconds, status, Retry-After) of one GET /images/<id>."""
    start = time.monotonic()
    image = f"{'a' * 63}{seed % 10}"
    response = replace(client, timeout=60).image(image)
    return time.monotonic() - start, response.status, response.headers.get("Retry-After")


def hammer(call, client: ApiClient) -> list:
    """call(client, n) from HAMMER_THREADS threads, again and again for HAMMER_SECONDS."""
    deadline = time.monotonic() + HAMMER_SECONDS

    def again(thread: int) -> list:
        results, n = [], 0
        while time.monotonic() < deadline:
            results.append(call(client, thread * 10_000 + n))
            n += 1
        return results

    with ThreadPoolExecutor(HAMMER_THREADS) as pool:
        return [result for results in pool.map(again, range(HAMMER_THREADS)) for result in results]


def alive_while_hammered(call, client: ApiClient) -> tuple[list, list[float]]:
    """The hammer's results, and the latency of GET /is_alive every 0.25 s meanwhile.

    The hammer runs in a process of its own, so its threads do not delay the measuring
    thread here (Python's GIL).
    """
    with ProcessPoolExecutor(1) as other_process:
        hammered = other_process.submit(hammer, call, client)
        deadline = time.monotonic() + HAMMER_SECONDS
        latencies, prober = [], replace(client, token=None)
        while time.monotonic() < deadline:
            start = time.monotonic()
            assert prober.is_alive().status == 200
            latencies.append(time.monotonic() - start)
            time.sleep(0.25)
        return hammered.result(), latencies


@pytest.mark.timeout(180)
def test_during_a_broker_outage_uploads_get_503_within_5_s_and_is_alive_within_1_s(
    front_on_own_broker,
):
    client = client_of(front_on_own_broker)
    assert upload(client, seed=1)[1] == 202  # the producer is connected when the broker goes
    LocalStack(front_on_own_broker).down(["kafka"])

    uploads, alive_latencies = alive_while_hammered(upload, client)

    assert {status for _, status, _ in uploads} == {503}
    assert all(retry_after.isdigit() for _, _, retry_after in uploads)
    assert max(seconds for seconds, _, _ in uploads) < UPLOAD_503_BOUND_S, uploads
    assert len(alive_latencies) >= 5
    assert max(alive_latencies) < ALIVE_BOUND_S, alive_latencies


@pytest.mark.timeout(180)
def test_uploads_are_accepted_again_within_seconds_of_the_broker_returning(front_on_own_broker):
    client = client_of(front_on_own_broker)
    stack = LocalStack(front_on_own_broker)
    stack.down(["kafka"])
    assert upload(client, seed=2)[1] == 503

    stack.up(["kafka"])
    back, in_a_row, seed = time.monotonic(), 0, 3
    while in_a_row < 10:  # every gunicorn worker has its own breaker: each must close
        assert time.monotonic() - back < 10, "uploads still refused 10 s after the broker returned"
        in_a_row = in_a_row + 1 if upload(client, seed)[1] == 202 else 0
        seed += 1


@pytest.fixture
def hung_elasticsearch():
    """The address of a server that accepts connections and never answers."""
    listener = socket.create_server(("127.0.0.1", 0), backlog=128)
    yield f"http://127.0.0.1:{listener.getsockname()[1]}"
    listener.close()


@pytest.fixture
def api_with_hung_elasticsearch(ingest_settings, hung_elasticsearch, tmp_path):
    """gunicorn (`python -m ingest_api`) whose Elasticsearch never answers."""
    settings = replace(
        ingest_settings,
        elasticsearch_url=hung_elasticsearch,
        api_internal_port=free_port(),
        **UNLIMITED,
    )
    with serving(settings, tmp_path / "gunicorn.log"):
        yield client_of(settings, internal_url(settings))


@pytest.mark.timeout(120)
def test_is_alive_answers_within_1_s_while_lookups_wait_on_a_hung_elasticsearch(
    api_with_hung_elasticsearch,
):
    lookups, alive_latencies = alive_while_hammered(lookup, api_with_hung_elasticsearch)

    assert {status for _, status, _ in lookups} == {503}
    assert max(alive_latencies) < ALIVE_BOUND_S, alive_latencies
