"""Kafka messages as the API writes them, and looks at what the streaming job made of them.

A photo message is key = a name, value = JPEG bytes (some with EXIF GPS), headers from
photo.messages.encode_headers. Messages go to explicit partitions, round robin, so a
test knows which partition holds what.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from kafka import KafkaProducer

from adapters.elasticsearch_client import make_elasticsearch_client
from adapters.object_store import ObjectStore
from dataset.manifest import Manifest
from kit.photos import encode, exif_bytes, gps_ifd, photo_like
from photo.messages import encode_headers
from preprocessing import image_id_of

FIELD = (-1.286, 36.817)  # Nairobi
BBOX = (36.7, -1.4, 36.9, -1.2)  # min_lon, min_lat, max_lon, max_lat around FIELD
BAD_FILE = b"these are my field notes, not a photo"


@dataclass(frozen=True)
class Message:
    key: bytes
    value: bytes
    headers: list[tuple[str, bytes]]
    partition: int
    gps: bool = False
    timestamp_ms: int | None = None

    @property
    def image_id(self) -> str:
        return image_id_of(self.value or b"")


def photo_messages(count: int, *, first: int = 0, partitions: int = 3,
                   edit: Callable[[int, np.ndarray], np.ndarray] | None = None) -> list[Message]:
    """`count` distinct small JPEGs; every other one has EXIF GPS near FIELD. `edit(n, pixels)`
    changes the n-th picture before it is encoded (darkens it, blurs it)."""
    messages = []
    for n in range(first, first + count):
        options = {}
        if n % 2 == 0:
            gps = gps_ifd(FIELD[0] + n / 10_000, FIELD[1] + n / 10_000)
            options["exif"] = exif_bytes(gps=gps)
        pixels = photo_like(320, 240, seed=n)
        jpeg = encode(edit(n, pixels) if edit else pixels, "jpeg", quality=85, **options)
        facts = {"label": "maize" if n % 3 else "cassava", "device_id": f"phone-{n % 4}",
                 "client_captured_at": "2026-11-20T08:00:00Z"}
        messages.append(Message(f"photo-{n}".encode(), jpeg, encode_headers(facts),
                                n % partitions, gps="exif" in options))
    return messages


def bad_message(partition: int = 1) -> Message:
    """A text file sent as a photo: the job must dead-letter it and go on."""
    facts = {"label": "wheat", "device_id": "phone-9"}
    return Message(b"bad", BAD_FILE, encode_headers(facts), partition)


def produce(bootstrap_servers: str, topic: str, messages: list[Message]) -> None:
    """Send and wait for every acknowledgement, as the API does."""
    producer = KafkaProducer(
        bootstrap_servers=bootstrap_servers, acks="all", max_request_size=20 * 1024 * 1024
    )
    try:
        for message in messages:
            producer.send(
                topic, message.value, key=message.key, headers=message.headers,
                partition=message.partition, timestamp_ms=message.timestamp_ms,
            )
        producer.flush()
    finally:
        producer.close()


def manifest_rows_written(store: ObjectStore) -> list[dict]:
    """Every row of the manifest table, without the reader's one-row-per-image dedup.

    An image that a replay committed twice would show up here twice.
    """
    return Manifest.of(store).rows().to_pylist()


def documents(settings) -> dict[str, dict]:
    """Every document of the settings' index by _id; none while the index does not exist."""
    search = make_elasticsearch_client(settings.elasticsearch_url)
    index = settings.elasticsearch_index
    search.indices.refresh(index=index, ignore_unavailable=True)
    hits = search.search(index=index, size=1000, ignore_unavailable=True)["hits"]["hits"]
    return {hit["_id"]: hit["_source"] for hit in hits}
