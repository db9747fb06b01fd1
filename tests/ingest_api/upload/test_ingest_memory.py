"""Decode memory on the request path: each worker's budget, the memory cap, the lying JPEG.

The flood runs against real gunicorn workers, whose memory is read from /proc (VmHWM, VmRSS).
Bounds are generous; bench/memory_drill.py measures the figures (docs/performance.md, "Memory").
"""

from __future__ import annotations

import contextlib
import io
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace

import pytest

from bench.memory_drill import memory_mb, worker_pids
from infra.processes import free_port
from kit.api_client import ApiClient, Unanswered
from kit.photos import FLOOD, flood_file, jpeg_declaring, photo_like
from kit.uploads import jpeg
from preprocessing.memory import MB
from tests.ingest_api.apps import device_token, running_app
from tests.ingest_api.gunicorn import START_TIMEOUT_S, serving

# What docs/reliability.md §4 promises for one API worker: its ~110 MB at rest, the 640 MB
# decode budget, and the request bodies its four threads hold.
WORKER_BUDGET_MB = 1024
SETTLE_S = 5
CLIENTS = 4


@pytest.fixture
def own_settings(ingest_settings, tmp_path):
    """The session's settings with a token store and upload limit of this test's own, so these
    uploads never count against the session device's rate limit."""
    return replace(ingest_settings, upload_rate_limit="1000/minute",
                   api_token_store=str(tmp_path / "auth" / "tokens.sqlite3"))


@pytest.fixture
def client(own_settings):
    with running_app(own_settings) as app:
        yield app.test_client()


@pytest.fixture
def nothing_reaches_kafka(topic):
    before = topic.highwaters()
    yield
    assert topic.highwaters() == before


def post_file(client, data: bytes):
    return client.post("/post_image", data={"file": (io.BytesIO(data), "upload.jpg")})


@pytest.mark.usefixtures("nothing_reaches_kafka")
class TestRefusedBeforeOrWhileDecoding:
    def test_a_jpeg_declaring_9000x9000_over_640x480_of_data_is_422_corrupt(self, client):
        response = post_file(client, jpeg_declaring(9000, 9000, photo_like(640, 480), quality=90))

        assert response.status_code == 422
        assert response.get_json()["error"] == "corrupt"
        assert "ends early" in response.get_json()["message"]

    def test_a_webp_whose_decode_would_take_over_max_decode_mb_is_422(self, client):
        response = post_file(client, flood_file("webp_9000x9000"))

        assert response.status_code == 422
        assert response.get_json()["error"] == "too_many_pixels"
        assert "over the limit of 512 MB" in response.get_json()["message"]

    def test_an_upload_that_gets_no_decode_budget_in_time_is_503_with_retry_after(
        self, own_settings
    ):
        settings = replace(own_settings, api_decode_budget_mb=64, api_decode_wait_s=0.2)
        with running_app(settings) as app:
            budget = app.extensions["decode_budget"]
            with budget.reserve(64 * MB):  # another upload decoding
                response = post_file(app.test_client(), jpeg())

        assert response.status_code == 503
        assert response.headers["Retry-After"]
        assert response.get_json()["error"] == "decoder_busy"


def test_an_upload_waits_for_decode_budget_freed_within_the_wait(own_settings):
    settings = replace(own_settings, api_decode_budget_mb=64, api_decode_wait_s=10)
    with running_app(settings) as app:
        budget = app.extensions["decode_budget"]
        held, release = threading.Event(), threading.Event()

        def other_upload():
            with budget.reserve(64 * MB):
                held.set()
                release.wait(10)

        holder = threading.Thread(target=other_upload)
        holder.start()
        held.wait(10)
        threading.Timer(0.5, release.set).start()
        response = post_file(app.test_client(), jpeg(seed=31))
        holder.join()

    assert response.status_code == 202, response.get_json()


# --- a flood against the real server ---------------------------------------------------------


@pytest.fixture
def gunicorn(own_settings, tmp_path):
    """`python -m ingest_api` (gunicorn alone) with a token store and upload limit of its
    own; yields (a device's client, worker pids)."""
    settings = replace(own_settings, api_internal_port=free_port())  # gunicorn alone
    api = ApiClient(f"http://127.0.0.1:{settings.api_internal_port}",
                    device_token(settings.api_token_store), timeout=120)
    log_path = tmp_path / "gunicorn.log"
    with serving(settings, log_path) as server:
        deadline = time.monotonic() + START_TIMEOUT_S
        while len(worker_pids(server.pid)) != 2:  # both workers forked, each to be measured
            assert time.monotonic() < deadline, log_path.read_text()
            time.sleep(0.3)
        yield api, worker_pids(server.pid)


def _alive(api: ApiClient) -> bool:
    with contextlib.suppress(Unanswered):
        return replace(api, timeout=2).is_alive().status == 200
    return False


def _post(api: ApiClient, data: bytes) -> tuple[int, dict]:
    response = api.post_image(data, "upload")
    return response.status, response.json()


@pytest.mark.timeout(600)
def test_a_flood_of_large_pictures_keeps_each_worker_under_its_budget_and_gives_it_back(gunicorn):
    api, workers = gunicorn
    floods = [flood_file(name) for name in FLOOD]  # made before the clock starts
    for seed in range(4):  # every worker has imported everything and built its producer
        assert _post(api, jpeg(seed=40 + seed))[0] == 202
    at_rest = {pid: memory_mb(pid)["VmRSS"] for pid in workers}

    with ThreadPoolExecutor(CLIENTS) as clients:
        answers = list(clients.map(lambda data: _post(api, data),
                                   [data for data in floods for _ in range(CLIENTS)]))

    statuses = {(status, body.get("error")) for status, body in answers}
    assert statuses <= {(202, None), (422, "too_many_pixels"), (503, "decoder_busy")}, statuses
    assert (202, None) in statuses
    peaks = {pid: memory_mb(pid)["VmHWM"] for pid in workers}
    assert all(peak < WORKER_BUDGET_MB for peak in peaks.values()), peaks
    time.sleep(SETTLE_S)
    settled = {pid: memory_mb(pid)["VmRSS"] for pid in workers}
    assert all(settled[pid] < at_rest[pid] + 100 for pid in workers), (at_rest, settled)
    assert _alive(api)
