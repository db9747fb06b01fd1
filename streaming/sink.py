"""The streaming job's sink: each micro-batch into the dataset format, then into the search index.

Every Spark partition of a micro-batch is one Kafka partition's offset range. Its photos go
through the core and the dataset writer as one group named after where it starts in Kafka
(<topic>-p<partition>-o<first offset>), so a batch that Spark runs again after a crash rewrites
the very same objects; Elasticsearch documents are keyed by image id, so they are overwritten
too. That is what makes foreachBatch's at-least-once delivery come out exactly once.
"""

from __future__ import annotations

import itertools
import logging
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime

import pyarrow as pa
from pyspark.sql import DataFrame
from pyspark.sql.pandas.types import from_arrow_schema

from adapters.elasticsearch_client import make_elasticsearch_client
from adapters.image_index import index_rows
from adapters.kafka_messages import upload_from_message
from adapters.object_store import ObjectStore, open_store
from dataset.manifest import SCHEMA
from dataset.records import process_upload
from dataset.writer import write_group
from settings import Settings

GROUP = "stream"
MESSAGE_COLUMNS = ("topic", "partition", "offset", "value", "headers")

log = logging.getLogger(__name__)


def group_name(topic: str, partition: int, first_offset: int) -> str:
    """The shard and manifest name of a range of messages: where the range starts in Kafka."""
    return f"{topic}-p{partition}-o{first_offset:012d}"


def message_source(topic: str, partition: int, offset: int) -> str:
    """Where a photo came from, as its manifest row and dead letter record it."""
    return f"kafka:{topic}/{partition}/{offset}"


@dataclass(frozen=True)
class PartitionWriter:
    """Picklable mapInArrow function: Kafka messages in offset order in, manifest rows out."""

    store: ObjectStore
    n_variants: int
    max_pixels: int

    def __call__(self, batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        messages = (row for batch in batches for row in batch.to_pylist())
        ranges = itertools.groupby(messages, key=lambda row: (row["topic"], row["partition"]))
        for (topic, partition), in_range in ranges:
            first = next(in_range)
            name = group_name(topic, partition, first["offset"])
            outcomes = map(self._process, itertools.chain([first], in_range))
            rows = write_group(self.store, GROUP, name, outcomes)
            yield pa.RecordBatch.from_pylist(rows, schema=SCHEMA)

    def _process(self, message: dict):
        headers = [(header["key"], header["value"]) for header in message["headers"] or ()]
        source = message_source(message["topic"], message["partition"], message["offset"])
        upload = upload_from_message(message["value"] or b"", headers, source)
        return process_upload(upload, n_variants=self.n_variants, max_pixels=self.max_pixels)


class ImageSink:
    """foreachBatch function: write a micro-batch's photos to the dataset, then index them.

    Any failure, an Elasticsearch one included, fails the batch: Spark then stops the query
    without committing the batch, and runs it again from the checkpoint on restart.
    """

    def __init__(self, settings: Settings):
        self.settings = settings
        self.writer = PartitionWriter(
            open_store(settings.dataset_root, settings.s3), settings.n_variants,
            settings.max_pixels,
        )
        self._search = None

    def __getstate__(self):
        return {**self.__dict__, "_search": None}

    @property
    def search(self):
        """The Elasticsearch client, made on first use on the driver."""
        if self._search is None:
            self._search = make_elasticsearch_client(self.settings.elasticsearch_url)
        return self._search

    def __call__(self, batch: DataFrame, batch_id: int) -> None:
        messages = batch.select(*MESSAGE_COLUMNS)
        rows = [
            row.asDict()
            for row in messages.mapInArrow(self.writer, from_arrow_schema(SCHEMA)).collect()
        ]
        if rows:
            processed_at = datetime.now(UTC).isoformat()
            index_rows(self.search, self.settings.elasticsearch_index, rows, processed_at)
        statuses = Counter(row["reason"] or row["status"] for row in rows)
        log.info("batch %d: %d photos %s", batch_id, len(rows), dict(statuses))
