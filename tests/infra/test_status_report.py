"""`./deploy.sh status` on the real servers: the core and its verdict, the API's readiness,
Elasticsearch's health, the dead letters, the disk, and the optional Spark cluster apart."""

from __future__ import annotations

import uuid
from dataclasses import replace

import pytest

from adapters.object_store import S3Store
from adapters.s3 import make_s3_client
from dataset.writer import write_group
from infra.processes import free_port
from infra.schemas import ensure_bucket, remove_bucket
from infra.stack import LocalStack
from infra.status_report import status_report
from kit.photos import encode, photo_like
from photo.upload import Upload, process_upload
from tests.ingest_api.gunicorn import serving


@pytest.fixture(scope="module")
def dataset_with_two_dead_letters(kafka_stack):
    """Settings whose dataset root holds one processed photo and two dead letters."""
    bucket = f"status-{uuid.uuid4().hex[:10]}"
    settings = replace(kafka_stack, dataset_root=f"s3://{bucket}/dataset")
    client = make_s3_client(settings.s3)
    ensure_bucket(client, bucket)
    uploads = [Upload(encode(photo_like(160, 120, seed=5), "jpeg"), "kafka:t/0/0", "maize"),
               Upload(b"field notes, not a photo", "kafka:t/0/1", "maize"),
               Upload(b"\x89PNG\r\n\x1a\n cut short", "kafka:t/0/2", "wheat")]
    outcomes = [process_upload(upload, n_variants=0, max_pixels=10**8) for upload in uploads]
    write_group(S3Store(bucket, "dataset", settings.s3), "stream", "t-p0-o0", outcomes)
    yield settings
    remove_bucket(client, bucket)


@pytest.fixture(scope="module")
def served(dataset_with_two_dead_letters, es_stack, tmp_path_factory):
    """The API (gunicorn) up on a free port, with the stack's Kafka and Elasticsearch."""
    settings = replace(dataset_with_two_dead_letters, api_internal_port=free_port())
    with serving(settings, tmp_path_factory.mktemp("api") / "api.log"):
        yield settings


def report(settings) -> str:
    return "\n".join(status_report(settings))


def test_the_checks_say_the_api_is_ready_es_health_the_dead_letters_and_the_disk(served):
    text = report(served)

    assert f"api ready     yes (http://127.0.0.1:{served.api_internal_port}/readyz answered 200)" \
        in text
    assert "es health     green (1 node(s)" in text or "es health     yellow (1 node(s)" in text
    assert (f"dead letters  2 in {served.dataset_root}/rejected/; python -m dataset dead-letters "
            f"{served.dataset_root} lists them") in text
    assert f"GiB in {served.stack_dir}; " in text and " GiB free of " in text


def test_a_stopped_api_is_not_ready_and_the_core_names_what_does_not_run(es_stack, kafka_stack,
                                                                        tmp_path):
    settings = replace(kafka_stack, api_internal_port=free_port(), api_port=free_port(),
                       mlflow_port=free_port(), prometheus_port=free_port(),
                       alertmanager_port=free_port(), blackbox_port=free_port(),
                       alert_log_port=free_port(),
                       stack_dir=str(tmp_path))  # not the session's, which may run MLflow
    lines = list(status_report(settings))

    assert lines[0] == ("core: 8 of 11 not running: mlflow, api, nginx, stream, alertlog, "
                        "alertmanager, blackbox, prometheus")
    assert any(line.startswith("  api ready     no: ") and "does not answer" in line
               for line in lines)


def test_the_spark_cluster_nobody_started_is_optional_not_an_outage(kafka_stack, tmp_path):
    settings = replace(kafka_stack, stack_dir=str(tmp_path),  # not the session's, which may
                       spark_master_port=free_port(),  # hold the cluster of other tests
                       spark_master_ui_port=free_port())
    lines = list(status_report(settings))

    core = lines[:lines.index("checks")]
    assert not any("spark" in line for line in core)
    optional = lines[lines.index(next(x for x in lines if x.startswith("optional"))):]
    assert optional[1].startswith("  spark  not started; `python -m infra up spark` starts it")


def test_the_cluster_is_core_when_the_stream_runs_on_it(kafka_stack, tmp_path):
    port = free_port()
    settings = replace(kafka_stack, stack_dir=str(tmp_path),
                       spark_master_port=port, spark_master_ui_port=free_port(),
                       spark_master=f"spark://127.0.0.1:{port}")
    assert "spark" in LocalStack(settings).start_order()
    lines = list(status_report(settings))

    assert "spark" in lines[0]  # among what does not run
    assert not any(line.startswith("optional") for line in lines)
