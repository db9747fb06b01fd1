"""A backlog through the streaming job, variants of its settings side by side in one run.

    .venv/bin/python -m bench.stream_drain [--photos 240] [--rounds 2]

Each run gets its own topic, holding --photos distinct gps photos sent through the API's own
publisher, and its own checkpoint and dataset prefix. The job's query (streaming.job.start_stream,
Spark local[2] in this process, maxOffsetsPerTrigger 60) then drains it with Trigger.AvailableNow.
The variants (raw/ copies on and off; 2, 3 or 4 Kafka partitions for 2 cores) take turns, round
by round, so that other load on the machine touches them alike. Reported per variant, as the
median over rounds: photos/s drained, seconds per 60-photo batch and its phases from the query's
progress (addBatch is the sink), and CPU ms per photo of Spark's parts (the driver's Python,
the JVM, the Python workers) and of each server, from /proc.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import time
from dataclasses import replace
from pathlib import Path
from urllib.parse import urlsplit

from pyspark.errors import StreamingQueryException

from adapters.spark import spark_session
from bench.corpus import CORPUS
from bench.process_cpu import ProcessTree, cpu_seconds, listening_pid
from bench.stream_load import LABEL, distinct_payloads
from bench.stream_stack import BENCH_DEVICE, bench_stack
from infra.schemas import ensure_topic, remove_topics
from ingest_api.upload.publisher import KafkaPublisher
from photo.messages import encode_headers
from settings import Settings
from streaming.job import MAX_OFFSETS_PER_TRIGGER, failure_summary, start_stream

VARIANTS = {
    f"{partitions} partitions, {'' if copies else 'no '}raw/ copies": {
        "kafka_partitions": partitions, "stream_raw_copies": copies}
    for partitions, copies in ((3, True), (3, False), (4, True), (2, True), (2, False))
}
PHASES = ("latestOffset", "addBatch", "walCommit", "commitOffsets")
WARM_UP_PHOTOS = 12  # the Python workers' first tasks import the core: not part of any variant
STARTS = 3  # on a loaded machine a new Python worker may not connect back to Spark in time


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--photos", type=int, default=240, help="photos per run")
    parser.add_argument("--rounds", type=int, default=2, help="runs of each variant")
    args = parser.parse_args()
    gps = sorted((CORPUS / "gps").glob("*.jpg"))
    if not gps:
        sys.exit(f"the benchmark needs the shared corpus at {CORPUS} (gps/)")
    with bench_stack([]) as stack:
        spark = spark_session("bench-stream-drain", stack.settings)
        try:
            drain(spark, stack.settings, gps, WARM_UP_PHOTOS, 0, {})
            runs: dict[str, list[dict]] = {name: [] for name in VARIANTS}
            for round_ in range(args.rounds):
                for number, (name, changes) in enumerate(VARIANTS.items(), start=1):
                    print(f"  round {round_ + 1}: {name} ...", flush=True)
                    run = round_ * len(VARIANTS) + number
                    runs[name].append(drain(spark, stack.settings, gps, args.photos, run,
                                            changes))
        finally:
            spark.stop()
    print_runs(args.photos, args.rounds, runs)
    return 0


def drain(spark, base: Settings, photos: list[Path], count: int, run: int,
          changes: dict) -> dict:
    """Run number `run`: a fresh topic of `count` photos drained by the job with `changes`."""
    settings = replace(
        base, **changes, kafka_topic=f"{base.kafka_topic}-{run}",
        checkpoint_dir=str(Path(base.stack_dir) / f"checkpoint-{run}"),
        dataset_root=f"{base.dataset_root}/run-{run}",
    )
    ensure_topic(settings.kafka_bootstrap_servers, settings.kafka_topic,
                 settings.kafka_partitions)
    publisher = KafkaPublisher.from_settings(settings)
    for payload in distinct_payloads(photos, count, f"drain-{run}"):
        publisher.publish(payload.image_id, payload.data, encode_headers(
            {"label": LABEL, "device_id": BENCH_DEVICE}))
    publisher.close()
    servers = {name: listening_pid(urlsplit(f"//{address}").port) for name, address in (
        ("s3", urlsplit(settings.s3.endpoint_url).netloc),
        ("broker", settings.kafka_bootstrap_servers.split(",")[0]),
        ("elasticsearch", urlsplit(settings.elasticsearch_url).netloc),
    )}
    pids = {name: pid for name, pid in servers.items() if pid}
    cpu, began = {**spark_cpu(), **cpu_seconds(pids)}, time.monotonic()
    batches = []
    for start in range(1, STARTS + 1):  # as streaming.job.run_stream does: from the checkpoint
        query = start_stream(spark, settings, max_offsets_per_trigger=MAX_OFFSETS_PER_TRIGGER,
                             trigger={"availableNow": True})
        try:
            query.awaitTermination()
            break
        except StreamingQueryException as failure:
            if start == STARTS:
                raise
            print(f"    the query failed ({failure_summary(failure)}); starting it again")
        finally:
            batches += [p for p in query.recentProgress if p["numInputRows"]]
    seconds = time.monotonic() - began
    used = {**spark_cpu(), **cpu_seconds(pids)}
    remove_topics(settings.kafka_bootstrap_servers, [settings.kafka_topic])
    shutil.rmtree(settings.checkpoint_dir, ignore_errors=True)
    rows = sum(p["numInputRows"] for p in batches)
    return {
        "photos_s": rows / seconds,
        "batch_s": statistics.median(p["durationMs"]["triggerExecution"] for p in batches) / 1000,
        **{phase: statistics.median(p["durationMs"].get(phase, 0) for p in batches) / 1000
           for phase in PHASES},
        **{f"cpu {name}": (used[name] - cpu[name]) / max(rows, 1) * 1000 for name in used},
    }


def spark_cpu() -> dict[str, float]:
    """CPU seconds so far of Spark's parts: this process (the driver's Python), its JVM, and
    the JVM's Python workers (with the daemons that fork them)."""
    tree = ProcessTree()
    jvms = [pid for pid in tree.children.get(os.getpid(), ())
            if Path(f"/proc/{pid}/comm").read_text().strip() == "java"]
    workers = sum(tree.seconds(child) for jvm in jvms for child in tree.children.get(jvm, ()))
    return {"driver": tree.own_seconds(os.getpid()),
            "JVM": sum(map(tree.seconds, jvms)) - workers, "workers": workers}


def print_runs(photos: int, rounds: int, runs: dict[str, list[dict]]) -> None:
    print(f"\n## {photos} gps photos drained by the streaming job (local[2], "
          f"{MAX_OFFSETS_PER_TRIGGER} per batch), medians of {rounds} interleaved rounds")
    columns = [key for key in next(iter(runs.values()))[0] if key != "photos_s"]
    print(f"{'variant':36}{'photos/s':>9}" + "".join(f"{c.removeprefix('cpu '):>14}"
                                                      for c in columns))
    print(f"{'':36}{'':>9}" + "".join(f"{'CPU ms/photo' if c.startswith('cpu') else 's':>14}"
                                      for c in columns))
    for name, results in runs.items():
        median = {key: statistics.median(r[key] for r in results) for key in results[0]}
        print(f"{name:36}{median['photos_s']:9.1f}"
              + "".join(f"{median[c]:14.2f}" for c in columns))


if __name__ == "__main__":
    sys.exit(main())
