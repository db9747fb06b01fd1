"""The API under test: app and client fixtures (as in Flask's tutorial) over the real servers.

Uploads go to a topic of this session's own on the session's broker, so counting the topic's
messages is not disturbed by other tests; Elasticsearch lookups use the session's index. Test
clients authenticate as TEST_DEVICE unless a test asks for an anonymous one (apps.py).
"""

from __future__ import annotations

import uuid
from dataclasses import replace

import pytest

from adapters.elasticsearch_client import make_elasticsearch_client
from adapters.image_index import document_of
from infra.processes import free_port
from infra.schemas import ensure_topic, remove_topics
from kit.uploads import new_image_id
from settings import Settings
from tests.ingest_api.apps import running_app
from tests.ingest_api.champions import own_model, promote, registered
from tests.ingest_api.topic import TopicReader
from tests.model.conftest import dataset, model_settings, trained  # noqa: F401 (fixtures)


@pytest.fixture(scope="session")
def ingest_settings(kafka_stack) -> Settings:
    """The stack's settings with a fresh topic of the stack's partition count."""
    settings = replace(kafka_stack, kafka_topic=f"ingest-api-test-{uuid.uuid4().hex[:8]}")
    ensure_topic(settings.kafka_bootstrap_servers, settings.kafka_topic, settings.kafka_partitions)
    yield settings
    remove_topics(settings.kafka_bootstrap_servers, [settings.kafka_topic])


@pytest.fixture(scope="session")
def champion_settings(ingest_settings, mlflow_stack, trained) -> Settings:  # noqa: F811
    """ingest_settings with the session's MLflow and a registered model of their own whose
    champion is the session's trained model (tests/model/conftest.py)."""
    settings = own_model(ingest_settings, "classify")
    [version] = registered(settings, trained)
    promote(settings, version)
    return settings


@pytest.fixture
def app(ingest_settings):
    with running_app(ingest_settings) as app:
        yield app


@pytest.fixture
def client(app):
    """A client that sends the session's token of TEST_DEVICE (see apps.py)."""
    return app.test_client()


@pytest.fixture
def anonymous_client(app):
    """A client of the same app that sends no Authorization header."""
    return app.test_client(token=None)


@pytest.fixture
def topic(ingest_settings) -> TopicReader:
    return TopicReader(ingest_settings.kafka_bootstrap_servers, ingest_settings.kafka_topic)


@pytest.fixture
def kafka_down_client(ingest_settings):
    """A client of an app whose broker address has nothing listening."""
    settings = replace(ingest_settings, kafka_bootstrap_servers=f"127.0.0.1:{free_port()}")
    with running_app(settings) as app:
        yield app.test_client()


@pytest.fixture
def es_client(es_stack):
    """A client of an app reading the session's Elasticsearch index (Kafka is never used)."""
    with running_app(es_stack) as app:
        yield app.test_client()


@pytest.fixture
def indexed(es_stack):
    """Index manifest rows into the session's index; they are deleted after the test.

    One document at a time with client.index: index_rows' bulk request is sent as
    application/x-ndjson, which the adapter does not yet translate for the 7.x server (406).
    """
    es = make_elasticsearch_client(es_stack.elasticsearch_url)
    written: list[str] = []

    def index(**row) -> str:
        # As the pipeline writes it: a photo without a position has gps_source "none".
        placed = row.get("lat") is not None
        row = {"image_id": new_image_id(), "gps_source": "exif" if placed else "none", **row}
        es.index(
            index=es_stack.elasticsearch_index,
            id=row["image_id"],
            document=document_of(row, processed_at="2024-06-02T08:00:00Z"),
            refresh="wait_for",
        )
        written.append(row["image_id"])
        return row["image_id"]

    yield index
    for image_id in written:
        es.delete(index=es_stack.elasticsearch_index, id=image_id, refresh=True)
