"""The stream benchmarks read progress from the job's own metrics, as the job serves them."""

from dataclasses import replace

from bench.stream_metrics import read_counts
from infra.processes import free_port
from settings import Settings
from streaming.metrics import count_photos, serve_metrics


def test_counts_read_between_two_readings_are_what_the_job_counted_meanwhile():
    settings = replace(Settings(), stream_metrics_port=free_port())
    serve_metrics(settings.stream_metrics_port)
    before = read_counts(settings)
    count_photos([{"status": "processed", "reason": None}] * 3
                 + [{"status": "rejected", "reason": "not_an_image"}])
    counted = read_counts(settings) - before
    assert (counted.processed, counted.rejected) == (3, 1)
