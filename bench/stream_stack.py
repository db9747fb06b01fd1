"""A run's own pipeline on the local stack, for the stream benchmarks.

Each run gets its own stack dir, topic, bucket, index, ports and checkpoint; the servers (S3,
broker, Elasticsearch) are those already answering on their ports, else started here and
stopped at the end, with everything the run made.
"""

from __future__ import annotations

import contextlib
import os
import platform
import shutil
import sys
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path

from infra.schemas import remove_schemas
from infra.stack import LocalStack
from ingest_api.auth.store import TokenStore
from kit.api_client import ApiClient
from kit.stack import isolated_settings
from settings import Settings

SERVERS = ["s3", "kafka", "es"]
BENCH_DEVICE = "bench"


def bench_settings(suffix: str) -> Settings:
    """Settings.from_env(), isolated (kit/stack.py), with this run's own names."""
    base = Settings.from_env()
    return isolated_settings(
        "bench-stream-", base,
        kafka_topic=f"bench-{suffix}",
        dataset_root=f"s3://bench-{suffix}/dataset",
        elasticsearch_index=f"{base.elasticsearch_index}-bench-{suffix}",
        spark_master="local[2]",
    )


@contextlib.contextmanager
def bench_stack(services: list[str], *, keep_logs: bool = False) -> Iterator[LocalStack]:
    """The servers and then `services` (e.g. nginx, stream) up for this run; all down after."""
    print_machine()
    stack = LocalStack(bench_settings(uuid.uuid4().hex[:8]))
    stack_dir = stack.settings.stack_dir
    started: list[str] = []
    services_started: list[str] = []  # with what they need: nginx brings the API up
    try:
        began = time.monotonic()
        for name in SERVERS:  # one by one, so a failure still leaves the names started so far
            started += stack.up([name])
        services_started = stack.up(services)
        then = ", ".join(services) or "nothing else"
        print(f"stack        started {started or 'no server'}, then {then}; up in "
              f"{time.monotonic() - began:.0f} s (dir {stack_dir})", flush=True)
        yield stack
    finally:
        stack.down(sorted(set(services) | set(services_started)))
        remove_run_data(stack.settings)
        # The stack dir is this run's own: a process its supervisord runs is one this run started.
        ours = [name for name in SERVERS if stack.servers[name].process.pid() is not None]
        stack.down(sorted(set(started) | set(ours)))
        print(f"\nload average at end {load_average()}")
        if keep_logs:
            print(f"logs kept in {stack_dir}")
        else:
            shutil.rmtree(stack_dir, ignore_errors=True)


def bench_client(settings: Settings) -> ApiClient:
    """The public address, with a fresh token for the benchmark's device."""
    token = TokenStore.from_settings(settings).issue(BENCH_DEVICE)
    return ApiClient(f"http://{settings.api_host}:{settings.api_port}", token)


def remove_run_data(settings: Settings) -> None:
    """Delete this run's topic, index (and its template) and bucket; warn, never raise."""
    try:
        remove_schemas(settings, SERVERS)
    except Exception as error:  # noqa: BLE001 - clean-up is best effort
        print(f"warning: could not remove this run's data: {error!r}", file=sys.stderr)


def print_machine() -> None:
    model = next((line.split(":", 1)[1].strip() for line in
                  Path("/proc/cpuinfo").read_text().splitlines()
                  if line.startswith("model name")), platform.processor())
    memory = int(Path("/proc/meminfo").read_text().split()[1]) / 2**20
    print(f"# {Path(sys.argv[0]).stem} on {os.cpu_count()} cores ({model}), {memory:.0f} GiB, "
          f"Python {platform.python_version()}, pyspark {metadata.version('pyspark')}")
    print(f"date         {datetime.now(UTC):%Y-%m-%d %H:%M} UTC; load average at start "
          f"{load_average()}", flush=True)


def load_average() -> str:
    return " ".join(f"{value:.2f}" for value in os.getloadavg())
