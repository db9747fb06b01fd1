"""While Kafka is away the API answers 503 with Retry-After, quickly; when it is back, 202 again.

After a failure the publisher refuses uploads at once until its probe, every second, finds the
broker answering again (ingest_api/ops/guard.py): uploads are accepted again within seconds.
"""

from __future__ import annotations

import io
import time

import pytest

from infra.stack import LocalStack
from kit.uploads import jpeg
from tests.ingest_api.apps import running_app


def post(client, seed: int = 0):
    return client.post("/post_image", data={"file": (io.BytesIO(jpeg(seed=seed)), "a.jpg")})


def accepted_within(client, seed: int, seconds: float) -> bool:
    """Whether an upload is accepted (202) within `seconds` of retrying."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if post(client, seed).status_code == 202:
            return True
        time.sleep(0.2)
    return False


def assert_unavailable(response) -> None:
    assert response.status_code == 503, response.get_data(as_text=True)
    assert response.headers["Retry-After"].isdigit()
    assert response.get_json()["error"] == "kafka_unavailable"


@pytest.mark.timeout(30)
def test_an_upload_while_nothing_listens_on_the_broker_port_is_503_with_retry_after(
    kafka_down_client,
):
    assert_unavailable(post(kafka_down_client))


@pytest.mark.timeout(60)
def test_every_upload_is_answered_and_the_service_stays_up_while_kafka_is_down(
    kafka_down_client,
):
    for seed in range(3):
        assert_unavailable(post(kafka_down_client, seed))

    assert kafka_down_client.get("/is_alive").status_code == 200


@pytest.mark.timeout(240)
def test_the_same_app_publishes_again_once_the_broker_is_back(own_broker):
    broker = LocalStack(own_broker)
    with running_app(own_broker) as app:
        client = app.test_client()
        assert_unavailable(post(client, 1))

        broker.up(["kafka"])
        assert accepted_within(client, 2, seconds=10)

        broker.down(["kafka"])
        assert_unavailable(post(client, 3))

        broker.up(["kafka"])
        assert accepted_within(client, 4, seconds=10)


@pytest.mark.timeout(30)
def test_once_kafka_failed_uploads_are_refused_before_the_photo_is_read(kafka_down_client):
    assert_unavailable(post(kafka_down_client))  # the failure that opens the breaker

    text = {"file": (io.BytesIO(b"not a photo at all"), "a.jpg")}
    response = kafka_down_client.post("/post_image", data=text)

    assert_unavailable(response)  # not 415: the photo was never looked at
