"""INTERIM until the registry lands: a locally trained model served as the registry's champion."""

from __future__ import annotations

from dataclasses import replace

import pytest

import model.champion
from model.registry import ServedModel


@pytest.fixture(scope="module")
def served(trained, tmp_path_factory) -> ServedModel:
    path = tmp_path_factory.mktemp("models") / "crop-classifier" / "1" / "model.onnx"
    path.parent.mkdir(parents=True)
    path.write_bytes(trained.onnx)
    return ServedModel("crop-classifier", "1", "run1", path, {})


def registry_answering(monkeypatch, answer):
    def champion(settings):
        if isinstance(answer, Exception):
            raise answer
        return answer

    monkeypatch.setattr(model.champion, "champion", champion)


def own_cache(settings, tmp_path):
    return replace(settings, model_cache_dir=str(tmp_path / "models"))
