"""The kafka_python source: the Kafka connector's rows, options and offsets, on a real broker."""

from __future__ import annotations

import json

import pytest
from pyspark.sql.streaming.datasource import ReadMaxRows
from pyspark.sql.types import (
    ArrayType,
    BinaryType,
    IntegerType,
    LongType,
    StringType,
    StructField,
    StructType,
    TimestampType,
)

from kit.field_messages import Message, produce
from kit.hostile_messages import unparsable
from photo.messages import UNREADABLE_HEADER
from streaming.kafka_source import KafkaStreamReader, SourceOptions, rate_limited

CONNECTOR_SCHEMA = StructType(
    [
        StructField("key", BinaryType()),
        StructField("value", BinaryType()),
        StructField("topic", StringType()),
        StructField("partition", IntegerType()),
        StructField("offset", LongType()),
        StructField("timestamp", TimestampType()),
        StructField("timestampType", IntegerType()),
        StructField(
            "headers",
            ArrayType(StructType([StructField("key", StringType()),
                                  StructField("value", BinaryType())])),
        ),
    ]
)


def small_messages(count: int, partitions=(0, 1, 2)) -> list[Message]:
    return [
        Message(f"k{n}".encode(), f"value {n}".encode(),
                [("label", b"maize"), ("n", str(n).encode())], partitions[n % len(partitions)])
        for n in range(count)
    ]


def read_topic(spark, kafka_stack, topic, **options):
    reader = (
        spark.read.format("kafka_python")
        .option("kafka.bootstrap.servers", kafka_stack.kafka_bootstrap_servers)
        .option("subscribe", topic)
    )
    for name, value in options.items():
        reader = reader.option(name, value)
    return reader.load()


def stream_batches(spark, kafka_stack, topic, checkpoint, **options) -> list[list]:
    """Run a query with Trigger.AvailableNow; each micro-batch's rows, in batch order."""
    batches: dict[int, list] = {}
    reader = (
        spark.readStream.format("kafka_python")
        .option("kafka.bootstrap.servers", kafka_stack.kafka_bootstrap_servers)
        .option("subscribe", topic)
    )
    for name, value in options.items():
        reader = reader.option(name, value)
    query = (
        reader.load()
        .writeStream.foreachBatch(lambda df, batch_id: batches.update({batch_id: df.collect()}))
        .option("checkpointLocation", str(checkpoint))
        .trigger(availableNow=True)
        .start()
    )
    query.awaitTermination(180)
    assert not query.isActive, "the AvailableNow query did not finish"
    return [batches[batch_id] for batch_id in sorted(batches)]


def stream_reader(kafka_stack, topic, **options) -> KafkaStreamReader:
    """The source's stream reader as Spark's driver makes it, to call its methods directly."""
    options = {"kafka.bootstrap.servers": kafka_stack.kafka_bootstrap_servers,
               "subscribe": topic, **options}
    return KafkaStreamReader(SourceOptions.parse(options, streaming=True))


def as_sent(row) -> tuple:
    headers = [(header.key, bytes(header.value)) for header in row.headers]
    return bytes(row.key), bytes(row.value), headers, row.partition


def test_a_batch_read_returns_every_message_with_the_connector_schema_and_headers(
    spark, kafka_stack, topic
):
    sent = small_messages(12)
    produce(kafka_stack.kafka_bootstrap_servers, topic, sent)

    frame = read_topic(spark, kafka_stack, topic, includeHeaders="true")
    rows = frame.collect()

    assert frame.schema == CONNECTOR_SCHEMA
    assert sorted(map(as_sent, rows)) == sorted((m.key, m.value, m.headers, m.partition)
                                                for m in sent)
    assert {row.topic for row in rows} == {topic}
    for partition in range(3):
        offsets = sorted(row.offset for row in rows if row.partition == partition)
        assert offsets == list(range(4))
    assert all(row.timestamp is not None and row.timestampType == 0 for row in rows)


def test_a_record_kafka_python_cannot_parse_is_a_row_at_its_offset_that_says_why(
    spark, kafka_stack, topic
):
    before, after = small_messages(2, partitions=(0,)), small_messages(4, partitions=(0,))[2:]
    for batch in (before, [unparsable(seed=3)], after):  # one producer batch each
        produce(kafka_stack.kafka_bootstrap_servers, topic, batch)

    rows = {row.offset: row for row in read_topic(spark, kafka_stack, topic,
                                                  includeHeaders="true").collect()}

    assert sorted(rows) == [0, 1, 2, 3, 4]
    assert [bytes(rows[offset].value) for offset in (0, 1, 3, 4)] == [
        m.value for m in before + after]
    unreadable = rows[2]
    assert (unreadable.key, unreadable.value, unreadable.partition) == (None, None, 0)
    assert [header.key for header in unreadable.headers] == [UNREADABLE_HEADER]
    assert b"not UTF-8" in bytes(unreadable.headers[0].value)


