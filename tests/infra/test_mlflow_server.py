"""`python -m infra up mlflow`: MLflow's server on loopback behind the project's credentials, its
store in the stack dir, its artifacts on the stack's S3, started again by supervisord when it
dies. A server of its own (free port, own stack dir and bucket), stopped afterwards."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from dataclasses import replace
from pathlib import Path

import pytest

from adapters.s3 import make_s3_client
from infra.mlflow_server import basic_auth_header
from infra.processes import free_port, port_open
from infra.schemas import remove_bucket
from infra.stack import NEEDS, SERVERS, LocalStack
from model.registry import connect
from settings import PROJECT_ROOT


@pytest.fixture(scope="module")
def own_mlflow(s3_stack, tmp_path_factory):
    port = free_port()
    settings = replace(s3_stack, stack_dir=str(tmp_path_factory.mktemp("mlflow-stack")),
                       mlflow_port=port, mlflow_tracking_uri=f"http://127.0.0.1:{port}",
                       mlflow_bucket=f"mlflow-test-{uuid.uuid4().hex[:8]}")
    assert LocalStack(settings).up(["mlflow"]) == ["mlflow"]
    yield settings
    LocalStack(settings).down()
    remove_bucket(make_s3_client(settings.s3), settings.mlflow_bucket)


def status(settings, path: str, headers: dict | None = None) -> int:
    request = urllib.request.Request(f"{settings.mlflow_tracking_uri}{path}", headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


SEARCH = "/api/2.0/mlflow/registered-models/search"


def test_only_the_project_s_credentials_open_the_registry(own_mlflow):
    s = own_mlflow
    assert status(s, SEARCH) == 401
    assert status(s, SEARCH, {"Authorization": basic_auth_header(s.mlflow_username,
                                                                  "not-the-password")}) == 401
    assert status(s, SEARCH, {"Authorization": basic_auth_header(s.mlflow_username,
                                                                  s.mlflow_password)}) == 200
    assert status(s, "/health") == 200  # for probes, without credentials


def test_a_credential_it_trusts_for_a_while_opens_nothing_to_a_wrong_password(own_mlflow):
    """The server keeps a checked credential for a minute (its PBKDF2 check costs ~190 ms of
    CPU a request): only the very same user and password reuse it."""
    s, right = own_mlflow, own_mlflow.mlflow_password
    for password in (right, right, "not-the-password", right[:-1], right + " ", right):
        expected = 200 if password == right else 401
        assert status(s, SEARCH, {"Authorization": basic_auth_header(s.mlflow_username,
                                                                      password)}) == expected
    assert status(s, SEARCH, {"Authorization": basic_auth_header("someone-else", right)}) == 401


def test_it_listens_on_loopback_only(own_mlflow):
    listening = subprocess.run(["ss", "-ltnH", f"sport = :{own_mlflow.mlflow_port}"],
                               capture_output=True, text=True, check=True).stdout.split()
    assert f"127.0.0.1:{own_mlflow.mlflow_port}" in listening
    assert f"0.0.0.0:{own_mlflow.mlflow_port}" not in listening


def test_its_store_is_in_the_stack_dir_and_its_artifacts_on_the_stack_s3(own_mlflow, tmp_path):
    client = connect(own_mlflow)
    experiment = client.create_experiment(f"probe-{uuid.uuid4().hex[:8]}")
    run = client.create_run(experiment)
    (tmp_path / "note.txt").write_text("kept on S3")
    client.log_artifact(run.info.run_id, str(tmp_path / "note.txt"))

    assert (Path(own_mlflow.stack_dir) / "mlflow" / "mlflow.db").is_file()
    s3 = make_s3_client(own_mlflow.s3)
    keys = [item["Key"] for item in s3.list_objects_v2(
        Bucket=own_mlflow.mlflow_bucket, Prefix="artifacts/").get("Contents", [])]
    assert [key for key in keys if key.endswith(f"{run.info.run_id}/artifacts/note.txt")]


def test_a_killed_server_is_started_again_and_keeps_its_registry(own_mlflow):
    client = connect(own_mlflow)
    name = f"kept-{uuid.uuid4().hex[:8]}"
    client.create_registered_model(name)
    server = LocalStack(own_mlflow).servers["mlflow"]
    killed = server.process.pid()

    os.kill(killed, signal.SIGKILL)
    deadline = time.monotonic() + 120
    while server.process.pid() in (None, killed) or not server.is_ready():
        assert time.monotonic() < deadline, "mlflow was not started again"
        time.sleep(1)
    assert connect(own_mlflow).get_registered_model(name).name == name


def test_the_cli_reports_it_running_under_its_stack_dir(own_mlflow):
    env = {**os.environ, **own_mlflow.to_env()}
    result = subprocess.run([sys.executable, "-m", "infra", "up", "mlflow"], cwd=PROJECT_ROOT,
                            env=env, capture_output=True, text=True, check=True, timeout=300)
    line, = result.stdout.splitlines()
    assert line.split()[:3] == ["mlflow", "running", "(pid"]
    assert line.endswith(f"http://127.0.0.1:{own_mlflow.mlflow_port}")
    assert port_open("127.0.0.1", own_mlflow.mlflow_port)


def test_it_needs_s3_and_starts_after_it():
    assert NEEDS["mlflow"] == {"s3"}
    assert list(SERVERS).index("s3") < list(SERVERS).index("mlflow") < list(SERVERS).index("api")
