"""The registry on the real MLflow server: a training run is registered with its parameters,
metrics, pictures, card and lineage; champion() is None until a version has the alias, then
serves its file from the local cache, downloaded once; an MLflow that cannot answer is
RegistryUnavailable, one sentence."""

from __future__ import annotations

import hashlib
import json
import uuid
from dataclasses import replace

import numpy as np
import onnxruntime as ort
import pytest

from infra.processes import free_port
from model.drift import REFERENCE_FILE
from model.registry import (
    CHAMPION,
    RegistryUnavailable,
    champion,
    connect,
    model_version,
    register,
)
from tests.model.tiny_models import colour_classifier, tiny_trained


@pytest.fixture(scope="module")
def registered(trained, model_settings):
    """(settings with a model name of this module's own, the version register() made)."""
    settings = replace(model_settings, model_name=f"registry-{uuid.uuid4().hex[:8]}")
    return settings, register(settings, trained)


def test_the_cli_s_version_is_registered_with_its_run_s_lineage_metrics_and_files(
        cli_run, model_settings):
    printed, _, report = cli_run
    client = connect(model_settings)
    version = client.get_model_version(model_settings.model_name, printed[-1])
    run = client.get_run(version.run_id)

    lineage = {key: str(value) for key, value in report["params"].items()
               if key.startswith("dataset.")}
    assert set(lineage) == {"dataset.root", "dataset.snapshot", "dataset.delta_version",
                            "dataset.rows", "dataset.ids_sha256"}
    assert {key: run.data.params[key] for key in lineage} == lineage
    assert run.data.params["seed"] == "3"
    assert run.data.metrics["test.accuracy"] == pytest.approx(report["metrics"]["test"]["accuracy"])
    assert run.data.metrics["val.macro_f1"] == pytest.approx(report["metrics"]["val"]["macro_f1"])
    assert run.data.tags["model.sha256"] == report["model"]["sha256"]
    assert run.data.tags["measured_on"] == "measured on synthetic pictures"
    files = {item.path for item in client.list_artifacts(version.run_id)}
    assert {"metrics.json", "model_card.md", "confusion_test.png", "confusion_val.png"} <= files
    assert version.aliases == []  # training never serves a model by itself


def test_there_is_no_champion_before_a_promotion(registered):
    settings, _ = registered
    assert champion(settings) is None


def test_a_model_nobody_registered_has_no_champion(model_settings):
    assert champion(replace(model_settings, model_name=f"never-{uuid.uuid4().hex[:8]}")) is None


def test_the_champion_is_served_from_the_cache_with_the_file_training_made(registered, trained):
    settings, version = registered
    connect(settings).set_registered_model_alias(settings.model_name, CHAMPION, version)

    served = champion(settings)
    assert (served.name, served.version) == (settings.model_name, version)
    assert str(served.path).startswith(f"{settings.model_cache_dir}/{settings.model_name}/"
                                       f"{version}/")
    assert hashlib.sha256(served.path.read_bytes()).hexdigest() == trained.sha256
    assert served.lineage == {key: str(value) for key, value in trained.report["params"].items()
                              if key.startswith("dataset.")}
    assert served.run_id == connect(settings).get_model_version(settings.model_name,
                                                                version).run_id
    session = ort.InferenceSession(str(served.path), providers=["CPUExecutionProvider"])
    probabilities = session.run(None, {"image": np.zeros((1, 224, 224, 3), np.uint8)})[0]
    assert probabilities.shape == (1, len(trained.report["model"]["classes"]))


def test_the_champion_brings_its_drift_reference_along(registered, trained):
    settings, version = registered
    connect(settings).set_registered_model_alias(settings.model_name, CHAMPION, version)

    served = champion(settings)
    assert served.drift_reference == served.path.parent / REFERENCE_FILE
    assert json.loads(served.drift_reference.read_text()) == trained.drift_reference


def test_a_version_registered_without_a_drift_reference_is_served_without_one(registered,
                                                                              tmp_path):
    settings, _ = registered
    settings = replace(settings, model_cache_dir=str(tmp_path))
    older = register(settings, tiny_trained(colour_classifier()))  # no reference in its run

    served = model_version(settings, older)
    assert served.drift_reference is None and served.path.exists()


def test_a_second_call_does_not_download_again(registered):
    settings, version = registered
    connect(settings).set_registered_model_alias(settings.model_name, CHAMPION, version)
    first = champion(settings).path.stat()

    again = champion(settings)
    assert (again.path.stat().st_ino, again.path.stat().st_mtime_ns) == (first.st_ino,
                                                                          first.st_mtime_ns)
    assert [path.name for path in again.path.parent.parent.iterdir()] == [version]  # no leftovers


def test_any_version_is_served_by_its_number(registered, trained):
    settings, version = registered
    served = model_version(settings, version)
    assert served.version == version
    assert hashlib.sha256(served.path.read_bytes()).hexdigest() == trained.sha256


def test_a_version_that_does_not_exist_is_one_sentence(registered):
    settings, _ = registered
    with pytest.raises(RegistryUnavailable) as refused:
        model_version(settings, "999")
    assert str(refused.value) == f"{settings.model_name} has no version 999"


def test_an_mlflow_that_does_not_answer_is_registry_unavailable_in_one_sentence(registered):
    settings, _ = registered
    down = replace(settings, mlflow_tracking_uri=f"http://127.0.0.1:{free_port()}")
    with pytest.raises(RegistryUnavailable) as refused:
        champion(down)
    assert str(refused.value) == (
        f"the model registry (MLflow) does not answer at {down.mlflow_tracking_uri}: is it "
        "running? (`python -m infra up mlflow` starts it)")


def test_refused_credentials_are_registry_unavailable_in_one_sentence(registered):
    settings, _ = registered
    with pytest.raises(RegistryUnavailable, match="refused the project's credentials"):
        champion(replace(settings, mlflow_password="not-the-password"))
