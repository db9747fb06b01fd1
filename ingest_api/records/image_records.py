"""ImageRecords: what the pipeline has recorded about an upload, read from Elasticsearch.

The streaming job writes one document per image (adapters/image_index.py); the API only reads
it, so a client can follow its upload from "accepted" to "processed" or "rejected". A
ServiceGuard keeps an Elasticsearch outage from holding the API's threads.
"""

from __future__ import annotations

import base64
import logging
import re
import threading

from elastic_transport import TransportError
from elasticsearch import ApiError, Elasticsearch
from flask import Flask, current_app

from adapters.elasticsearch_client import make_elasticsearch_client
from adapters.image_index import get_image, relabel
from dataset.image_record import PUBLIC_FIELDS as RECORD_PUBLIC_FIELDS
from dataset.image_record import REJECTED, STATUSES
from ingest_api.ops.closing import on_close
from ingest_api.ops.errors import RETRY_AFTER_SECONDS, Unavailable
from ingest_api.ops.guard import ServiceGuard
from photo.reasons import READABLE_CODES
from settings import Settings

log = logging.getLogger(__name__)

EXTENSION_KEY = "image_records"

# An image id: the sha256 of the photo's bytes, in either case.
IMAGE_ID = re.compile(r"[0-9a-fA-F]{64}")

# Seconds one lookup may take before the index counts as unavailable.
REQUEST_TIMEOUT_S = 3

# Lookups of one process waiting on Elasticsearch at once, how long a request waits for one
# of those slots, and how often a broken Elasticsearch is probed.
MAX_INDEX_CALLS = 2
SLOT_WAIT_S = 0.25
PROBE_INTERVAL_S = 1.0

# The fields of a document that the API shows: the record's public ones (not the thumbnail,
# nor internal error text), and when the photo was indexed.
PUBLIC_FIELDS = (*RECORD_PUBLIC_FIELDS, "processed_at")



class IndexUnavailable(Unavailable):
    """Elasticsearch could not be asked; the client should retry later."""

    code = "elasticsearch_unavailable"
    log_as = "Elasticsearch is unavailable"
    public_message = (
        f"image records cannot be looked up right now; ask again in {RETRY_AFTER_SECONDS} "
        "seconds (uploads still work)"
    )


class IndexBusy(IndexUnavailable):
    """This worker's Elasticsearch calls are all taken by other requests."""

    code = "elasticsearch_busy"
    log_as = "look-up refused, worker busy with other look-ups"
    public_message = (
        f"the server is busy with other look-ups; ask again in {RETRY_AFTER_SECONDS} seconds"
    )


def public_record(document: dict) -> dict | None:
    """The API's view of an image document, or None while the image is not processed."""
    status = document.get("status")
    if status not in STATUSES:  # not finished: reported as unknown
        return None
    record = {"image_id": document.get("image_id"), "status": status}
    if status == REJECTED:
        record["reason"] = document.get("reason")
        record["message"] = rejection_message(document)
    record.update({name: document.get(name) for name in PUBLIC_FIELDS if name != "image_id"})
    return record


def rejection_message(document: dict) -> str:
    """Why a photo was rejected, in words a person can act on."""
    if document.get("reason") in READABLE_CODES and document.get("error"):
        return document["error"]
    # Not "send it again": a copy of a recorded photo is a duplicate (docs/ingest_api.md).
    return ("the pipeline could not process or store this photo; tell an operator its image "
            "id, the log says why")


class ImageRecords:
    """Looks up image documents; connects on first use so the app starts without Elasticsearch."""

    def __init__(self, url: str, index: str, auth: tuple[str, str] | None = None):
        self.url = url
        self.index = index
        self.auth = auth
        self._client: Elasticsearch | None = None
        self._lock = threading.Lock()
        self.guard = ServiceGuard(
            "Elasticsearch",
            IndexUnavailable,
            IndexBusy,
            probe=self._ping,
            slots=MAX_INDEX_CALLS,
            slot_wait_s=SLOT_WAIT_S,
            probe_interval_s=PROBE_INTERVAL_S,
        )

    @classmethod
    def from_settings(cls, settings: Settings) -> ImageRecords:
        return cls(
            settings.elasticsearch_url, settings.elasticsearch_index, settings.elasticsearch_auth
        )

    def init_app(self, app: Flask) -> None:
        app.extensions[EXTENSION_KEY] = self
        on_close(app, self.close)

    def get(self, image_id: str) -> dict | None:
        """The public record of a processed image, None if unknown; raise IndexUnavailable."""
        document = self._guarded(f"looking up {image_id}", get_image, image_id)
        return None if document is None else public_record(document)

    def thumbnail(self, image_id: str) -> bytes | None:
        """The JPEG thumbnail of a processed image, None if it has none or is unknown."""
        document = self._guarded(f"looking up {image_id}", get_image, image_id)
        if document is None or document.get("status") not in STATUSES:
            return None
        encoded = document.get("thumbnail")
        return base64.b64decode(encoded) if encoded else None

    def search(self, body: dict) -> dict:
        """The answer of a search of the index (`body`: query DSL); raise IndexUnavailable."""
        return self._guarded(
            "searching", lambda client, index: client.search(index=index, **body).body
        )

    def _guarded(self, what: str, call, *args):
        """`call(client, index, *args)` within the guard, its failures as IndexUnavailable."""
        with self.guard.call():
            try:
                return call(self._connected(), self.index, *args)
            except (TransportError, ApiError) as error:
                log.warning("%s in %s failed: %r", what, self.index, error)
                raise IndexUnavailable("Elasticsearch did not answer") from error

    def relabel(self, image_id: str, label: str) -> None:
        """Set the label of an image's document; raise IndexUnavailable."""
        self._guarded(f"relabelling {image_id}", relabel, image_id, label)

    def close(self) -> None:
        """Stop probing Elasticsearch and close the client: the app is gone."""
        self.guard.close()
        with self._lock:
            client, self._client = self._client, None
        if client is not None:
            client.close()

    def _ping(self) -> None:
        """Raise IndexUnavailable unless Elasticsearch answers."""
        try:
            self._connected().info()
        except (TransportError, ApiError) as error:
            raise IndexUnavailable("Elasticsearch did not answer") from error

    def _connected(self) -> Elasticsearch:
        with self._lock:
            if self._client is None:
                try:
                    client = make_elasticsearch_client(self.url, self.auth)
                except (OSError, ValueError, KeyError) as error:
                    log.warning("cannot reach Elasticsearch at %s: %r", self.url, error)
                    raise IndexUnavailable("Elasticsearch cannot be reached") from error
                self._client = client.options(request_timeout=REQUEST_TIMEOUT_S, max_retries=0)
            return self._client


def get_image_records() -> ImageRecords:
    """The image records of the app handling the current request."""
    return current_app.extensions[EXTENSION_KEY]
