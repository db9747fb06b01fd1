"""KafkaPublisher: hands an upload to Kafka and waits until the broker has acknowledged it.

The producer is created on first use, not when the app starts, so the service starts and
answers while the broker is down, and each gunicorn worker gets its own producer after the
fork. Any failure drops the producer; the next upload builds a new one, which is how the
service recovers once the broker is back. Every wait is bounded: a request that cannot be
published fails with KafkaUnavailable within a few seconds instead of hanging.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from dataclasses import dataclass

from flask import Flask, current_app
from kafka import KafkaAdminClient, KafkaProducer
from kafka.errors import KafkaError

from settings import Settings

log = logging.getLogger(__name__)

EXTENSION_KEY = "kafka_publisher"

# Room for the record's key, headers and batch framing on top of the largest upload.
MESSAGE_HEADROOM_BYTES = 1024 * 1024

# Bounds on every wait, in milliseconds: reaching the broker, waiting for the topic's
# metadata inside send(), one request, and the whole delivery including retries.
BOOTSTRAP_TIMEOUT_MS = 2000
MAX_BLOCK_MS = 3000
REQUEST_TIMEOUT_MS = 4000
DELIVERY_TIMEOUT_MS = 5000
RECONNECT_BACKOFF_MAX_MS = 1000


class KafkaUnavailable(Exception):
    """The upload could not be handed to Kafka in time; the client should retry later."""


@dataclass(frozen=True)
class Receipt:
    """Where the broker stored the message."""

    topic: str
    partition: int
    offset: int


class KafkaPublisher:
    """One idempotent producer (acks=all) per process, shared by the request threads."""

    def __init__(self, bootstrap_servers: str, topic: str, max_message_bytes: int):
        self.bootstrap_servers = bootstrap_servers
        self.topic = topic
        self.max_request_size = max_message_bytes + MESSAGE_HEADROOM_BYTES
        self._producer: KafkaProducer | None = None
        self._lock = threading.Lock()

    @classmethod
    def from_settings(cls, settings: Settings) -> KafkaPublisher:
        return cls(
            settings.kafka_bootstrap_servers, settings.kafka_topic, settings.max_upload_bytes
        )

    def init_app(self, app: Flask) -> None:
        app.extensions[EXTENSION_KEY] = self

    def publish(self, key: str, value: bytes, headers: Sequence[tuple[str, bytes]]) -> Receipt:
        """Send one message and wait for the broker's acknowledgement; raise KafkaUnavailable."""
        producer = self._current_producer()
        try:
            future = producer.send(self.topic, key=key.encode(), value=value, headers=list(headers))
            metadata = future.get(timeout=DELIVERY_TIMEOUT_MS / 1000 + 1)
        except KafkaError as error:
            self._discard(producer)
            log.warning("publishing %s to %s failed: %r", key, self.topic, error)
            raise KafkaUnavailable(f"Kafka did not acknowledge the upload: {error}") from error
        return Receipt(metadata.topic, metadata.partition, metadata.offset)

    def check(self) -> None:
        """Ask the broker for the topic's metadata on a fresh connection; raise KafkaUnavailable.

        Independent of the producer, whose cached metadata would hide a broker that went away.
        """
        try:
            admin = KafkaAdminClient(
                bootstrap_servers=self.bootstrap_servers,
                client_id="ingest-api-readiness",
                bootstrap_timeout_ms=BOOTSTRAP_TIMEOUT_MS,
                request_timeout_ms=BOOTSTRAP_TIMEOUT_MS,
            )
        except KafkaError as error:
            raise KafkaUnavailable(f"Kafka does not answer: {error}") from error
        try:
            (topic,) = admin.describe_topics([self.topic])
        except KafkaError as error:
            raise KafkaUnavailable(f"Kafka does not describe the topic: {error}") from error
        finally:
            admin.close()
        if topic["error_code"] != 0 or not topic["partitions"]:
            raise KafkaUnavailable(
                f"topic {self.topic!r} is not available (error code {topic['error_code']})"
            )

    def close(self) -> None:
        """Close the producer, waiting for messages in flight at most as long as they may take."""
        with self._lock:
            producer, self._producer = self._producer, None
        if producer is not None:
            _close_quietly(producer)

    def _current_producer(self) -> KafkaProducer:
        # Waiting for another thread that is connecting is bounded like connecting ourselves.
        if not self._lock.acquire(timeout=BOOTSTRAP_TIMEOUT_MS / 1000 + 1):
            raise KafkaUnavailable("still connecting to Kafka")
        try:
            if self._producer is None:
                self._producer = self._new_producer()
            return self._producer
        finally:
            self._lock.release()

    def _new_producer(self) -> KafkaProducer:
        try:
            return KafkaProducer(
                bootstrap_servers=self.bootstrap_servers,
                client_id="ingest-api",
                acks="all",
                enable_idempotence=True,
                max_request_size=self.max_request_size,
                bootstrap_timeout_ms=BOOTSTRAP_TIMEOUT_MS,
                max_block_ms=MAX_BLOCK_MS,
                request_timeout_ms=REQUEST_TIMEOUT_MS,
                delivery_timeout_ms=DELIVERY_TIMEOUT_MS,
                reconnect_backoff_max_ms=RECONNECT_BACKOFF_MAX_MS,
            )
        except KafkaError as error:
            raise KafkaUnavailable(f"cannot connect to Kafka: {error}") from error

    def _discard(self, producer: KafkaProducer) -> None:
        """Forget a failed producer and close it in the background (its closing can wait)."""
        with self._lock:
            if self._producer is producer:
                self._producer = None
        threading.Thread(target=_close_quietly, args=(producer,), daemon=True).start()


def _close_quietly(producer: KafkaProducer) -> None:
    # close() first flushes and raises KafkaTimeoutError, leaving the producer open, if a record
    # is still pending when its timeout ends; records give up after DELIVERY_TIMEOUT_MS, so
    # waiting a little longer than that always lets it finish.
    try:
        producer.close(timeout=DELIVERY_TIMEOUT_MS / 1000 + 1)
    except KafkaError as error:
        log.warning("closing the Kafka producer failed: %r", error)


def get_publisher() -> KafkaPublisher:
    """The publisher of the app handling the current request."""
    return current_app.extensions[EXTENSION_KEY]
