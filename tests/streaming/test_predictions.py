"""The stream predicts each processed photo with the registry's champion (the real MLflow): the
prediction is in the manifest row and the document; without a champion, or without a registry,
photos are processed all the same, and the metrics and `./deploy.sh status` say why; a champion
promoted while the stream runs is used from the next batches, without a restart."""

from __future__ import annotations

import time
import uuid
from dataclasses import replace

import pytest
from prometheus_client import REGISTRY

from dataset import DatasetReader
from infra.app_services import model_line
from infra.processes import free_port
from kit.field_messages import documents, photo_messages, produce
from streaming.job import start_stream
from streaming.progress import ProgressRecorder, StreamProgress, progress_path
from tests.model.tiny_models import colour_classifier, make_champion, register_tiny
from tests.streaming.job_runs import run_job, store_of

CROPS = ("cassava", "maize")  # the field messages' labels


@pytest.fixture
def settings(stream_settings, mlflow_stack, tmp_path):
    """The test's topic, dataset and index; a registered model name of its own, its cache, and
    the registry asked every second."""
    return replace(stream_settings, mlflow_tracking_uri=mlflow_stack.mlflow_tracking_uri,
                   model_name=f"stream-{uuid.uuid4().hex[:8]}",
                   model_cache_dir=str(tmp_path / "models"), model_refresh_s=1.0)


def without_prediction(reason: str) -> float:
    return REGISTRY.get_sample_value("stream_photos_without_prediction_total",
                                     {"reason": reason}) or 0.0


def predicted(crop: str) -> float:
    return REGISTRY.get_sample_value("stream_predictions_total", {"crop": crop}) or 0.0


def rows_and_documents(settings) -> tuple[dict, dict]:
    rows = DatasetReader(store_of(settings)).manifest().set_index("image_id")
    return rows.to_dict("index"), documents(settings)


def test_without_a_champion_photos_are_processed_without_a_prediction_and_it_is_said(
    spark, settings
):
    photos = photo_messages(4)
    produce(settings.kafka_bootstrap_servers, settings.kafka_topic, photos)
    before = without_prediction("no_champion")
    progress = ProgressRecorder(progress_path(settings))

    run_job(spark, settings, progress=progress)

    rows, docs = rows_and_documents(settings)
    assert sorted(rows) == sorted(photo.image_id for photo in photos)
    assert all(row["prediction"] is None and row["model_version"] is None
               for row in rows.values())
    assert all(docs[image_id]["prediction"] is None for image_id in rows)
    assert without_prediction("no_champion") - before == 4
    line = model_line(StreamProgress.read(progress_path(settings)))
    assert line.startswith("none, so photos are processed without a prediction: the registry "
                           f"has no champion of {settings.model_name} yet")


def test_without_a_registry_photos_are_processed_without_a_prediction_and_it_is_said(
    spark, settings
):
    settings = replace(settings, mlflow_tracking_uri=f"http://127.0.0.1:{free_port()}")
    photos = photo_messages(3)
    produce(settings.kafka_bootstrap_servers, settings.kafka_topic, photos)
    before = without_prediction("registry_unavailable")
    progress = ProgressRecorder(progress_path(settings))

    run_job(spark, settings, progress=progress)

    rows, _ = rows_and_documents(settings)
    assert len(rows) == 3 and all(row["prediction"] is None for row in rows.values())
    assert without_prediction("registry_unavailable") - before == 3
    assert "the model registry (MLflow) does not answer at" in model_line(
        StreamProgress.read(progress_path(settings)))


def wait_for_documents(settings, image_ids, timeout: float = 180) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        docs = documents(settings)
        if all(image_id in docs for image_id in image_ids):
            return docs
        assert time.monotonic() < deadline, f"{len(docs)} of {len(image_ids)} photos indexed"
        time.sleep(1)


def test_a_champion_promoted_while_the_stream_runs_predicts_its_photos_within_a_minute(
    spark, settings
):
    """Photos keep arriving, one every few seconds: within a minute of the promotion one is
    predicted by the new champion, and every photo after it too; the query never restarts."""
    first_version = register_tiny(settings, colour_classifier(CROPS, seed=1))
    second_version = register_tiny(settings, colour_classifier(CROPS, seed=2))
    make_champion(settings, first_version)
    progress = ProgressRecorder(progress_path(settings))
    before = {crop: predicted(crop) for crop in CROPS}
    query = start_stream(spark, settings, max_offsets_per_trigger=4, progress=progress)
    sent = []
    try:
        early = photo_messages(3)
        produce(settings.kafka_bootstrap_servers, settings.kafka_topic, early)
        wait_for_documents(settings, [photo.image_id for photo in early])
        make_champion(settings, second_version)
        promoted = time.monotonic()
        while time.monotonic() - promoted < 60:
            photo = photo_messages(1, first=3 + len(sent))[0]
            produce(settings.kafka_bootstrap_servers, settings.kafka_topic, [photo])
            sent.append(photo)
            docs = wait_for_documents(settings, [photo.image_id])
            if docs[photo.image_id]["model_version"] == second_version:
                break
            time.sleep(2)
        later = photo_messages(3, first=3 + len(sent))
        produce(settings.kafka_bootstrap_servers, settings.kafka_topic, later)
        wait_for_documents(settings, [photo.image_id for photo in later])
        assert query.isActive
    finally:
        query.stop()

    rows, docs = rows_and_documents(settings)
    versions = [docs[photo.image_id]["model_version"] for photo in [*early, *sent, *later]]
    switched = versions.index(second_version)  # ValueError: never switched within a minute
    assert versions == [first_version] * switched + [second_version] * (len(versions) - switched)
    assert switched >= len(early)
    for image_id, doc in docs.items():
        row = rows[image_id]
        assert (row["model_version"], row["prediction"]) == (doc["model_version"],
                                                             doc["prediction"])
        assert row["prediction"] in CROPS
        assert 0 < row["prediction_confidence"] == doc["prediction_confidence"] <= 1
        assert 0 <= row["prediction_margin"] == doc["prediction_margin"] <= 1
    assert sum(predicted(crop) - before[crop] for crop in CROPS) == len(docs)
    line = model_line(StreamProgress.read(progress_path(settings)))
    assert line.startswith(f"{settings.model_name} version {second_version}: ")
