"""POST /classify under gunicorn as deployed (two workers, MODEL_REFRESH_S at its default of
10 s), on the real MLflow: a promotion (through the gate, as `python -m model promote` runs it)
and a rollback each reach every worker within 30 s, without a restart and without one failed
request while requests keep coming; the metrics say which version answers and count the
predictions by crop; workers that have run the model stop cleanly.
"""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from collections import Counter
from dataclasses import replace

import pytest

from infra.processes import free_port
from kit.api_client import Answer, ApiClient
from kit.uploads import jpeg
from model.promotion import promote as promote_through_the_gate
from model.promotion import rollback
from settings import PROJECT_ROOT, Settings
from tests.ingest_api.apps import device_token
from tests.ingest_api.champions import own_model, promote, registered
from tests.ingest_api.gunicorn import internal_url, serving
from tests.ingest_api.ops.test_ingest_logs import lines_with
from tests.ingest_api.ops.test_ingest_metrics import scrape, value

PHOTO = jpeg(seed=11)
SWAP_WITHIN_S = 30
READY_TIMEOUT_S = 120


@pytest.fixture(scope="module")
def versions(ingest_settings, mlflow_stack, trained) -> tuple[Settings, str, str]:
    """(settings of a model of this module's own, its first version, its second); the first
    is the champion."""
    settings = own_model(ingest_settings, "swap")
    first, second = registered(settings, trained, versions=2)
    promote(settings, first)
    return settings, first, second


@pytest.fixture(scope="module")
def server(versions, token, tmp_path_factory):
    """gunicorn as in production, on this module's model: (the device's client, its log
    file)."""
    settings, _, _ = versions
    settings = replace(settings, api_host="127.0.0.1", api_internal_port=free_port())
    assert settings.model_refresh_s == 10 and settings.api_workers == 2
    log = tmp_path_factory.mktemp("gunicorn-classify") / "gunicorn.log"
    with serving(settings, log):
        yield ApiClient(internal_url(settings), token), log


@pytest.fixture(scope="module")
def token(ingest_settings) -> str:
    return device_token(ingest_settings.api_token_store)


def classify(api: ApiClient) -> Answer:
    """One /classify on a new connection, so that both workers take turns answering."""
    return replace(api, headers={"Connection": "close"}).classify(PHOTO, "p.jpg")


def version_of(response: Answer) -> str | None:
    return response.json().get("model", {}).get("version") if response.status == 200 else None


def wait_until_answering(api: ApiClient, version: str) -> None:
    """Until ten answers in a row (both workers' turns) come from `version`."""
    deadline, in_a_row = time.monotonic() + READY_TIMEOUT_S, 0
    while in_a_row < 10:
        assert time.monotonic() < deadline, f"the workers did not all answer with {version}"
        in_a_row = in_a_row + 1 if version_of(classify(api)) == version else 0


class Hammer:
    """Threads posting /classify without pause; every answer kept as (time, status, version)."""

    def __init__(self, api: ApiClient, threads: int = 2):
        self.answers: list[tuple[float, int, str | None]] = []
        self._stop = threading.Event()
        self._threads = [threading.Thread(target=self._run, args=(api,))
                         for _ in range(threads)]

    def __enter__(self) -> Hammer:
        for thread in self._threads:
            thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join()

    def _run(self, api: ApiClient) -> None:
        while not self._stop.is_set():
            response = classify(api)
            self.answers.append((time.monotonic(), response.status, version_of(response)))

    def wait_for(self, version: str, since: float) -> None:
        """Until the last 20 answers since `since` all come from `version` (or 45 s)."""
        deadline = since + SWAP_WITHIN_S + 15
        while time.monotonic() < deadline:
            recent = [v for at, _, v in self.answers if at > since][-20:]
            if len(recent) == 20 and set(recent) == {version}:
                return
            time.sleep(0.2)

    def switched(self, old: str, new: str, since: float, until: float) -> float:
        """Seconds from `since` to the last answer of `old`; every later one until `until`
        is from `new`."""
        window = [(at, v) for at, _, v in self.answers if since <= at < until]
        last_old = max((at for at, v in window if v == old), default=since)
        assert {v for at, v in window if at > last_old} == {new}
        return last_old - since


@pytest.mark.timeout(900)
def test_a_promotion_and_a_rollback_reach_every_worker_within_30_s_without_a_failed_request(
        server, versions):
    api, log = server
    settings, first, second = versions
    wait_until_answering(api, first)

    with Hammer(api) as hammer:
        time.sleep(1)
        decision = promote_through_the_gate(settings, second, reason="the same model again")
        assert decision.promoted, decision.lines
        promoted_at = time.monotonic()
        hammer.wait_for(second, promoted_at)
        rollback(settings, "a test rolls back")
        rolled_back_at = time.monotonic()
        hammer.wait_for(first, rolled_back_at)
        time.sleep(1)
    answers = hammer.answers

    assert [status for _, status, _ in answers if status != 200] == []
    assert hammer.switched(second, first, rolled_back_at, time.monotonic()) < SWAP_WITHIN_S
    assert hammer.switched(first, second, promoted_at, rolled_back_at) < SWAP_WITHIN_S
    assert len(lines_with(log, f"version {second} (was version {first})")) == 2, \
        "each worker logs its swap"
    assert len(lines_with(log, f"version {first} (was version {second})")) == 2


@pytest.mark.timeout(300)
def test_the_metrics_say_which_version_answers_and_count_the_predictions_by_crop(
        server, versions):
    api, _ = server
    settings, first, second = versions
    promote(settings, second)
    wait_until_answering(api, second)
    before = scrape(api)

    crops = Counter(classify(api).json()["crop"] for _ in range(6))

    after = scrape(api)
    name = settings.model_name
    assert value(after, "ingest_api_model_served", model=name, version=second) == 1
    assert value(after, "ingest_api_model_served", model=name, version=first) == 0
    for crop, count in crops.items():
        labels = {"crop": crop, "model": name, "version": second}
        grew = (value(after, "ingest_api_predictions_total", **labels)
                - value(before, "ingest_api_predictions_total", **labels))
        assert grew == count
    timed = {"model": name, "version": second}
    assert (value(after, "ingest_api_model_seconds_count", **timed)
            - value(before, "ingest_api_model_seconds_count", **timed)) == 6
    route = {"route": "/classify", "method": "POST", "status": "200"}
    assert (value(after, "ingest_api_requests_total", **route)
            - value(before, "ingest_api_requests_total", **route)) == 6


@pytest.mark.servers  # imports the app in a process of its own
def test_the_app_is_imported_without_onnxruntime_which_each_worker_loads_after_the_fork():
    code = ("import sys, ingest_api; "
            "print(sorted({'onnxruntime', 'model.registry'} & set(sys.modules)))")
    done = subprocess.run([sys.executable, "-c", code], cwd=PROJECT_ROOT, capture_output=True,
                          text=True, check=True)
    assert done.stdout.strip() == "[]"


@pytest.mark.timeout(300)
def test_workers_that_have_classified_stop_cleanly(versions, token, tmp_path):
    settings, first, _ = versions
    promote(settings, first)
    settings = replace(settings, api_host="127.0.0.1", api_internal_port=free_port())
    log = tmp_path / "gunicorn.log"
    with serving(settings, log):
        wait_until_answering(ApiClient(internal_url(settings), token), first)

    stopped = log.read_text()
    assert "Shutting down: Master" in stopped
    assert "SIGABRT" not in stopped and "terminate called" not in stopped
