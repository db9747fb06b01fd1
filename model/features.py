"""Feature extraction over a dataset as a Spark job: the backbone's 1280 features of each wanted
sample, computed where the shards are read.

The driver sends one small row per image (its shard, and whether only its base tensor is
wanted); rows are grouped by shard so each task streams its shards once, through the reader's
own stages (dataset.shard_stream), and runs the backbone with ONNX Runtime in fixed batches,
one thread per task (model/runtime.py). The model travels as a broadcast variable, so an
executor gets it once. More executors, more shards read at once: it grows as the batch job does.
`python -m model score` runs its predictions the same way (model/score.py): `shard_tasks` and
`task_samples` are what the two share.
"""

from __future__ import annotations

from collections.abc import Iterator
from itertools import islice

import numpy as np
import pandas as pd
import pyarrow as pa
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql.pandas.types import from_arrow_schema

from adapters.object_store import ObjectStore
from adapters.spark import spark_session
from dataset.reader import BASE_ONLY
from dataset.shard_stream import WantedVariants, decoded, opened, tar_samples
from model.runtime import BATCH, inference_session, run_batched
from settings import Settings

TASK_SCHEMA = pa.schema([("shard_key", pa.string()), ("image_id", pa.string()),
                         ("base_only", pa.bool_())])
FEATURE_SCHEMA = pa.schema([("image_id", pa.string()), ("variant", pa.string()),
                            ("features", pa.list_(pa.float32()))])


class FeatureExtractor:
    """mapInArrow's function: task rows in, one (image_id, variant, features) row per sample out."""

    def __init__(self, store: ObjectStore, model):
        self.store, self.model = store, model  # model: a Broadcast of the ONNX bytes

    def __call__(self, batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        samples = task_samples(batches, self.store)
        session = inference_session(self.model.value)
        for chunk in iter(lambda: list(islice(samples, BATCH)), []):
            metas, tensors = zip(*chunk, strict=True)
            yield pa.RecordBatch.from_pydict({
                "image_id": [meta["image_id"] for meta in metas],
                "variant": [meta["variant"] for meta in metas],
                "features": list(run_batched(session, tensors)),
            }, schema=FEATURE_SCHEMA)


def task_samples(
    batches: Iterator[pa.RecordBatch], store: ObjectStore
) -> Iterator[tuple[dict, np.ndarray]]:
    """A task's wanted samples as (meta, tensor): its shards as one stream, so every model batch
    is full but the last."""
    shard_keys: set[str] = set()
    wanted: dict[str, frozenset[str] | None] = {}
    for batch in batches:
        for task in batch.to_pylist():
            shard_keys.add(task["shard_key"])
            wanted[task["image_id"]] = BASE_ONLY if task["base_only"] else None
    return decoded(tar_samples(opened(sorted(shard_keys), store)), wanted)


def shard_tasks(spark: SparkSession, rows: pd.DataFrame, wanted: WantedVariants) -> DataFrame:
    """One small row per image (its shard, whether only its base is wanted), grouped by shard
    into at most twice as many partitions as the cluster has cores."""
    tasks = [(shard_key, image_id, wanted[image_id] == BASE_ONLY)
             for shard_key, image_id in zip(rows["shard_key"], rows["image_id"], strict=True)]
    parallelism = spark.sparkContext.defaultParallelism
    shards = rows["shard_key"].nunique()
    return (spark.createDataFrame(tasks, from_arrow_schema(TASK_SCHEMA))
            .repartition(max(1, min(shards, parallelism * 2)), "shard_key"))


def extract_features(
    rows: pd.DataFrame, wanted: WantedVariants, store: ObjectStore, backbone: bytes,
    settings: Settings,
) -> pa.Table:
    """(image_id, variant, features) of every wanted sample of the rows, sorted."""
    spark = spark_session("field-images-features", settings)
    model = spark.sparkContext.broadcast(backbone)
    try:
        table = (
            shard_tasks(spark, rows, wanted)
            .mapInArrow(FeatureExtractor(store, model), from_arrow_schema(FEATURE_SCHEMA))
            .toArrow()
        )
    finally:
        model.destroy()  # the executors' copies too: a long-lived driver trains again
    return table.sort_by([("image_id", "ascending"), ("variant", "ascending")])
