"""A new user's first commands, with nothing started: every server address of the settings
points at a port where nothing listens, and the stack dir is a new empty folder.

Each command either does its job without the servers it does not need (exit 0), or says in one
sentence which server does not answer (exit 1); none prints a traceback. `./deploy.sh status`
and `down` look only at their own stack dir and ports, never at the shared stack's.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest

from infra.processes import free_port, port_open
from settings import PROJECT_ROOT, Settings

pytestmark = pytest.mark.servers  # each test runs a command in a process of its own

PHOTO = PROJECT_ROOT / "img" / "maize" / "maize_01.jpg"
DEFAULT_PORTS = (8333, 9092, 9200)  # the shared stack's S3, Kafka and Elasticsearch


@pytest.fixture(scope="module")
def nothing_running(tmp_path_factory) -> dict[str, str]:
    """The environment of a fresh clone on a machine where no server runs."""
    dead = free_port()  # bindable now, so nothing listens there
    stack_dir = tmp_path_factory.mktemp("empty-stack")
    settings = replace(
        Settings.from_env(),
        kafka_bootstrap_servers=f"127.0.0.1:{dead}",
        elasticsearch_url=f"http://127.0.0.1:{dead}",
        mlflow_tracking_uri=f"http://127.0.0.1:{dead}", mlflow_port=dead,
        api_port=dead, api_internal_port=dead, stream_metrics_port=dead,
        prometheus_port=dead, alertmanager_port=dead, blackbox_port=dead, alert_log_port=dead,
        spark_master_port=dead, spark_master_ui_port=dead, spark_worker_ui_port=dead,
        spark_master="local[2]", spark_ui_port=free_port(),  # the batch job's own web UI
        stack_dir=str(stack_dir), checkpoint_dir=str(stack_dir / "checkpoints"),
        api_token_store=str(stack_dir / "auth" / "tokens.sqlite3"),
    )
    settings = replace(settings, s3=replace(settings.s3, endpoint_url=f"http://127.0.0.1:{dead}"))
    return {**os.environ, **settings.to_env(), "PYTHONPATH": str(PROJECT_ROOT)}


def run(command: list[str], env: dict[str, str], timeout: float = 120):
    """Run a command from the checkout as a user types it; it never prints a traceback."""
    done = subprocess.run(command, cwd=PROJECT_ROOT, env=env, capture_output=True, text=True,
                          timeout=timeout, stdin=subprocess.DEVNULL)
    assert "Traceback" not in done.stdout + done.stderr, done.stdout + done.stderr
    return done


def python(*args: str, env: dict[str, str], timeout: float = 120) -> subprocess.CompletedProcess:
    return run([sys.executable, "-m", *args], env, timeout)


def one_sentence(done: subprocess.CompletedProcess, *words: str) -> str:
    """A refusal: exit 1 and a single line on stderr that says what is wrong."""
    assert done.returncode == 1, done.stdout + done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    for word in words:
        assert word in lines[0]
    return lines[0]


@pytest.fixture(scope="module")
def photos(tmp_path_factory) -> Path:
    """A small <crop>/<photo> folder: one photo, and one file cut short."""
    folder = tmp_path_factory.mktemp("photos")
    (folder / "maize").mkdir()
    (folder / "wheat").mkdir()
    shutil.copy(PHOTO, folder / "maize")
    (folder / "wheat" / "cut.jpg").write_bytes(PHOTO.read_bytes()[:3000])
    return folder


@pytest.fixture(scope="module")
def batch_run(photos, nothing_running, tmp_path_factory):
    """`python -m batch` into a folder that does not exist yet: (its output, the dataset)."""
    dataset = tmp_path_factory.mktemp("out") / "new" / "dataset"
    done = python("batch", "--input", str(photos), "--output", str(dataset),
                  env=nothing_running, timeout=600)
    return done, dataset


def test_the_batch_job_writes_a_new_folder_and_says_it_did_not_index(batch_run):
    done, dataset = batch_run
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Elasticsearch does not answer" in done.stdout
    assert "not indexed" in done.stdout
    assert "processed: 1" in done.stdout and "rejected: 1" in done.stdout
    assert ("predictions: none, the photos are processed without: the model registry (MLflow) "
            "does not answer at") in done.stdout
    assert (dataset / "manifest" / "_delta_log").is_dir()
    assert (dataset / "map.html").is_file()


def test_deploy_sh_batch_runs_without_a_stack(photos, nothing_running, tmp_path):
    done = run(["./deploy.sh", "batch", "--input", str(photos), "--output",
                str(tmp_path / "dataset")], nothing_running, timeout=900)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "not indexed" in done.stdout
    assert (tmp_path / "dataset" / "map.html").is_file()


def test_the_batch_job_with_index_on_refuses_before_it_starts(photos, nothing_running, tmp_path):
    done = python("batch", "--input", str(photos), "--output", str(tmp_path / "dataset"),
                  "--index", "on", env=nothing_running)
    one_sentence(done, "Elasticsearch does not answer", "--index off")
    assert not (tmp_path / "dataset").exists()


def test_the_batch_job_into_s3_says_that_s3_does_not_answer(photos, nothing_running):
    done = python("batch", "--input", str(photos), "--output", "s3://field-images/dataset",
                  env=nothing_running)
    one_sentence(done, "S3 does not answer at http://127.0.0.1:")


def test_scoring_says_that_the_registry_does_not_answer(batch_run, nothing_running):
    _, dataset = batch_run
    done = python("model", "score", str(dataset), env=nothing_running)
    one_sentence(done, "score: the model registry (MLflow) does not answer at http://127.0.0.1:")


def test_inspect_needs_no_server(nothing_running):
    done = python("preprocessing", "inspect", str(PHOTO), env=nothing_running)
    assert done.returncode == 0, done.stderr
    assert '"ok": true' in done.stdout


def test_snapshots_of_a_local_dataset_need_no_server(batch_run, nothing_running):
    _, dataset = batch_run
    done = python("dataset", "snapshots", str(dataset), env=nothing_running)
    assert done.returncode == 0 and "no snapshot" in done.stdout, done.stdout + done.stderr
    done = python("dataset", "snapshot", str(dataset), "first", env=nothing_running)
    assert done.returncode == 0 and "first: version 0, 2 rows" in done.stdout, done.stderr
    done = python("dataset", "snapshots", str(dataset), env=nothing_running)
    assert done.returncode == 0 and done.stdout.startswith("first\tversion 0"), done.stderr


def test_compacting_a_local_dataset_needs_no_server(batch_run, nothing_running):
    _, dataset = batch_run
    done = python("dataset", "compact", str(dataset), env=nothing_running)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[-1].startswith("cleanup:")


def test_the_dead_letters_of_a_local_dataset_need_no_server(batch_run, nothing_running):
    _, dataset = batch_run
    done = python("dataset", "dead-letters", str(dataset), env=nothing_running)
    assert done.returncode == 0, done.stderr
    assert "1 rejected photo(s)" in done.stdout
    assert "corrupt: " in done.stdout and "from wheat/cut.jpg" in done.stdout


@pytest.mark.parametrize("command", [["snapshots"], ["snapshot", "v1"], ["compact"],
                                     ["dead-letters"], ["reindex"]])
def test_dataset_commands_on_s3_say_that_s3_does_not_answer(command, nothing_running):
    name, *rest = command
    done = python("dataset", name, "s3://field-images/dataset", *rest, env=nothing_running)
    one_sentence(done, "S3 does not answer at http://127.0.0.1:")


def test_a_folder_without_a_dataset_is_said_to_hold_none(nothing_running, tmp_path):
    for command in (["snapshots"], ["compact"], ["dead-letters"], ["reindex"]):
        done = python("dataset", *command, str(tmp_path), env=nothing_running)
        one_sentence(done, f"no dataset at {tmp_path}")


def test_reindexing_a_local_dataset_says_that_elasticsearch_does_not_answer(batch_run,
                                                                           nothing_running):
    _, dataset = batch_run
    done = python("dataset", "reindex", str(dataset), env=nothing_running)
    one_sentence(done, "reindex: Elasticsearch does not answer at http://127.0.0.1:")


def test_the_map_of_a_dataset_is_written_beside_it(batch_run, nothing_running):
    _, dataset = batch_run
    (dataset / "map.html").unlink()
    done = python("batch.map", "--from", str(dataset), env=nothing_running)
    assert done.returncode == 0, done.stderr
    assert (dataset / "map.html").is_file()
    assert str(dataset / "map.html") in done.stdout


def test_the_map_of_the_index_says_that_elasticsearch_does_not_answer(nothing_running, tmp_path):
    done = python("batch.map", "--from", "es", "--out", str(tmp_path / "map.html"),
                  env=nothing_running)
    one_sentence(done, "Elasticsearch does not answer at http://127.0.0.1:")
    assert not (tmp_path / "map.html").exists()


def test_status_and_down_touch_only_their_own_empty_stack_dir(nothing_running):
    stack_dir = Path(nothing_running["STACK_DIR"])
    shared = {port: port_open("127.0.0.1", port) for port in DEFAULT_PORTS}
    status = run(["./deploy.sh", "status"], nothing_running, timeout=300)
    assert status.returncode == 0, status.stdout + status.stderr
    assert "stopped" in status.stdout
    down = run(["./deploy.sh", "down"], nothing_running, timeout=300)
    assert down.returncode == 0, down.stdout + down.stderr
    assert "stopped nothing" in down.stdout
    assert {port: port_open("127.0.0.1", port) for port in DEFAULT_PORTS} == shared
    assert not any(stack_dir.iterdir()), "status or down started something in the stack dir"
