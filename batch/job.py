"""The batch job: a folder of img/<crop>/*.jpg in, the dataset format and a map out.

The workers write raw bytes and shards and return the image records, each processed photo
predicted by the champion when the job has one (shipped to them as a broadcast variable); the
driver commits them to the manifest in one commit (a re-run replaces its rows, never duplicates
them), indexes them in Elasticsearch when given a client (the same documents as the stream's,
and the same dead letters for the documents it refuses, named by their file), then renders the
map. No champion or no registry: the photos are processed without a
prediction, and the report says why.
"""

from __future__ import annotations

import logging
import tempfile
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from elasticsearch import Elasticsearch
from pyspark.sql.pandas.types import from_arrow_schema

from adapters.object_store import ObjectStore
from adapters.spark import spark_session
from batch.bucket_writer import BucketWriter
from batch.file_ids import ID_SCHEMA, FileIds
from batch.image_map import OPENSTREETMAP, Tiles, render_map
from dataset.dead_letters import index_or_dead_letter
from dataset.image_record import PROCESSED, REJECTED, STATUSES
from dataset.layout import MAP_KEY
from dataset.manifest import SCHEMA
from dataset.manifest_writer import ManifestWriter
from dataset.reader import DatasetReader
from dataset.splits import SPLITS
from model.job_champion import ModelBroadcast, ModelState
from photo.reasons import INDEX_REFUSED
from preprocessing import DEFAULT_MAX_DECODE_MB
from settings import Settings

log = logging.getLogger(__name__)

@dataclass
class BatchReport:
    """What the job did, counted from the rows its workers returned."""

    processed: int = 0
    rejected: Counter = field(default_factory=Counter)
    duplicates: int = 0
    ignored: int = 0
    unreadable: int = 0
    with_gps: int = 0
    without_gps: int = 0
    splits: Counter = field(default_factory=Counter)
    indexed: int | None = None
    map_url: str | None = None
    model: ModelState | None = None  # None: predictions were not asked for
    predictions: Counter = field(default_factory=Counter)  # crop -> photos
    without_prediction: int = 0

    @classmethod
    def from_rows(cls, rows: list[dict]) -> BatchReport:
        report = cls()
        for row in rows:
            if row["status"] == PROCESSED:
                report.processed += 1
                if row["prediction"] is None:
                    report.without_prediction += 1
                else:
                    report.predictions[row["prediction"]] += 1
                report.with_gps += row["lat"] is not None
                report.without_gps += row["lat"] is None
                report.splits[row["split"]] += 1
            elif row["status"] == REJECTED:
                report.rejected[row["reason"]] += 1
            elif row["status"] == "duplicate":
                report.duplicates += 1
            elif row["status"] == "unreadable":
                report.unreadable += 1
            else:
                report.ignored += 1
        return report

    def lines(self) -> list[str]:
        reasons = ", ".join(f"{reason}: {n}" for reason, n in sorted(self.rejected.items()))
        return [
            f"processed: {self.processed}",
            f"rejected: {sum(self.rejected.values())}" + (f" ({reasons})" if reasons else ""),
            f"duplicates skipped: {self.duplicates}",
            f"non-photo files ignored: {self.ignored}",
            f"files that could not be read: {self.unreadable}",
            f"with GPS: {self.with_gps}, without GPS: {self.without_gps}",
            "splits: " + ", ".join(f"{split} {self.splits[split]}" for split in SPLITS),
            "search index: " + ("not asked" if self.indexed is None
                                else f"{self.indexed} documents"),
            f"predictions: {self.predictions_line()}",
            f"map: {self.map_url}",
        ]

    def predictions_line(self) -> str:
        """What the photos were predicted with, by crop, and how many went without."""
        if self.model is None:
            return "not asked"
        if self.model.model is None:
            return f"none, the photos are processed without: {self.model.problem}"
        crops = ", ".join(f"{crop} {n}" for crop, n in sorted(self.predictions.items()))
        model = self.model.model
        return (f"{sum(self.predictions.values())} by {model.name} version {model.version}"
                + (f" ({crops})" if crops else "")
                + (f"; {self.without_prediction} without (the model failed on them)"
                   if self.without_prediction else ""))


def run_batch(
    input_dir: Path,
    store: ObjectStore,
    *,
    spark_settings: Settings,
    n_variants: int,
    max_pixels: int,
    shard_digits: int,
    split_fractions: tuple[float, float, float],
    max_decode_mb: int = DEFAULT_MAX_DECODE_MB,
    search: Elasticsearch | None = None,
    index: str | None = None,
    tiles: Tiles = OPENSTREETMAP,
    model: ModelState | None = None,
) -> BatchReport:
    """Process every photo under input_dir into the store (predicting them with `model`'s
    model, if it has one), commit and (given a search client) index their records, then render
    the map beside them.

    spark_settings give the Spark master (local mode or a cluster whose executors see
    input_dir and, for a local store, the store's folder) and the driver's and executors' setup.
    """
    spark = spark_session("field-images-batch", spark_settings, progress_bar=True)
    input_dir = input_dir.resolve()
    # Spark only lists the files (no content column, so it reads none); Python hashes them.
    # Only (path, id, bucket) is shuffled to group the buckets; workers read the bytes again.
    photos = (
        spark.read.format("binaryFile")
        .option("recursiveFileLookup", "true")
        .load(str(input_dir))
        .select("path")
        .coalesce(spark.sparkContext.defaultParallelism)
        .mapInArrow(FileIds(shard_digits), from_arrow_schema(ID_SCHEMA))
    )
    arranged = photos.repartition(
        spark.sparkContext.defaultParallelism * 2, "bucket"
    ).sortWithinPartitions("bucket", "image_id", "path")
    broadcast = ModelBroadcast()
    shipped = broadcast.ship(spark.sparkContext, model.model if model else None)
    writer = BucketWriter(store, str(input_dir), n_variants, max_pixels, max_decode_mb, shipped)
    try:
        output = arranged.mapInArrow(writer, from_arrow_schema(SCHEMA)).collect()
    finally:
        broadcast.destroy()  # the executors' copy too: a long-lived driver runs jobs again
    rows = [row.asDict() for row in output]
    records = [row for row in rows if row["status"] in STATUSES]
    skipped = [row for row in rows if row["status"] not in STATUSES]
    records = ManifestWriter.of(store, split_fractions).commit(records)
    if search is not None:
        records = index_or_dead_letter(search, index, store, records, datetime.now(UTC).isoformat())
    report = BatchReport.from_rows(records + skipped)
    report.model = model
    if search is not None:
        report.indexed = len(records) - report.rejected[INDEX_REFUSED.code]
        for letter in (row for row in records if row["reason"] == INDEX_REFUSED.code):
            log.warning("dead letter %s from %s: %s: %s", letter["image_id"], letter["source"],
                        letter["reason"], letter["error"])
    report.map_url = write_map(store, tiles)
    return report


def write_map(store: ObjectStore, tiles: Tiles = OPENSTREETMAP) -> str:
    """Render the map of the whole dataset (every manifest under the root) into it."""
    rows = DatasetReader(store).manifest(status=None)
    with tempfile.TemporaryDirectory() as scratch:
        path = Path(scratch) / MAP_KEY
        render_map(rows, path, tiles)
        store.put_bytes(MAP_KEY, path.read_bytes())
    return store.url(MAP_KEY)
