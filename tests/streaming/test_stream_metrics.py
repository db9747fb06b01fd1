"""The stream's metrics endpoint after real micro-batches, and the API's request id in its log."""

from __future__ import annotations

import logging
import socket
import time
from dataclasses import replace

import pytest
import requests
from prometheus_client.parser import text_string_to_metric_families

from infra.processes import free_port
from streaming.job import start_stream
from streaming.metrics import MetricsListener, offsets_behind, serve_metrics
from tests.streaming.field_messages import bad_message, photo_messages, produce

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
    settings = module_stream_settings
    messages = [with_request_id(m, n)
                for n, m in enumerate([*photo_messages(PHOTOS), bad_message(partition=1)])]
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


def test_a_metrics_port_another_process_holds_is_logged_and_the_job_goes_on(caplog):
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        taken = holder.getsockname()[1]
        with caplog.at_level(logging.ERROR, logger="streaming.metrics"):
            serve_metrics(taken)  # returns: no exception stops the job

    assert f"no metrics on port {taken}" in caplog.text
