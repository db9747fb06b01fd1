"""The streaming job: photos from Kafka in, the dataset format and the search index out.

One sentence, as in Spark's own streaming examples: read the topic, hand each micro-batch to
the sink, keep the offsets in the checkpoint. The Kafka source is the Python one of
streaming/kafka_source.py or, where its jar is on the classpath, Spark's own connector.

A query that fails (Kafka, S3 or Elasticsearch unreachable: the batch fails and is not
committed) is started again in the same Spark session after 1, 2, 4, 8, then every 15 s, until
it completes batches again; it first re-runs the uncommitted batch from the checkpoint, which
the sink makes idempotent. Only a failure outside the query (the JVM gone) ends the process,
for the stack's supervisor to start it again.
"""

from __future__ import annotations

import logging
import re
import time

from pyspark.errors import StreamingQueryException
from pyspark.sql import SparkSession
from pyspark.sql.streaming import StreamingQuery

from adapters.spark import spark_session
from settings import Settings
from streaming.kafka_source import KafkaPythonSource
from streaming.metrics import QUERY_RESTARTS, MetricsListener, serve_metrics
from streaming.progress import ProgressRecorder, progress_path
from streaming.sink import ImageSink

SOURCE_FORMATS = {"python": KafkaPythonSource.name(), "kafka": "kafka"}
MAX_OFFSETS_PER_TRIGGER = 60  # photos per micro-batch: megabytes each, processed on 2 cores
EVERY_TWO_SECONDS = {"processingTime": "2 seconds"}
RESTART_DELAYS_S = (1, 2, 4, 8, 15)  # after the 1st, 2nd, ... failure in a row; then the last
ERROR_LINE = re.compile(r"^([\w.]+\.)?\w*(Error|Exception|Unavailable|Timeout)\b: ")

log = logging.getLogger(__name__)


def start_stream(
    spark: SparkSession,
    settings: Settings,
    *,
    max_offsets_per_trigger: int = MAX_OFFSETS_PER_TRIGGER,
    trigger: dict | None = None,
    progress: ProgressRecorder | None = None,
    sink: ImageSink | None = None,
) -> StreamingQuery:
    """Start the query; `trigger` as DataStreamWriter.trigger takes it, every 2 s by default.
    The sink (a new one by default) records the model it predicts with in `progress`."""
    if settings.kafka_source == "python":
        spark.dataSource.register(KafkaPythonSource)
    return (
        spark.readStream.format(SOURCE_FORMATS[settings.kafka_source])
        .option("kafka.bootstrap.servers", settings.kafka_bootstrap_servers)
        .option("subscribe", settings.kafka_topic)
        .option("startingOffsets", "earliest")
        .option("maxOffsetsPerTrigger", max_offsets_per_trigger)
        .option("includeHeaders", "true")
        .load()
        .writeStream.foreachBatch(sink or ImageSink(settings, progress))
        .option("checkpointLocation", settings.checkpoint_dir)
        .trigger(**(trigger or EVERY_TWO_SECONDS))
        .start()
    )


def run_stream(settings: Settings, **options) -> None:
    """Build the session, run the query (forever, or until the backlog ends) and start it again
    whenever it fails, recording its progress and restarts for `./deploy.sh status`, and its
    metrics on 127.0.0.1:STREAM_METRICS_PORT."""
    serve_metrics(settings.stream_metrics_port, settings.stream_metrics_host)
    spark = spark_session("field-images-stream", settings, json_logs=True)
    progress = ProgressRecorder(progress_path(settings))
    spark.streams.addListener(progress)
    spark.streams.addListener(MetricsListener())
    progress.job_started()
    sink = ImageSink(settings, progress)  # one for every restart: it keeps following the champion
    failures_in_a_row = 0
    while True:
        completed_before = progress.batches_completed
        try:
            start_stream(spark, settings, sink=sink, **options).awaitTermination()
            return
        except StreamingQueryException as failure:
            if progress.batches_completed > completed_before:
                failures_in_a_row = 0
            delay = RESTART_DELAYS_S[min(failures_in_a_row, len(RESTART_DELAYS_S) - 1)]
            failures_in_a_row += 1
            reason = failure_summary(failure)
            log.warning("the query failed (%s); starting it again in %d s", reason, delay)
            progress.query_restarted(reason)
            QUERY_RESTARTS.inc()
            time.sleep(delay)


def failure_summary(failure: StreamingQueryException) -> str:
    """The innermost error of a failed query, in one line (its full text is tracebacks)."""
    lines = [line.strip() for line in str(failure).splitlines()]
    errors = [line for line in lines if ERROR_LINE.match(line)]
    return (errors[-1] if errors else lines[0])[:300]
