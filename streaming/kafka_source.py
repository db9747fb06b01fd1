"""`kafka_python`: a Spark Python Data Source that reads Kafka like the spark-sql-kafka connector.

Spark ships no Kafka connector and Maven is out of reach here, so this source gives the job the
connector's rows (key, value, topic, partition, offset, timestamp, timestampType[, headers]),
options and offsets over kafka-python. Where the connector jar is on the classpath (compose),
`format("kafka")` takes its place and nothing after `load()` changes.

Offsets, like the connector's: {"topic": {"0": next_offset, "1": ..., ...}}, every partition of
every subscribed topic listed, even an empty one, so an idle topic plans no empty batches. A
micro-batch is the range [start, end) of each partition; a replay gets the same range back from
the checkpoint, because Spark writes the end offsets before it runs the batch.

The end of a partition is its high watermark as a Fetch response reports it, never a
ListOffsets(LATEST) answer: the local broker (Tansu) gets that one wrong.

A record kafka-python cannot parse (a header key that is not UTF-8, which Java's client would
read with replacement characters; a broken record) comes out as a row at its offset with no key
or value and one header, photo.messages.UNREADABLE_HEADER, saying why; the job makes
it a dead letter. kafka-python cannot read the rest of that record's producer batch either, so
each of those offsets gives such a row too.
"""

from __future__ import annotations

import contextlib
import json
import logging
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime

from kafka import KafkaConsumer, TopicPartition
from kafka.errors import CorruptRecordError
from pyspark.sql.datasource import (
    DataSource,
    DataSourceReader,
    DataSourceStreamReader,
    InputPartition,
)
from pyspark.sql.streaming.datasource import (
    ReadAllAvailable,
    ReadLimit,
    ReadMaxRows,
    SupportsTriggerAvailableNow,
)

from photo.messages import unreadable_record_headers

log = logging.getLogger(__name__)

NAME = "kafka_python"

BASE_SCHEMA = (
    "key binary, value binary, topic string, partition int, offset long, "
    "timestamp timestamp, timestampType int"
)
HEADERS_SCHEMA = "headers array<struct<key: string, value: binary>>"

UNREADABLE = ("it has a header name that is not UTF-8 text, or its bytes are damaged, or it "
              "shares a producer batch with such a record")
EARLIEST, LATEST = -2, -1  # the connector's codes in a startingOffsets / endingOffsets JSON
RECONNECT_BACKOFF_MAX_MS = 1000

OPTIONS = {
    "kafka.bootstrap.servers": "host:port[,host:port]; required",
    "subscribe": "comma-separated topics; required",
    "startingOffsets": 'earliest | latest | {"topic": {"0": offset, ...}}; default latest '
    "for streams, earliest for batch reads",
    "endingOffsets": "batch reads only: latest (default) or a JSON like startingOffsets",
    "maxOffsetsPerTrigger": "rows per micro-batch at most, split over the partitions",
    "includeHeaders": "true to add the headers column; default false",
    "kafkaConsumer.pollTimeoutMs": "how long a read waits for records it knows exist, and "
    "the end-offset probe for the broker; default 120000",
}

Offsets = dict[str, dict[str, int]]  # topic -> partition (as a string) -> offset


@dataclass(frozen=True)
class KafkaOffsetRange(InputPartition):
    """One Spark input partition: offsets [start, end) of one Kafka partition."""

    topic: str
    partition: int
    start: int
    end: int


