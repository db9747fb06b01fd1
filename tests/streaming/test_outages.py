"""The running streaming job outlives an outage of each server it needs, with no human action.

One job, as the native deploy runs it (under supervisord), on a stack of its own: its broker,
its S3 (the dataset; the broker's log stays on the session's S3) and its Elasticsearch are each
stopped for longer than the ~30 s after which the job used to exit for good, while photos keep
arriving where they can. Afterwards every photo is in the dataset and the index exactly once,
and `python -m infra status stream` tells the lag. The exact recovery times of 60 s outages
come from bench/outage_drill.py.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
import urllib.request

import pytest

from adapters.object_store import open_store
from kit.field_messages import (
    documents,
    manifest_rows_written,
    photo_messages,
    produce,
)
from kit.spare_stack import SpareStack
from settings import PROJECT_ROOT

OUTAGE_S = 35  # longer than kafka-python's 30 s bootstrap timeout that used to end the job
CATCH_UP_TIMEOUT_S = 180


@pytest.fixture(scope="module")
def spare(kafka_stack):
    """The job running on S3, a broker and Elasticsearch of its own; all removed afterwards."""
    stack = SpareStack(kafka_stack, broker_on_own_s3=False)
    try:
        stack.up()
        yield stack
    finally:
        stack.close()


class Photos:
    """The photos sent so far, and waits for the job to have indexed all of them."""

    def __init__(self, stack: SpareStack):
        self.stack, self.sent = stack, []

    def send(self, count: int) -> None:
        messages = photo_messages(count, first=len(self.sent))
        produce(self.stack.settings.kafka_bootstrap_servers, self.stack.settings.kafka_topic,
                messages)
        self.sent += messages

    def wait_indexed(self) -> None:
        wanted = {photo.image_id for photo in self.sent}
        deadline = time.monotonic() + CATCH_UP_TIMEOUT_S
        while not wanted <= set(indexed(self.stack.settings)):
            assert time.monotonic() < deadline, (
                f"not caught up {CATCH_UP_TIMEOUT_S} s after the outage; the job's log:\n"
                f"{self.stack.servers['stream'].process.log_tail(60)}")
            time.sleep(1)


def indexed(settings) -> dict:
    """The index's documents; none while Elasticsearch does not answer."""
    try:
        return documents(settings)
    except Exception:  # the server is stopped or still starting
        return {}


def stream_status(settings) -> str:
    """`python -m infra status stream` as an operator runs it for this stack."""
    result = subprocess.run(
        [sys.executable, "-m", "infra", "status", "stream"], cwd=PROJECT_ROOT,
        env={**os.environ, **settings.to_env()}, capture_output=True, text=True, check=True,
        timeout=60,
    )
    return result.stdout


@pytest.fixture(scope="module")
def photos(spare):
    photos = Photos(spare)
    photos.send(6)
    photos.wait_indexed()
    return photos


@pytest.fixture(scope="module")
def job_pid(spare, photos):
    """The job's process before the first outage."""
    return spare.servers["stream"].process.pid()


def query_restarts(settings) -> float:
    """The job's stream_query_restarts_total, read from its metrics endpoint."""
    url = f"http://127.0.0.1:{settings.stream_metrics_port}/metrics"
    with urllib.request.urlopen(url, timeout=5) as response:
        text = response.read().decode()
    return float(re.search(r"^stream_query_restarts_total (\S+)$", text, re.MULTILINE)[1])


def test_the_job_catches_up_after_its_broker_was_down(spare, photos, job_pid):
    spare.down("kafka")
    time.sleep(OUTAGE_S)
    spare.up("kafka")
    photos.send(6)
    photos.wait_indexed()


def test_the_job_catches_up_after_its_s3_was_down_with_photos_arriving_meanwhile(
    spare, photos, job_pid
):
    spare.down("s3")
    photos.send(6)
    time.sleep(OUTAGE_S)
    spare.up("s3")
    photos.send(6)
    photos.wait_indexed()


def test_status_shows_the_lag_while_elasticsearch_is_down_and_none_once_caught_up(
    spare, photos, job_pid
):
    restarts_before = query_restarts(spare.settings)
    spare.down("es")
    photos.send(6)
    time.sleep(OUTAGE_S)
    during = stream_status(spare.settings)
    restarts_during = query_restarts(spare.settings)
    spare.up("es")
    photos.send(6)
    photos.wait_indexed()
    after = stream_status(spare.settings)

    assert "stream running (pid" in during and "6 messages behind the topic's end" in during
    assert "query restarted" in during and "Connection refused" in during
    assert restarts_during >= restarts_before + 1  # stream_query_restarts_total, for alerts
    assert "0 messages behind the topic's end" in after
    assert "last batch  #" in after and "s ago)" in after


def test_no_outage_lost_or_doubled_a_photo_or_restarted_the_job_process(spare, photos, job_pid):
    settings = spare.settings
    store = open_store(settings.dataset_root, settings.s3)
    written = sorted(row["image_id"] for row in manifest_rows_written(store))

    assert written == sorted(photo.image_id for photo in photos.sent)
    assert set(documents(settings)) == {photo.image_id for photo in photos.sent}
    assert spare.servers["stream"].process.pid() == job_pid
