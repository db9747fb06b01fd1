"""The streaming job: photos from Kafka in, the dataset format and the search index out.

One sentence, as in Spark's own streaming examples: read the topic, hand each micro-batch to
the sink, keep the offsets in the checkpoint. The Kafka source is the Python one of
streaming/kafka_source.py or, where its jar is on the classpath, Spark's own connector.
"""

from __future__ import annotations

from pyspark.sql import SparkSession
from pyspark.sql.streaming import StreamingQuery

from adapters.spark import spark_session
from settings import Settings
from streaming.kafka_source import KafkaPythonSource
from streaming.sink import ImageSink

SOURCE_FORMATS = {"python": KafkaPythonSource.name(), "kafka": "kafka"}
MAX_OFFSETS_PER_TRIGGER = 60  # photos per micro-batch: megabytes each, processed on 2 cores
EVERY_TWO_SECONDS = {"processingTime": "2 seconds"}


def start_stream(
    spark: SparkSession,
    settings: Settings,
    *,
    max_offsets_per_trigger: int = MAX_OFFSETS_PER_TRIGGER,
    trigger: dict | None = None,
) -> StreamingQuery:
    """Start the query; `trigger` as DataStreamWriter.trigger takes it, every 2 s by default."""
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
        .writeStream.foreachBatch(ImageSink(settings))
        .option("checkpointLocation", settings.checkpoint_dir)
        .trigger(**(trigger or EVERY_TWO_SECONDS))
        .start()
    )


def run_stream(settings: Settings, **options) -> None:
    """Build the session, start the query and wait for it: forever, or until the backlog ends."""
    spark = spark_session("field-images-stream", settings.spark_master)
    start_stream(spark, settings, **options).awaitTermination()
