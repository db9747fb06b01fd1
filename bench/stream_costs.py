"""What one photo and one micro-batch cost the stream's own pieces, outside Spark.

    .venv/bin/python -m bench.stream_costs

- core: CPU ms per photo of the API's request-path check (load_upright_rgb) and of the job's
  core (process_upload with N_VARIANTS), for gps and mobile photos, in this one process;
- a full micro-batch (MAX_OFFSETS_PER_TRIGGER messages over KAFKA_PARTITIONS partitions, as the
  source hands them over) through the sink's own streaming.sink.PartitionWriter: its
  look-ups of recorded photos in the manifest's catalogue, the core, and the shards and raw
  objects of each partition's range, written to a local directory (serialising alone) and
  then to S3; then the batch's documents bulk-indexed with adapters.image_index.index_rows.
  Each as a ceiling in photos/s.
- the S3 writes with and without raw/ copies (STREAM_RAW_COPIES), rounds interleaved: wall
  time, the writer's CPU and SeaweedFS's CPU per photo, objects and bytes per photo.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from urllib.parse import urlsplit

import pyarrow as pa

from adapters.elasticsearch_client import make_elasticsearch_client
from adapters.image_index import index_rows
from adapters.object_store import open_store
from bench.corpus import CORPUS
from bench.process_cpu import cpu_seconds, listening_pid
from bench.stream_load import LABEL, Payload, distinct_payloads
from bench.stream_stack import BENCH_DEVICE, bench_stack
from dataset.manifest import Manifest
from photo.messages import encode_headers
from photo.upload import Upload, process_upload
from preprocessing import load_upright_rgb
from settings import Settings
from streaming.job import EVERY_TWO_SECONDS, MAX_OFFSETS_PER_TRIGGER
from streaming.sink import PartitionWriter

TRIGGER_S = float(EVERY_TWO_SECONDS["processingTime"].split()[0])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3,
                        help="S3 writes of the batch with and without raw/ copies, each")
    args = parser.parse_args()
    groups = {name: sorted((CORPUS / name).glob("*.jpg")) for name in ("gps", "mobile")}
    if not all(groups.values()):
        sys.exit(f"the benchmark needs the shared corpus at {CORPUS} (gps/ and mobile/)")
    with bench_stack([]) as stack:
        settings = stack.settings
        core = {name: core_cost(paths, settings) for name, paths in groups.items()}
        batch = batch_cost(settings, distinct_payloads(groups["gps"], MAX_OFFSETS_PER_TRIGGER,
                                                       "batch"), args.rounds)
    print_costs(settings, core, batch)
    return 0


def core_cost(paths, settings: Settings) -> dict[str, float]:
    datas = [path.read_bytes() for path in paths]
    return {
        "api check": cpu_ms(lambda d: load_upright_rgb(d, settings.max_pixels), datas),
        "core": cpu_ms(lambda d: process_upload(Upload(d, "bench"), n_variants=settings.n_variants,
                                                max_pixels=settings.max_pixels), datas),
    }


def cpu_ms(action, datas: list[bytes], seconds: float = 2.0) -> float:
    """CPU milliseconds per call, over rounds of all `datas` for at least `seconds`."""
    action(datas[0])
    done, began = 0, time.process_time()
    while done < 2 * len(datas) or time.process_time() - began < seconds:
        for data in datas:
            action(data)
        done += len(datas)
    return (time.process_time() - began) / done * 1000


def messages(settings: Settings, payloads: list[Payload]) -> pa.RecordBatch:
    """The payloads as the Kafka source hands a micro-batch to the sink: spread over the
    topic's partitions, each partition's range in offset order."""
    rows = [
        {"topic": settings.kafka_topic, "partition": n % settings.kafka_partitions,
         "offset": n // settings.kafka_partitions, "value": payload.data,
         "headers": [{"key": key, "value": value} for key, value in encode_headers(
             {"label": LABEL, "device_id": BENCH_DEVICE})]}
        for n, payload in enumerate(payloads)
    ]
    return pa.RecordBatch.from_pylist(sorted(rows, key=lambda r: (r["partition"], r["offset"])))


def batch_cost(settings: Settings, payloads: list[Payload], rounds: int) -> dict:
    batch = messages(settings, payloads)
    s3_server = {"s3": listening_pid(urlsplit(settings.s3.endpoint_url).port)}

    def written(root: str, raw_copies: bool = True) -> tuple[dict[str, float], list[dict]]:
        store = open_store(root, settings.s3)
        writer = PartitionWriter(store, Manifest.of(store), settings.n_variants,
                                 settings.max_pixels, settings.max_decode_mb, raw_copies)
        began, cpu, server = time.perf_counter(), time.process_time(), cpu_seconds(s3_server)
        rows = [row for out in writer(iter([batch])) for row in out.to_pylist()]
        cost = {"s": time.perf_counter() - began, "cpu_s": time.process_time() - cpu,
                "s3_cpu_s": cpu_seconds(s3_server)["s3"] - server["s3"]}
        return cost, rows

    with tempfile.TemporaryDirectory() as local:
        local_s = written(local)[0]["s"]
    by_copies: dict[bool, list[dict]] = {True: [], False: []}
    for _ in range(rounds):  # interleaved, so that other load touches both alike
        for raw_copies in by_copies:
            cost, rows = written(settings.dataset_root, raw_copies)
            by_copies[raw_copies].append({**cost, **objects_written(settings, rows)})
    s3_s = statistics.median(cost["s"] for cost in by_copies[True])
    for row in rows:
        row.pop("request_id")
    search = make_elasticsearch_client(settings.elasticsearch_url, settings.elasticsearch_auth)
    bulk = []
    for _ in range(3):
        began = time.perf_counter()
        index_rows(search, settings.elasticsearch_index, rows, datetime.now(UTC).isoformat())
        bulk.append(time.perf_counter() - began)
    raw_ab = {copies: {name: statistics.median(cost[name] for cost in costs)
                       for name in costs[0]} for copies, costs in by_copies.items()}
    return {"photos": len(rows), "local_s": local_s, "s3_s": s3_s,
            "bulk_s": statistics.median(bulk), "raw_ab": raw_ab, "rounds": rounds}


def objects_written(settings: Settings, rows: list[dict]) -> dict[str, float]:
    """Objects and bytes of one batch's rows in the store: their raw copies and shards."""
    store = open_store(settings.dataset_root, settings.s3)
    sizes = {**store.sizes("raw/"), **store.sizes("shards/")}
    keys = {key for row in rows for key in (row["raw_key"], row["shard_key"]) if key}
    return {"objects": len(keys), "bytes": sum(sizes[key] for key in keys)}


