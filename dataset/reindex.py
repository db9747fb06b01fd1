"""Rebuilding the search index from the dataset, its source of truth: `python -m dataset reindex`.

An operator whose Elasticsearch lost its data (or whose index was deleted) has no other way
back: the stream and the batch job index only the photos they process. From the manifest's
newest version, each image record becomes the document the jobs write (index_or_dead_letter,
so a document Elasticsearch refuses makes its photo a dead letter, as there), with its newest
corrected label (the correction log wins, as in ManifestWriter) and the prediction fields the
manifest holds. Rows are read and indexed BATCH_ROWS at a time, so memory stays flat however
large the table. Documents are keyed by image id: a second run overwrites the same documents,
and only their `processed_at` (when they were indexed) moves.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime

import pyarrow.dataset as ds
from elastic_transport import TransportError
from elasticsearch import ApiError, BadRequestError, Elasticsearch

from adapters.elasticsearch_client import make_elasticsearch_client, unreachable_sentence
from adapters.image_index import IndexingFailed
from adapters.object_store import ObjectStore
from dataset.dead_letters import index_or_dead_letter
from dataset.image_record import FIELD_NAMES
from dataset.label_corrections import CorrectionLog
from dataset.manifest import Manifest
from dataset.reader_checks import first_line, where
from infra.schemas import ensure_index
from photo.reasons import INDEX_REFUSED
from settings import Settings

BATCH_ROWS = 500  # rows per bulk request: helpers.bulk's own chunk size


class ReindexRefused(Exception):
    """Elasticsearch does not answer, holds an index of another mapping, or failed on the
    way; one sentence for people."""


@dataclass(frozen=True)
class ReindexReport:
    """What a run did: the manifest version it read, documents indexed, new dead letters."""

    root: str
    version: int
    index: str
    indexed: int
    dead_letters: int

    def line(self) -> str:
        return (f"reindexed version {self.version} of {self.root} into {self.index}: "
                f"{self.indexed} documents indexed, {self.dead_letters} dead letters")


def run_reindex(store: ObjectStore, settings: Settings) -> ReindexReport:
    """The command: the index of `settings` made with its mapping unless it exists, then
    rebuilt from the store's dataset; ReindexRefused says in a sentence what went wrong."""
    url, index = settings.elasticsearch_url, settings.elasticsearch_index
    search = make_elasticsearch_client(url, settings.elasticsearch_auth)
    if not search.ping():
        raise ReindexRefused(unreachable_sentence(url))
    try:
        prepare_index(search, url, index)
        return reindex(store, search, index)
    except (TransportError, ApiError, IndexingFailed) as error:
        raise ReindexRefused(f"Elasticsearch failed while indexing ({first_line(error)}); "
                             "run reindex again once it answers: it overwrites what it "
                             "wrote") from error


def prepare_index(search: Elasticsearch, url: str, index: str) -> None:
    """The image template installed and the index made, unless it exists with a mapping the
    image record's cannot replace: one Elasticsearch made up for the documents of a stream
    that wrote on before the template was back."""
    try:
        ensure_index(search, index)
    except BadRequestError as error:
        raise ReindexRefused(
            f"the index {index} has a mapping of its own, not the image record's "
            f"({first_line(error)}): delete it (curl -X DELETE {url}/{index}) and run reindex "
            "again; the template is in place now, so the index comes back with its mapping"
        ) from error


def reindex(store: ObjectStore, search: Elasticsearch, index: str,
            batch_rows: int = BATCH_ROWS) -> ReindexReport:
    """Index every record of the store's newest manifest version into `index`, which exists."""
    manifest = Manifest.of(store)
    table = manifest.table()
    corrections = CorrectionLog.of(store)
    processed_at = datetime.now(UTC).isoformat()
    indexed = letters = 0
    for rows in record_batches(table.to_pyarrow_dataset(filesystem=manifest.files()), batch_rows):
        written = index_or_dead_letter(search, index, store, corrections.relabelled(rows),
                                       processed_at)
        refused = sum(row["reason"] == INDEX_REFUSED.code for row in written)
        indexed, letters = indexed + len(written) - refused, letters + refused
    return ReindexReport(where(store), table.version(), index, indexed, letters)


def record_batches(dataset: ds.Dataset, batch_rows: int) -> Iterator[list[dict]]:
    """The rows of a table's pyarrow dataset, at most batch_rows at a time, each with every
    field of the image record (null where a manifest from before that field has no column).

    One file read at a time: with threads, pyarrow read the files ahead of the indexing (+350 MB
    at 60,000 rows of 4 KB thumbnails); without, the run's peak stayed +70 MB from 2,000 to
    60,000 rows."""
    scanner = dataset.scanner(batch_size=batch_rows, batch_readahead=1, fragment_readahead=1,
                              use_threads=False)
    for batch in scanner.to_batches():
        if batch.num_rows:
            yield [{**dict.fromkeys(FIELD_NAMES), **row} for row in batch.to_pylist()]
