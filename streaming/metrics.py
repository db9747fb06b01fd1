"""Prometheus metrics of the streaming job, served by its driver on STREAM_METRICS_HOST:_PORT.

The sink counts each micro-batch's messages as it finishes them: each photo processed,
rejected (by reason, a dead letter) or a duplicate of a photo recorded from another message, so
the three add up to the messages read (stream_batch_input_rows); each processed photo predicted
(by crop) or recorded without a prediction (by why), and the model in use; a query listener
records each batch's duration, input rows and completion time, and how far the query is behind
the topic's end; the job counts the query's restarts after failures; and the drift of the last
DRIFT_WINDOW photos from the champion's training snapshot (streaming/drift.py). A batch that
Spark runs again after a failure counts again.
docs/operations.md lists every metric.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Iterable
from typing import TYPE_CHECKING

from prometheus_client import Counter, Gauge, Histogram, Info, start_http_server
from pyspark.sql.streaming import StreamingQueryListener

from dataset.image_record import PROCESSED

if TYPE_CHECKING:
    from model.job_champion import ModelState

log = logging.getLogger(__name__)

PHOTOS_PROCESSED = Counter("stream_photos_processed", "Photos turned into tensors and indexed")
PHOTOS_REJECTED = Counter(
    "stream_photos_rejected", "Photos refused, by reason (the dead letter's reason code)",
    ["reason"],
)
DEAD_LETTERS = Counter(
    "stream_dead_letters", "Dead-letter records written (rejected/<image_id>.json), all reasons"
)
PHOTOS_DUPLICATE = Counter(
    "stream_photos_duplicate",
    "Messages whose photo another message brought: logged with their request id, not written",
)
PREDICTIONS = Counter(
    "stream_predictions", "Processed photos the model predicted, by the crop predicted", ["crop"],
)
WITHOUT_PREDICTION = Counter(
    "stream_photos_without_prediction",
    "Processed photos recorded without a prediction, by why: no_champion (the registry has "
    "none), registry_unavailable (it did not answer and the stream had no model yet), "
    "model_unreadable (its file could not be read), model_failed (the model failed on the photo)",
    ["reason"],
)
MODEL = Info(
    "stream_model",
    "The model the last micro-batch predicted with: name and version ('none' without one)",
)
REGISTRY_ANSWERING = Gauge(
    "stream_model_registry_answering",
    "1 when the registry answered the stream's last question about the champion, else 0 (the "
    "stream then keeps the model it has)",
)
BATCH_DURATION = Histogram(
    "stream_batch_duration_seconds", "Wall-clock time of a micro-batch that read messages",
    buckets=(0.5, 1, 2, 5, 10, 20, 30, 60, 120, 300),
)
BATCH_INPUT_ROWS = Histogram(
    "stream_batch_input_rows", "Kafka messages read by a micro-batch",
    buckets=(1, 5, 10, 20, 40, 60, 100, 200, 500),
)
MESSAGES_BEHIND = Gauge(
    "stream_messages_behind",
    "Messages on the topic past the end of the last micro-batch, as its trigger saw the topic",
)
QUERY_RESTARTS = Counter(
    "stream_query_restarts",
    "Times the query failed (Kafka, S3 or Elasticsearch unreachable, a batch failing) and was "
    "started again; while a failure lasts, once every 15 s",
)
LAST_BATCH = Gauge(
    "stream_last_batch_completed_timestamp_seconds",
    "When the last micro-batch that read messages completed (Unix time)",
)

DRIFT_PSI = Gauge(
    "stream_drift_psi",
    "Population stability index of the last DRIFT_WINDOW processed photos against the "
    "champion's training snapshot, by signal: sharpness, brightness, predicted_crop, confidence "
    "(< 0.1 stable, 0.1-0.25 moderate, > 0.25 major); absent while not measured",
    ["signal"],
)
DRIFT_WINDOW = Gauge("stream_drift_window_photos",
                     "Photos the drift is measured over (DRIFT_WINDOW)")
DRIFT_REFERENCE = Gauge(
    "stream_drift_reference_photos",
    "Photos the champion's reference histogram of a signal was made from (0 without one)",
    ["signal"],
)


def serve_metrics(port: int, host: str = "127.0.0.1") -> None:
    """Answer GET /metrics on `host`:`port` from a thread of the driver (loopback natively; the
    container's network in compose and on Kubernetes, where Prometheus runs beside it).

    A port another process holds costs the metrics, not the photos: the job logs it and runs.
    """
    try:
        start_http_server(port, addr=host)
    except OSError as error:
        log.error("no metrics on port %d (STREAM_METRICS_PORT): %s; the job runs without them",
                  port, error)


def count_photos(rows: Iterable[dict]) -> None:
    """Count a finished micro-batch's manifest rows: each processed or rejected with its reason."""
    for row in rows:
        if row["status"] == PROCESSED:
            PHOTOS_PROCESSED.inc()
        else:
            PHOTOS_REJECTED.labels(row["reason"]).inc()
            DEAD_LETTERS.inc()


def count_predictions(
    processed: list[dict], state: ModelState, shipped: bool
) -> tuple[int, int]:
    """Count a finished micro-batch's processed rows as predicted (by crop) or without a
    prediction (by why); `shipped`: whether the tasks had a model. Returns both counts."""
    MODEL.info({"name": state.model.name if state.model and shipped else "none",
                "version": state.model.version if state.model and shipped else "none"})
    REGISTRY_ANSWERING.set(int(state.registry_answered))
    without_model = state.why_none or "model_unreadable"
    predicted = 0
    for row in processed:
        if row["prediction"] is not None:
            PREDICTIONS.labels(row["prediction"]).inc()
            predicted += 1
        else:
            WITHOUT_PREDICTION.labels("model_failed" if shipped else without_model).inc()
    return predicted, len(processed) - predicted


def count_duplicates(count: int) -> None:
    """Count a finished micro-batch's duplicate messages."""
    PHOTOS_DUPLICATE.inc(count)


def show_drift(measured: dict[str, float], window_photos: int,
               reference_photos: dict[str, int]) -> None:
    """Set the drift gauges: a signal not measured now has no value."""
    DRIFT_WINDOW.set(window_photos)
    for signal, photos in reference_photos.items():
        DRIFT_REFERENCE.labels(signal).set(photos)
        if signal in measured:
            DRIFT_PSI.labels(signal).set(measured[signal])
        else:
            DRIFT_PSI.remove(signal)


def offsets_behind(latest: dict, end: dict) -> int:
    """Messages between a batch's end offsets and the topic's latest ones ({topic: {partition:
    offset}}, as Spark's progress reports them, partitions as strings)."""
    return sum(
        max(0, offset - end.get(topic, {}).get(partition, 0))
        for topic, partitions in latest.items()
        for partition, offset in partitions.items()
    )


class MetricsListener(StreamingQueryListener):
    """Feeds the batch metrics from the query's progress events."""

    def onQueryProgress(self, event) -> None:
        progress = event.progress
        source = progress.sources[0]
        if source.latestOffset and source.endOffset:
            MESSAGES_BEHIND.set(
                offsets_behind(json.loads(source.latestOffset), json.loads(source.endOffset))
            )
        if progress.numInputRows == 0:  # a trigger that found nothing new: no batch ran
            return
        BATCH_DURATION.observe(progress.batchDuration / 1000)
        BATCH_INPUT_ROWS.observe(progress.numInputRows)
        LAST_BATCH.set(time.time())

    def onQueryStarted(self, event) -> None:
        """Nothing: batches are what is measured."""

    def onQueryIdle(self, event) -> None:
        """Nothing: idle triggers complete no batch."""

    def onQueryTerminated(self, event) -> None:
        """Nothing: restarts are in the progress file (streaming/progress.py)."""