def print_costs(settings: Settings, core, batch) -> None:
    n = batch["photos"]
    print(f"\n## One photo, CPU ms in one process ({settings.n_variants} variants)")
    print(f"{'photos':8}{'api check':>11}{'core':>8}")
    for name, cost in core.items():
        print(f"{name:8}{cost['api check']:11.1f}{cost['core']:8.1f}")
    print(f"\n## One {n}-photo micro-batch through streaming.sink.PartitionWriter "
          f"({settings.kafka_partitions} partitions), then index_rows")
    ceilings = [
        ("trigger: maxOffsetsPerTrigger / interval", MAX_OFFSETS_PER_TRIGGER / TRIGGER_S, ""),
        ("writer to a local dir (look-ups, core, serialising)", n / batch["local_s"],
         f"{batch['local_s']:.2f} s"),
        ("writer to S3 (the same + S3 round trips)", n / batch["s3_s"], f"{batch['s3_s']:.2f} s"),
        ("Elasticsearch bulk index", n / batch["bulk_s"], f"{batch['bulk_s']:.2f} s"),
    ]
    for name, ceiling, note in ceilings:
        print(f"  {name:54}{ceiling:8.1f} photos/s  {note}")
    print(f"\n## The same batch to S3 with and without raw/ copies (STREAM_RAW_COPIES), "
          f"{batch['rounds']} interleaved rounds each, medians")
    print(f"{'raw copies':12}{'batch s':>9}{'writer CPU ms/ph':>18}{'S3 server CPU ms/ph':>21}"
          f"{'objects/ph':>12}{'KB/ph':>8}")
    for copies, cost in batch["raw_ab"].items():
        print(f"{'on' if copies else 'off':12}{cost['s']:9.2f}{cost['cpu_s'] / n * 1000:18.1f}"
              f"{cost['s3_cpu_s'] / n * 1000:21.1f}{cost['objects'] / n:12.2f}"
              f"{cost['bytes'] / n / 1000:8.0f}")


if __name__ == "__main__":
    sys.exit(main())
