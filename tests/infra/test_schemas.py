"""A run on schemas of its own (tests, benchmarks) creates them and removes them again."""

from __future__ import annotations

import uuid
from dataclasses import replace
from urllib.parse import urlsplit

import pytest
from kafka import KafkaAdminClient

from adapters.elasticsearch_client import make_elasticsearch_client
from adapters.s3 import make_s3_client
from infra.processes import free_port
from infra.schemas import apply_schemas, main, remove_schemas

SERVERS = ["s3", "kafka", "es"]


@pytest.fixture
def own_schemas(kafka_stack, es_stack):
    suffix = uuid.uuid4().hex[:8]
    return replace(
        kafka_stack,
        kafka_topic=f"schemas-{suffix}",
        dataset_root=f"s3://schemas-{suffix}/dataset",
        elasticsearch_index=f"{es_stack.elasticsearch_index}-schemas-{suffix}",
    )


def present(settings) -> dict[str, bool]:
    """Whether the settings' bucket, topic, index and index template exist."""
    bucket = urlsplit(settings.dataset_root).netloc
    buckets = make_s3_client(settings.s3).list_buckets()["Buckets"]
    admin = KafkaAdminClient(bootstrap_servers=settings.kafka_bootstrap_servers)
    try:
        topics = admin.list_topics()
    finally:
        admin.close()
    es = make_elasticsearch_client(settings.elasticsearch_url)
    index = settings.elasticsearch_index
    return {
        "bucket": bucket in {b["Name"] for b in buckets},
        "topic": settings.kafka_topic in topics,
        "index": bool(es.indices.exists(index=index)),
        "template": bool(es.indices.exists_index_template(name=index)),
    }


def test_apply_then_remove_leaves_nothing_behind(own_schemas):
    apply_schemas(own_schemas, SERVERS)
    s3 = make_s3_client(own_schemas.s3)
    s3.put_object(Bucket=urlsplit(own_schemas.dataset_root).netloc, Key="a/b", Body=b"x")
    assert present(own_schemas) == dict.fromkeys(["bucket", "topic", "index", "template"], True)

    remove_schemas(own_schemas, SERVERS)

    assert present(own_schemas) == dict.fromkeys(["bucket", "topic", "index", "template"], False)


def test_removing_what_was_never_made_is_harmless(own_schemas):
    remove_schemas(own_schemas, SERVERS)
    assert not any(present(own_schemas).values())


def test_the_command_says_which_server_does_not_answer(monkeypatch, capsys):
    url = f"http://127.0.0.1:{free_port()}"
    monkeypatch.setenv("ELASTICSEARCH_URL", url)

    assert main(["es"]) == 1
    assert capsys.readouterr().err == f"schemas: es does not answer at {url} (ConnectionError)\n"
