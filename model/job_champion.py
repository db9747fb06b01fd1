"""The champion as a job's driver sees it (the stream, the batch job, `model score`), and its
trip to the Spark tasks.

The batch job asks the registry once (`ask_champion`). The stream's `ChampionWatch` asks on a
thread of its own, again MODEL_REFRESH_S after each answer, whether batches run or not: a
promotion reaches the stream within that time and the new file's download, without a restart,
and no batch ever waits for the registry but the first one (FIRST_ANSWER_WAIT_S at most). While
the registry cannot answer, the stream keeps the champion it has. Nothing here raises: no model
is a state (`ModelState.problem` says why, in words), and photos are processed without one.
Asking, its thread and the outage's log lines are those of the API's Champion
(model/registry_watch.py).

`ModelBroadcast` ships the model's bytes to the executors as a Spark broadcast variable, once
per version, so a cluster's executors need neither the driver's disk nor the registry.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass

from pyspark import SparkContext

from model import registry
from model.predictions import ShippedModel
from model.registry import ServedModel
from model.registry_watch import Outage, ask, keep_asking
from settings import Settings

FIRST_ANSWER_WAIT_S = 30.0  # how long the stream's first batch waits for the registry

NO_CHAMPION, REGISTRY_UNAVAILABLE = "no_champion", "registry_unavailable"

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ModelState:
    """The model a job predicts with, if any, and what kept the registry from answering."""

    model: ServedModel | None
    problem: str | None = None  # a sentence: why no model, or why the registry did not answer
    registry_answered: bool = True

    @property
    def why_none(self) -> str | None:
        """Why photos go without a prediction (a metric's label), or None with a model."""
        if self.model is not None:
            return None
        return NO_CHAMPION if self.registry_answered else REGISTRY_UNAVAILABLE


def ask_champion(settings: Settings, ask_registry: Callable = registry.champion,
                 kept: ServedModel | None = None) -> ModelState:
    """The registry's answer now; `kept` (the champion a running job has) when it cannot answer."""
    answer = ask(lambda: ask_registry(settings))
    if not answer.answered:
        return ModelState(kept, answer.problem, registry_answered=False)
    if answer.model is None:
        return ModelState(None, f"the registry has no champion of {settings.model_name} yet "
                                "(python -m model promote VERSION makes one)")
    return ModelState(answer.model)


class ChampionWatch:
    """The stream's view of the champion: `state()` gives the last answer; a thread asks the
    registry from the first call on, MODEL_REFRESH_S after each answer, for as long as the
    watch is in use (it holds the watch weakly and ends once nothing else does)."""

    def __init__(self, settings: Settings, ask: Callable = registry.champion,
                 first_answer_wait_s: float = FIRST_ANSWER_WAIT_S):
        self.settings, self.ask, self.first_answer_wait_s = settings, ask, first_answer_wait_s
        self._state: ModelState | None = None
        self._answered = threading.Event()
        self._asking: threading.Thread | None = None
        self._lock = threading.Lock()
        self._outage = Outage(log)

    def state(self) -> ModelState:
        with self._lock:
            first = self._asking is None
            if first:
                self._asking = keep_asking(self, self.settings.model_refresh_s,
                                           name="champion-watch")
        if first:
            self._answered.wait(self.first_answer_wait_s)
        return self._state or ModelState(None, "the registry has not answered yet",
                                         registry_answered=False)

    def refresh(self) -> None:
        """Ask the registry now, and keep its answer (or the model, when it cannot answer)."""
        kept = self._state.model if self._state else None
        state = ask_champion(self.settings, self.ask, kept)
        if state.model != kept:
            log.info("model: now %s (was %s)", _named(state.model), _named(kept))
        if state.registry_answered:
            self._outage.up()
        else:
            self._outage.down(state.problem, f"predicting with {_named(state.model)}")
        self._state = state
        self._answered.set()


def _named(model: ServedModel | None) -> str:
    return "no model" if model is None else f"{model.name} version {model.version}"


class ModelBroadcast:
    """The bytes of the model a job predicts with, as a broadcast variable: one per version, the
    previous one destroyed when the version changes (the stream runs one batch at a time)."""

    def __init__(self):
        self._version: str | None = None
        self._broadcast = None

    def ship(self, context: SparkContext, model: ServedModel | None) -> ShippedModel | None:
        """The model for the tasks, or None without one (or when its file cannot be read)."""
        if model is None:
            return None
        if model.version != self._version:
            try:
                onnx = model.path.read_bytes()
            except OSError as error:
                log.error("cannot read the model file %s, so photos go without a prediction: "
                          "%s", model.path, error)
                return None
            self.destroy()
            self._broadcast, self._version = context.broadcast(onnx), model.version
        return ShippedModel(model.version, self._broadcast)

    def destroy(self) -> None:
        """Drop the broadcast, on the driver and the executors."""
        if self._broadcast is not None:
            self._broadcast.destroy()
            self._broadcast = self._version = None
