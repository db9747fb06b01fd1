"""The API and the streaming job as the native deploy runs them, for tests of the whole path.

nginx in front of the API, the stream behind it, on a topic, dataset bucket, index and ports of
their own; requests carry a device token, as deploy's do; the rate limits are raised, since
tests send far more than one phone would.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace

from infra.nginx import Nginx
from infra.processes import free_port
from infra.stack import LocalStack
from kit.api_client import ApiClient
from settings import Settings
from tests.ingest_api.apps import device_token


@contextmanager
def running_pipeline(kafka_stack: Settings, es_stack: Settings, checkpoint_dir: str,
                     prefix: str, **overrides) -> Iterator[Settings]:
    """Start nginx, the API and the stream; yield their settings; stop them at the end.
    `overrides` replace any of these settings (a model name of the test's own, its variants)."""
    suffix = f"{prefix}-{uuid.uuid4().hex[:8]}"
    settings = replace(kafka_stack, **{
        "kafka_topic": suffix,
        "dataset_root": f"s3://{suffix}/dataset",
        "elasticsearch_index": f"{es_stack.elasticsearch_index}-{suffix}",
        "checkpoint_dir": checkpoint_dir,
        "api_port": free_port(),
        "api_internal_port": free_port(),
        "stream_metrics_port": free_port(),
        "spark_master": "local[2]",
        "n_variants": 2,
        "upload_rate_limit": "10000/minute",
        "lookup_rate_limit": "100000/minute",
        **overrides,
    })
    stack = LocalStack(settings)
    stack.up(["nginx", "stream"])
    try:
        yield settings
    finally:
        stack.down(["nginx", "api", "stream"])


def api_client(settings: Settings, **options) -> ApiClient:
    """The public address, as the session's test device."""
    return ApiClient(Nginx(settings).url, device_token(settings.api_token_store), **options)
