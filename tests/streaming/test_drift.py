"""The stream's drift on its /metrics, with a champion in the real MLflow whose reference was
made from photos like the field messages: nothing until the window is full; photos like the
reference read stable; darkened and blurred ones read as a major shift of brightness and
sharpness, and Prometheus, scraping the stream with the shipped rules made fast, fires DriftMajor
for both; a champion without a reference leaves the drift unmeasured and the photos processed."""

from __future__ import annotations

import uuid
from dataclasses import replace

import numpy as np
import pytest
import requests
from PIL import Image, ImageFilter
from prometheus_client.parser import text_string_to_metric_families

from infra.processes import free_port
from infra.stack import LocalStack
from kit.field_messages import photo_messages, produce
from kit.photos import encode, photo_like
from model import drift
from model.runtime import classes, inference_session, run_batched
from preprocessing import process_image
from streaming.metrics import serve_metrics
from streaming.sink import ImageSink
from tests.infra.monitoring.watching import eventually, fast_monitoring, in_log
from tests.model.tiny_models import colour_classifier, make_champion, register_tiny
from tests.streaming.job_runs import run_job

WINDOW = 200
REFERENCE_PHOTOS = drift.MIN_PHOTOS
REFERENCE_SEEDS = 100_000  # the reference's pictures: the field messages' kind, other seeds
PER_BATCH = 50
MODEL = colour_classifier(seed=14)  # predicts three crops of these pictures


def reference_of(model: bytes) -> dict:
    """drift_reference.json of `model` on REFERENCE_PHOTOS pictures like the field messages, as
    training would write it."""
    processed = [process_image(encode(photo_like(320, 240, seed=REFERENCE_SEEDS + n), "jpeg",
                                      quality=85), n_variants=0)
                 for n in range(REFERENCE_PHOTOS)]
    session = inference_session(model)
    probabilities = np.stack(list(run_batched(session, [photo.base for photo in processed])))
    crops = classes(session)
    return drift.to_json(drift.reference(
        sharpness=[photo.curation.sharpness for photo in processed],
        brightness=[photo.curation.brightness for photo in processed],
        predictions=[crops[best] for best in probabilities.argmax(axis=1)],
        confidences=probabilities.max(axis=1), classes=crops))


def darkened_or_blurred(n: int, pixels: np.ndarray) -> np.ndarray:
    """Every other picture at 40 % of its light, the others out of focus."""
    if n % 2:
        return (pixels * 0.4).astype(np.uint8)
    return np.asarray(Image.fromarray(pixels).filter(ImageFilter.GaussianBlur(3)))


def scrape(url: str) -> dict[tuple[str, str | None], float]:
    """(metric, its signal label) -> value, for the drift metrics."""
    return {(sample.name, sample.labels.get("signal")): sample.value
            for family in text_string_to_metric_families(requests.get(url, timeout=10).text)
            for sample in family.samples if sample.name.startswith("stream_drift_")}


def psi(samples) -> dict[str, float]:
    return {signal: value for (name, signal), value in samples.items()
            if name == "stream_drift_psi"}


@pytest.fixture(scope="module")
def metrics_port():
    port = free_port()
    serve_metrics(port)
    return port


@pytest.fixture(scope="module")
def metrics_url(metrics_port):
    return f"http://127.0.0.1:{metrics_port}/metrics"


@pytest.fixture(scope="module")
def settings(module_stream_settings, mlflow_stack, metrics_port, tmp_path_factory):
    """The module's topic, dataset and index, a DRIFT_WINDOW of WINDOW photos, and a champion
    of a model name of its own whose reference is REFERENCE_PHOTOS photos like the messages."""
    settings = replace(module_stream_settings, drift_window=WINDOW,
                       stream_metrics_port=metrics_port,
                       mlflow_tracking_uri=mlflow_stack.mlflow_tracking_uri,
                       model_name=f"drift-{uuid.uuid4().hex[:8]}",
                       model_cache_dir=str(tmp_path_factory.mktemp("models")))
    make_champion(settings, register_tiny(settings, MODEL, drift_reference=reference_of(MODEL)))
    return settings


@pytest.fixture(scope="module")
def phases(spark, settings, metrics_url):
    """The drift metrics after half a window of photos like the reference, after a whole
    window, and after a window of darkened and blurred photos: three runs of one sink, as the
    job keeps its sink across restarts."""
    sink, scraped = ImageSink(settings), []
    for messages in (photo_messages(WINDOW // 2), photo_messages(WINDOW // 2, first=WINDOW // 2),
                     photo_messages(WINDOW, first=WINDOW, edit=darkened_or_blurred)):
        produce(settings.kafka_bootstrap_servers, settings.kafka_topic, messages)
        run_job(spark, settings, max_offsets_per_trigger=PER_BATCH, sink=sink)
        scraped.append(scrape(metrics_url))
    return scraped


def test_before_the_window_is_full_no_drift_is_measured(phases):
    half, _, _ = phases

    assert psi(half) == {}
    assert half[("stream_drift_window_photos", None)] == WINDOW
    assert all(half[("stream_drift_reference_photos", signal)] == REFERENCE_PHOTOS
               for signal in drift.SIGNALS)


def test_a_window_of_photos_like_the_reference_is_stable(phases):
    _, like_reference, _ = phases

    measured = psi(like_reference)
    assert set(measured) == set(drift.SIGNALS)
    assert all(value < 0.1 for value in measured.values()), measured


def test_darkened_and_blurred_photos_are_a_major_shift_of_brightness_and_sharpness(phases):
    _, like_reference, distorted = phases

    measured = psi(distorted)
    assert measured["brightness"] > 0.25 and measured["sharpness"] > 0.25, measured
    assert measured["brightness"] > 3 * psi(like_reference)["brightness"]


@pytest.fixture
def watching(settings, tmp_path):
    """Fast monitoring of the module's stream, in a stack dir of its own; stopped after."""
    watched = fast_monitoring(replace(settings, stack_dir=str(tmp_path)), tmp_path)
    try:
        LocalStack(watched).up(["prometheus"])
        yield watched
    finally:
        LocalStack(watched).down(["prometheus", "alertmanager", "blackbox", "alertlog"])


def test_prometheus_fires_drift_major_for_the_brightness_and_sharpness_that_shifted(
    phases, watching
):
    for signal in ("brightness", "sharpness"):
        eventually(lambda shifted=signal: in_log(watching, "firing", "DriftMajor",
                                                 signal=shifted),
                   f"DriftMajor for {signal} reaches the alert log")


def test_a_champion_without_a_reference_leaves_drift_unmeasured_and_photos_processed(
    spark, stream_settings, mlflow_stack, metrics_url, tmp_path
):
    settings = replace(stream_settings, drift_window=4,
                       mlflow_tracking_uri=mlflow_stack.mlflow_tracking_uri,
                       model_name=f"drift-{uuid.uuid4().hex[:8]}",
                       model_cache_dir=str(tmp_path / "models"))
    make_champion(settings, register_tiny(settings, MODEL))  # registered without a reference
    produce(settings.kafka_bootstrap_servers, settings.kafka_topic, photo_messages(6))

    assert sum(run_job(spark, settings, max_offsets_per_trigger=PER_BATCH)) == 6

    after = scrape(metrics_url)
    assert psi(after) == {}
    assert all(after[("stream_drift_reference_photos", signal)] == 0
               for signal in drift.SIGNALS)
