"""The benchmarks' uploads, against a real API (its own topic and index): an upload the API
queued is accepted, one of bytes the pipeline recorded already is a duplicate (a success that
sends nothing), anything else a failure."""

from __future__ import annotations

import uuid
from dataclasses import replace

import pytest

from bench.stream_load import ACCEPTED, DUPLICATE, FAILED, Payload, post_all
from infra.schemas import ensure_topic, remove_topics
from kit.api_client import ApiClient
from kit.uploads import unique_jpeg
from preprocessing import image_id_of
from tests.ingest_api.apps import device_token, running_app
from tests.ingest_api.map_index import MapIndex
from tests.pages.live_site import served


@pytest.fixture
def api(kafka_stack, es_stack):
    """(the API's client with the test device's token, index): the API served on a free port
    over a topic and an index of the test's own."""
    index = MapIndex(kafka_stack)  # the same settings as es_stack's, both servers up
    settings = replace(index.settings, kafka_topic=f"bench-test-{uuid.uuid4().hex[:8]}")
    ensure_topic(settings.kafka_bootstrap_servers, settings.kafka_topic, settings.kafka_partitions)
    token = device_token(settings.api_token_store) if settings.auth else None
    with running_app(settings) as app, served(app) as url:
        yield ApiClient(url, token), index
    remove_topics(settings.kafka_bootstrap_servers, [settings.kafka_topic])
    index.remove()


def payload(name: str) -> Payload:
    data = unique_jpeg()
    return Payload(name, data, image_id_of(data))


def test_a_recorded_photo_is_a_duplicate_not_a_failure_nor_an_acceptance(api):
    device, index = api
    recorded, new = payload("recorded.jpg"), payload("new.jpg")
    index.add(image_id=recorded.image_id, label="bench")

    sent = post_all(device, [recorded, new], threads=2, rate=None)

    assert [(s.status, s.outcome) for s in sent] == [(200, DUPLICATE), (202, ACCEPTED)]
    [refused] = post_all(replace(device, token="nope"), [new], threads=1, rate=None)
    assert (refused.status, refused.outcome) == (401, FAILED)
