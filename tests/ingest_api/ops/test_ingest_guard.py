"""ServiceGuard: a worker whose calls to a service are all taken answers "busy", not "down"."""

from __future__ import annotations

import io
import time
from contextlib import ExitStack

import pytest
from prometheus_client import REGISTRY

from ingest_api.ops.guard import ServiceGuard
from ingest_api.upload.publisher import EXTENSION_KEY, MAX_KAFKA_CALLS
from kit.uploads import jpeg


class Down(Exception):
    pass


class Busy(Down):
    pass


def guard(slots: int) -> ServiceGuard:
    return ServiceGuard("Kafka", Down, Busy, probe=lambda: None, slots=slots,
                        slot_wait_s=0.05, probe_interval_s=60)


def test_a_call_that_finds_every_slot_taken_is_refused_as_busy_and_the_breaker_stays_closed():
    service = guard(slots=1)

    with service.call(), pytest.raises(Busy, match="every Kafka slot stayed taken"), service.call():
        pass

    assert not service.is_open
    with service.call():  # the slot is free again
        pass


def test_a_failing_call_opens_the_breaker_and_the_next_is_refused_as_down_not_busy():
    service = guard(slots=1)

    with pytest.raises(Down), service.call():
        raise Down("no answer")

    assert service.is_open
    with pytest.raises(Down) as refused:
        service.refuse_while_open()
    assert type(refused.value) is Down
    service.close()


def test_an_upload_finding_the_workers_kafka_calls_all_taken_is_a_503_busy_to_retry(app, client):
    publisher = app.extensions[EXTENSION_KEY]

    with ExitStack() as held:
        for _ in range(MAX_KAFKA_CALLS):
            held.enter_context(publisher.guard.call())
        busy = client.post("/post_image", data={"file": (io.BytesIO(jpeg(seed=70)), "a.jpg")})

    assert busy.status_code == 503
    assert busy.headers["Retry-After"] == "5"
    assert busy.get_json()["error"] == "kafka_busy"
    assert "busy storing other uploads" in busy.get_json()["message"]
    assert not publisher.guard.is_open
    again = client.post("/post_image", data={"file": (io.BytesIO(jpeg(seed=70)), "a.jpg")})
    assert again.status_code == 202


def test_the_breaker_state_is_a_metric_for_the_alert_on_it():
    service = ServiceGuard("Kafka", Down, Busy, probe=lambda: None, slots=1, slot_wait_s=0.05,
                           probe_interval_s=0.2)
    gauge = REGISTRY.get_sample_value
    assert gauge("ingest_api_breaker_open", {"service": "kafka"}) == 0

    with pytest.raises(Down), service.call():
        raise Down("no answer")

    assert gauge("ingest_api_breaker_open", {"service": "kafka"}) == 1
    deadline = time.monotonic() + 5
    while service.is_open and time.monotonic() < deadline:  # the probe succeeds
        time.sleep(0.05)
    assert gauge("ingest_api_breaker_open", {"service": "kafka"}) == 0
    service.close()
