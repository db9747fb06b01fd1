"""Elasticsearch documents of images: one per image, _id = image id, so replays overwrite."""

from __future__ import annotations

import base64
from collections.abc import Iterable
from dataclasses import dataclass

from elasticsearch import Elasticsearch, NotFoundError, helpers

# Characters of an error text kept in a document: enough to read, never a whole traceback.
MAX_ERROR_CHARS = 1000


@dataclass(frozen=True)
class Refusal:
    """Elasticsearch refused one document (a 400 bulk item): the photo's fault, not the server's."""

    image_id: str
    error: str


class IndexingFailed(Exception):
    """The index could not take documents (blocked, throttled, failing): retry the whole batch."""


def document_of(row: dict, processed_at: str) -> dict:
    """The search document of a manifest row: the row's fields, the thumbnail in base64,
    `processed_at`, and `location` only when GPS is known."""
    doc = {field: value for field, value in row.items() if field != "thumbnail"}
    if doc.get("error"):
        doc["error"] = doc["error"][:MAX_ERROR_CHARS]
    doc["processed_at"] = processed_at
    if row.get("lat") is not None and row.get("lon") is not None:
        doc["location"] = {"lat": row["lat"], "lon": row["lon"]}
    if row.get("thumbnail"):
        doc["thumbnail"] = base64.b64encode(row["thumbnail"]).decode()
    return doc


def index_rows(
    client: Elasticsearch, index: str, rows: Iterable[dict], processed_at: str
) -> list[Refusal]:
    """Bulk-index manifest rows; return the documents the server refused one by one.

    A refused document (a 400 item: a field the mapping cannot take) belongs to its photo and
    is returned. Any other failed item (403 a write block such as a full disk's, 429
    throttling, 5xx) raises IndexingFailed, and an unreachable server raises the client's
    error: those concern the whole batch.

    No refresh is forced: a get by id sees the documents at once, searches within the index's
    refresh interval (1 s), and waiting for it cost the stream ~0.9 s per micro-batch.
    """
    actions = (
        {"_index": index, "_id": row["image_id"], "_source": document_of(row, processed_at)}
        for row in rows
    )
    _, failures = helpers.bulk(client, actions, raise_on_error=False)
    refusals = []
    for failure in failures:
        item = next(iter(failure.values()))
        if item["status"] != 400:
            raise IndexingFailed(f"Elasticsearch answered {item['status']}: {item.get('error')}")
        refusals.append(Refusal(item["_id"], _error_text(item.get("error"))))
    return refusals


def _error_text(error) -> str:
    """`type: reason (caused by type: reason)` of a bulk item's error, bounded."""
    if not isinstance(error, dict):
        return str(error)[:MAX_ERROR_CHARS]
    text = f"{error.get('type')}: {error.get('reason')}"
    cause = error.get("caused_by")
    if isinstance(cause, dict):
        text += f" (caused by {cause.get('type')}: {cause.get('reason')})"
    return text[:MAX_ERROR_CHARS]


def get_image(client: Elasticsearch, index: str, image_id: str) -> dict | None:
    """The document of an image, or None while it is unknown."""
    try:
        return client.get(index=index, id=image_id)["_source"]
    except NotFoundError:
        return None


def relabel(client: Elasticsearch, index: str, image_id: str, label: str) -> None:
    """Set the label of an image's document (a label correction); it must exist."""
    client.update(index=index, id=image_id, doc={"label": label})
