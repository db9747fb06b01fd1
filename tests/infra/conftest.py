"""A Kafka broker of a test's own, for tests that stop or kill it without disturbing the others."""

from __future__ import annotations

import contextlib
import socket
import uuid
from dataclasses import replace

import pytest

from adapters.s3 import make_s3_client
from infra.stack import LocalStack


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def own_broker(s3_stack, tmp_path):
    """Settings for a second broker: a free port, its own log bucket, its own stack dir.

    It stores its log on the session's S3, which its stack dir did not start. The broker is
    stopped and its bucket emptied and removed afterwards.
    """
    settings = replace(
        s3_stack,
        stack_dir=str(tmp_path),
        kafka_bootstrap_servers=f"127.0.0.1:{free_port()}",
        kafka_log_bucket=f"kafka-log-test-{uuid.uuid4().hex[:8]}",
    )
    yield settings
    LocalStack(settings).down()
    remove_bucket(make_s3_client(settings.s3), settings.kafka_log_bucket)


def remove_bucket(s3, bucket: str) -> None:
    """Delete the bucket and what it holds, if a broker ever created it."""
    with contextlib.suppress(s3.exceptions.NoSuchBucket):
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket):
            for item in page.get("Contents", []):
                s3.delete_object(Bucket=bucket, Key=item["Key"])
        s3.delete_bucket(Bucket=bucket)
