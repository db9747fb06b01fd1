"""The streaming job's own Prometheus metrics (streaming/metrics.py), read by the benchmarks:
progress and micro-batches come from what the job counts, never from its log."""

from __future__ import annotations

import urllib.request
from dataclasses import dataclass

from prometheus_client.parser import text_string_to_metric_families

from settings import Settings


@dataclass(frozen=True)
class StreamCounts:
    """One reading of the job's counters: photos done, batches run, their time and rows."""

    processed: float
    rejected: float
    batches: float
    batch_seconds: float
    input_rows: float
    behind: float

    def __sub__(self, before: StreamCounts) -> StreamCounts:
        """What happened between two readings (the gauge `behind` as of the later one)."""
        return StreamCounts(
            self.processed - before.processed, self.rejected - before.rejected,
            self.batches - before.batches, self.batch_seconds - before.batch_seconds,
            self.input_rows - before.input_rows, self.behind,
        )


def read_counts(settings: Settings) -> StreamCounts:
    """The job's metrics now, from 127.0.0.1:STREAM_METRICS_PORT."""
    url = f"http://127.0.0.1:{settings.stream_metrics_port}/metrics"
    with urllib.request.urlopen(url, timeout=5) as answer:
        text = answer.read().decode()
    samples: dict[str, float] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            samples[sample.name] = samples.get(sample.name, 0.0) + sample.value
    return StreamCounts(
        processed=samples.get("stream_photos_processed_total", 0.0),
        rejected=samples.get("stream_photos_rejected_total", 0.0),
        batches=samples.get("stream_batch_duration_seconds_count", 0.0),
        batch_seconds=samples.get("stream_batch_duration_seconds_sum", 0.0),
        input_rows=samples.get("stream_batch_input_rows_sum", 0.0),
        behind=samples.get("stream_messages_behind", 0.0),
    )
