"""A Spark session for the streaming tests, and a topic, bucket, index and checkpoint per test."""

from __future__ import annotations

import contextlib
import uuid
from dataclasses import replace
from pathlib import Path

import pytest

from adapters.spark import spark_session
from infra.processes import free_port
from infra.schemas import apply_schemas, ensure_topic, remove_schemas, remove_topics
from settings import Settings
from streaming.kafka_source import KafkaPythonSource


@pytest.fixture(scope="session")
def spark():
    """One local[2] session for every in-process test (starting one takes ~10 s)."""
    local = Settings(spark_master="local[2]", spark_ui_port=free_port())
    session = spark_session("streaming-tests", local)
    session.dataSource.register(KafkaPythonSource)
    return session


@pytest.fixture
def topic(kafka_stack):
    """A new 3-partition topic of this test's own."""
    name = f"test-{uuid.uuid4().hex[:10]}"
    ensure_topic(kafka_stack.kafka_bootstrap_servers, name, partitions=3)
    yield name
    remove_topics(kafka_stack.kafka_bootstrap_servers, [name])


@contextlib.contextmanager
def isolated_settings(base: Settings, checkpoint_dir: Path):
    """Settings for runs of the job on a topic, an s3:// dataset in a bucket, an index (under
    the image template's pattern) and a checkpoint of their own; all removed afterwards."""
    suffix = uuid.uuid4().hex[:10]
    settings = replace(
        base,
        kafka_topic=f"test-{suffix}",
        kafka_partitions=3,  # the field messages' partitions: more ranges than local[2]'s cores
        dataset_root=f"s3://stream-{suffix}/dataset",
        elasticsearch_index=f"{base.elasticsearch_index}-{suffix}",
        checkpoint_dir=str(checkpoint_dir),
        stream_metrics_port=free_port(),  # not 8002, which a deployed stack may hold
        spark_master="local[2]",
        n_variants=1,
    )
    apply_schemas(settings, ["s3", "kafka"])  # the index is made by the job's first documents
    yield settings
    remove_schemas(settings, ["s3", "kafka", "es"])


@pytest.fixture
def stream_settings(kafka_stack, es_stack, tmp_path):
    """Isolated settings for one test."""
    with isolated_settings(kafka_stack, tmp_path / "checkpoint") as settings:
        yield settings


@pytest.fixture(scope="module")
def module_stream_settings(kafka_stack, es_stack, tmp_path_factory):
    """Isolated settings shared by the tests of one module."""
    with isolated_settings(kafka_stack, tmp_path_factory.mktemp("stream") / "checkpoint") as s:
        yield s
