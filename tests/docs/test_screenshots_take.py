"""docs/screenshots/take.py renders Prometheus' text as metrics.png shows it to an operator."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

from docs.screenshots.take import metrics_page


def exposition() -> str:
    registry = CollectorRegistry()
    requests = Counter("app_requests", "Requests answered", ["route"], registry=registry)
    requests.labels(route="/images/<image_id>").inc(3)
    latency = Histogram("app_latency_seconds", "Latency", registry=registry)
    latency.observe(0.2)
    latency.observe(0.4)
    Gauge("app_last_batch_timestamp_seconds", "Last batch", registry=registry).set(0)
    Gauge("process_open_fds", "The client library's own", registry=registry).set(9)
    Counter("app_rejected", "Rejections", ["reason"], registry=registry)
    return generate_latest(registry).decode()


def test_the_page_has_one_table_per_metric_with_its_values_in_words():
    page = metrics_page(exposition(), "the API")

    assert "<h2>app_requests</h2><p>counter: Requests answered</p>" in page
    assert "<td>route=/images/&lt;image_id&gt;</td><td>3</td>" in page  # escaped labels
    assert "<th>count</th><th>sum</th>" in page and "<td>2</td><td>0.6</td>" in page
    assert "<td>1970-01-01 00:00:00 UTC</td>" in page
    assert "none yet" in page  # a labelled counter that has no series yet


def test_buckets_creation_times_and_library_metrics_are_left_out():
    page = metrics_page(exposition(), "the API")

    assert "le=" not in page and "_created" not in page and "process_open_fds" not in page