def test_without_includeHeaders_there_is_no_headers_column_as_in_the_connector(
    spark, kafka_stack, topic
):
    frame = read_topic(spark, kafka_stack, topic)
    assert frame.schema == StructType(CONNECTOR_SCHEMA.fields[:-1])


def test_one_spark_partition_per_kafka_partition_with_data_and_empty_partitions_are_skipped(
    spark, kafka_stack, topic
):
    produce(kafka_stack.kafka_bootstrap_servers, topic, small_messages(5, partitions=(1,)))

    frame = read_topic(spark, kafka_stack, topic)

    assert frame.rdd.getNumPartitions() == 1
    assert [(row.partition, row.offset) for row in frame.collect()] == [(1, n) for n in range(5)]


def test_an_empty_topic_reads_as_no_rows_in_a_batch_read_and_in_a_stream(
    spark, kafka_stack, topic, tmp_path
):
    assert read_topic(spark, kafka_stack, topic).count() == 0
    # Spark runs a query's first micro-batch even when there is nothing new (the connector's too)
    batches = stream_batches(spark, kafka_stack, topic, tmp_path, startingOffsets="earliest")
    assert [len(batch) for batch in batches] in ([], [0])


def test_json_starting_and_ending_offsets_bound_each_partition(spark, kafka_stack, topic):
    produce(kafka_stack.kafka_bootstrap_servers, topic, small_messages(12))

    frame = read_topic(
        spark, kafka_stack, topic,
        startingOffsets=json.dumps({topic: {"0": 1, "1": -2, "2": -1}}),
        endingOffsets=json.dumps({topic: {"0": 3, "1": -1, "2": -1}}),
    )

    assert sorted((row.partition, row.offset) for row in frame.collect()) == [
        (0, 1), (0, 2), (1, 0), (1, 1), (1, 2), (1, 3)
    ]


def test_a_stream_honours_maxOffsetsPerTrigger_in_several_batches_each_message_once(
    spark, kafka_stack, topic, tmp_path
):
    sent = small_messages(20)
    produce(kafka_stack.kafka_bootstrap_servers, topic, sent)

    batches = stream_batches(spark, kafka_stack, topic, tmp_path, startingOffsets="earliest",
                             maxOffsetsPerTrigger=6, includeHeaders="true")

    assert [len(batch) for batch in batches] == [6, 6, 6, 2]
    read = [as_sent(row) for batch in batches for row in batch]
    assert sorted(read) == sorted((m.key, m.value, m.headers, m.partition) for m in sent)


def test_a_restarted_stream_goes_on_from_its_checkpoint_with_only_the_new_messages(
    spark, kafka_stack, topic, tmp_path
):
    produce(kafka_stack.kafka_bootstrap_servers, topic, small_messages(6))
    first = stream_batches(spark, kafka_stack, topic, tmp_path, startingOffsets="earliest")

    later = [Message(f"later{n}".encode(), b"later", [], n % 3) for n in range(4)]
    produce(kafka_stack.kafka_bootstrap_servers, topic, later)
    second = stream_batches(spark, kafka_stack, topic, tmp_path, startingOffsets="earliest")

    assert sum(map(len, first)) == 6
    assert sorted(bytes(row.key) for batch in second for row in batch) == sorted(
        message.key for message in later
    )


def test_latest_starts_at_the_end_of_every_partition(kafka_stack, topic):
    produce(kafka_stack.kafka_bootstrap_servers, topic, small_messages(5))

    reader = stream_reader(kafka_stack, topic, startingOffsets="latest")

    assert reader.initialOffset() == {topic: {"0": 2, "1": 2, "2": 1}}


def test_rate_limiting_reads_exactly_the_limit_shared_by_what_each_partition_has_waiting():
    start = {"t": {"0": 0, "1": 10, "2": 5}}
    end = {"t": {"0": 9, "1": 13, "2": 5}}

    limited = rate_limited(start, end, 5)

    taken = {p: limited["t"][p] - start["t"][p] for p in start["t"]}
    assert sum(taken.values()) == 5
    assert taken["2"] == 0
    assert taken["0"] > taken["1"] > 0
    assert rate_limited(start, end, 100) == end


def test_an_available_now_run_stops_at_the_end_it_saw_when_it_started(kafka_stack, topic):
    produce(kafka_stack.kafka_bootstrap_servers, topic, small_messages(3))
    reader = stream_reader(kafka_stack, topic, startingOffsets="earliest")
    start = reader.initialOffset()
    reader.prepareForTriggerAvailableNow()
    produce(kafka_stack.kafka_bootstrap_servers, topic, small_messages(3))

    assert start == {topic: {"0": 0, "1": 0, "2": 0}}
    assert reader.latestOffset(start, ReadMaxRows(100)) == {topic: {"0": 1, "1": 1, "2": 1}}


def test_unknown_options_are_refused_with_the_supported_list():
    with pytest.raises(ValueError, match="subscribePattern|subscribepattern"):
        SourceOptions.parse(
            {"kafka.bootstrap.servers": "x:9092", "subscribePattern": "t.*"}, streaming=True
        )
