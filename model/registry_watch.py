"""Asking the registry for the champion, again and again: what the API's Champion
(model/champion.py) and the jobs' ChampionWatch (model/job_champion.py) share.

`ask` asks once and never raises: the registry's answer, or why it gave none, in words.
`keep_asking` asks on a daemon thread of its own, every interval, for as long as its owner is
in use. `Outage` logs a registry outage once when it starts and once when it ends, however often
the registry is asked meanwhile.

The registry is imported at the first failed lookup, not with this module: it imports
onnxruntime, whose threads do not survive the fork of gunicorn's workers (model/predictor.py).
"""

from __future__ import annotations

import logging
import threading
import time
import weakref
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from model.registry import ServedModel

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Answer:
    """The registry's champion (None: no champion), or `problem`: why it did not answer."""

    model: ServedModel | None
    problem: str | None = None

    @property
    def answered(self) -> bool:
        return self.problem is None


def ask(find: Callable[[], ServedModel | None]) -> Answer:
    """Ask once. Whatever the lookup raises, the process asking goes on: RegistryUnavailable
    says why in its own sentence; any other fault is logged with its traceback."""
    try:
        return Answer(find())
    except Exception as error:
        from model.registry import RegistryUnavailable

        if isinstance(error, RegistryUnavailable):
            return Answer(None, str(error))
        log.error("asking the registry for the champion failed", exc_info=error)
        return Answer(None, f"the registry could not be asked ({error!r})")


class Asking(Protocol):
    def refresh(self) -> None: ...


def keep_asking(owner: Asking, interval_s: float, *, stopped: threading.Event | None = None,
                first: Callable[[Asking], None] | None = None, name: str = "champion refresh"
                ) -> threading.Thread:
    """Start a daemon thread that calls first(owner), then owner.refresh() now and every
    interval_s, until `stopped` is set or nothing but the thread holds the owner any more (it
    holds it weakly, and not at all while it waits)."""
    owner_ref, stopped = weakref.ref(owner), stopped or threading.Event()

    def run() -> None:
        if first is not None and (current := owner_ref()) is not None:
            first(current)
            del current
        while (current := owner_ref()) is not None:
            current.refresh()
            del current  # not held while waiting: an owner nobody uses can go
            if stopped.wait(interval_s):
                return

    thread = threading.Thread(target=run, name=name, daemon=True)
    thread.start()
    return thread


class Outage:
    """Whether the registry is down, since when; each change logged once on `logger`."""

    def __init__(self, logger: logging.Logger):
        self.logger = logger
        self.since: float | None = None

    def down(self, reason: str, what_serves: str) -> None:
        if self.since is None:
            self.since = time.monotonic()
            self.logger.warning("the model registry does not answer (%s); %s", reason,
                                what_serves)

    def up(self) -> None:
        if self.since is not None:
            self.logger.warning("the model registry answers again after %.0f s",
                                time.monotonic() - self.since)
            self.since = None
