"""The streaming job's sink: each micro-batch into the dataset format, then into the search index.

Every Spark partition of a micro-batch is one Kafka partition's offset range. Its photos go
through the core and the dataset writer as one group named after where it starts in Kafka
(<topic>-p<partition>-o<first offset>), so a batch that Spark runs again after a crash rewrites
the very same objects. The driver then commits the batch's rows to the manifest table with the
query's id and the batch id as a Delta application transaction, which a replay finds already
committed; Elasticsearch documents are keyed by image id, so they are overwritten. That is what
makes foreachBatch's at-least-once delivery come out exactly once.

No message can stop the job: a message that is not an upload of ours (headers the API would
never write), a photo the core refuses or breaks on, a photo whose bytes the store refuses and
a photo whose document Elasticsearch refuses each become a dead letter (rejected/<id>.json and a
"rejected" document, with the reason and the Kafka position as `source`), and the batch commits.
Only failures of a whole server (unreachable, throttling, 5xx) fail the batch, to be run again.

A photo sent again (a phone retrying an upload, or an upload the API could not check against
the index) is a new message with the same image id: it is a duplicate when an earlier message
of its range or of the batch carried it, or when the manifest already holds it from another
message. The dataset decides what is in the dataset: each writer asks its own copy of the
manifest's catalogue (dataset/catalog.py), never Elasticsearch, so a lost or rebuilt index
changes nothing that is written. A duplicate is not written: it comes back as a row naming the
message that was kept (`duplicate_of`), which the driver logs with the copy's request id and
counts, so every message read ends processed, rejected or duplicate (docs/ingest_api.md,
"Sending a photo again"). A replayed batch finds its own messages as the rows' source, so it
rewrites exactly what it wrote the first time and finds the same duplicates.
"""

from __future__ import annotations

import functools
import itertools
import json
import logging
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import pyarrow as pa
from pyspark.sql import DataFrame
from pyspark.sql.pandas.types import from_arrow_schema

from adapters.elasticsearch_client import make_elasticsearch_client
from adapters.object_store import ObjectStore, open_store
from dataset.catalog import Catalog
from dataset.dead_letters import index_or_dead_letter
from dataset.image_record import PROCESSED
from dataset.manifest import SCHEMA, Manifest
from dataset.manifest_writer import ManifestWriter
from dataset.splits import parse_fractions
from dataset.writer import write_group
from model.predictions import OutcomePredictions, ShippedModel
from photo.messages import InvalidMessage, upload_from_message
from photo.upload import Outcome, invalid_message, process_upload
from preprocessing import image_id_of
from settings import Settings
from streaming.drift import DriftWindow
from streaming.metrics import count_duplicates, count_photos, count_predictions, show_drift
from streaming.progress import ProgressRecorder

if TYPE_CHECKING:
    from model.job_champion import ModelState

GROUP = "stream"
MESSAGE_COLUMNS = ("topic", "partition", "offset", "value", "headers")
# What a Spark partition hands back: the manifest rows, and the request id of each photo, which
# the driver logs but the manifest does not keep; and a row per duplicate, naming the source of
# the message whose copy was kept.
ROW_SCHEMA = SCHEMA.append(pa.field("request_id", pa.string())).append(
    pa.field("duplicate_of", pa.string()))

log = logging.getLogger(__name__)


def group_name(topic: str, partition: int, first_offset: int) -> str:
    """The shard and manifest name of a range of messages: where the range starts in Kafka."""
    return f"{topic}-p{partition}-o{first_offset:012d}"


def query_id(checkpoint_dir: str) -> str:
    """The streaming query's id, kept in its checkpoint: the same across restarts, new with a
    new checkpoint (whose batch ids start again from 0)."""
    return json.loads((Path(checkpoint_dir) / "metadata").read_text())["id"]


def message_source(topic: str, partition: int, offset: int) -> str:
    """Where a photo came from, as its manifest row and dead letter record it."""
    return f"kafka:{topic}/{partition}/{offset}"


@functools.cache
def search_client(url: str, auth: tuple[str, str] | None = None):
    """One Elasticsearch client per process (the driver)."""
    return make_elasticsearch_client(url, auth)


@functools.cache
def _catalog(uri: str, options: tuple[tuple[str, str], ...] | None) -> Catalog:
    return Catalog(Manifest(uri, dict(options) if options is not None else None))


def catalog_of(manifest: Manifest) -> Catalog:
    """One catalogue of the manifest per Python worker, kept across tasks (Spark reuses its
    workers), so each refresh reads only the data files committed since the last one."""
    options = manifest.storage_options
    return _catalog(manifest.uri, tuple(sorted(options.items())) if options else None)


