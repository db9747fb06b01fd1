"""The API under locust (bench/locustfile.py): 10, 50, 100 users against 1, 2, 4 gunicorn workers.

    .venv/bin/python -m bench.api_stress [--workers 1 2 4] [--users 10 50 100] [--seconds 60]
                                         [--locust-processes 1]

nginx + gunicorn run as the native deploy runs them (infra's LocalStack), from a stack dir of
this run's own, on free ports, with API_WORKERS set per row, a broker of this run's own (its
log in a bucket of its own on the S3 that answers) and an image index of its own, filled with
560 records of the img/ photos at jittered places, so that the map and the look-ups have data.
S3 and Elasticsearch are those already answering, else started here. The stream does not run:
uploads stay unprocessed, and look-ups of them are the expected 404s.

The rate limits are raised for the run (every simulated device sends far more than a phone).
Each cell spawns all its users within --spawn-seconds (locust encodes its photos before),
then measures --seconds: locust's statistics restart when spawning ends, and CPU is measured
over the same window from /proc, in cores (1.0 = one core busy), for the gunicorn master and
workers, nginx, the broker, S3, Elasticsearch and locust; "machine" is every process of the
machine, other work included.
"""

from __future__ import annotations

import argparse
import csv
import os
import platform
import re
import shutil
import subprocess
import sys
import time
import uuid
from collections import Counter
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit

from prometheus_client.parser import text_string_to_metric_families

from adapters.elasticsearch_client import make_elasticsearch_client
from adapters.image_index import index_rows
from adapters.s3 import make_s3_client
from bench.process_cpu import cpu_seconds, listening_pid, machine_busy_seconds
from dataset.records import manifest_row
from infra.processes import free_port
from infra.schemas import ensure_index, remove_bucket, remove_index
from infra.stack import LocalStack
from kit.api_client import ApiClient
from kit.stack import isolated_settings
from photo.upload import Upload, process_upload
from preprocessing import DEFAULT_MAX_PIXELS
from settings import PROJECT_ROOT, Settings

LOCUSTFILE = PROJECT_ROOT / "bench" / "locustfile.py"
SEED_COPIES = 20  # records per img/ photo in the run's index
OVERALL = "Aggregated"
ERROR_CODE = re.compile(r'"error":\s*"(\w+)"')  # the API's error bodies
UPLOADS = "POST /post_image"  # the locustfile names uploads by size after this
MARGIN_S = 3  # locust runs on this long after the measured window
# bench/locustfile.py's users of the field mix (its Classifier user runs in bench/classify_load.py)
FIELD_USERS = ("PhoneApp", "MapViewer", "UploadPageVisitor")


# (metric, labels) of the API's /metrics whose mean over the window the table shows
MEANS = {
    "upload in the API": ("ingest_api_request_duration_seconds",
                          {"route": "/post_image", "method": "POST"}),
    "Kafka ack": ("ingest_api_kafka_publish_seconds", {"outcome": "ok"}),
}


def histogram_totals(settings: Settings, means: dict = MEANS) -> dict[str, tuple[float, float]]:
    """(sum, count) so far of each of `means`, from the API's own metrics (all workers)."""
    internal = ApiClient(f"http://{settings.api_host}:{settings.api_internal_port}", timeout=10)
    text = internal.metrics().text
    samples = [sample for family in text_string_to_metric_families(text)
               for sample in family.samples]

    def total(name: str, labels: dict) -> float:
        return sum(sample.value for sample in samples
                   if sample.name == name and labels.items() <= sample.labels.items())

    return {mean: (total(f"{metric}_sum", labels), total(f"{metric}_count", labels))
            for mean, (metric, labels) in means.items()}


@dataclass(frozen=True)
class Cell:
    workers: int
    users: int
    stats: dict[str, dict[str, str]]  # locust's stats row per request name
    cpu: dict[str, float]  # cores busy per process group
    means_ms: dict[str, float]  # of MEANS (or the run's own), over the window
    failures: Counter[str]  # error code (or status) -> how many


def seed_index(settings: Settings) -> None:
    """SEED_COPIES records per img/ photo, each under a new id, a place nearby and a device."""
    es = make_elasticsearch_client(settings.elasticsearch_url, settings.elasticsearch_auth)
    ensure_index(es, settings.elasticsearch_index)
    rows = []
    for path in sorted((PROJECT_ROOT / "img").glob("*/*.jpg")):
        upload = Upload(path.read_bytes(), path.name, path.parent.name, "seed")
        row = manifest_row(process_upload(upload, n_variants=0, max_pixels=DEFAULT_MAX_PIXELS),
                           None, None)
        for n in range(SEED_COPIES):
            place = {"lat": row["lat"] + n * 1e-3, "lon": row["lon"]} if row["lat"] else {}
            rows.append({**row, **place, "image_id": uuid.uuid4().hex * 2,
                         "device_id": f"seed-{n % 5}"})
    refused = index_rows(es, settings.elasticsearch_index, rows, f"{datetime.now(UTC):%FT%TZ}")
    assert not refused, refused[:3]
    es.indices.refresh(index=settings.elasticsearch_index)


