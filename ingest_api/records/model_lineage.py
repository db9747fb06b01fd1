"""Where a photo's prediction comes from, for GET /images/<id>: the model version's MLflow run
and the data it was trained on (its snapshot and the manifest's Delta version), asked of the
registry (model/registry.py) once per version. The registry is imported at the first lookup, as
model/champion.py explains: it imports onnxruntime, which must not load before gunicorn forks.

A version's run never changes, so its lineage is kept for the life of the process. A registry
that cannot answer costs the answer its lineage (null), never the record: it is not asked again
for MODEL_REFRESH_S, so an MLflow outage does not slow every lookup.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from flask import Flask, current_app

from model.champion import registry
from settings import Settings

if TYPE_CHECKING:
    from model.registry import ServedModel

EXTENSION_KEY = "model_lineage"

log = logging.getLogger(__name__)


def lineage_of(model: ServedModel) -> dict:
    """The answer's `prediction_lineage` of a registered version."""
    facts = model.lineage
    delta_version = facts.get("dataset.delta_version")
    return {
        "model_name": model.name,
        "model_version": model.version,
        "mlflow_run_id": model.run_id,
        "dataset_root": facts.get("dataset.root"),
        "snapshot": facts.get("dataset.snapshot"),
        "delta_version": int(delta_version) if delta_version is not None else None,
    }


def registered_version(settings: Settings, version: str) -> ServedModel:
    """The registry's facts of a version (model.registry.model_version)."""
    return registry().model_version(settings, version)


class ModelLineage:
    """The lineage of each model version asked for, kept once known."""

    def __init__(self, settings: Settings, lookup: Callable = registered_version):
        self.settings, self.lookup = settings, lookup
        self._known: dict[str, dict] = {}
        self._unavailable_until = 0.0
        self._lock = threading.Lock()

    @classmethod
    def from_settings(cls, settings: Settings) -> ModelLineage:
        return cls(settings)

    def init_app(self, app: Flask) -> None:
        app.extensions[EXTENSION_KEY] = self

    def of(self, version: str | None) -> dict | None:
        """The lineage of `version`; None without a version, or while the registry cannot say."""
        if version is None:
            return None
        with self._lock:
            if version in self._known:
                return self._known[version]
            if time.monotonic() < self._unavailable_until:
                return None
        try:
            model = self.lookup(self.settings, version)
        except registry().RegistryUnavailable as error:
            log.warning("no lineage for model version %s: %s", version, error)
            with self._lock:
                self._unavailable_until = time.monotonic() + self.settings.model_refresh_s
            return None
        with self._lock:
            self._known[version] = lineage_of(model)
            return self._known[version]


def get_model_lineage() -> ModelLineage:
    """The lineage lookups of the app handling the current request."""
    return current_app.extensions[EXTENSION_KEY]
