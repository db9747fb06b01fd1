"""The one-shot scripts of infra/compose/, run here with stand-ins for curl and mc.

In compose they run in curlimages/curl and minio/mc against the real servers; here a stand-in
records each call and each file it uploads, and gives the answers a test scripts for the server,
in order (the last one repeats), so the requests themselves are checked without Docker.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from infra.schemas import IMAGE_MAPPINGS
from settings import PROJECT_ROOT

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
    calls.write(json.dumps({{"program": "{name}", "args": args, "uploads": uploads}}) + "\\n")
answers = json.loads(os.environ["ANSWERS"]) or [""]
print(answers[min(made, len(answers) - 1)])
"""


class Calls:
    """Runs a script with the stand-ins first on the PATH; what they were asked, in order."""

    def __init__(self, folder: Path):
        self.bin = folder / "bin"
        self.bin.mkdir()
        self.log = folder / "calls.jsonl"
        for name in ("curl", "mc"):
            program = self.bin / name
            program.write_text(STAND_IN.format(python=sys.executable, name=name))
            program.chmod(0o755)

    def run(self, script: str, *answers: str, **env: str) -> subprocess.CompletedProcess:
        self.log.write_text("")
        path = f"{self.bin}{os.pathsep}{os.environ['PATH']}"
        return subprocess.run(
            ["sh", str(SCRIPTS / script)],
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
}


def test_minio_init_creates_the_bucket_of_the_dataset_root(calls):
    result = calls.run("minio-init.sh", DATASET_ROOT="s3://crops/dataset/v1", **S3)
    assert result.returncode == 0, result.stderr
    assert [call["args"] for call in calls.made()] == [
        ["alias", "set", "pipeline", "http://minio:9000", "key", "secret"],
        ["mb", "--ignore-existing", "pipeline/crops"],
    ]


def test_minio_init_has_nothing_to_do_for_a_local_dataset_root(calls):
    result = calls.run("minio-init.sh", DATASET_ROOT="/data/dataset", **S3)
    assert result.returncode == 0
    assert calls.made() == []
