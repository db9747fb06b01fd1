"""The API against the Kafka publisher it uses, on the same photos: what the HTTP upload costs.

    .venv/bin/python -m bench.stream_producer [--uploads 300]

gps photos (bench/corpus.py) go through POST /post_image (nginx, gunicorn) from 8 threads,
then the same number straight through ingest_api.upload.publisher.KafkaPublisher, configured by the
same Settings: 2 publishers (the API's 2 workers) shared by 4 threads each, every send waiting
for its acknowledgement as the API's does. Both write to this run's own topic, which no stream
reads. Target: the API at least 0.5x its publisher.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import threading
import time

import numpy as np

from bench.corpus import CORPUS
from bench.stream_load import ACCEPTED, DUPLICATE, LABEL, Payload, distinct_payloads, post_all
from bench.stream_stack import BENCH_DEVICE, bench_client, bench_stack
from ingest_api.upload.publisher import KafkaPublisher
from photo.messages import encode_headers
from settings import Settings

THREADS = 8
PUBLISHERS = 2  # gunicorn workers, each with one publisher shared by its threads
TARGET_RATIO = 0.5


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--uploads", type=int, default=300, help="gps photos for each sender")
    args = parser.parse_args()
    gps = sorted((CORPUS / "gps").glob("*.jpg"))
    if not gps:
        sys.exit(f"the benchmark needs the shared corpus at {CORPUS} (gps/)")
    with bench_stack(["nginx"]) as stack:
        settings = stack.settings
        api = bench_client(settings)
        post_all(api, distinct_payloads(gps, THREADS, "warm"), THREADS, None)
        payloads = distinct_payloads(gps, args.uploads, "api")
        began = time.perf_counter()
        sent = post_all(api, payloads, THREADS, None)
        api_s = time.perf_counter() - began
        accepted = sum(s.outcome == ACCEPTED for s in sent)
        duplicate = sum(s.outcome == DUPLICATE for s in sent)  # answered, nothing sent
        api = (accepted / api_s, np.array([s.seconds for s in sent]),
               len(sent) - accepted - duplicate, duplicate)
        publisher = publish_all(settings, distinct_payloads(gps, args.uploads, "publisher"))
    print_table(payloads, api, publisher)
    return 0


def publish_all(settings: Settings, payloads: list[Payload]):
    """(messages/s, seconds per acknowledged send, failures, 0 duplicates) through the API's
    own publisher."""
    publishers = [KafkaPublisher.from_settings(settings) for _ in range(PUBLISHERS)]
    for publisher in publishers:  # connected, as the API's are by now
        publisher.publish("warm", b"warm", [])
    queue, lock, acks, failed = iter(payloads), threading.Lock(), [], []

    def sender(publisher: KafkaPublisher) -> None:
        while True:
            with lock:
                payload = next(queue, None)
            if payload is None:
                return
            headers = encode_headers({"label": LABEL, "device_id": BENCH_DEVICE})
            began = time.perf_counter()
            try:
                publisher.publish(payload.image_id, payload.data, headers)
                acks.append(time.perf_counter() - began)
            except Exception as error:  # noqa: BLE001 - counted and reported, like a 503
                failed.append(error)

    threads = [threading.Thread(target=sender, args=(publishers[n % PUBLISHERS],))
               for n in range(THREADS)]
    began = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    seconds = time.perf_counter() - began
    for publisher in publishers:
        publisher.close()
    return len(acks) / seconds, np.array(acks or [float("nan")]), len(failed), 0


def print_table(payloads, api, publisher) -> None:
    kb = statistics.mean(len(p.data) for p in payloads) / 1000
    print(f"\n## API against its own publisher: {len(payloads)} gps photos each "
          f"({kb:.0f} KB on average), {THREADS} threads")
    print(f"{'sender':46}{'msgs/s':>9}{'p50 ms':>9}{'p99 ms':>9}{'failed':>8}{'dup':>5}")
    for name, (rate, seconds, failed, duplicate) in (
        (f"API POST /post_image ({PUBLISHERS} workers)", api),
        (f"KafkaPublisher.publish, {PUBLISHERS} publishers", publisher),
    ):
        p50, p99 = np.percentile(seconds * 1000, [50, 99])
        print(f"{name:46}{rate:9.1f}{p50:9.1f}{p99:9.1f}{failed:8d}{duplicate:5d}")
    ratio = api[0] / publisher[0]
    verdict = "met" if ratio >= TARGET_RATIO else "NOT met"
    print(f"API / publisher {ratio:.2f}x; target >= {TARGET_RATIO}x: {verdict}")


if __name__ == "__main__":
    sys.exit(main())
