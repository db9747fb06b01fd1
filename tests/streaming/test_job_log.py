"""The stream's log, as a deployment writes it: JSON lines, never bare text, from its Python
driver, its Spark Python workers (ours and the libraries' loggers alike) and its driver's JVM."""

from __future__ import annotations

import json

from kit.field_messages import Message, produce
from kit.launcher import kill
from kit.photos import encode, photo_like
from photo.messages import encode_headers
from tests.streaming.job_runs import start_job, wait_for

# The one line the java launcher itself prints, before any logging starts.
LAUNCHER_LINE = "WARNING: Using incubator modules: jdk.incubator.vector"


def logged_lines(log: str) -> list[str]:
    """The log's lines but the launcher's."""
    return [line for line in log.splitlines() if line.strip() and line != LAUNCHER_LINE]


def is_json_object(line: str) -> bool:
    try:
        return isinstance(json.loads(line), dict)
    except ValueError:
        return False


def test_processing_a_png_without_exif_writes_only_json_lines(stream_settings, tmp_path):
    settings, log = stream_settings, tmp_path / "stream.log"
    png = encode(photo_like(320, 240, seed=77), "png")  # exifread warns: no EXIF in a PNG
    facts = {"label": "maize", "device_id": "phone-1", "request_id": "phone-1-png-0001"}
    produce(settings.kafka_bootstrap_servers, settings.kafka_topic,
            [Message(b"png", png, encode_headers(facts), 0)])

    job = start_job(settings, log)
    try:
        wait_for(lambda: "phone-1-png-0001" in log.read_text(), 240, "the PNG processed",
                 job, log)
    finally:
        kill(job)

    lines = logged_lines(log.read_text())
    assert [line for line in lines if not is_json_object(line)] == []
    [processed] = [json.loads(line) for line in lines if "phone-1-png-0001" in line]
    assert "processed" in processed["message"]
    assert not any("does not have exif" in line for line in lines)
