"""The paced-upload benchmark counts every batch, the last one's progress event arriving late."""

import threading
from dataclasses import replace

from bench.stream_metrics import read_counts
from bench.stream_rates import settled
from infra.processes import free_port
from settings import Settings
from streaming.metrics import BATCH_DURATION, BATCH_INPUT_ROWS, count_photos, serve_metrics


def test_a_batch_whose_progress_comes_after_its_photos_is_still_counted():
    settings = replace(Settings(), stream_metrics_port=free_port())
    serve_metrics(settings.stream_metrics_port)
    before = read_counts(settings)
    count_photos([{"status": "processed", "reason": None}] * 4)  # the sink counts its photos first,
    counted = read_counts(settings) - before
    progress = threading.Timer(1.0, lambda: (BATCH_DURATION.observe(2.5),  # then the listener
                                             BATCH_INPUT_ROWS.observe(4)))
    progress.start()

    counted = settled(settings, before, counted)

    assert (counted.processed, counted.batches, counted.input_rows) == (4, 1, 4)
    assert counted.batch_seconds == 2.5
