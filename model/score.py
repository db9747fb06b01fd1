"""`python -m model score ROOT`: the champion's predictions for the processed photos that have
none, or one from another version (after a promotion), or the champion's own from before
margins were kept, in the manifest and the search index.

1. The registry names the champion; without one, or without a registry, nothing changes.
2. The processed rows of the manifest's newest version whose model_version is not the
   champion's are predicted as a Spark job, the way features are extracted (model/features.py):
   one small task row per photo, grouped by shard, the base tensors read where the shards are,
   ONNX Runtime in fixed batches, one thread per task, the model a broadcast variable.
3. One Delta merge sets those rows' four prediction columns (Manifest.set_columns).
4. The search documents of the root's processed photos whose prediction differs from their
   manifest row are updated: the index follows the manifest, so a run after an Elasticsearch
   outage catches up even when there is nothing left to predict.

Run again, it predicts nothing it has predicted: a photo the model failed on is tried again,
every other one is left alone.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass
from itertools import islice

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from elastic_transport import TransportError
from elasticsearch import ApiError, Elasticsearch, helpers
from pyspark.sql.pandas.types import from_arrow_schema

from adapters.elasticsearch_client import make_elasticsearch_client, unreachable_sentence
from adapters.object_store import ObjectStore
from adapters.spark import spark_session
from dataset.image_record import PROCESSED
from dataset.manifest import SCHEMA
from dataset.reader import BASE_ONLY, DatasetReader
from dataset.reader_checks import DatasetError
from model import registry
from model.features import shard_tasks, task_samples
from model.job_champion import ModelBroadcast
from model.predictions import PREDICTION_FIELDS, Predictor, ShippedModel
from model.registry import RegistryUnavailable, ServedModel
from model.runtime import BATCH
from settings import Settings

SCORE_SCHEMA = pa.schema([SCHEMA.field(name) for name in ("image_id", *PREDICTION_FIELDS)])
LOOKUP_CHUNK = 500  # documents per look-up in the index
INDEX_CHOICES = ("auto", "on", "off")


class ScoreRefused(Exception):
    """The run cannot start, or could not finish; one sentence for people."""


class PhotoScorer:
    """mapInArrow's function: task rows in, (image_id, prediction fields) per photo out."""

    def __init__(self, store: ObjectStore, model: ShippedModel):
        self.store, self.model = store, model

    def __call__(self, batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        samples = task_samples(batches, self.store)
        predictor = Predictor(self.model)
        for chunk in iter(lambda: list(islice(samples, BATCH)), []):
            metas, tensors = zip(*chunk, strict=True)
            answers = predictor.predict(tensors)
            yield pa.RecordBatch.from_pylist(
                [{"image_id": meta["image_id"], **answer}
                 for meta, answer in zip(metas, answers, strict=True)], schema=SCORE_SCHEMA)


@dataclass
class ScoreReport:
    """What a run did: photos predicted now (and which were stale why), and documents updated."""

    champion: ServedModel
    processed: int = 0
    unpredicted: int = 0  # rows without a prediction before the run
    other_version: int = 0  # rows predicted by another version before the run
    marginless: int = 0  # rows of the champion's from before prediction margins were kept
    predicted: int = 0
    failed: int = 0  # photos the model failed on: still without
    documents_updated: int | None = None  # None: the index was not asked
    not_indexed: int = 0  # processed photos the index has no document of
    index_note: str = "not asked (--index off)"  # why the index was not asked

    def lines(self) -> list[str]:
        model = f"{self.champion.name} version {self.champion.version}"
        stale = self.unpredicted + self.other_version + self.marginless
        lines = [f"champion: {model}"]
        if not stale:
            lines.append(f"manifest: all {self.processed} processed photos have its prediction; "
                         "nothing to predict")
        else:
            without_margin = (f", {self.marginless} one without its margin" if self.marginless
                              else "")
            lines.append(f"manifest: {self.predicted} of the {stale} photos to predict "
                         f"predicted ({self.unpredicted} had no prediction, {self.other_version} "
                         f"one from another version{without_margin}), of {self.processed} "
                         "processed photos")
        if self.failed:
            lines.append(f"the model failed on {self.failed} photos: they keep what they had, "
                         "and the next run tries them again")
        if self.documents_updated is None:
            lines.append(f"search index: {self.index_note}")
        else:
            lines.append(f"search index: {self.documents_updated} documents updated"
                         + (f"; {self.not_indexed} photos have no document there"
                            if self.not_indexed else ""))
        return lines


def run_score(root: str, index_choice: str, settings: Settings) -> ScoreReport:
    """The command: the champion, the dataset at `root`, the index unless `index_choice` is off
    (or auto and it does not answer); ScoreRefused says in a sentence what is missing."""
    try:
        champion = registry.champion(settings)
    except RegistryUnavailable as error:
        raise ScoreRefused(str(error)) from error
    if champion is None:
        raise ScoreRefused(f"the registry has no champion of {settings.model_name} yet, so "
                           "there is nothing to predict with (python -m model promote VERSION)")
    try:
        reader = DatasetReader.open(root, settings.s3)
    except DatasetError as error:
        raise ScoreRefused(str(error)) from error
    search, note = None, "not asked (--index off)"
    if index_choice != "off":
        search = make_elasticsearch_client(settings.elasticsearch_url,
                                           settings.elasticsearch_auth)
        if not search.ping():
            if index_choice == "on":
                raise ScoreRefused(unreachable_sentence(settings.elasticsearch_url)
                                   + "; --index off predicts into the manifest alone")
            search, note = None, (f"Elasticsearch does not answer at "
                                  f"{settings.elasticsearch_url}, so its documents were not "
                                  "updated; run score again once it answers (--index auto)")
    try:
        report = score(reader, champion, settings, search)
    except (TransportError, ApiError) as error:
        raise ScoreRefused(f"the manifest has the predictions, but Elasticsearch failed while "
                           f"its documents were updated ({error}); run score again once it "
                           "answers") from error
    if search is None:
        report.index_note = note
    return report


def stale_rows(rows: pd.DataFrame, version: str) -> tuple[pd.DataFrame, int, int, int]:
    """The processed rows whose prediction is not the champion's, and how many had none, how
    many one from another version, and how many the champion's from before margins were kept
    (a manifest from before predictions or margins has no such column)."""
    def column(name: str) -> pd.Series:
        return rows[name] if name in rows else pd.Series(None, rows.index)

    versions = column("model_version")
    unpredicted = versions.isna()
    other = ~unpredicted & (versions != version)
    marginless = ~unpredicted & ~other & column("prediction_margin").isna()
    return (rows[unpredicted | other | marginless], int(unpredicted.sum()), int(other.sum()),
            int(marginless.sum()))


def predict_rows(rows: pd.DataFrame, store: ObjectStore, champion: ServedModel,
                 settings: Settings) -> pa.Table:
    """(image_id, prediction fields) of each row's base tensor, as a Spark job."""
    spark = spark_session("field-images-score", settings)
    broadcast = ModelBroadcast()
    model = broadcast.ship(spark.sparkContext, champion)
    try:
        return (
            shard_tasks(spark, rows, dict.fromkeys(rows["image_id"], BASE_ONLY))
            .mapInArrow(PhotoScorer(store, model), from_arrow_schema(SCORE_SCHEMA))
            .toArrow()
        )
    finally:
        broadcast.destroy()


def score(reader: DatasetReader, champion: ServedModel, settings: Settings,
          search: Elasticsearch | None) -> ScoreReport:
    """Predict the reader's stale rows with the champion, set them in the manifest, then bring
    the search documents (given a client) in line with the manifest."""
    rows = reader.manifest()
    stale, unpredicted, other, marginless = stale_rows(rows, champion.version)
    report = ScoreReport(champion, len(rows), unpredicted, other, marginless)
    if len(stale):
        predicted = predict_rows(stale, reader.store, champion, settings)
        answered = predicted.filter(pc.is_valid(predicted.column("prediction")))
        report.predicted, report.failed = answered.num_rows, len(stale) - answered.num_rows
        if answered.num_rows:
            reader.manifest_table.set_columns(answered)
    if search is not None:
        now = DatasetReader(reader.store).manifest()
        report.documents_updated, report.not_indexed = follow_manifest(
            search, settings.elasticsearch_index, now)
    return report


def follow_manifest(search: Elasticsearch, index: str, rows: pd.DataFrame) -> tuple[int, int]:
    """Update the prediction fields of the processed documents that differ from their row;
    returns (documents updated, photos without a document)."""
    fields = rows.reindex(columns=["image_id", *PREDICTION_FIELDS])
    wanted = {row["image_id"]: {name: _plain(row[name]) for name in PREDICTION_FIELDS}
              for row in fields.to_dict("records")}
    ids, updates, missing = list(wanted), [], 0
    for start in range(0, len(ids), LOOKUP_CHUNK):
        docs = search.mget(index=index, ids=ids[start:start + LOOKUP_CHUNK],
                           source_includes=["status", *PREDICTION_FIELDS])["docs"]
        for doc in docs:
            if not doc.get("found"):
                missing += 1
                continue
            source, values = doc["_source"], wanted[doc["_id"]]
            if source.get("status") == PROCESSED and any(
                    source.get(name) != value for name, value in values.items()):
                updates.append({"_op_type": "update", "_index": index, "_id": doc["_id"],
                                "doc": values})
    updated, _ = helpers.bulk(search, updates, raise_on_error=False)
    return updated, missing


def _plain(value):
    """A row's value as its document holds it: None for a missing one (pandas says NaN)."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    return value
