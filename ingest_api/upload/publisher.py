"""KafkaPublisher: hands an upload to Kafka and waits until the broker has acknowledged it.

The producer is created on first use, not when the app starts, so the service starts and
answers while the broker is down, and each gunicorn worker gets its own producer after the
fork. Any failure drops the producer; the next upload builds a new one, which is how the
service recovers once the broker is back. Every wait is bounded, and a ServiceGuard keeps a
broker outage from holding the API's threads: at most MAX_KAFKA_CALLS requests per process
wait on Kafka at once, and after a failure uploads are refused at once (503) until a
background probe finds the broker answering again.
"""

from __future__ import annotations

import logging
import socket
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass

from flask import Flask, current_app
from kafka import KafkaAdminClient, KafkaProducer
from kafka.errors import KafkaError

from ingest_api.ops.closing import on_close
from ingest_api.ops.errors import RETRY_AFTER_SECONDS, Unavailable
from ingest_api.ops.guard import ServiceGuard
from ingest_api.ops.metrics import KAFKA_PUBLISH
from settings import Settings

log = logging.getLogger(__name__)

EXTENSION_KEY = "kafka_publisher"

# Room for the record's key, headers and batch framing on top of the largest upload.
MESSAGE_HEADROOM_BYTES = 1024 * 1024

# Bounds on every wait, in milliseconds: reaching the broker, waiting for the topic's
# metadata inside send(), one request, and the whole delivery including retries.
BOOTSTRAP_TIMEOUT_MS = 1500
MAX_BLOCK_MS = 1000
REQUEST_TIMEOUT_MS = 2000
DELIVERY_TIMEOUT_MS = 2500
RECONNECT_BACKOFF_MAX_MS = 1000
# The whole of publish(): waiting for another thread's connection, sending, the acknowledgement.
# send() may block MAX_BLOCK_MS past it: with the wait for a slot, an upload hears within 4 s.
PUBLISH_TIMEOUT_S = 2.5

# Requests of one process waiting on Kafka at once (uploads and readiness checks), how long a
# request waits for one of those slots, and how often a broken broker is probed.
MAX_KAFKA_CALLS = 8
SLOT_WAIT_S = 0.25
PROBE_INTERVAL_S = 1.0


class KafkaUnavailable(Unavailable):
    """The upload could not be handed to Kafka in time; the client should retry later.

    Refused during an outage maybe before the body was read: the body is drained.
    """

    code = "kafka_unavailable"
    drains_body = True
    log_as = "Kafka is unavailable"
    public_message = (
        "the upload could not be confirmed as stored right now; send it again in "
        f"{RETRY_AFTER_SECONDS} seconds (sending the same photo twice is harmless)"
    )


class KafkaBusy(KafkaUnavailable):
    """This worker's Kafka calls are all taken by other uploads; Kafka itself may be fine."""

    code = "kafka_busy"
    log_as = "upload refused, worker busy with other uploads"
    public_message = (
        "the server is busy storing other uploads; send this one again in "
        f"{RETRY_AFTER_SECONDS} seconds (sending the same photo twice is harmless)"
    )


