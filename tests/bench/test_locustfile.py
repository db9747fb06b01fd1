"""The stress test's users work against the real API: every kind of request, no failures.

locust runs bench/locustfile.py headless for a few seconds against gunicorn, with the session's
broker and an image index holding two placed photos, so that the map viewers open popups.
"""

from __future__ import annotations

import csv
import os
import subprocess
import sys
import uuid
from dataclasses import replace

import pytest

from bench.api_stress import FIELD_USERS
from infra.processes import free_port
from infra.schemas import ensure_topic, remove_topics
from kit.uploads import jpeg
from settings import PROJECT_ROOT
from tests.ingest_api.gunicorn import internal_url, serving
from tests.ingest_api.map_index import MapIndex

USERS = 10  # 6 phones, 3 map viewers, 1 upload page visitor (the classes' weights)
RUN_S = 8


@pytest.fixture
def api(kafka_stack, es_stack, tmp_path):
    """gunicorn on a topic and an index of this test's own; the settings it runs with."""
    index = MapIndex(es_stack)
    for lat in (42.0, 42.1):
        index.add(label="maize", lat=lat, lon=-93.6, captured_at="2026-05-01T10:00:00",
                  device_id="seed", gps_source="exif", thumbnail=jpeg())
    settings = replace(
        index.settings,
        kafka_topic=f"locust-test-{uuid.uuid4().hex[:8]}",
        api_internal_port=free_port(),
    )
    ensure_topic(settings.kafka_bootstrap_servers, settings.kafka_topic, 3)
    try:
        with serving(settings, tmp_path / "gunicorn.log"):
            yield settings
    finally:
        remove_topics(settings.kafka_bootstrap_servers, [settings.kafka_topic])
        index.remove()


def test_the_users_make_every_kind_of_request_without_failures(api, tmp_path):
    prefix = tmp_path / "run"
    locust = subprocess.run(
        [sys.executable, "-m", "locust", "-f", str(PROJECT_ROOT / "bench" / "locustfile.py"),
         "--headless", "--host", internal_url(api), "-u", str(USERS), "-r", str(USERS),
         "--run-time", f"{RUN_S}s", "--think-time", "0.1", "--csv", str(prefix),
         "--only-summary", *FIELD_USERS],
        cwd=PROJECT_ROOT, env={**os.environ, **api.to_env(), "PYTHONPATH": str(PROJECT_ROOT)},
        capture_output=True, text=True, timeout=120,
    )
    assert locust.returncode == 0, locust.stderr[-3000:]
    with open(f"{prefix}_stats.csv") as stats:
        rows = {row["Name"]: row for row in csv.DictReader(stats)}
    assert rows["Aggregated"]["Failure Count"] == "0"
    kinds = {name.split(" (")[0] for name in rows}
    assert {"GET /", "GET /map", "GET /map/points", "GET /images/<id>",
            "GET /images/<id>/thumbnail", "POST /post_image 640x480"} <= kinds
