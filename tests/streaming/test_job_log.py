"""The stream's log, as a deployment writes it: what the Python code of the job says (its driver
and its Spark Python workers, ours and the libraries' alike) is JSON lines, never bare text."""

from __future__ import annotations

import json

from adapters.kafka_messages import encode_headers
from tests.preprocessing.synthetic import encode, photo_like
from tests.streaming.field_messages import Message, produce
from tests.streaming.job_runs import kill, start_job, wait_for

# What the JVM prints itself (log4j's lines and its launcher's), which Python does not write.
JVM_LINE_STARTS = ("WARNING: Using incubator modules", "Using Spark's default log4j profile",
                   "Setting default log level", "To adjust logging level")


def python_lines(log: str) -> list[str]:
    """The log's lines but the JVM's own (log4j lines start with a `yy/MM/dd HH:mm:ss` stamp)."""
    return [line for line in log.splitlines()
            if line.strip() and not line.startswith(JVM_LINE_STARTS)
            and not (line[:2].isdigit() and line[2:3] == "/" and line[5:6] == "/")]


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

    lines = python_lines(log.read_text())
    assert [line for line in lines if not is_json_object(line)] == []
    [processed] = [json.loads(line) for line in lines if "phone-1-png-0001" in line]
    assert "processed" in processed["message"]
    assert not any("does not have exif" in line for line in lines)
