"""The scripts of infra/compose/, run here with stand-ins for curl, mc and mlflow: the one-shots,
and the MLflow server's start script.

In compose they run in curlimages/curl, minio/mc and the MLflow image against the real servers;
here a stand-in
records each call and each file it uploads, and gives the answers a test scripts for the server,
in order (the last one repeats), so the requests themselves are checked without Docker.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest

from infra.mlflow_server import MlflowServer, auth_ini
from infra.schemas import IMAGE_MAPPINGS
from settings import PROJECT_ROOT, Settings

SCRIPTS = PROJECT_ROOT / "infra" / "compose"

STAND_IN = """#!{python}
import json, os, pathlib, sys

args = sys.argv[1:]
uploads = {{}}
for arg in args:
    if arg.startswith(("@", "file=@")):
        path = pathlib.Path(arg.split("@", 1)[1])
        uploads[path.name] = path.read_text()
log = pathlib.Path(os.environ["CALLS"])
made = len(log.read_text().splitlines())
with log.open("a") as calls:
    env = {{k: v for k, v in os.environ.items() if k.startswith("MLFLOW_")}}
    calls.write(json.dumps({{"program": "{name}", "args": args, "uploads": uploads,
                            "env": env}}) + "\\n")
answers = json.loads(os.environ["ANSWERS"]) or [""]
print(answers[min(made, len(answers) - 1)])
"""


class Calls:
    """Runs a script with the stand-ins first on the PATH; what they were asked, in order."""

    def __init__(self, folder: Path):
        self.bin = folder / "bin"
        self.bin.mkdir()
        self.log = folder / "calls.jsonl"
        for name in ("curl", "mc", "mlflow"):
            program = self.bin / name
            program.write_text(STAND_IN.format(python=sys.executable, name=name))
            program.chmod(0o755)

    def run(self, script: str, *answers: str, args: tuple[str, ...] = (),
            **env: str) -> subprocess.CompletedProcess:
        self.log.write_text("")
        path = os.pathsep.join([str(self.bin), *filter(None, [env.pop("PYTHON_DIR", "")]),
                                os.environ["PATH"]])
        return subprocess.run(
            ["sh", str(SCRIPTS / script), *args],
            env={"PATH": path, "CALLS": str(self.log), "ANSWERS": json.dumps(answers), **env},
            capture_output=True,
            text=True,
        )

    def made(self) -> list[dict]:
        return [json.loads(line) for line in self.log.read_text().splitlines()]


@pytest.fixture
def calls(tmp_path) -> Calls:
    return Calls(tmp_path)


ES = {
    "ELASTICSEARCH_URL": "http://es:9200",
    "ELASTICSEARCH_INDEX": "crops",
    "ELASTICSEARCH_USERNAME": "elastic",
    "ELASTICSEARCH_PASSWORD": "es-secret",
}
KIBANA_PASSWORD = {"KIBANA_PASSWORD": "kibana-secret"}
ACKNOWLEDGED = '{"acknowledged":true}'
AS_ELASTIC = ["-sS", "-u", "elastic:es-secret"]


def test_es_init_puts_the_template_then_the_index_then_kibanas_password_as_elastic(calls):
    result = calls.run("es-init.sh", ACKNOWLEDGED, ACKNOWLEDGED, "{}", **ES, **KIBANA_PASSWORD)
    assert result.returncode == 0, result.stderr
    template, index, password = calls.made()
    assert template["args"][:5] == [*AS_ELASTIC, "-X", "PUT"]
    assert template["args"][5] == "http://es:9200/_index_template/crops"
    [body] = template["uploads"].values()
    assert json.loads(body) == {
        "index_patterns": ["crops", "crops-*"],
        "template": {
            "settings": {"number_of_shards": 1, "number_of_replicas": 0},
            "mappings": IMAGE_MAPPINGS,
        },
    }
    assert index["args"] == [*AS_ELASTIC, "-X", "PUT", "http://es:9200/crops"]
    assert password["args"][:5] == [*AS_ELASTIC, "-X", "POST"]
    assert password["args"][5] == "http://es:9200/_security/user/kibana_system/_password"
    [body] = password["uploads"].values()
    assert json.loads(body) == {"password": "kibana-secret"}


def test_es_init_accepts_an_index_that_already_exists(calls):
    exists = '{"error":{"type":"resource_already_exists_exception"},"status":400}'
    result = calls.run("es-init.sh", ACKNOWLEDGED, exists, "{}", **ES, **KIBANA_PASSWORD)
    assert result.returncode == 0


def test_es_init_fails_when_elasticsearch_refuses(calls):
    refused = '{"error":{"type":"mapper_parsing_exception"},"status":400}'
    result = calls.run("es-init.sh", refused, **ES, **KIBANA_PASSWORD)
    assert result.returncode != 0
    assert len(calls.made()) == 1


def test_es_init_fails_when_kibanas_password_is_not_set(calls):
    refused = '{"error":{"type":"security_exception"},"status":401}'
    result = calls.run("es-init.sh", ACKNOWLEDGED, ACKNOWLEDGED, refused, **ES, **KIBANA_PASSWORD)
    assert result.returncode != 0


def test_kibana_init_imports_the_saved_objects_for_the_index_overwriting(calls):
    imported = '{"success":true,"successCount":2}'
    result = calls.run("kibana-init.sh", imported, KIBANA_URL="http://kb:5601", **ES)
    assert result.returncode == 0, result.stderr
    [call] = calls.made()
    args = call["args"]
    assert args[args.index("-u") + 1] == "elastic:es-secret"
    assert args[args.index("-X") + 1] == "POST"
    assert "http://kb:5601/api/saved_objects/_import?overwrite=true" in args
    assert args[args.index("-H") + 1] == "kbn-xsrf: true"
    objects = [json.loads(line) for line in call["uploads"]["saved_objects.ndjson"].splitlines()]
    [data_view] = [o for o in objects if o["type"] == "index-pattern"]
    assert data_view["attributes"]["title"] == "crops"


def test_kibana_init_fails_when_an_object_is_refused(calls):
    refused = '{"success":false,"errors":[{"type":"map","error":{"type":"unknown"}}]}'
    result = calls.run("kibana-init.sh", refused, KIBANA_URL="http://kb:5601", **ES)
    assert result.returncode != 0


S3 = {
    "S3_ENDPOINT_URL": "http://minio:9000",
    "AWS_ACCESS_KEY_ID": "key",
    "AWS_SECRET_ACCESS_KEY": "secret",
    "MLFLOW_BUCKET": "registry",
}


def test_minio_init_creates_the_buckets_of_the_dataset_root_and_the_registry(calls):
    result = calls.run("minio-init.sh", DATASET_ROOT="s3://crops/dataset/v1", **S3)
    assert result.returncode == 0, result.stderr
    assert [call["args"] for call in calls.made()] == [
        ["alias", "set", "pipeline", "http://minio:9000", "key", "secret"],
        ["mb", "--ignore-existing", "pipeline/registry"],
        ["mb", "--ignore-existing", "pipeline/crops"],
    ]


def test_minio_init_makes_only_the_registry_s_bucket_for_a_local_dataset_root(calls):
    result = calls.run("minio-init.sh", DATASET_ROOT="/data/dataset", **S3)
    assert result.returncode == 0
    assert [call["args"][:2] for call in calls.made()] == [["alias", "set"],
                                                            ["mb", "--ignore-existing"]]


# The MLflow server's start script (infra/compose/mlflow/start.sh), against infra/mlflow_server.py


MLFLOW = {"MLFLOW_PORT": "5000", "MLFLOW_TRACKING_URI": "http://mlflow:5000",
          "MLFLOW_USERNAME": "pipeline", "MLFLOW_PASSWORD": "registry-secret", **S3}


def start_mlflow(calls: Calls, state: Path) -> dict:
    python = str(Path(sys.executable).parent)  # the script makes its secret key with python3
    result = calls.run("mlflow/start.sh", args=(str(state),),
                       PYTHON_DIR=python, **MLFLOW)
    assert result.returncode == 0, result.stderr
    [call] = calls.made()
    return call


def test_the_compose_server_runs_as_the_native_one_but_on_its_network(calls, tmp_path):
    settings = replace(Settings(), mlflow_bucket="registry", mlflow_username="pipeline",
                       mlflow_password="registry-secret", stack_dir=str(tmp_path / "stack"))
    home = Path(settings.stack_dir) / "mlflow"
    home.mkdir(parents=True)
    (home / "flask_secret_key").write_text("made by prepare()")
    native_argv, native_env = MlflowServer(settings).command()
    call = start_mlflow(calls, tmp_path)

    argv = dict(zip(call["args"][1::2], call["args"][2::2], strict=False))
    native = dict(zip(native_argv[2::2], native_argv[3::2], strict=True))
    assert call["args"][0] == native_argv[1] == "server"
    assert {flag: value.replace(str(home), str(tmp_path)) for flag, value in native.items()
            if flag != "--host"} == {flag: argv[flag] for flag in native if flag != "--host"}
    assert argv["--host"] == "0.0.0.0"
    assert argv["--allowed-hosts"].split(",") == ["mlflow", "mlflow:5000", "localhost",
                                                  "localhost:5000", "127.0.0.1", "127.0.0.1:5000"]
    env = call["env"]
    assert set(env) - set(MLFLOW) == {name for name in native_env if name.startswith("MLFLOW_")}
    assert env["MLFLOW_AUTH_ADMIN_PASSWORD"] == "registry-secret"
    assert env["MLFLOW_SERVER_ENABLE_JOB_EXECUTION"] == "false"
    assert env["MLFLOW_S3_ENDPOINT_URL"] == "http://minio:9000"
    ini = Path(env["MLFLOW_AUTH_CONFIG_PATH"]).read_text()
    assert ini == auth_ini(f"sqlite:///{tmp_path}/basic_auth.db", "pipeline")


def test_the_compose_server_keeps_its_secret_key_and_its_files_private(calls, tmp_path):
    first = start_mlflow(calls, tmp_path)["env"]["MLFLOW_FLASK_SERVER_SECRET_KEY"]
    again = start_mlflow(calls, tmp_path)["env"]["MLFLOW_FLASK_SERVER_SECRET_KEY"]
    assert len(first) == 64 and again == first
    for name in ("flask_secret_key", "basic_auth.ini"):
        assert (tmp_path / name).stat().st_mode & 0o077 == 0, name