@dataclass(frozen=True)
class SourceOptions:
    """The source's options, parsed and checked once, on the driver."""

    bootstrap_servers: str
    topics: tuple[str, ...]
    starting_offsets: str
    ending_offsets: str
    max_offsets_per_trigger: int | None
    include_headers: bool
    poll_timeout_ms: int

    @classmethod
    def parse(cls, options: dict, *, streaming: bool) -> SourceOptions:
        given = {name.lower(): value for name, value in options.items()}
        known = {name.lower() for name in OPTIONS} | {"path"}
        unknown = sorted(set(given) - known)
        if unknown:
            supported = "\n".join(f"  {name}: {text}" for name, text in OPTIONS.items())
            raise ValueError(f"{NAME} does not support options {unknown}; it takes:\n{supported}")
        for required in ("kafka.bootstrap.servers", "subscribe"):
            if not given.get(required):
                raise ValueError(f"{NAME} needs the option {required}")
        topics = tuple(topic.strip() for topic in given["subscribe"].split(",") if topic.strip())
        limit = given.get("maxoffsetspertrigger")
        return cls(
            bootstrap_servers=given["kafka.bootstrap.servers"],
            topics=topics,
            starting_offsets=given.get("startingoffsets", "latest" if streaming else "earliest"),
            ending_offsets=given.get("endingoffsets", "latest"),
            max_offsets_per_trigger=int(limit) if limit else None,
            include_headers=given.get("includeheaders", "false").lower() == "true",
            poll_timeout_ms=int(given.get("kafkaconsumer.polltimeoutms", 120_000)),
        )


class KafkaPythonSource(DataSource):
    """format("kafka_python"): Kafka topics as rows, for spark.readStream and spark.read."""

    @classmethod
    def name(cls) -> str:
        return NAME

    def schema(self) -> str:
        include_headers = SourceOptions.parse(self.options, streaming=False).include_headers
        return f"{BASE_SCHEMA}, {HEADERS_SCHEMA}" if include_headers else BASE_SCHEMA

    def streamReader(self, schema) -> KafkaStreamReader:
        return KafkaStreamReader(SourceOptions.parse(self.options, streaming=True))

    def reader(self, schema) -> KafkaBatchReader:
        return KafkaBatchReader(SourceOptions.parse(self.options, streaming=False))


class KafkaStreamReader(DataSourceStreamReader, SupportsTriggerAvailableNow):
    """Plans micro-batches on the driver; its read() runs on the executors, one per range.

    Pickled to the executors: it holds only plain data, and Kafka clients are made inside
    methods.
    """

    def __init__(self, options: SourceOptions):
        self.options = options
        self.target: Offsets | None = None  # the end of a Trigger.AvailableNow run
        self.known_ends: Offsets = {}  # high watermarks seen last time: where to probe next

    def initialOffset(self) -> Offsets:
        return resolve_offsets(self.options, self.options.starting_offsets, self.known_ends)

    def getDefaultReadLimit(self) -> ReadLimit:
        limit = self.options.max_offsets_per_trigger
        return ReadMaxRows(limit) if limit else ReadAllAvailable()

    def prepareForTriggerAvailableNow(self) -> None:
        self.target = high_watermarks(self.options, self.known_ends)

    def latestOffset(self, start: Offsets, limit: ReadLimit) -> Offsets:
        if self.target is not None:
            ends = self.target
        else:
            ends = high_watermarks(self.options, furthest(start, self.known_ends))
        self.known_ends = ends
        begin = {topic: {**partitions_at_zero(ends, topic), **start.get(topic, {})}
                 for topic in ends}
        end = {
            topic: {p: max(begin[topic][p], offset) for p, offset in partitions.items()}
            for topic, partitions in ends.items()
        }
        if isinstance(limit, ReadMaxRows):
            end = rate_limited(begin, end, limit.max_rows)
        return end

    def reportLatestOffset(self) -> Offsets | None:
        return self.known_ends or None

    def partitions(self, start: Offsets, end: Offsets) -> list[KafkaOffsetRange]:
        return offset_ranges(start, end)

    def read(self, partition: KafkaOffsetRange) -> Iterator[tuple]:
        return read_range(self.options, partition)

    def commit(self, end: Offsets) -> None:
        """Nothing to do: the checkpoint, not a consumer group, records what was processed."""


