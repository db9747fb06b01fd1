"""GET /images/<id> shows a photo's prediction and where it comes from: the model version's
MLflow run, the snapshot and Delta version it was trained on, asked of the real registry once
per version; without MLflow the record is answered all the same, without lineage."""

from __future__ import annotations

import time
import uuid
from dataclasses import replace

import pytest

from infra.processes import free_port
from tests.ingest_api.apps import running_app
from tests.ingest_api.contract.test_ingest_openapi import assert_documented
from tests.model.tiny_models import colour_classifier, register_tiny


@pytest.fixture(scope="module")
def registered(es_stack, mlflow_stack, tmp_path_factory):
    """Settings of a model name of this module's own, and the version registered under it."""
    settings = replace(es_stack, mlflow_tracking_uri=mlflow_stack.mlflow_tracking_uri,
                       model_name=f"lineage-{uuid.uuid4().hex[:8]}",
                       model_cache_dir=str(tmp_path_factory.mktemp("models")))
    return settings, register_tiny(settings, colour_classifier(), snapshot="field-2024-06",
                                   delta_version=7)


@pytest.fixture
def client(registered):
    settings, _ = registered
    with running_app(settings) as app:
        yield app.test_client()


@pytest.fixture
def spec(client) -> dict:
    return client.get("/openapi.json").get_json()


def test_a_predicted_photo_shows_its_prediction_and_the_run_and_data_behind_it(
    client, registered, indexed, spec
):
    settings, version = registered
    image_id = indexed(status="processed", label="maize", prediction="wheat",
                       prediction_confidence=0.625, model_version=version)

    response = client.get(f"/images/{image_id}")

    record = response.get_json()
    assert (record["prediction"], record["prediction_confidence"], record["model_version"]) == (
        "wheat", 0.625, version)
    lineage = record["prediction_lineage"]
    assert (lineage["model_name"], lineage["model_version"]) == (settings.model_name, version)
    assert (lineage["snapshot"], lineage["delta_version"]) == ("field-2024-06", 7)
    assert lineage["dataset_root"] == "s3://tests/dataset"
    assert len(lineage["mlflow_run_id"]) == 32
    assert_documented(spec, "get", "/images/{image_id}", response)


def test_a_photo_without_a_prediction_has_no_lineage(client, indexed, spec):
    image_id = indexed(status="processed", label="maize")

    response = client.get(f"/images/{image_id}")

    record = response.get_json()
    assert record["prediction"] is None and record["prediction_lineage"] is None
    assert_documented(spec, "get", "/images/{image_id}", response)


def test_without_mlflow_the_record_comes_without_lineage_and_later_lookups_do_not_wait(
    registered, indexed
):
    settings, version = registered
    down = replace(settings, mlflow_tracking_uri=f"http://127.0.0.1:{free_port()}",
                   model_refresh_s=60)
    image_id = indexed(status="processed", label="maize", prediction="wheat",
                       prediction_confidence=0.5, model_version=version)
    with running_app(down) as app:
        client = app.test_client()
        first = client.get(f"/images/{image_id}")
        started = time.monotonic()
        second = client.get(f"/images/{image_id}")
        second_took = time.monotonic() - started

    assert first.status_code == second.status_code == 200
    assert first.get_json()["prediction"] == "wheat"
    assert first.get_json()["prediction_lineage"] is None
    assert second_took < 1.0  # the registry is not asked again for MODEL_REFRESH_S
