"""`python -m model train ROOT --snapshot NAME`: a registered version, its number on the last
line, the model's files with --output, and one sentence (never a traceback) when the snapshot
or the registry cannot be read."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image

from adapters.object_store import LocalStore
from dataset.manifest_writer import ManifestWriter
from dataset.snapshots import pin
from dataset.writer import write_group
from infra.processes import free_port
from kit.photos import encode, photo_like
from model.__main__ import main
from model.drift import REFERENCE_FILE
from model.train import CARD_FILE, MODEL_FILE
from photo.upload import Upload, process_upload
from settings import PROJECT_ROOT
from tests.model.conftest import SNAPSHOT, use_settings


def test_the_last_line_is_the_registered_version_alone(cli_run, model_settings):
    printed, output, _ = cli_run
    assert printed[-1].isdigit()
    assert printed[-2].startswith(f"registered as {model_settings.model_name} version "
                                  f"{printed[-1]} ")
    assert f"files in {output.resolve()}" in printed[-3]
    assert any("measured on synthetic pictures" in line for line in printed if "accuracy" in line)


def test_the_directory_holds_the_model_its_metrics_card_confusion_pictures_and_drift_reference(
    cli_run,
):
    _, output, _ = cli_run
    names = {path.name for path in output.iterdir()}
    assert names == {"confusion_test.png", "confusion_val.png", "metrics.json", CARD_FILE,
                     MODEL_FILE, REFERENCE_FILE}
    for picture in ("confusion_test.png", "confusion_val.png"):
        with Image.open(output / picture) as png:
            assert png.format == "PNG" and png.width >= 400


def test_the_card_names_its_data_and_says_its_metrics_are_synthetic(cli_run):
    _, output, report = cli_run
    card = (output / CARD_FILE).read_text()
    for key, value in report["params"].items():
        if key.startswith("dataset."):
            assert f"`{key}`: {value}" in card
    assert "## Intended use" in card and "## Limits" in card
    assert "measured on synthetic pictures" in card
    assert f"{report['metrics']['test']['accuracy']:.3f}" in card


def refusal(capsys, argv: list[str]) -> str:
    """What the command printed on stderr when it exited 1."""
    with pytest.raises(SystemExit) as exit_:
        main(argv)
    assert exit_.value.code == 1
    out, err = capsys.readouterr()
    assert out == "" and "Traceback" not in err
    assert len(err.strip().splitlines()) == 1
    return err.strip()


def test_a_missing_snapshot_is_one_sentence(dataset, capsys, monkeypatch, model_settings):
    use_settings(monkeypatch, model_settings)
    root, _ = dataset
    said = refusal(capsys, ["train", root, "--snapshot", "nope"])
    assert said == f"train: {root}: no snapshot named 'nope'"


def local_dataset(root: Path, labels: list[str]) -> LocalStore:
    """A small dataset in a directory, written without Spark: one photo per label, all train."""
    store = LocalStore(root)
    uploads = (Upload(encode(photo_like(160, 120, seed=seed), "jpeg"), f"{label}/{seed}.jpg",
                      label) for seed, label in enumerate(labels))
    outcomes = (process_upload(upload, n_variants=0, max_pixels=10**8) for upload in uploads)
    ManifestWriter.of(store, (1.0, 0.0, 0.0)).commit(write_group(store, "batch", "0", outcomes))
    return store


def test_a_missing_snapshot_of_a_local_dataset_is_one_sentence(tmp_path: Path, capsys,
                                                               monkeypatch, model_settings):
    use_settings(monkeypatch, model_settings)
    local_dataset(tmp_path, ["maize", "wheat"])
    said = refusal(capsys, ["train", str(tmp_path), "--snapshot", SNAPSHOT])
    assert said == f"train: {tmp_path}: no snapshot named '{SNAPSHOT}'"


def test_an_s3_server_that_does_not_answer_is_one_sentence(capsys, monkeypatch, model_settings):
    use_settings(monkeypatch, model_settings)
    endpoint = f"http://127.0.0.1:{free_port()}"
    monkeypatch.setenv("S3_ENDPOINT_URL", endpoint)
    said = refusal(capsys, ["train", "s3://field-images/dataset", "--snapshot", SNAPSHOT])
    assert said.startswith("train: cannot read s3://field-images/dataset: S3 does not answer at ")
    assert endpoint in said


def test_a_snapshot_with_one_crop_to_learn_is_one_sentence(tmp_path: Path, capsys,
                                                           monkeypatch, model_settings):
    use_settings(monkeypatch, model_settings)
    pin(local_dataset(tmp_path, ["maize", "maize"]), "maize-only")
    said = refusal(capsys, ["train", str(tmp_path), "--snapshot", "maize-only"])
    assert said == ("train: snapshot 'maize-only' has photos of fewer than two crops in its "
                    "train split: nothing to tell apart")


def test_a_registry_that_does_not_answer_is_one_sentence_before_any_training(
        tmp_path: Path, capsys, monkeypatch, model_settings):
    use_settings(monkeypatch, model_settings)
    uri = f"http://127.0.0.1:{free_port()}"
    monkeypatch.setenv("MLFLOW_TRACKING_URI", uri)
    pin(local_dataset(tmp_path, ["maize", "wheat"]), SNAPSHOT)
    said = refusal(capsys, ["train", str(tmp_path), "--snapshot", SNAPSHOT])
    assert said == (f"train: the model registry (MLflow) does not answer at {uri}: is it "
                    "running? (`python -m infra up mlflow` starts it)")


def test_credentials_the_registry_refuses_are_one_sentence(tmp_path: Path, capsys, monkeypatch,
                                                           model_settings):
    use_settings(monkeypatch, model_settings)
    monkeypatch.setenv("MLFLOW_PASSWORD", "not-the-password")
    said = refusal(capsys, ["train", str(tmp_path), "--snapshot", SNAPSHOT])
    assert said == (f"train: the model registry at {model_settings.mlflow_tracking_uri} refused "
                    "the project's credentials (MLFLOW_USERNAME, MLFLOW_PASSWORD)")


@pytest.mark.servers  # runs the command in a process of its own
def test_from_a_shell_a_registry_that_does_not_answer_is_one_line_on_stderr():
    """No log record or traceback around the sentence when nothing configures logging."""
    uri = f"http://127.0.0.1:{free_port()}"
    result = subprocess.run([sys.executable, "-m", "model", "versions"], cwd=PROJECT_ROOT,
                            env={**os.environ, "MLFLOW_TRACKING_URI": uri},
                            capture_output=True, text=True, timeout=120)
    assert (result.returncode, result.stdout) == (1, "")
    assert result.stderr.splitlines() == [
        f"versions: the model registry (MLflow) does not answer at {uri}: is it running? "
        "(`python -m infra up mlflow` starts it)"]