class KafkaBatchReader(DataSourceReader):
    """spark.read: from startingOffsets (default earliest) to endingOffsets (default latest)."""

    def __init__(self, options: SourceOptions):
        self.options = options

    def partitions(self) -> list[KafkaOffsetRange]:
        start = resolve_offsets(self.options, self.options.starting_offsets, {})
        end = resolve_offsets(self.options, self.options.ending_offsets, start)
        return offset_ranges(start, end)

    def read(self, partition: InputPartition) -> Iterator[tuple]:
        # With no range to read, Spark still runs one task, on a bare InputPartition(None).
        if not isinstance(partition, KafkaOffsetRange):
            return iter(())
        return read_range(self.options, partition)


def consumer(options: SourceOptions, **config) -> KafkaConsumer:
    """A group-less consumer: partitions are assigned, never joined (JoinGroup is slow on Tansu).

    While the broker is away it tries to reconnect every second at most, not every 30 s
    (kafka-python's default), so a read or probe waiting for it goes on soon after it is back.
    """
    return KafkaConsumer(
        bootstrap_servers=options.bootstrap_servers.split(","),
        client_id=NAME,
        group_id=None,
        enable_auto_commit=False,
        reconnect_backoff_max_ms=RECONNECT_BACKOFF_MAX_MS,
        **config,
    )


def high_watermarks(options: SourceOptions, probe_at: Offsets) -> Offsets:
    """The end offset of every partition of the subscribed topics, from Fetch responses.

    Each partition is fetched from `probe_at` (where its end was last seen, else 0), so a
    partition without new records answers with its high watermark and no data. An unreachable
    broker is waited for as long as a poll may wait (kafkaConsumer.pollTimeoutMs).
    """
    client = consumer(options, fetch_max_wait_ms=50, auto_offset_reset="earliest",
                      bootstrap_timeout_ms=options.poll_timeout_ms)
    try:
        partitions = [
            TopicPartition(topic, p)
            for topic in options.topics
            for p in sorted(client.partitions_for_topic(topic) or ())
        ]
        ends: Offsets = {topic: {} for topic in options.topics}
        if not partitions:
            return ends
        client.assign(partitions)
        for tp in partitions:
            client.seek(tp, probe_at.get(tp.topic, {}).get(str(tp.partition), 0))
        deadline = time.monotonic() + options.poll_timeout_ms / 1000
        while any(client.highwater(tp) is None for tp in partitions):
            if time.monotonic() > deadline:
                raise TimeoutError(f"no high watermark from {options.bootstrap_servers} in time")
            # A partition whose end is known is paused, so its records (one kafka-python cannot
            # parse, say) no longer stand in the way of the others' answers.
            client.pause(*(tp for tp in partitions if client.highwater(tp) is not None))
            with contextlib.suppress(CorruptRecordError):  # read_range deals with those
                client.poll(timeout_ms=200)
        for tp in partitions:
            ends[tp.topic][str(tp.partition)] = client.highwater(tp)
        return ends
    finally:
        client.close()


def resolve_offsets(options: SourceOptions, spec: str, probe_at: Offsets) -> Offsets:
    """Offsets for "earliest", "latest" or a JSON spec (-2 earliest, -1 latest, unlisted earliest).

    Earliest is offset 0: the local broker keeps its whole log, and a read that finds the
    first records gone fails rather than skipping silently.
    """
    ends = high_watermarks(options, probe_at)
    if spec == "latest":
        return ends
    if spec == "earliest":
        return {topic: partitions_at_zero(ends, topic) for topic in ends}
    given = json.loads(spec)
    resolved: Offsets = {}
    for topic, partitions in ends.items():
        wanted = {str(p): int(offset) for p, offset in given.get(topic, {}).items()}
        resolved[topic] = {}
        for p, end in partitions.items():
            offset = wanted.get(p, EARLIEST)
            resolved[topic][p] = {EARLIEST: 0, LATEST: end}.get(offset, offset)
    return resolved


def furthest(first: Offsets, second: Offsets) -> Offsets:
    """Per partition, the larger offset of the two."""
    merged = {topic: dict(partitions) for topic, partitions in first.items()}
    for topic, partitions in second.items():
        for p, offset in partitions.items():
            merged.setdefault(topic, {})[p] = max(offset, merged.get(topic, {}).get(p, offset))
    return merged


