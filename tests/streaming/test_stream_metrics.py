"""The stream's metrics endpoint after real micro-batches, and the API's request id in its log."""

from __future__ import annotations

import json
import logging
import re
import socket
import time
from dataclasses import replace

import pytest
import requests
from prometheus_client.parser import text_string_to_metric_families

from adapters.json_logs import JsonFormatter
from infra.processes import free_port
from kit.field_messages import bad_message, photo_messages, produce
from streaming.job import start_stream
from streaming.metrics import MetricsListener, offsets_behind, serve_metrics

PHOTOS = 5
MAX_PER_BATCH = 3  # 6 messages: two micro-batches


@pytest.fixture(scope="module")
def metrics_url(spark):
    """The job's metrics endpoint and listener, as run_stream sets them up."""
    port = free_port()
    serve_metrics(port)
    listener = MetricsListener()
    spark.streams.addListener(listener)
    yield f"http://127.0.0.1:{port}/metrics"
    spark.streams.removeListener(listener)


def scrape(url: str) -> dict[tuple[str, frozenset], float]:
    text = requests.get(url, timeout=10).text
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def value(samples, name: str, **labels) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


def with_request_id(message, n: int):
    return replace(message, headers=[*message.headers, ("request_id", f"upload-{n:08d}".encode())])


@pytest.fixture(scope="module")
def batches(spark, module_stream_settings, metrics_url):
    """Five photos and a text file, each with a request id, through the job; the metrics before
    and after, and the stream's log records."""
    messages = [with_request_id(m, n)
                for n, m in enumerate([*photo_messages(PHOTOS), bad_message(partition=1)])]
    return run_measured(spark, module_stream_settings, metrics_url, messages)


@pytest.fixture(scope="module")
def resent(spark, module_stream_settings, metrics_url, batches):
    """Then copies, as phones and the API's fallback send them: a new photo twice, the first
    photo again with another label, the second photo twice and the text file again."""
    messages, *_ = batches
    [new] = photo_messages(1, first=PHOTOS)
    relabelled = replace(messages[0], headers=[
        (name, b"wheat" if name == "label" else value) for name, value in messages[0].headers])
    copies = [new, new, relabelled, messages[1], messages[1], messages[-1]]
    copies = [with_request_id(replace(m, headers=[h for h in m.headers if h[0] != "request_id"]),
                              100 + n) for n, m in enumerate(copies)]
    return run_measured(spark, module_stream_settings, metrics_url, copies)


def run_measured(spark, settings, metrics_url, messages):
    """Produce `messages`, run the job over them; (messages, metrics before, metrics after,
    the stream's log records, micro-batches run)."""
    produce(settings.kafka_bootstrap_servers, settings.kafka_topic, messages)
    before = scrape(metrics_url)
    handler = RecordingHandler()
    logging.getLogger("streaming").addHandler(handler)
    logging.getLogger("streaming").setLevel(logging.INFO)
    try:
        query = start_stream(spark, settings, max_offsets_per_trigger=MAX_PER_BATCH,
                             trigger={"availableNow": True})
        query.awaitTermination(300)
        ran = sum(1 for progress in query.recentProgress if progress["numInputRows"])
    finally:
        logging.getLogger("streaming").removeHandler(handler)
    after = wait_for_batches(metrics_url, before, ran)
    return messages, before, after, handler.records, ran


class RecordingHandler(logging.Handler):
    def __init__(self):
        super().__init__(logging.INFO)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


def wait_for_batches(url: str, before, batches: int, timeout_s: float = 30):
    """The metrics once the listener, which hears of batches on a thread of its own, has seen
    `batches` more of them."""
    deadline = time.monotonic() + timeout_s
    while True:
        after = scrape(url)
        seen = (value(after, "stream_batch_input_rows_count")
                - value(before, "stream_batch_input_rows_count"))
        if seen >= batches or time.monotonic() > deadline:
            return after
        time.sleep(0.5)


def grew(batches, name: str, **labels) -> float:
    _, before, after, _, _ = batches
    return value(after, name, **labels) - value(before, name, **labels)


@pytest.mark.timeout(400)
def test_processed_rejected_and_dead_letters_are_counted(batches):
    assert grew(batches, "stream_photos_processed_total") == PHOTOS
    assert grew(batches, "stream_photos_rejected_total", reason="unsupported_format") == 1
    assert grew(batches, "stream_dead_letters_total") == 1


@pytest.mark.timeout(400)
def test_each_batch_is_measured_and_the_stream_has_caught_up(batches):
    _, _, after, _, ran = batches

    assert ran == 2
    assert grew(batches, "stream_batch_input_rows_count") == ran
    assert grew(batches, "stream_batch_input_rows_sum") == PHOTOS + 1
    assert grew(batches, "stream_batch_duration_seconds_count") == ran
    assert grew(batches, "stream_batch_duration_seconds_sum") > 0
    assert value(after, "stream_messages_behind") == 0
    assert time.time() - value(after, "stream_last_batch_completed_timestamp_seconds") < 120


def test_lag_counts_the_messages_between_a_batch_end_and_the_topics_end():
    latest = {"photos": {"0": 10, "1": 7, "2": 4}}
    end = {"photos": {"0": 6, "1": 7}}

    assert offsets_behind(latest, end) == 4 + 0 + 4


@pytest.mark.timeout(400)
def test_each_photos_log_line_carries_the_request_id_it_came_in_with(batches):
    messages, _, _, records, _ = batches
    by_id = {getattr(r, "request_id", None): r for r in records if r.name == "streaming.sink"}

    for message in messages:
        request_id = dict(message.headers)["request_id"].decode()
        assert message.image_id in by_id[request_id].getMessage()
    assert by_id["upload-00000005"].levelname == "WARNING"  # the text file: a dead letter


@pytest.mark.timeout(600)
def test_every_message_read_is_counted_processed_rejected_or_duplicate(batches, resent):
    for run in (batches, resent):
        outcomes = (grew(run, "stream_photos_processed_total")
                    + sum(grew(run, "stream_photos_rejected_total", reason=reason)
                          for reason in ("unsupported_format", "corrupt"))
                    + grew(run, "stream_photos_duplicate_total"))
        assert outcomes == grew(run, "stream_batch_input_rows_sum") == len(run[0])
    assert grew(resent, "stream_photos_processed_total") == 1  # the new photo's first copy
    assert grew(resent, "stream_photos_duplicate_total") == 5
    assert grew(resent, "stream_dead_letters_total") == 0


@pytest.mark.timeout(600)
def test_each_duplicate_has_a_json_log_line_with_its_request_id_image_id_and_source(resent):
    messages, _, _, records, _ = resent
    lines = {getattr(r, "request_id", None): json.loads(JsonFormatter().format(r))
             for r in records if r.name == "streaming.sink" and ": duplicate " in r.getMessage()}

    assert len(lines) == 5
    for message in messages[1:]:
        request_id = dict(message.headers)["request_id"].decode()
        line = lines[request_id]
        assert line["request_id"] == request_id
        assert message.image_id in line["message"]
        assert re.search(r"from kafka:\S+/\d+/\d+", line["message"])
    assert "label wheat" in lines["upload-00000102"]["message"]


def test_a_metrics_port_another_process_holds_is_logged_and_the_job_goes_on(caplog):
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        taken = holder.getsockname()[1]
        with caplog.at_level(logging.ERROR, logger="streaming.metrics"):
            serve_metrics(taken)  # returns: no exception stops the job

    assert f"no metrics on port {taken}" in caplog.text
