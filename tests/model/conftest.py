"""One dataset for the model's tests, on the session's S3: the batch job over field photos,
pinned as snapshot "v1"; then one training run through the CLI (registered in the session's
MLflow) and one through train(), with the same seed. Three Spark runs in all, shared by every
test here."""

from __future__ import annotations

import contextlib
import io
import json
import logging
import uuid
from dataclasses import replace

import pytest

from adapters.object_store import S3Store
from adapters.s3 import make_s3_client
from batch.job import run_batch
from dataset.snapshots import pin
from infra.processes import free_port
from infra.schemas import ensure_bucket, remove_bucket
from model.__main__ import main
from model.backbone import export_onnx
from model.train import METRICS_FILE, train
from tests.model.field_photos import field_folder

SNAPSHOT, SEED = "v1", 3
N_VARIANTS = 2


@pytest.fixture(autouse=True)
def model_logging_of_a_fresh_process():
    """The "model" logger as a fresh process has it (no level, no handler of its own) for each
    test here: an app an earlier test built has wired it into its log
    (ingest_api/classify/routes.py), and a command's one sentence on stderr must not depend on
    the order tests run in."""
    model_log = logging.getLogger("model")
    level, handlers = model_log.level, model_log.handlers[:]
    model_log.setLevel(logging.NOTSET)
    model_log.handlers.clear()
    yield
    model_log.setLevel(level)
    model_log.handlers[:] = handlers


@pytest.fixture(scope="session")
def backbone_onnx() -> bytes:
    """The backbone, exported to ONNX once for the session: each export is seconds of PyTorch."""
    return export_onnx()


@pytest.fixture(scope="session")
def model_settings(mlflow_stack):
    """The session's S3 and MLflow (its own model name), and Spark in local mode on two cores."""
    return replace(mlflow_stack, spark_master="local[2]", spark_ui_port=free_port())


@pytest.fixture(scope="session")
def dataset(model_settings, tmp_path_factory):
    """(root, store) of a dataset written by the batch job, pinned as SNAPSHOT."""
    bucket, client = f"model-{uuid.uuid4().hex[:10]}", make_s3_client(model_settings.s3)
    ensure_bucket(client, bucket)
    store = S3Store(bucket, "dataset", model_settings.s3)
    run_batch(field_folder(tmp_path_factory.mktemp("field") / "img"), store,
              spark_settings=model_settings, n_variants=N_VARIANTS, max_pixels=10**8,
              shard_digits=1, split_fractions=(0.6, 0.2, 0.2))
    pin(store, SNAPSHOT)
    yield f"s3://{bucket}/dataset", store
    remove_bucket(client, bucket)


@pytest.fixture(scope="session")
def trained(dataset, model_settings):
    """train() on the snapshot, in memory."""
    root, _ = dataset
    return train(root, SNAPSHOT, SEED, model_settings)


@pytest.fixture(scope="session")
def cli_run(dataset, model_settings, tmp_path_factory):
    """`python -m model train ROOT --snapshot v1 --seed 3 --output DIR`, run in this process:
    (its printed lines, the output directory, its metrics.json); it registers a version of
    model_settings.model_name, the last printed line."""
    root, _ = dataset
    output, printed = tmp_path_factory.mktemp("model"), io.StringIO()
    with pytest.MonkeyPatch.context() as patch, contextlib.redirect_stdout(printed):
        use_settings(patch, model_settings)
        assert main(["train", root, "--snapshot", SNAPSHOT, "--seed", str(SEED),
                     "--output", str(output)]) == 0
    return printed.getvalue().splitlines(), output, json.loads((output / METRICS_FILE).read_text())


def use_settings(patch: pytest.MonkeyPatch, settings) -> None:
    """The environment that makes Settings.from_env() (as the CLI reads it) give `settings`."""
    for name, value in settings.to_env().items():
        patch.setenv(name, value)
