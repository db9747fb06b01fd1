"""Isolated settings: a run (a test session, a benchmark) with a stack dir, state and ports of
its own, beside whatever stack already runs on the default ports."""

from __future__ import annotations

import tempfile
from dataclasses import replace
from pathlib import Path

from infra.processes import free_port, free_port_block
from settings import Settings

# A test or benchmark sends as many photos from one device token as a field of phones would.
NO_RATE_LIMIT = "1000000/minute"


def own_stack_dir(prefix: str) -> Path:
    """A new stack dir under the temp dir that Elasticsearch can enter (it runs as nobody when
    we are root)."""
    stack_dir = Path(tempfile.mkdtemp(prefix=prefix))
    stack_dir.chmod(0o755)
    return stack_dir


def isolated_settings(prefix: str, base: Settings | None = None, **overrides) -> Settings:
    """`base` (Settings.from_env() by default) in a new stack dir (own_stack_dir) holding its
    checkpoints, token store and model cache; the API and the stream's metrics on free ports;
    no rate limit. `overrides` replace any of these settings."""
    stack_dir = own_stack_dir(prefix)
    return replace(base or Settings.from_env(), **{
        "stack_dir": str(stack_dir),
        "checkpoint_dir": str(stack_dir / "checkpoints"),
        "api_token_store": str(stack_dir / "auth" / "tokens.sqlite3"),
        "model_cache_dir": str(stack_dir / "models"),
        "api_port": free_port(),
        "api_internal_port": free_port(),
        "stream_metrics_port": free_port(),
        "upload_rate_limit": NO_RATE_LIMIT,
        "lookup_rate_limit": NO_RATE_LIMIT,
        **overrides,
    })


def spark_cluster_settings(base: Settings) -> Settings:
    """`base` sending its jobs to a standalone Spark master of its own (`infra up spark`: the
    master and two 1-core workers), all on free ports."""
    master_port = free_port()
    return replace(
        base,
        spark_master=f"spark://127.0.0.1:{master_port}",
        spark_master_port=master_port,
        spark_master_ui_port=free_port(),
        spark_worker_ui_port=free_port_block(2),  # the second worker's is the next port
        spark_ui_port=free_port(),
    )
