"""The batch job: a folder of img/<crop>/*.jpg in, the dataset format and a map out."""

from __future__ import annotations

import tempfile
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from pyspark.sql import functions as F
from pyspark.sql.pandas.types import from_arrow_schema

from adapters.object_store import ObjectStore
from adapters.spark import spark_session
from batch.bucket_writer import SUMMARY_SCHEMA, BucketWriter
from batch.image_map import render_map
from dataset.layout import MAP_KEY
from dataset.reader import DatasetReader
from preprocessing import DEFAULT_MAX_DECODE_MB


@dataclass
class BatchReport:
    """What the job did, counted from the rows its workers returned."""

    processed: int = 0
    rejected: Counter = field(default_factory=Counter)
    duplicates: int = 0
    ignored: int = 0
    with_gps: int = 0
    without_gps: int = 0
    map_url: str | None = None

    @classmethod
    def from_summary(cls, rows: list[dict]) -> BatchReport:
        report = cls()
        for row in rows:
            if row["status"] == "ok":
                report.processed += 1
                report.with_gps += row["has_gps"]
                report.without_gps += not row["has_gps"]
            elif row["status"] == "rejected":
                report.rejected[row["reason"]] += 1
            elif row["status"] == "duplicate":
                report.duplicates += 1
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
            f"with GPS: {self.with_gps}, without GPS: {self.without_gps}",
            f"map: {self.map_url}",
        ]


def run_batch(
    input_dir: Path,
    store: ObjectStore,
    *,
    master: str,
    n_variants: int,
    max_pixels: int,
    shard_digits: int,
    max_decode_mb: int = DEFAULT_MAX_DECODE_MB,
) -> BatchReport:
    """Process every photo under input_dir into the store, then render the map beside it."""
    spark = spark_session("field-images-batch", master, progress_bar=True)
    input_dir = input_dir.resolve()
    # Only (path, id, bucket) is shuffled to group the buckets; workers read the bytes again.
    photos = (
        spark.read.format("binaryFile")
        .option("recursiveFileLookup", "true")
        .load(str(input_dir))
        .select("path", F.sha2("content", 256).alias("image_id"))
        .withColumn("bucket", F.substring("image_id", 1, shard_digits))
    )
    arranged = photos.repartition(
        spark.sparkContext.defaultParallelism * 2, "bucket"
    ).sortWithinPartitions("bucket", "image_id", "path")
    writer = BucketWriter(store, str(input_dir), n_variants, max_pixels, max_decode_mb)
    summary = arranged.mapInArrow(writer, from_arrow_schema(SUMMARY_SCHEMA)).collect()
    report = BatchReport.from_summary([row.asDict() for row in summary])
    report.map_url = write_map(store)
    return report


def write_map(store: ObjectStore) -> str:
    """Render the map of the whole dataset (every manifest under the root) into it."""
    rows = DatasetReader(store).manifest(status=None)
    with tempfile.TemporaryDirectory() as scratch:
        path = Path(scratch) / MAP_KEY
        render_map(rows, path)
        store.put_bytes(MAP_KEY, path.read_bytes())
    return store.url(MAP_KEY)