def partitions_at_zero(offsets: Offsets, topic: str) -> dict[str, int]:
    """Every partition of `topic` at offset 0."""
    return dict.fromkeys(offsets.get(topic, {}), 0)


def rate_limited(start: Offsets, end: Offsets, max_rows: int) -> Offsets:
    """`end` cut so that at most max_rows rows lie past `start`, shared by available rows.

    Each partition gets its proportional share, rounded down; the rows left over go one by
    one to the partitions with the most still waiting, so a trigger reads exactly
    min(max_rows, available) rows and no partition starves.
    """
    lags = {(topic, p): end[topic][p] - start[topic][p] for topic in end for p in end[topic]}
    available = sum(lags.values())
    if available <= max_rows:
        return end
    take = {key: lag * max_rows // available for key, lag in lags.items()}
    by_waiting = sorted(lags, key=lambda key: (take[key] - lags[key], key))
    for key in by_waiting[: max_rows - sum(take.values())]:
        take[key] += 1
    return {
        topic: {p: start[topic][p] + take[(topic, p)] for p in partitions}
        for topic, partitions in end.items()
    }


def offset_ranges(start: Offsets, end: Offsets) -> list[KafkaOffsetRange]:
    """One range per partition with records in [start, end); a partition new in `end` from 0."""
    return [
        KafkaOffsetRange(topic, int(p), start.get(topic, {}).get(p, 0), until)
        for topic, partitions in end.items()
        for p, until in partitions.items()
        if until > start.get(topic, {}).get(p, 0)
    ]


def read_range(options: SourceOptions, offsets: KafkaOffsetRange) -> Iterator[tuple]:
    """The rows of one range, in offset order; stops at its end, never waits for more.

    A poll that brings nothing for kafkaConsumer.pollTimeoutMs fails the task (and so the
    batch, which Spark retries) instead of hanging.
    """
    tp = TopicPartition(offsets.topic, offsets.partition)
    client = consumer(options, auto_offset_reset="none", max_poll_records=16)
    try:
        client.assign([tp])
        client.seek(tp, offsets.start)
        waited_since = time.monotonic()
        while client.position(tp) < offsets.end:
            try:
                records = client.poll(timeout_ms=500).get(tp, [])
            except CorruptRecordError as error:
                position = client.position(tp)
                log.warning("%s: record %d cannot be parsed: %r", offsets, position, error)
                yield unreadable_row(offsets, position, options.include_headers)
                client.seek(tp, position + 1)
                continue
            if records:
                waited_since = time.monotonic()
            elif time.monotonic() - waited_since > options.poll_timeout_ms / 1000:
                raise TimeoutError(
                    f"{offsets}: stuck at offset {client.position(tp)} for "
                    f"{options.poll_timeout_ms} ms"
                )
            for record in records:
                if offsets.start <= record.offset < offsets.end:
                    yield row_of(record, options.include_headers)
            if records and records[-1].offset >= offsets.end - 1:
                break
    finally:
        client.close()


def row_of(record, include_headers: bool) -> tuple:
    """A row of the connector's schema."""
    row = (
        record.key,
        record.value,
        record.topic,
        record.partition,
        record.offset,
        timestamp_of(record.timestamp),
        record.timestamp_type,
    )
    if include_headers:
        row += ([(key, value) for key, value in record.headers or ()],)
    return row


def unreadable_row(offsets: KafkaOffsetRange, offset: int, include_headers: bool) -> tuple:
    """The row standing for the record at `offset` that kafka-python could not parse."""
    row = (None, None, offsets.topic, offsets.partition, offset, None, -1)
    return row + (unreadable_record_headers(UNREADABLE),) if include_headers else row


def timestamp_of(milliseconds: int | None) -> datetime | None:
    """The record's time, None when a producer set one no calendar holds (its choice, any int)."""
    try:
        return datetime.fromtimestamp(milliseconds / 1000, tz=UTC)
    except (TypeError, ValueError, OverflowError, OSError):
        return None
