"""The model registry (MLflow): which version of the crop classifier is the champion, and its
ONNX file (and its drift reference) on local disk.

Everything that serves the model (the API, the stream, the batch job) asks `champion()`; it
costs one request to MLflow, and the file is downloaded once per version into
<model_cache_dir>/<name>/<version>/ (a folder made whole elsewhere, then renamed into place, so
a reader never sees half of it). Training registers a new version with `register()`.

MLflow's client takes its credentials and retry policy from environment variables only; this
module sets them from the Settings it is given (`connect`), and nothing else reads them. Every
failure to reach MLflow (or the S3 behind it) becomes RegistryUnavailable, one sentence.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import mlflow
import onnxruntime
import requests
from mlflow import MlflowClient
from mlflow.entities.model_registry import ModelVersion
from mlflow.exceptions import MlflowException

from model.card import model_card
from model.drift import REFERENCE_FILE
from settings import Settings

if TYPE_CHECKING:
    from model.train import TrainedModel

CHAMPION = "champion"
MODEL_FILE = "model.onnx"
SERVED_FILE = "served.json"  # beside the cached file: its run and lineage
LINEAGE_PREFIX = "dataset."
SHA256_TAG = "model.sha256"
NOT_FOUND = ("RESOURCE_DOES_NOT_EXIST",)
# A registry that does not answer is said so within seconds, not after MLflow's default of
# 7 retries with exponential backoff (minutes).
CLIENT_ENV = {
    "MLFLOW_HTTP_REQUEST_MAX_RETRIES": "2",
    "MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR": "1",
    "MLFLOW_HTTP_REQUEST_BACKOFF_JITTER": "0.1",
    "MLFLOW_HTTP_REQUEST_TIMEOUT": "30",
}

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ServedModel:
    """A registered version, its file on local disk and the data it was trained on."""

    name: str
    version: str
    run_id: str
    path: Path  # <model_cache_dir>/<name>/<version>/model.onnx
    lineage: dict[str, str]  # dataset.root, .snapshot, .delta_version, .rows, .ids_sha256
    drift_reference: Path | None = None  # its drift_reference.json; None for older versions


class RegistryUnavailable(Exception):
    """MLflow (or the S3 it keeps artifacts on) cannot answer; its str is one sentence."""


def connect(settings: Settings) -> MlflowClient:
    """A client of the settings' MLflow, with the project's credentials."""
    os.environ.update({**CLIENT_ENV, "MLFLOW_TRACKING_USERNAME": settings.mlflow_username,
                       "MLFLOW_TRACKING_PASSWORD": settings.mlflow_password})
    logging.getLogger("mlflow").setLevel(logging.WARNING)  # no banners on our commands' output
    return MlflowClient(settings.mlflow_tracking_uri, settings.mlflow_tracking_uri)


def unavailable(settings: Settings, error: Exception) -> RegistryUnavailable:
    """The sentence for a failed call to MLflow; the details go to the log."""
    log.info("MLflow call failed: %r", error)  # the sentence says what matters
    uri = settings.mlflow_tracking_uri
    status = error.get_http_status_code() if isinstance(error, MlflowException) else None
    # MLflow raises its own exception in the `except` of a failed request: that is its context.
    unanswered = isinstance(error, requests.RequestException | OSError) or isinstance(
        error.__context__, requests.RequestException | OSError)
    if unanswered:
        return RegistryUnavailable(f"the model registry (MLflow) does not answer at {uri}: is "
                                   "it running? (`python -m infra up mlflow` starts it)")
    if status in (401, 403):
        return RegistryUnavailable(f"the model registry at {uri} refused the project's "
                                   "credentials (MLFLOW_USERNAME, MLFLOW_PASSWORD)")
    reason = (str(error).strip().splitlines() or ["no reason given"])[0][:200]
    return RegistryUnavailable(f"the model registry at {uri} could not answer ({reason})")


def check(settings: Settings) -> None:
    """Raise RegistryUnavailable unless the registry answers with our credentials."""
    try:
        connect(settings).search_registered_models(max_results=1)
    except (MlflowException, requests.RequestException, OSError) as error:
        raise unavailable(settings, error) from error


def champion(settings: Settings) -> ServedModel | None:
    """The version with the alias `champion`, its file cached; None while there is none."""
    client = connect(settings)
    found = _aliased(settings, client, CHAMPION)
    return None if found is None else _cached(client, found, settings)


def alias_version(settings: Settings, client: MlflowClient, alias: str) -> str | None:
    """The version the alias points at; None if it points nowhere (or there is no such model)."""
    found = _aliased(settings, client, alias)
    return None if found is None else found.version


def _aliased(settings: Settings, client: MlflowClient, alias: str) -> ModelVersion | None:
    try:
        return client.get_model_version_by_alias(settings.model_name, alias)
    except MlflowException as error:
        if error.error_code in NOT_FOUND or _no_alias(error):
            return None
        raise unavailable(settings, error) from error
    except (requests.RequestException, OSError) as error:
        raise unavailable(settings, error) from error


def model_version(settings: Settings, version: str) -> ServedModel:
    """Any registered version, its file cached; RegistryUnavailable if there is no such one."""
    client = connect(settings)
    try:
        found = client.get_model_version(settings.model_name, str(version))
    except MlflowException as error:
        if error.error_code in NOT_FOUND:
            raise RegistryUnavailable(f"{settings.model_name} has no version {version}") from error
        raise unavailable(settings, error) from error
    except (requests.RequestException, OSError) as error:
        raise unavailable(settings, error) from error
    return _cached(client, found, settings)


def _no_alias(error: MlflowException) -> bool:
    """MLflow answers a missing alias of an existing model with INVALID_PARAMETER_VALUE."""
    return error.error_code == "INVALID_PARAMETER_VALUE" and "alias" in str(error)


def _cached(client: MlflowClient, found: ModelVersion, settings: Settings) -> ServedModel:
    folder = Path(settings.model_cache_dir) / found.name / found.version
    if not (folder / SERVED_FILE).exists():
        try:
            _download(client, found, folder, settings)
        except (MlflowException, requests.RequestException, OSError) as error:
            raise unavailable(settings, error) from error
    served = json.loads((folder / SERVED_FILE).read_text())
    reference = folder / REFERENCE_FILE
    return ServedModel(found.name, found.version, served["run_id"], folder / MODEL_FILE,
                       served["lineage"], reference if reference.exists() else None)


def _download(client: MlflowClient, found: ModelVersion, folder: Path,
              settings: Settings) -> None:
    """The version's files (the model, and its drift reference when its run has one) into
    `folder`, whole or not at all; the model checked against the run's hash."""
    folder.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{found.version}-", dir=folder.parent))
    try:
        run = client.get_run(found.run_id)
        files = client.get_model_version_download_uri(found.name, found.version)
        mlflow.artifacts.download_artifacts(artifact_uri=f"{files}/{MODEL_FILE}",
                                            dst_path=str(staging),
                                            tracking_uri=settings.mlflow_tracking_uri)
        digest = hashlib.sha256((staging / MODEL_FILE).read_bytes()).hexdigest()
        expected = run.data.tags.get(SHA256_TAG)
        if expected and digest != expected:
            raise RegistryUnavailable(f"{found.name} version {found.version}'s file does not "
                                      f"match its run's sha256: it was not installed")
        if any(logged.path == REFERENCE_FILE for logged in client.list_artifacts(found.run_id)):
            mlflow.artifacts.download_artifacts(run_id=found.run_id, artifact_path=REFERENCE_FILE,
                                                dst_path=str(staging),
                                                tracking_uri=settings.mlflow_tracking_uri)
        lineage = {key: value for key, value in run.data.params.items()
                   if key.startswith(LINEAGE_PREFIX)}
        (staging / SERVED_FILE).write_text(json.dumps({"run_id": found.run_id,
                                                       "lineage": lineage}))
        try:
            staging.rename(folder)
        except OSError:  # another process put it in place first: theirs is the same
            if not (folder / SERVED_FILE).exists():
                raise
        log.info("cached %s version %s in %s", found.name, found.version, folder)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def register(settings: Settings, trained: TrainedModel) -> str:
    """Log the training run (parameters, metrics, pictures, card, drift reference, the ONNX
    model) in the experiment named after the model, register it as a new version (no alias);
    its number."""
    import onnx  # training's requirements only (requirements-model.txt): serving never registers

    report = trained.report
    connect(settings)
    mlflow.set_tracking_uri(settings.mlflow_tracking_uri)
    mlflow.set_registry_uri(settings.mlflow_tracking_uri)
    try:
        mlflow.set_experiment(settings.model_name)
        with mlflow.start_run() as run:
            mlflow.log_params({key: str(value) for key, value in report["params"].items()})
            mlflow.log_metrics(run_metrics(report))
            mlflow.set_tags({SHA256_TAG: trained.sha256, "measured_on": report["measured_on"],
                             "pictures": report["pictures"]})
            mlflow.log_dict(report, "metrics.json")
            mlflow.log_text(model_card(report), "model_card.md")
            if trained.drift_reference is not None:
                mlflow.log_dict(trained.drift_reference, REFERENCE_FILE)
            for name, png in trained.pictures.items():
                _log_bytes(png, name)
            logged = mlflow.onnx.log_model(
                onnx.load_from_string(trained.onnx), name="model",
                save_as_external_data=False,  # one self-contained file, as served
                pip_requirements=[f"onnxruntime=={onnxruntime.__version__}"])
        version = mlflow.register_model(logged.model_uri, settings.model_name)
    except (MlflowException, requests.RequestException, OSError) as error:
        raise unavailable(settings, error) from error
    log.info("run %s registered as %s version %s", run.info.run_id, settings.model_name,
             version.version)
    return version.version


def run_metrics(report: dict) -> dict[str, float]:
    """The report's numbers as MLflow metrics: <split>.<metric> and <split>.<bucket>.<metric>,
    and the timings."""
    wanted = ("accuracy", "macro_f1", "expected_calibration_error", "mean_confidence", "n")
    metrics = {}
    for split, measured in report["metrics"].items():
        for key in wanted:
            if key in measured:
                metrics[f"{split}.{key}"] = float(measured[key])
        for bucket, values in measured.get("buckets", {}).items():
            for key in wanted:
                if key in values:
                    metrics[f"{split}.{bucket}.{key}"] = float(values[key])
    metrics.update({f"timing.{key}": float(value) for key, value in report["timings"].items()})
    return metrics


def _log_bytes(data: bytes, name: str) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / name
        path.write_bytes(data)
        mlflow.log_artifact(str(path))
