"""The champion of a long-running process (an API worker, a stream): asked of the registry in the
background, swapped without a failed request, kept through registry outages.

A thread asks the registry every Settings.model_refresh_s which version is the champion. A new
version is loaded into a Predictor of its own first; then one assignment makes it the served
one. A request keeps the model it started with, so none fails during a swap.

When MLflow or S3 does not answer, the last model keeps serving; the outage is logged when it
starts and when it ends. Each model served is noted in the model cache (champion.json beside
the versions' files), so a process that starts while the registry is down serves the last
champion this machine knew, and says so in its log. A process serves that cached champion from
its start anyway, until the registry's first answer confirms or replaces it.

Asking, its thread and the outage's log lines are shared with the jobs' ChampionWatch
(model/registry_watch.py). The registry is imported at the first lookup, not with this module:
it imports onnxruntime, whose threads do not survive the fork of gunicorn's workers (see
model/predictor.py).
"""

from __future__ import annotations

import json
import logging
import os
import threading
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING

from model.predictor import Predictor
from model.registry_watch import Outage, ask, keep_asking
from settings import Settings

if TYPE_CHECKING:
    from model.registry import ServedModel

log = logging.getLogger(__name__)

POINTER_FILE = "champion.json"
# How long a request to a process that has just started waits for its first model.
FIRST_MODEL_WAIT_S = 10.0


class NoModel(Exception):
    """The registry has no champion: no model was promoted yet."""

    code = "no_model"


class ModelUnavailable(Exception):
    """No model is loaded: the registry does not answer, or the first model is still loading."""

    code = "model_unavailable"


@dataclass(frozen=True)
class Serving:
    """The model a process answers with: the registry's facts and the loaded session."""

    model: ServedModel
    predictor: Predictor


class Champion:
    """The champion model of one process, kept current by a thread of its own (start())."""

    def __init__(
        self,
        find: Callable[[], ServedModel | None],
        refresh_s: float,
        pointer: Path,
        on_change: Callable[[ServedModel | None], None] = lambda model: None,
    ):
        self.find, self.refresh_s, self.pointer = find, refresh_s, pointer
        self.on_change = on_change
        self._serving: Serving | None = None
        self._no_champion = False  # the registry's last answer: no champion
        self._outage = Outage(log)
        self._first_model = threading.Event()  # the first lookup settled, or the cache served
        self._stopped = threading.Event()
        self._lock = threading.Lock()

    @classmethod
    def from_settings(cls, settings: Settings, **options) -> Champion:
        return cls(lambda: registry().champion(settings), settings.model_refresh_s,
                   Path(settings.model_cache_dir) / settings.model_name / POINTER_FILE, **options)

    def start(self) -> Champion:
        """Serve the cached champion, if any, then ask the registry every refresh_s."""
        keep_asking(self, self.refresh_s, stopped=self._stopped, first=Champion._serve_cached)
        return self

    def close(self) -> None:
        self._stopped.set()

    def serving(self) -> Serving:
        """The model to answer with now; NoModel or ModelUnavailable when there is none."""
        current = self._serving
        if current is None and self._first_model.wait(FIRST_MODEL_WAIT_S):
            current = self._serving
        if current is not None:
            return current
        if self._no_champion:
            raise NoModel("the registry has no champion")
        if self._outage.since is not None:
            raise ModelUnavailable("no model is loaded and the registry does not answer")
        raise ModelUnavailable(f"the first model is not loaded after {FIRST_MODEL_WAIT_S} s")

    def refresh(self) -> None:
        """Ask the registry once, and serve its champion if it is another version."""
        with self._lock:
            try:
                answer = ask(self.find)  # whatever the lookup raises, the last model serves
                if answer.answered:
                    self._outage.up()
                    self._follow(answer.model)
                else:
                    self._outage.down(answer.problem, self._what_serves())
            finally:
                self._first_model.set()

    def _follow(self, found: ServedModel | None) -> None:
        """Serve the registry's answer: its champion, or none."""
        self._no_champion = found is None
        current = self._serving
        if found is None and current is not None:
            log.warning("the registry has no champion any more: %s version %s is no longer "
                        "served", current.model.name, current.model.version)
            self._swap(None)
        elif found is not None and (current is None or key(current.model) != key(found)):
            self._load(found)

    def _load(self, model: ServedModel, cached: bool = False) -> bool:
        """Load `model` and serve it; on failure, log it and keep the model served now."""
        try:
            predictor = Predictor(model.path)
        except Exception:  # a damaged or unreadable file: the model served now stays
            log.exception("cannot load %s version %s from %s; %s", model.name, model.version,
                          model.path, self._what_serves())
            return False
        self._swap(Serving(model, predictor))
        if not cached:
            self._note(model)
        return True

    def _swap(self, serving: Serving | None) -> None:
        previous, self._serving = self._serving, serving
        if serving is not None:
            was = f" (was version {previous.model.version})" if previous else ""
            log.info("serving %s version %s%s", serving.model.name, serving.model.version, was)
        self.on_change(serving.model if serving else None)

    def _serve_cached(self) -> None:
        """Serve the champion this machine noted last, until the registry answers."""
        try:
            noted = json.loads(self.pointer.read_text())
            reference = noted.get("drift_reference")  # absent in notes older than references
            model = registry().ServedModel(noted["name"], noted["version"], noted["run_id"],
                                           Path(noted["path"]), noted["lineage"],
                                           Path(reference) if reference else None)
        except FileNotFoundError:
            return
        except (OSError, ValueError, KeyError, TypeError) as error:
            log.warning("the cached champion note %s cannot be read (%r): ignored",
                        self.pointer, error)
            return
        if self._load(model, cached=True):
            log.info("serving the cached champion %s version %s (champion at %s) until the "
                     "registry answers", model.name, model.version, noted.get("noted_at"))
            self._first_model.set()

    def _note(self, model: ServedModel) -> None:
        """Write `model` as the machine's last known champion, atomically."""
        reference = model.drift_reference
        noted = {**asdict(model), "path": str(model.path),
                 "drift_reference": str(reference) if reference else None,
                 "noted_at": datetime.now(UTC).isoformat(timespec="seconds")}
        temporary = self.pointer.with_name(f".{POINTER_FILE}.{os.getpid()}.tmp")
        try:
            self.pointer.parent.mkdir(parents=True, exist_ok=True)
            temporary.write_text(json.dumps(noted, indent=2) + "\n")
            os.replace(temporary, self.pointer)
        except OSError as error:  # the model serves all the same; only a restart loses it
            log.warning("cannot note the champion in %s: %r", self.pointer, error)

    def _what_serves(self) -> str:
        current = self._serving
        if current is None:
            return "no model is served until it answers"
        return f"{current.model.name} version {current.model.version} serves on"


def key(model: ServedModel) -> tuple[str, str]:
    return model.name, str(model.version)


def registry() -> ModuleType:
    """model.registry, imported in the process that asks it (see the module's docstring)."""
    from model import registry

    return registry