class KafkaNotReady(KafkaUnavailable):
    """The readiness check found the broker down or the topic missing."""

    drains_body = False
    log_as = "not ready, Kafka is unavailable"
    public_message = (
        "not ready: Kafka does not answer or has no such topic; the API's log says which, "
        "under this request id"
    )


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
        self.guard = ServiceGuard(
            "Kafka",
            KafkaUnavailable,
            KafkaBusy,
            probe=self._describe_topic,
            slots=MAX_KAFKA_CALLS,
            slot_wait_s=SLOT_WAIT_S,
            probe_interval_s=PROBE_INTERVAL_S,
        )

    @classmethod
    def from_settings(cls, settings: Settings) -> KafkaPublisher:
        return cls(
            settings.kafka_bootstrap_servers, settings.kafka_topic, settings.max_upload_bytes
        )

    def init_app(self, app: Flask) -> None:
        app.extensions[EXTENSION_KEY] = self
        on_close(app, self.close)

    def refuse_while_unavailable(self) -> None:
        """Raise KafkaUnavailable at once during a known outage (the guard's breaker is open),
        so that a refused upload costs no parsing or decoding."""
        self.guard.refuse_while_open()

    def publish(self, key: str, value: bytes, headers: Sequence[tuple[str, bytes]]) -> Receipt:
        """Send one message and wait for the broker's acknowledgement; raise KafkaUnavailable."""
        with self.guard.call():
            started = time.monotonic()
            deadline = started + PUBLISH_TIMEOUT_S
            producer = self._current_producer(deadline)
            try:
                future = producer.send(
                    self.topic, key=key.encode(), value=value, headers=list(headers)
                )
                metadata = future.get(timeout=max(deadline - time.monotonic(), 0))
            except KafkaError as error:
                KAFKA_PUBLISH.labels("failed").observe(time.monotonic() - started)
                self._discard(producer)
                log.warning("publishing %s to %s failed: %r", key, self.topic, error)
                raise KafkaUnavailable("Kafka did not acknowledge the upload in time") from error
            KAFKA_PUBLISH.labels("ok").observe(time.monotonic() - started)
        return Receipt(metadata.topic, metadata.partition, metadata.offset)

    def check(self) -> None:
        """Ask the broker for the topic's metadata on a fresh connection; raise KafkaNotReady.

        Independent of the producer, whose cached metadata would hide a broker that went away.
        Refused at once, like uploads, while the guard's breaker is open.
        """
        try:
            with self.guard.call():
                self._describe_topic()
        except KafkaUnavailable as error:
            raise KafkaNotReady(str(error)) from error

    def _describe_topic(self) -> None:
        if not self._broker_listens():
            raise KafkaUnavailable("Kafka does not answer")
        try:
            admin = KafkaAdminClient(
                bootstrap_servers=self.bootstrap_servers,
                client_id="ingest-api-readiness",
                bootstrap_timeout_ms=BOOTSTRAP_TIMEOUT_MS,
                request_timeout_ms=BOOTSTRAP_TIMEOUT_MS,
            )
        except KafkaError as error:
            log.info("Kafka at %s does not answer: %r", self.bootstrap_servers, error)
            raise KafkaUnavailable("Kafka does not answer") from error
        try:
            (topic,) = admin.describe_topics([self.topic])
        except KafkaError as error:
            log.info("Kafka does not describe %s: %r", self.topic, error)
            raise KafkaUnavailable("Kafka does not describe the topic") from error
        finally:
            admin.close()
        if topic["error_code"] != 0 or not topic["partitions"]:
            raise KafkaUnavailable(f"the topic {self.topic!r} is not available")

    def _broker_listens(self) -> bool:
        """Whether any bootstrap server accepts a connection. Asked before making an admin
        client: kafka-python leaves the I/O thread of one whose bootstrap fails running, so
        probing a broker that is down would leak a thread and its sockets every time."""
        for server in self.bootstrap_servers.split(","):
            host, _, port = server.strip().rpartition(":")
            try:
                socket.create_connection((host, int(port)),
                                         timeout=BOOTSTRAP_TIMEOUT_MS / 1000).close()
                return True
            except (OSError, ValueError) as error:
                log.info("Kafka at %s does not answer: %r", server, error)
        return False

    def close(self) -> None:
        """Close the producer, waiting for messages in flight at most as long as they may take."""
        self.guard.close()
        with self._lock:
            producer, self._producer = self._producer, None
        if producer is not None:
            _close_quietly(producer)

    def _current_producer(self, deadline: float) -> KafkaProducer:
        # Waiting for another thread that is connecting ends with the publish's deadline.
        if not self._lock.acquire(timeout=max(deadline - time.monotonic(), 0)):
            raise KafkaUnavailable("still connecting to Kafka")
        try:
            if self._producer is None:
                if self.guard.is_open:  # the thread we waited for has just failed to connect
                    raise KafkaUnavailable("Kafka cannot be reached")
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
            log.warning("connecting to Kafka at %s failed: %r", self.bootstrap_servers, error)
            raise KafkaUnavailable("Kafka cannot be reached") from error

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
