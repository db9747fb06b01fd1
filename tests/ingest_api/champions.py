"""Registered models for the API's tests: the session's trained model (tests/model/conftest.py)
registered in the real MLflow under a name of the test's own, and made its champion."""

from __future__ import annotations

import uuid
from dataclasses import replace

from model.promotion import move
from model.registry import CHAMPION, register
from model.train import TrainedModel
from settings import Settings


def own_model(settings: Settings, prefix: str) -> Settings:
    """`settings` with a registered model name nobody else uses (nothing registered yet)."""
    return replace(settings, model_name=f"{prefix}-{uuid.uuid4().hex[:8]}")


def registered(settings: Settings, trained: TrainedModel, versions: int = 1) -> list[str]:
    """Register the trained model `versions` times under settings.model_name; their numbers."""
    return [register(settings, trained) for _ in range(versions)]


def promote(settings: Settings, version: str) -> None:
    """Make `version` the champion, recorded in the alias history, without the gate's
    evaluation (`python -m model promote` through its gate: test_ingest_classify_gunicorn.py)."""
    move(settings, CHAMPION, version, "promote", "a test's champion", forced=True)
