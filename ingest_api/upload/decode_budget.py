"""The decode memory one API worker may hold at once, shared by its request threads.

A counting semaphore in bytes: each upload reserves its decode's estimated peak (from the
header, preprocessing.upright_rgb_cost) before decoding and gives it back afterwards. An upload
that cannot get its share within the wait is refused with DecodeBusy (a 503 with Retry-After),
so a flood of large photos queues briefly and is then turned away instead of growing the worker.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

from flask import Flask, current_app

from ingest_api.ops.errors import RETRY_AFTER_SECONDS, Unavailable
from preprocessing.memory import MB
from settings import Settings

EXTENSION_KEY = "decode_budget"


class DecodeBusy(Unavailable):
    """The worker's decode budget did not free up in time for this upload."""

    code = "decoder_busy"
    log_as = "upload refused, worker busy decoding"
    public_message = (
        f"the server is busy decoding other large photos; retry in {RETRY_AFTER_SECONDS} seconds"
    )


class DecodeBudget:
    def __init__(self, capacity_bytes: int, wait_s: float):
        self.capacity_bytes = capacity_bytes
        self.wait_s = wait_s
        self._held = 0
        self._changed = threading.Condition()

    @classmethod
    def from_settings(cls, settings: Settings) -> DecodeBudget:
        return cls(settings.api_decode_budget_mb * MB, settings.api_decode_wait_s)

    def init_app(self, app: Flask) -> None:
        app.extensions[EXTENSION_KEY] = self

    @contextmanager
    def reserve(self, cost_bytes: int) -> Iterator[None]:
        """Hold `cost_bytes` of the budget (all of it, at most) while the block runs."""
        share = min(cost_bytes, self.capacity_bytes)
        with self._changed:
            if not self._changed.wait_for(
                lambda: self._held + share <= self.capacity_bytes, timeout=self.wait_s
            ):
                raise DecodeBusy(
                    f"no {share / MB:,.0f} MB of the {self.capacity_bytes / MB:,.0f} MB decode "
                    f"budget came free within {self.wait_s} s"
                )
            self._held += share
        try:
            yield
        finally:
            with self._changed:
                self._held -= share
                self._changed.notify_all()


def get_decode_budget() -> DecodeBudget:
    """The decode budget of the worker handling the current request."""
    return current_app.extensions[EXTENSION_KEY]
