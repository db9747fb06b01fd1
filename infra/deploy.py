"""`./deploy.sh [up|status|down]`: the whole pipeline on this machine, then the samples through it.

up      docker compose when a Docker daemon answers, else the native stack of infra/ (servers,
        the API and the streaming job); then issues a token for the device `deploy`, posts
        img/'s photos through the API with it, waits until each is processed, renders the map
        from Elasticsearch and prints where everything is, and how to get a token.
status  the core's processes (supervisord's account of each; for the stream also its last
        completed batch, how many messages it is behind the topic's end, and its restarts),
        then the API's readiness, Elasticsearch's health, the dataset's dead letters and the
        stack dir's disk use, and apart from the core the optional Spark cluster
        (infra/status_report.py).
down    stops what ./deploy.sh started (compose, or the supervisord of the stack dir).
"""

from __future__ import annotations

import argparse
import hashlib
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

from batch.map import render
from infra.monitoring.alert_log import LOG_NAME as ALERT_LOG_NAME
from infra.monitoring.alert_log import AlertLog
from infra.nginx import Nginx
from infra.processes import NotReady
from infra.stack import LocalStack
from infra.status_report import status_report
from ingest_api.auth.store import TokenStore
from kit.api_client import Answer, ApiClient
from settings import PROJECT_ROOT, Settings

SAMPLES = PROJECT_ROOT / "img"
MAP_PATH = PROJECT_ROOT / "out" / "map.html"
COMPOSE = ["docker", "compose", "--project-directory", str(PROJECT_ROOT)]
PROCESSING_TIMEOUT_S = 600
DEPLOY_DEVICE = "deploy"
ISSUE_TOKEN = ["-m", "ingest_api", "tokens", "issue", "--device"]
COMPOSE_ALERT_LOG = "docker compose exec alertlog cat /var/lib/pipeline/alerts/alerts.log"


def docker_answers() -> bool:
    """Whether a Docker daemon (not just the client) is reachable."""
    try:
        return subprocess.run(["docker", "info"], capture_output=True, timeout=15).returncode == 0
    except (FileNotFoundError, subprocess.TimeoutExpired):
        return False


def deploy_token(settings: Settings, compose: bool) -> str | None:
    """A new token for the device `deploy` (None with auth off), in the store the API reads."""
    if not settings.auth:
        return None
    if compose:
        command = [*COMPOSE, "exec", "-T", "api", "python", *ISSUE_TOKEN, DEPLOY_DEVICE]
        return subprocess.run(command, check=True, capture_output=True, text=True).stdout.strip()
    return TokenStore.from_settings(settings).issue(DEPLOY_DEVICE)


def patiently(ask: Callable[[], Answer]) -> Answer:
    """One request to the API; past the device's rate limit, wait its Retry-After and resend."""
    while True:
        answer = ask()
        if answer.status != 429:
            return answer
        time.sleep(int(answer.headers.get("Retry-After", "1")))


def image_record(api: ApiClient, image_id: str) -> dict | None:
    """GET /images/<id>: the record once processed, None while unknown."""
    answer = patiently(lambda: api.image(image_id))
    if answer.status == 404:
        return None
    if answer.status != 200:
        raise NotReady(f"GET /images/{image_id} answered {answer.status}: {answer.data!r}")
    return answer.json()


def post_samples(api: ApiClient, folder: Path) -> dict[str, str]:
    """POST every <crop>/<photo> not yet processed, labelled by its folder; {image_id: path}.

    Keyed by image id, so a photo is counted once however often it was sent."""
    posted = {}
    for path in sorted(folder.glob("*/*.jpg")):
        data = path.read_bytes()
        image_id = hashlib.sha256(data).hexdigest()
        posted[image_id] = str(path.relative_to(folder))
        if image_record(api, image_id) is None:
            post_sample(api, path, data)  # a second ./deploy.sh skips the recorded
    return posted


def post_sample(api: ApiClient, path: Path, data: bytes) -> str:
    """POST one photo labelled by its folder: "accepted" (202), or "duplicate" (200) when the
    pipeline recorded it between our look-up and the upload."""
    answer = patiently(lambda: api.post_image(data, path.name, label=path.parent.name))
    if answer.status == 202:
        return "accepted"
    if answer.status == 200 and answer.json().get("status") == "duplicate":
        return "duplicate"
    raise NotReady(f"POST {path} answered {answer.status}: {answer.data!r}")


