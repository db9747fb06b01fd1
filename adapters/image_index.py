"""Elasticsearch documents of images: one per image, _id = image id, so replays overwrite."""

from __future__ import annotations

import base64
from collections.abc import Iterable

from elasticsearch import Elasticsearch, NotFoundError, helpers

DOCUMENT_FIELDS = (
    "image_id", "label", "status", "reason", "error", "format", "width", "height", "lat", "lon",
    "altitude", "captured_at", "camera", "source", "raw_key", "shard_key", "device_id",
)


def document_of(row: dict, processed_at: str) -> dict:
    """The search document of a manifest row; `location` only when GPS is known."""
    doc = {field: row.get(field) for field in DOCUMENT_FIELDS}
    doc["processed_at"] = processed_at
    if row.get("lat") is not None and row.get("lon") is not None:
        doc["location"] = {"lat": row["lat"], "lon": row["lon"]}
    if row.get("thumbnail"):
        doc["thumbnail"] = base64.b64encode(row["thumbnail"]).decode()
    return doc


def index_rows(client: Elasticsearch, index: str, rows: Iterable[dict], processed_at: str) -> int:
    """Bulk-index manifest rows; returns how many were written. Raises on any failure.

    No refresh is forced: a get by id sees the documents at once, searches within the index's
    refresh interval (1 s), and waiting for it cost the stream ~0.9 s per micro-batch.
    """
    actions = (
        {"_index": index, "_id": row["image_id"], "_source": document_of(row, processed_at)}
        for row in rows
    )
    written, _ = helpers.bulk(client, actions)
    return written


def get_image(client: Elasticsearch, index: str, image_id: str) -> dict | None:
    """The document of an image, or None while it is unknown."""
    try:
        return client.get(index=index, id=image_id)["_source"]
    except NotFoundError:
        return None
