"""ServiceGuard: calls to a backing service (Kafka, Elasticsearch) never tie up the API's threads.

gunicorn serves each request on one of a few threads. A request waiting on a service that is
down holds its thread until a timeout; enough of them, and /is_alive queues behind them. Two
bounds prevent that, per process:
- slots: at most `slots` requests call the service at once; a request that finds every slot
  taken for `slot_wait_s` is refused as busy (the caller's 503), so the other threads stay
  free; the service may be fine, so this does not open the breaker;
- a circuit breaker: once a call fails, every request is refused at once, without a call,
  while one background thread probes the service every `probe_interval_s`; the first probe
  that succeeds lets requests through again. ingest_api_breaker_open{service} is 1 while it
  is open (the alert ApiBreakerOpen, docs/operations.md).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from ingest_api.ops.metrics import BREAKER_OPEN

log = logging.getLogger(__name__)


class ServiceGuard:
    """Slots and a circuit breaker around the calls to one service.

    `unavailable` is the exception type the calls raise when the service fails; the guard
    raises it too when it refuses a request while the breaker is open. `busy` is what it raises
    when no slot came free. `probe` raises `unavailable` while the service is down.
    """

    def __init__(
        self,
        service: str,
        unavailable: type[Exception],
        busy: type[Exception],
        probe: Callable[[], None],
        slots: int,
        slot_wait_s: float,
        probe_interval_s: float,
    ):
        self.service = service
        self.unavailable = unavailable
        self.busy = busy
        self.probe = probe
        self.slot_wait_s = slot_wait_s
        self.probe_interval_s = probe_interval_s
        self._slots = threading.BoundedSemaphore(slots)
        self._lock = threading.Lock()
        self._closed = threading.Event()
        self._open_since: float | None = None
        self._gauge = BREAKER_OPEN.labels(service.lower())
        self._gauge.set(0)

    @property
    def is_open(self) -> bool:
        """Whether requests are refused without calling the service."""
        return self._open_since is not None

    def refuse_while_open(self) -> None:
        """Raise `unavailable` at once while the breaker is open."""
        if self.is_open:
            raise self.unavailable(f"{self.service} is unavailable at the moment")

    @contextmanager
    def call(self) -> Iterator[None]:
        """Hold a slot for one call; refuse at once if the breaker is open, as busy if no slot
        frees up.

        A failure of the call (the `unavailable` exception) opens the breaker.
        """
        self.refuse_while_open()
        if not self._slots.acquire(timeout=self.slot_wait_s):
            raise self.busy(f"every {self.service} slot stayed taken for {self.slot_wait_s} s")
        try:
            yield
        except self.unavailable:
            self.trip()
            raise
        finally:
            self._slots.release()

    def trip(self) -> None:
        """Open the breaker, and start the thread that closes it once the service answers."""
        with self._lock:
            if self._open_since is not None:
                return
            self._open_since = time.monotonic()
            self._gauge.set(1)
        log.warning("%s failed: refusing its requests until it answers again", self.service)
        threading.Thread(target=self._recover, name=f"{self.service} probe", daemon=True).start()

    def close(self) -> None:
        """Stop probing: the app that owned this guard is gone."""
        self._closed.set()

    def _recover(self) -> None:
        while not self._closed.wait(self.probe_interval_s):
            try:
                self.probe()
            except Exception as error:  # any failure of the probe means "not yet"
                log.info("%s still unavailable: %r", self.service, error)
                continue
            with self._lock:
                self._gauge.set(0)
                opened, self._open_since = self._open_since, None
            log.warning("%s answers again after %.1f s", self.service, time.monotonic() - opened)
            return
