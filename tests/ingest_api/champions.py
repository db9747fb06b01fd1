"""Registered models for the API's tests: the session's trained model (tests/model/conftest.py)
registered in the real MLflow under a name of the test's own, and promoted."""

from __future__ import annotations

import uuid
from dataclasses import replace

from model.registry import CHAMPION, connect, register
from model.train import TrainedModel
from settings import Settings


def own_model(settings: Settings, prefix: str) -> Settings:
    """`settings` with a registered model name nobody else uses (nothing registered yet)."""
    return replace(settings, model_name=f"{prefix}-{uuid.uuid4().hex[:8]}")


def registered(settings: Settings, trained: TrainedModel, versions: int = 1) -> list[str]:
    """Register the trained model `versions` times under settings.model_name; their numbers."""
    return [register(settings, trained) for _ in range(versions)]


def promote(settings: Settings, version: str) -> None:
    """Give `version` the alias champion, as `python -m model promote` does."""
    connect(settings).set_registered_model_alias(settings.model_name, CHAMPION, version)