def wait_processed(api: ApiClient, image_ids, timeout: float) -> dict[str, dict]:
    """Poll GET /images/<id> until every image has a record; returns them."""
    records: dict[str, dict] = {}
    deadline = time.monotonic() + timeout
    while len(records) < len(image_ids):
        for image_id in set(image_ids) - set(records):
            record = image_record(api, image_id)
            if record is not None:
                records[image_id] = record
        print(f"\r  processed {len(records)}/{len(image_ids)}", end="", flush=True)
        if len(records) < len(image_ids):
            if time.monotonic() > deadline:
                raise NotReady(f"only {len(records)} of {len(image_ids)} photos were processed")
            time.sleep(2)
    print()
    return records


def how_to_upload(settings: Settings, compose: bool) -> tuple[str, str]:
    """The printout's lines on getting a device token, and on uploading with it."""
    curl = f'curl -F "file=@photo.jpg" -F label=maize {Nginx(settings).url}/post_image'
    if not settings.auth:
        return "none needed: AUTH=off, anyone who reaches the API may use it", curl
    python = "docker compose exec -T api python" if compose else ".venv/bin/python"
    token = f"TOKEN=$({python} {' '.join(ISSUE_TOKEN)} my-phone)"
    return token, curl.replace("curl", 'curl -H "Authorization: Bearer $TOKEN"', 1)


def up(settings: Settings) -> None:
    compose = docker_answers()
    if compose:
        print("deploy: Docker answers: docker compose up")
        subprocess.run([*COMPOSE, "up", "-d", "--build", "--wait"], check=True)
    else:
        print("deploy: no Docker daemon: the native stack of infra/ (servers, API, streaming job)")
        LocalStack(settings).up()
    url = Nginx(settings).url
    api = ApiClient(url, deploy_token(settings, compose))
    print(f"deploy: posting the samples of {SAMPLES.relative_to(PROJECT_ROOT)}/ to {url}"
          + (f" as device {DEPLOY_DEVICE!r}" if api.token else ""))
    posted = post_samples(api, SAMPLES)
    records = wait_processed(api, posted, PROCESSING_TIMEOUT_S)
    rejected = [posted[i] for i, record in records.items() if record.get("status") != "processed"]
    summary = render("es", MAP_PATH, settings)
    token, curl = how_to_upload(settings, compose)
    alert_log = (COMPOSE_ALERT_LOG if compose
                 else Path(settings.stack_dir) / AlertLog.name / ALERT_LOG_NAME)
    alerts = (f"http://127.0.0.1:{settings.prometheus_port}/alerts  (Prometheus; each one also "
              f"in {alert_log})")
    print(f"""
The pipeline is up.
  API            {url}
  a token        {token}
  upload         {curl}
  photos         {len(records)} processed, {len(rejected)} rejected {rejected or ''}
  map            {MAP_PATH}  ({summary.mapped} placed, {summary.without_gps} without GPS)
  dataset        {settings.dataset_root}  at {settings.s3.endpoint_url}
  search index   {settings.elasticsearch_url}/{settings.elasticsearch_index}
  model registry {settings.mlflow_tracking_uri}  (MLflow; python -m model versions)
  alerts         {alerts}
  logs, state    {settings.stack_dir}
  stop with      ./deploy.sh down""")


def status(settings: Settings) -> None:
    if docker_answers():
        subprocess.run([*COMPOSE, "ps"], check=False)
    for line in status_report(settings):
        print(line, flush=True)


def down(settings: Settings) -> None:
    if docker_answers():
        subprocess.run([*COMPOSE, "down"], check=False)
    stopped = LocalStack(settings).down()
    print(f"deploy: stopped {', '.join(stopped) or 'nothing (no native service was running)'}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="./deploy.sh", description=__doc__)
    parser.add_argument("action", nargs="?", default="up", choices=["up", "status", "down"])
    action = {"up": up, "status": status, "down": down}[parser.parse_args(argv).action]
    try:
        action(Settings.from_env())
    except NotReady as error:
        print(f"deploy: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