@dataclass(frozen=True)
class PartitionWriter:
    """Picklable mapInArrow function: Kafka messages in offset order in, manifest rows out."""

    store: ObjectStore
    manifest: Manifest  # what decides whether a photo is recorded already
    n_variants: int
    max_pixels: int
    max_decode_mb: int
    raw_copies: bool = True  # processed photos' bytes to raw/ too, not only in the broker's log
    model: ShippedModel | None = None  # the champion of this micro-batch, if there is one

    def __call__(self, batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        messages = (row for batch in batches for row in batch.to_pylist())
        ranges = itertools.groupby(messages, key=lambda row: (row["topic"], row["partition"]))
        predictions = OutcomePredictions(self.model)
        for (topic, partition), in_range in ranges:
            first = next(in_range)
            name = group_name(topic, partition, first["offset"])
            duplicates: list[dict] = []
            fresh = self._first_sightings(itertools.chain([first], in_range), duplicates)
            request_ids: dict[str, str | None] = {}
            outcomes = predictions.through(self._processed(fresh, request_ids))
            rows = write_group(self.store, GROUP, name, outcomes, raw_copies=self.raw_copies)
            rows = [{**row, **predictions.fields_of(row),
                     "request_id": request_ids[row["image_id"]]} for row in rows]
            yield pa.RecordBatch.from_pylist(rows + duplicates, schema=ROW_SCHEMA)

    def _first_sightings(self, messages: Iterator[dict], duplicates: list[dict]) -> Iterator[dict]:
        """The messages whose photo neither the manifest (from another message) nor an earlier
        message of this range carried. The others are noted in `duplicates`, as rows without
        their bytes."""
        catalog = catalog_of(self.manifest)
        catalog.refresh()  # the batches before this one are committed: foreachBatch is serial
        kept: dict[str, str] = {}  # image id -> the source of this range's message kept
        for message in messages:
            image_id = image_id_of(message["value"] or b"")
            source = message_source(message["topic"], message["partition"], message["offset"])
            first = kept.get(image_id) or catalog.source_of(image_id) or source
            if first != source:
                duplicates.append(duplicate_row(message, image_id, source, first))
                continue
            kept[image_id] = source
            yield message

    def _processed(self, messages: Iterator[dict], request_ids: dict) -> Iterator[Outcome]:
        """Each message through the core, noting its photo's request id in `request_ids`."""
        for message in messages:
            outcome = self._process(message)
            request_ids[outcome.image_id] = outcome.upload.request_id
            yield outcome

    def _process(self, message: dict):
        source = message_source(message["topic"], message["partition"], message["offset"])
        data = message["value"] or b""
        try:
            upload = upload_from_message(data, message_headers(message), source)
        except InvalidMessage as error:
            return invalid_message(data, source, str(error))
        return process_upload(upload, n_variants=self.n_variants, max_pixels=self.max_pixels,
                              max_decode_mb=self.max_decode_mb)


def message_headers(message: dict) -> list[tuple[str, bytes | None]]:
    """A message row's headers as (key, value) pairs."""
    return [(header["key"], header["value"]) for header in message["headers"] or ()]


def duplicate_row(message: dict, image_id: str, source: str, kept_source: str) -> dict:
    """The row of a message whose photo another message brought: what its log line says."""
    try:
        upload = upload_from_message(b"", message_headers(message), source)
        label, request_id = upload.label, upload.request_id
    except InvalidMessage:  # headers the API would never write; a copy of a recorded photo all
        label = request_id = None  # the same
    return {"image_id": image_id, "source": source, "label": label, "request_id": request_id,
            "duplicate_of": kept_source}


def split_duplicates(rows: list[dict]) -> tuple[list[dict], list[dict]]:
    """A batch's rows as (one row per image, duplicates): a photo that two Kafka partitions
    carried (messages not keyed by image id) keeps its first row, the other is a duplicate."""
    kept: dict[str, dict] = {}
    duplicates = []
    for row in rows:
        first = kept.get(row["image_id"])
        if row["duplicate_of"] is not None:
            duplicates.append(row)
        elif first is not None:
            duplicates.append({**row, "duplicate_of": first["source"]})
        else:
            kept[row["image_id"]] = row
    return list(kept.values()), duplicates


class ImageSink:
    """foreachBatch function: write a micro-batch's photos to the dataset, commit their rows to
    the manifest, then index them.

    A document Elasticsearch refuses makes its photo a dead letter. Any other failure fails the
    batch: Spark then stops the query without committing the batch, and runs it again from the
    checkpoint on restart. The model never does: without one, photos go without a prediction.
    """

    def __init__(self, settings: Settings, progress: ProgressRecorder | None = None):
        # The driver's alone: the Python workers that unpickle a PartitionWriter import this
        # module, and need not import MLflow's client.
        from model.job_champion import ChampionWatch, ModelBroadcast

        self.settings, self.progress = settings, progress
        self.champion, self.broadcast = ChampionWatch(settings), ModelBroadcast()
        self.drift = DriftWindow(settings.drift_window)
        store = open_store(settings.dataset_root, settings.s3)
        self.manifest = ManifestWriter.of(store, parse_fractions(settings.split_fractions))
        self.writer = PartitionWriter(
            store, self.manifest.manifest, settings.n_variants, settings.max_pixels,
            settings.max_decode_mb, settings.stream_raw_copies,
        )

    def __call__(self, batch: DataFrame, batch_id: int) -> None:
        messages = batch.select(*MESSAGE_COLUMNS)
        state = self.champion.state()
        model = self.broadcast.ship(batch.sparkSession.sparkContext, state.model)
        writer = replace(self.writer, model=model)
        rows, duplicates = split_duplicates([
            row.asDict()
            for row in messages.mapInArrow(writer, from_arrow_schema(ROW_SCHEMA)).collect()
        ])
        request_ids = {row["image_id"]: row.pop("request_id") for row in rows}
        for row in rows:
            del row["duplicate_of"]
        rows = self.manifest.commit(rows, app_id=query_id(self.settings.checkpoint_dir),
                                    batch_id=batch_id)
        if rows:
            settings = self.settings
            search = search_client(settings.elasticsearch_url, settings.elasticsearch_auth)
            rows = index_or_dead_letter(search, settings.elasticsearch_index, self.writer.store,
                                        rows, datetime.now(UTC).isoformat())
        statuses = Counter(row["reason"] or row["status"] for row in rows)
        log.info("batch %d: %d photos %s, %d duplicates", batch_id, len(rows), dict(statuses),
                 len(duplicates))
        for row in rows:
            request_id = {"request_id": request_ids.get(row["image_id"])}
            if row["status"] == PROCESSED:
                log.info("batch %d: processed %s from %s, label %s", batch_id,
                         row["image_id"], row["source"], row["label"], extra=request_id)
            else:
                log.warning("batch %d: dead letter %s from %s: %s: %s", batch_id,
                            row["image_id"], row["source"], row["reason"], row["error"],
                            extra=request_id)
        for copy in duplicates:
            log.info("batch %d: duplicate %s from %s, label %s: the photo is recorded from %s "
                     "already, this copy is not written", batch_id, copy["image_id"],
                     copy["source"], copy["label"], copy["duplicate_of"],
                     extra={"request_id": copy["request_id"]})
        count_photos(rows)
        count_duplicates(len(duplicates))
        self._report_predictions(batch_id, rows, state, model)
        self._report_drift(batch_id, rows, state)

    def _report_predictions(self, batch_id: int, rows: list[dict], state: ModelState,
                            model: ShippedModel | None) -> None:
        """Log, count and record for `./deploy.sh status` what the batch's photos were
        predicted with, and how many went without a prediction and why."""
        processed = [row for row in rows if row["status"] == PROCESSED]
        predicted, without = count_predictions(processed, state, model is not None)
        if without:
            why = state.problem if model is None else "the model failed on them (logged)"
            log.warning("batch %d: %d processed photos without a prediction: %s", batch_id,
                        without, why or "the model file could not be read")
        if processed and model is not None:
            log.info("batch %d: %d photos predicted by %s version %s", batch_id, predicted,
                     state.model.name, model.version)
        if self.progress is not None:
            self.progress.predictions_made(
                name=state.model.name if state.model else None,
                version=model.version if model else None, problem=state.problem,
                predicted=predicted, without=without)

    def _report_drift(self, batch_id: int, rows: list[dict], state: ModelState) -> None:
        """Add the batch's processed photos to the drift window; log and export its PSI."""
        self.drift.add(row for row in rows if row["status"] == PROCESSED)
        measured = self.drift.measure(state.model)
        show_drift(measured, self.drift.size, self.drift.reference_photos())
        if measured:
            log.info("batch %d: drift of the last %d photos (PSI): %s", batch_id,
                     self.drift.size, {signal: round(psi, 3) for signal, psi in measured.items()})
