"""`./deploy.sh [up|status|down]`: the whole pipeline on this machine, then the samples through it.

up      docker compose when a Docker daemon answers, else the native stack of infra/ (servers,
        the API and the streaming job); then posts img/'s photos through the API, waits until
        each is processed, renders the map from Elasticsearch and prints where everything is.
status  what runs (supervisord's account of each process); for the stream also its last
        completed batch, how many messages it is behind the topic's end, and its restarts.
down    stops what ./deploy.sh started (compose, or the supervisord of the stack dir).
"""

from __future__ import annotations

import argparse
import hashlib
import subprocess
import sys
import time
from pathlib import Path

import urllib3

from batch.map import render
from infra.processes import NotReady
from infra.stack import LocalStack
from settings import PROJECT_ROOT, Settings

SAMPLES = PROJECT_ROOT / "img"
MAP_PATH = PROJECT_ROOT / "out" / "map.html"
COMPOSE = ["docker", "compose", "--project-directory", str(PROJECT_ROOT)]
PROCESSING_TIMEOUT_S = 600


def docker_answers() -> bool:
    """Whether a Docker daemon (not just the client) is reachable."""
    try:
        return subprocess.run(["docker", "info"], capture_output=True, timeout=15).returncode == 0
    except (FileNotFoundError, subprocess.TimeoutExpired):
        return False


def api_url(settings: Settings) -> str:
    return f"http://{settings.api_host}:{settings.api_port}"


def image_record(url: str, image_id: str) -> dict | None:
    """GET /images/<id>: the record once processed, None while unknown."""
    response = urllib3.request("GET", f"{url}/images/{image_id}", timeout=10)
    if response.status == 404:
        return None
    if response.status != 200:
        raise NotReady(f"GET /images/{image_id} answered {response.status}: {response.data!r}")
    return response.json()


def post_samples(url: str, folder: Path) -> dict[str, str]:
    """POST every <crop>/<photo> not yet processed, labelled by its folder; {image_id: path}."""
    posted = {}
    for path in sorted(folder.glob("*/*.jpg")):
        data = path.read_bytes()
        image_id = hashlib.sha256(data).hexdigest()
        posted[image_id] = str(path.relative_to(folder))
        if image_record(url, image_id) is not None:
            continue  # a second ./deploy.sh does not post the same photo again
        fields = {"label": path.parent.name, "file": (path.name, data)}
        response = urllib3.request("POST", f"{url}/post_image", fields=fields, timeout=30)
        if response.status != 202:
            raise NotReady(f"POST {path} answered {response.status}: {response.data!r}")
    return posted


def wait_processed(url: str, image_ids, timeout: float) -> dict[str, dict]:
    """Poll GET /images/<id> until every image has a record; returns them."""
    records: dict[str, dict] = {}
    deadline = time.monotonic() + timeout
    while len(records) < len(image_ids):
        for image_id in set(image_ids) - set(records):
            record = image_record(url, image_id)
            if record is not None:
                records[image_id] = record
        print(f"\r  processed {len(records)}/{len(image_ids)}", end="", flush=True)
        if len(records) < len(image_ids):
            if time.monotonic() > deadline:
                raise NotReady(f"only {len(records)} of {len(image_ids)} photos were processed")
            time.sleep(2)
    print()
    return records


def up(settings: Settings) -> None:
    if docker_answers():
        print("deploy: Docker answers: docker compose up")
        subprocess.run([*COMPOSE, "up", "-d", "--build", "--wait"], check=True)
    else:
        print("deploy: no Docker daemon: the native stack of infra/ (servers, API, streaming job)")
        LocalStack(settings).up()
    url = api_url(settings)
    print(f"deploy: posting the samples of {SAMPLES.relative_to(PROJECT_ROOT)}/ to {url}")
    posted = post_samples(url, SAMPLES)
    records = wait_processed(url, posted, PROCESSING_TIMEOUT_S)
    rejected = [posted[i] for i, record in records.items() if record.get("status") != "processed"]
    summary = render("es", MAP_PATH, settings)
    print(f"""
The pipeline is up.
  API            {url}   (curl -F "file=@photo.jpg" -F label=maize {url}/post_image)
  photos         {len(records)} processed, {len(rejected)} rejected {rejected or ''}
  map            {MAP_PATH}  ({summary.mapped} placed, {summary.without_gps} without GPS)
  dataset        {settings.dataset_root}  at {settings.s3.endpoint_url}
  search index   {settings.elasticsearch_url}/{settings.elasticsearch_index}
  logs, state    {settings.stack_dir}
  stop with      ./deploy.sh down""")


def status(settings: Settings) -> None:
    if docker_answers():
        subprocess.run([*COMPOSE, "ps"], check=False)
    for line in LocalStack(settings).status():
        print(line)


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
