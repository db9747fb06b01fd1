"""Session fixtures that run the real local servers of infra/, shared by every test folder.

Each session gets a fresh stack dir, so the servers it starts are exactly those recorded there,
and they are all stopped when the session ends. The servers listen on the fixed ports of the
Settings: if a stack already runs on them (a developer's `python -m infra up`), LocalStack finds
the ports answering and uses those servers as they are, never starting a second copy, and the
session leaves them running. Either way a fixture returns Settings pointing at servers that work.

Every test that needs a real server, or starts a Spark session, a browser or a process of its
own, is marked `servers` (by its fixtures, below, or in its module), so `pytest -m "not servers"`
is a quick loop that passes with no server running.
"""

from __future__ import annotations

import shutil
import uuid
from dataclasses import replace

import pytest

from adapters.s3 import make_s3_client
from infra.processes import free_port
from infra.schemas import remove_bucket
from infra.stack import LocalStack
from kit.stack import isolated_settings, spark_cluster_settings
from settings import Settings

# Fixtures that start servers, Spark sessions or browsers, or hand out settings for them (every
# server fixture asks for stack_settings): a test whose fixture closure holds one of them is
# marked `servers`. A test that starts its own is marked in its module.
SERVER_FIXTURES = frozenset({"stack_settings", "spark", "browser"})
# Parametrized fixtures whose named parameter asks for the session's S3.
SERVER_PARAMS = {"store": "s3"}


def pytest_collection_modifyitems(items):
    """Mark `servers` every test that needs a real server (see SERVER_FIXTURES)."""
    for item in items:
        params = getattr(getattr(item, "callspec", None), "params", {})
        if SERVER_FIXTURES.intersection(item.fixturenames) or any(
                params.get(name) == value for name, value in SERVER_PARAMS.items()):
            item.add_marker(pytest.mark.servers)


@pytest.fixture(scope="session")
def stack_settings():
    """Settings from the environment, isolated (kit/stack.py): a stack dir (checkpoints, tokens),
    API ports of their own, no rate limit (the rate-limit tests set their own)."""
    settings = isolated_settings("local-stack-")
    yield settings
    LocalStack(settings).down()
    shutil.rmtree(settings.stack_dir, ignore_errors=True)


@pytest.fixture(scope="session")
def s3_stack(stack_settings) -> Settings:
    """SeaweedFS S3 up, with the bucket of Settings.dataset_root."""
    LocalStack(stack_settings).up(["s3"])
    return stack_settings


@pytest.fixture(scope="session")
def kafka_stack(s3_stack) -> Settings:
    """S3 and the Tansu broker up, with Settings.kafka_topic created."""
    LocalStack(s3_stack).up(["kafka"])
    return s3_stack


@pytest.fixture(scope="session")
def es_stack(stack_settings) -> Settings:
    """Elasticsearch up, with the image index template and Settings.elasticsearch_index."""
    LocalStack(stack_settings).up(["es"])
    return stack_settings


@pytest.fixture(scope="session")
def mlflow_stack(s3_stack) -> Settings:
    """S3 and the MLflow server up (MLFLOW_PORT, the project's credentials), with a registered
    model name of the session's own: sessions sharing one server never see each other's
    versions or aliases. A test that needs a registry of its own replaces model_name again."""
    LocalStack(s3_stack).up(["mlflow"])
    return replace(s3_stack, model_name=f"crop-classifier-test-{uuid.uuid4().hex[:8]}")


@pytest.fixture(scope="session")
def spark_cluster(stack_settings) -> Settings:
    """`python -m infra up spark` on free ports: a standalone master and two 1-core workers;
    the settings send the jobs to it (SPARK_MASTER is its url)."""
    settings = spark_cluster_settings(stack_settings)
    LocalStack(settings).up(["spark"])
    yield settings
    LocalStack(settings).down(["spark"])


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
