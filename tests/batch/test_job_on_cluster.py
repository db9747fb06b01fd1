"""The batch job on the Spark standalone cluster (SPARK_MASTER=spark://...) writes what it
writes in local mode: the same image ids, tensors with the same bytes, and the same predictions
by the registry's champion, which reaches the cluster's executors as a broadcast."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from dataclasses import replace
from pathlib import Path

import pytest

from adapters.object_store import LocalStore
from dataset import DatasetReader
from infra.processes import free_port
from kit.photos import encode, exif_bytes, gps_ifd, photo_like
from settings import PROJECT_ROOT
from tests.dataset.tensor_hashes import tensor_hashes
from tests.model.tiny_models import colour_classifier, make_champion, register_tiny

FARM = (41.878, -93.097)


@pytest.fixture(scope="module")
def crop_folder(tmp_path_factory) -> Path:
    """maize/ and wheat/ with 12 photos, some with GPS, and one file that is not a photo."""
    root = tmp_path_factory.mktemp("img")
    for crop in ("maize", "wheat"):
        (root / crop).mkdir()
    for i in range(12):
        options = {"exif": exif_bytes(gps=gps_ifd(FARM[0] + i / 1000, FARM[1]))} if i % 2 else {}
        photo = encode(photo_like(480, 360, seed=100 + i), "jpeg", **options)
        (root / ("maize" if i % 3 else "wheat") / f"p{i}.jpg").write_bytes(photo)
    (root / "wheat" / "notes.jpg").write_text("not a photo")
    return root


def run_batch_job(settings, input_dir: Path, output: Path) -> str:
    """`python -m batch` in a process (and JVM) of its own, as an operator runs it; its output."""
    env = {**os.environ, **settings.to_env(), "SPARK_UI_PORT": str(free_port()),
           "PYTHONPATH": str(PROJECT_ROOT)}
    done = subprocess.run(
        [sys.executable, "-m", "batch", "--input", str(input_dir), "--output", str(output),
         "--index", "off", "--shard-digits", "1"],
        cwd=PROJECT_ROOT, env=env, capture_output=True, text=True, timeout=600, check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


@pytest.fixture(scope="module")
def champion_settings(spark_cluster, mlflow_stack):
    """The cluster's settings, with a registered model of their own whose champion is a small
    classifier: (settings, its version)."""
    settings = replace(spark_cluster, mlflow_tracking_uri=mlflow_stack.mlflow_tracking_uri,
                       model_name=f"cluster-{uuid.uuid4().hex[:8]}")
    version = register_tiny(settings, colour_classifier(("maize", "wheat"), seed=3))
    make_champion(settings, version)
    return settings, version


@pytest.fixture(scope="module")
def both_modes(champion_settings, crop_folder, tmp_path_factory):
    """The roots written in local mode and on the cluster, and what each run printed."""
    settings, _ = champion_settings
    out = tmp_path_factory.mktemp("out")
    local = replace(settings, spark_master="local[2]")
    printed = (run_batch_job(local, crop_folder, out / "local"),
               run_batch_job(settings, crop_folder, out / "cluster"))
    return (out / "local", out / "cluster"), printed


def test_the_cluster_writes_the_same_images_with_the_same_records(both_modes):
    roots, _ = both_modes
    local, cluster = (DatasetReader(LocalStore(root)).manifest(status=None) for root in roots)
    assert len(local) == 13
    columns = ["image_id", "status", "label", "lat", "split", "variants", "shard_key"]
    ordered = [rows[columns].sort_values("image_id").reset_index(drop=True)
               for rows in (local, cluster)]
    assert ordered[0].equals(ordered[1])


def test_the_cluster_writes_tensors_with_the_same_bytes(both_modes):
    roots, _ = both_modes
    local, cluster = (tensor_hashes(LocalStore(root)) for root in roots)
    assert len(local) > 12
    assert cluster == local


def test_the_cluster_predicts_every_photo_as_local_mode_does_with_the_champion(
    both_modes, champion_settings
):
    settings, version = champion_settings
    roots, printed = both_modes
    columns = ["image_id", "prediction", "prediction_confidence", "model_version"]
    local, cluster = (DatasetReader(LocalStore(root)).manifest()[columns]
                      .sort_values("image_id").reset_index(drop=True) for root in roots)

    assert len(local) == 12 and local.equals(cluster)
    assert (local["model_version"] == version).all() and local["prediction"].notna().all()
    for output in printed:
        assert f"predictions: 12 by {settings.model_name} version {version} (" in output
