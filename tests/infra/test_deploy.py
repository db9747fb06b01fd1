"""./deploy.sh's uploads of the samples, against a real API (its own topic and index): a photo
the pipeline recorded already is not sent again, and one recorded between the look-up and the
upload is answered 200 duplicate, which a re-run takes as done rather than as a failure."""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import replace

import pytest
from urllib3 import HTTPHeaderDict

from infra.deploy import patiently, post_sample, post_samples
from infra.schemas import ensure_topic, remove_topics
from kit.api_client import Answer, ApiClient
from kit.uploads import unique_jpeg
from tests.ingest_api.apps import device_token, running_app
from tests.ingest_api.map_index import MapIndex
from tests.ingest_api.topic import TopicReader
from tests.pages.live_site import served


@pytest.fixture
def api(kafka_stack, es_stack):
    """(client, index, topic): the API served on a free port over a topic and an index of the
    test's own, and a client of it as deploy's device."""
    index = MapIndex(kafka_stack)  # the same settings as es_stack's, both servers up
    settings = replace(index.settings, kafka_topic=f"deploy-test-{uuid.uuid4().hex[:8]}")
    ensure_topic(settings.kafka_bootstrap_servers, settings.kafka_topic, settings.kafka_partitions)
    topic = TopicReader(settings.kafka_bootstrap_servers, settings.kafka_topic)
    token = device_token(settings.api_token_store) if settings.auth else None
    with running_app(settings) as app, served(app) as url:
        yield ApiClient(url, token), index, topic
    remove_topics(settings.kafka_bootstrap_servers, [settings.kafka_topic])
    index.remove()


def sample(folder, crop: str, name: str) -> tuple[str, bytes]:
    data = unique_jpeg()
    path = folder / crop / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return hashlib.sha256(data).hexdigest(), data


def messages(topic: TopicReader) -> int:
    return sum(topic.highwaters().values())


def test_a_photo_recorded_already_is_counted_once_and_not_sent_again(api, tmp_path):
    client, index, topic = api
    recorded, _ = sample(tmp_path, "maize", "recorded.jpg")
    new, _ = sample(tmp_path, "wheat", "new.jpg")
    index.add(image_id=recorded, label="maize")
    before = messages(topic)

    posted = post_samples(client, tmp_path)

    assert posted == {recorded: "maize/recorded.jpg", new: "wheat/new.jpg"}
    assert messages(topic) == before + 1, "only the new photo went to Kafka"


def test_a_200_duplicate_is_taken_as_done_and_a_202_as_accepted(api, tmp_path):
    client, index, topic = api
    recorded, recorded_bytes = sample(tmp_path, "maize", "recorded.jpg")
    _, new_bytes = sample(tmp_path, "wheat", "new.jpg")
    index.add(image_id=recorded, label="maize")

    assert post_sample(client, tmp_path / "maize" / "recorded.jpg",
                       recorded_bytes) == "duplicate"
    assert post_sample(client, tmp_path / "wheat" / "new.jpg", new_bytes) == "accepted"


def test_past_the_rate_limit_deploy_waits_the_retry_after_and_sends_again():
    answers = iter([Answer(429, HTTPHeaderDict({"Retry-After": "0"}), b""),
                    Answer(202, HTTPHeaderDict(), b"{}")])
    assert patiently(lambda: next(answers)).status == 202
