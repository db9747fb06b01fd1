"""`./deploy.sh status`: what an operator reads first, in a few seconds, with no server required.

The core (what takes and processes photos) comes first and ends in one verdict; then whether
the API is ready, Elasticsearch's health, the dataset's dead letters, the stack dir's disk use
and the alerts firing;
the optional Spark cluster comes last, apart, since a cluster nobody started is no outage. Each
probe answers within a few seconds, or says that it did not.
"""

from __future__ import annotations

import json
import os
import shutil
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

from elastic_transport import TransportError
from elasticsearch import ApiError

from adapters.elasticsearch_client import make_elasticsearch_client
from adapters.object_store import open_store
from dataset.dead_letters import REJECTED_PREFIX, count
from dataset.reader_checks import DatasetError, check_reachable
from infra.monitoring.prometheus import Prometheus, firing_alerts
from infra.stack import LocalStack
from settings import Settings

PROBE_TIMEOUT_S = 3
GIB = 1024**3


def status_report(settings: Settings) -> Iterator[str]:
    """The lines of `./deploy.sh status`."""
    stack = LocalStack(settings)
    core = stack.status(stack.start_order())
    down = [status.name for status in core if not status.running]
    verdict = (f"all {len(core)} running" if not down
               else f"{len(down)} of {len(core)} not running: {', '.join(down)}")
    yield f"core: {verdict}"
    for status in core:
        yield from (f"  {line}" for line in str(status).splitlines())
    yield "checks"
    yield f"  api ready     {api_readiness(settings)}"
    yield f"  es health     {search_health(settings)}"
    yield f"  dead letters  {dead_letter_count(settings)}"
    yield f"  disk          {disk_use(Path(settings.stack_dir))}"
    yield from alert_lines(settings)
    optional = stack.status(stack.optional())
    if optional:
        yield f"optional (the core runs without it; SPARK_MASTER is {settings.spark_master})"
    for status in optional:
        if status.running:
            yield from (f"  {line}" for line in str(status).splitlines())
        else:
            yield (f"  {status.name:<6} not started; `python -m infra up {status.name}` starts it "
                   f"({status.url})")


def api_readiness(settings: Settings) -> str:
    """Whether the API takes uploads now: its /readyz, which asks Kafka."""
    url = f"http://{settings.api_host}:{settings.api_internal_port}/readyz"
    try:
        with urllib.request.urlopen(url, timeout=PROBE_TIMEOUT_S) as response:
            return f"yes ({url} answered {response.status})"
    except urllib.error.HTTPError as error:
        return f"no: {url} answered {error.code}: {_message(error.read())}"
    except OSError as error:
        return f"no: {url} does not answer ({getattr(error, 'reason', error)})"


def _message(body: bytes) -> str:
    """The sentence of an API error body, or the body itself."""
    try:
        answer = json.loads(body)
    except ValueError:
        return body.decode(errors="replace")[:200]
    return str(answer.get("message") or answer.get("error") or answer)[:200]


def search_health(settings: Settings) -> str:
    """Elasticsearch's cluster health: green, yellow or red, with its shard counts."""
    client = make_elasticsearch_client(settings.elasticsearch_url, settings.elasticsearch_auth)
    try:
        health = client.options(request_timeout=PROBE_TIMEOUT_S, max_retries=0).cluster.health()
    except ApiError as error:
        return f"unknown: {settings.elasticsearch_url} answered {error.meta.status}"
    except TransportError:
        return f"unknown: {settings.elasticsearch_url} does not answer"
    return (f"{health['status']} ({health['number_of_nodes']} node(s), "
            f"{health['active_shards']} active shards, "
            f"{health['unassigned_shards']} unassigned)")


def alert_lines(settings: Settings) -> Iterator[str]:
    """The alerts firing now, one line each, from Prometheus (docs/operations.md, "Alerts")."""
    url = Prometheus(settings).url
    try:
        alerts = firing_alerts(settings)
    except (OSError, ValueError, KeyError) as error:
        yield (f"  alerts        unknown: Prometheus does not answer at {url} "
               f"({getattr(error, 'reason', error)})")
        return
    yield f"  alerts        {len(alerts) or 'none'} firing ({url}/alerts)"
    for alert in sorted(alerts, key=lambda alert: alert["activeAt"]):
        labels, since = alert["labels"], alert["activeAt"][:19].replace("T", " ")
        yield (f"    {labels['alertname']} ({labels.get('severity', 'no severity')}, since "
               f"{since} UTC): {alert['annotations'].get('summary', '')}")


def dead_letter_count(settings: Settings) -> str:
    """How many photos the dataset rejected (its rejected/ records), and how to list them."""
    root, store = settings.dataset_root, open_store(settings.dataset_root, settings.s3)
    try:
        check_reachable(store)
        rejected = count(store)
    except DatasetError as error:
        return f"unknown: {error}"
    return (f"{rejected} in {root.rstrip('/')}/{REJECTED_PREFIX}"
            + (f"; python -m dataset dead-letters {root} lists them" if rejected else ""))


def disk_use(stack_dir: Path) -> str:
    """What the stack dir (servers' data, logs, checkpoints) takes, and what its disk has left."""
    if not stack_dir.is_dir():
        return f"{stack_dir} does not exist: nothing was started from it"
    used = 0
    for folder, _, files in os.walk(stack_dir):
        for name in files:
            try:
                used += os.lstat(os.path.join(folder, name)).st_size
            except OSError:
                continue  # a file removed while we count
    disk = shutil.disk_usage(stack_dir)
    return (f"{used / GIB:.2f} GiB in {stack_dir}; {disk.free / GIB:.1f} GiB free of "
            f"{disk.total / GIB:.1f} GiB on its disk")