def run_locust(settings: Settings, stack: LocalStack, users: int, args, out: Path,
               user_classes: tuple[str, ...] = FIELD_USERS, means: dict = MEANS) -> Cell:
    """One cell: locust headless against nginx with bench/locustfile.py's `user_classes`; its
    CSV stats, the window's CPU use and the mean of `means` over the window."""
    prefix = out / f"w{settings.api_workers}-u{users}"
    command = [
        sys.executable, "-m", "locust", "-f", str(LOCUSTFILE), "--headless",
        "--host", f"http://{settings.api_host}:{settings.api_port}",
        "-u", str(users), "-r", str(users / args.spawn_seconds),
        "--run-time", f"{args.spawn_seconds + args.seconds + MARGIN_S:g}s", "--reset-stats",
        "--csv", str(prefix), "--only-summary", "--loglevel", "WARNING",
        "--think-time", str(args.think_time), *user_classes,
    ]
    if args.locust_processes > 1:
        command += ["--processes", str(args.locust_processes)]
    env = {**os.environ, **settings.to_env(), "PYTHONPATH": str(PROJECT_ROOT)}
    pids = {name: stack.servers[name].process.pid() for name in ("api", "nginx", "kafka")}
    for name, url in (("s3", settings.s3.endpoint_url), ("es", settings.elasticsearch_url)):
        pids[name] = listening_pid(urlsplit(url).port)
    with open(f"{prefix}.log", "w") as log:
        locust = subprocess.Popen(command, cwd=PROJECT_ROOT, env=env, stdout=log, stderr=log)
        pids["locust"] = locust.pid
        wait_until_spawned(Path(f"{prefix}_stats_history.csv"), users, locust)
        before, totals = cpu_seconds(pids), histogram_totals(settings, means)
        busy, began = machine_busy_seconds(), time.monotonic()
        time.sleep(args.seconds)
        after, totals = cpu_seconds(pids), {
            mean: (now[0] - totals[mean][0], now[1] - totals[mean][1])
            for mean, now in histogram_totals(settings, means).items()
        }
        busy, elapsed = machine_busy_seconds() - busy, time.monotonic() - began
        if locust.wait(timeout=args.spawn_seconds + args.seconds + 60) not in (0, 1):
            raise RuntimeError(f"locust failed; see {prefix}.log")  # 1: some requests failed
    cpu = {name: (after[name] - before[name]) / elapsed for name in pids if pids[name]}
    cpu["machine"] = busy / elapsed
    with open(f"{prefix}_stats.csv") as stats_file:
        stats = {row["Name"]: row for row in csv.DictReader(stats_file)}
    means = {mean: 1000 * total / count if count else 0.0
             for mean, (total, count) in totals.items()}
    failures: Counter[str] = Counter()
    with open(f"{prefix}_failures.csv") as failures_file:
        for row in csv.DictReader(failures_file):
            code = ERROR_CODE.search(row["Error"])
            failures[code.group(1) if code else row["Error"][:80]] += int(row["Occurrences"])
    return Cell(settings.api_workers, users, stats, cpu, means, failures)


def by_workers(settings: Settings, args, out: Path, **options) -> list[Cell]:
    """A cell per --workers and --users, gunicorn restarted with each number of workers behind
    the running nginx; `options` go to run_locust."""
    cells = []
    for workers in args.workers:
        cell_settings = replace(settings, api_workers=workers)
        stack = LocalStack(cell_settings)
        stack.down(["api"])
        stack.up(["nginx"])  # gunicorn again, with `workers`; nginx runs on
        for users in args.users:
            cells.append(run_locust(cell_settings, stack, users, args, out, **options))
            print(f"done: {workers} workers, {users} users", flush=True)
    return cells


def wait_until_spawned(history: Path, users: int, locust: subprocess.Popen) -> None:
    """Until locust's per-second history shows all `users` running (its statistics restart
    then, --reset-stats)."""
    while locust.poll() is None:
        lines = history.read_text().splitlines() if history.exists() else []
        if len(lines) > 1 and lines[-1].split(",")[1] == str(users):
            return
        time.sleep(0.2)
    raise RuntimeError(f"locust stopped before spawning its users (exit {locust.returncode})")


def ms(row: dict, column: str) -> str:
    return "" if row[column] == "N/A" else f"{float(row[column]):.0f}"


def latencies(row: dict) -> str:
    return " / ".join(ms(row, column) for column in ("50%", "95%", "99%"))


def print_tables(cells: list[Cell]) -> None:
    groups = [name for name in ("api", "nginx", "kafka", "s3", "es", "locust", "machine")
              if name in cells[0].cpu]
    print("\n## Overall (ms p50 / p95 / p99; CPU in cores over the measured window)\n")
    print("| workers | users | req/s | vs 1 worker | latency | errors | uploads accepted/s | "
          + " | ".join(f"{mean} (mean ms)" for mean in MEANS) + " | "
          + " | ".join(f"CPU {name}" for name in groups) + " |")
    print("|" + " ---: |" * (7 + len(MEANS) + len(groups)))
    first = {cell.users: float(cell.stats[OVERALL]["Requests/s"]) for cell in reversed(cells)}
    for cell in cells:
        row = cell.stats[OVERALL]
        rate, count, failed = (float(row["Requests/s"]), int(row["Request Count"]),
                               int(row["Failure Count"]))
        ratio = f"{rate / first[cell.users]:.2f}x" if first[cell.users] else ""
        means = " | ".join(f"{cell.means_ms[mean]:.0f}" for mean in MEANS)
        cpu = " | ".join(f"{cell.cpu[name]:.2f}" for name in groups)
        accepted = sum(float(upload["Requests/s"]) - float(upload["Failures/s"])
                       for name, upload in cell.stats.items() if name.startswith(UPLOADS))
        print(f"| {cell.workers} | {cell.users} | {rate:.1f} | {ratio} | {latencies(row)} "
              f"| {failed} ({failed / max(count, 1):.1%}) | {accepted:.1f} | {means} | {cpu} |")
    print("\n## Per request (req/s, ms p50 / p95 / p99, failures)\n")
    names = sorted({name for cell in cells for name in cell.stats if name != OVERALL})
    print("| request | " + " | ".join(f"{c.workers} w, {c.users} u" for c in cells) + " |")
    print("| --- | " + " | ".join("---:" for _ in cells) + " |")
    for name in names:
        values = []
        for cell in cells:
            row = cell.stats.get(name)
            values.append("" if row is None else f"{float(row['Requests/s']):.1f}; "
                          f"{latencies(row)}; {row['Failure Count']}")
        print(f"| {name} | " + " | ".join(values) + " |")
    failed = [cell for cell in cells if cell.failures]
    if failed:
        print("\n## Failures by error code\n")
        for cell in failed:
            codes = ", ".join(f"{count}x {code}" for code, count in cell.failures.most_common())
            print(f"- {cell.workers} workers, {cell.users} users: {codes}")


def machine() -> str:
    model = next((line.split(":", 1)[1].strip() for line in
                  Path("/proc/cpuinfo").read_text().splitlines()
                  if line.startswith("model name")), platform.processor())
    memory_kb = int(Path("/proc/meminfo").read_text().split()[1])
    return (f"{platform.node()}, {os.cpu_count()} cores ({model}), {memory_kb / 2**20:.0f} GiB, "
            f"Python {platform.python_version()}, load average {os.getloadavg()[0]:.1f}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2, 4])
    parser.add_argument("--users", type=int, nargs="+", default=[10, 50, 100])
    parser.add_argument("--seconds", type=float, default=60.0, help="measured, per cell")
    parser.add_argument("--spawn-seconds", type=float, default=5.0)
    parser.add_argument("--think-time", type=float, default=1.0,
                        help="scale of the users' pauses (bench/locustfile.py); 0.1: 10x busier")
    parser.add_argument("--locust-processes", type=int, default=1)
    parser.add_argument("--keep-logs", action="store_true", help="keep the stack dir")
    args = parser.parse_args()

    base = Settings.from_env()
    settings = isolated_settings(
        "api-stress-", base,
        kafka_bootstrap_servers=f"127.0.0.1:{free_port()}",
        kafka_log_bucket=f"kafka-log-stress-{uuid.uuid4().hex[:8]}",
        elasticsearch_index=f"{base.elasticsearch_index}-stress-{uuid.uuid4().hex[:8]}",
    )
    stack_dir = Path(settings.stack_dir)
    print(f"# API stress test, {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {machine()}")
    print(f"{args.seconds:g} s measured per cell after {args.spawn_seconds:g} s of spawning; "
          f"think time x{args.think_time:g}; locust in {args.locust_processes} process(es); "
          "the stream not running")
    try:
        LocalStack(settings).up(["nginx"])
        seed_index(settings)
        print_tables(by_workers(settings, args, stack_dir))
    finally:
        LocalStack(settings).down()
        es = make_elasticsearch_client(settings.elasticsearch_url, settings.elasticsearch_auth)
        remove_index(es, settings.elasticsearch_index)
        remove_bucket(make_s3_client(settings.s3), settings.kafka_log_bucket)
        if args.keep_logs:
            print(f"logs and locust's CSVs kept in {stack_dir}")
        else:
            shutil.rmtree(stack_dir, ignore_errors=True)
    print(f"\nload average at the end {os.getloadavg()[0]:.1f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
