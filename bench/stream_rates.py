"""The streaming job under paced uploads: photos/s sustained and POST→document latency.

    .venv/bin/python -m bench.stream_rates [--rates 10,30,60] [--seconds 20] [--group gps]

The API (behind nginx) and the streaming job (Spark local[2]) run as the native deploy runs
them, on this run's own topic, bucket, index and ports (bench/stream_stack.py). Per rate:
uploads paced for --seconds, then a wait until the job's own metrics (streaming/metrics.py)
count every accepted upload as processed or rejected. Latency = the document's processed_at
(set on the driver right after the micro-batch's S3 writes) minus the POST's send time.
Batches, their photos and durations are the metrics' differences over the rate; CPU by
component comes from /proc. Target: gps >= 40 photos/s sustained with p99 <= 5 s at 30/s.
"""

from __future__ import annotations

import argparse
import sys
import time

import numpy as np

from adapters.elasticsearch_client import make_elasticsearch_client
from bench.corpus import CORPUS
from bench.stream_load import (
    ACCEPTED,
    DUPLICATE,
    CpuMeter,
    JobExited,
    distinct_payloads,
    post_all,
    processed_times,
)
from bench.stream_metrics import StreamCounts, read_counts
from bench.stream_stack import bench_client, bench_stack

THREADS = 32
STALL_S = 60.0  # give up on a rate when the job counted nothing new for this long
SETTLE_S = 30.0  # longest wait for the last batch's progress event after its photos counted
PROGRESS_EVERY_S = 15.0
TARGET_RATE, TARGET_P99_S = 40.0, 5.0
NOT_PIPELINE = {"other", "bench"}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rates", default="10,30,60", help="uploads/s, comma-separated")
    parser.add_argument("--seconds", type=float, default=20.0, help="posting time per rate")
    parser.add_argument("--group", default="gps", choices=["gps", "mobile"],
                        help="corpus photos: gps (~150 KB) or mobile (12 MP phone photos)")
    parser.add_argument("--keep-logs", action="store_true", help="keep this run's stack dir")
    args = parser.parse_args()
    photos = sorted((CORPUS / args.group).glob("*.jpg"))
    if not photos:
        sys.exit(f"the benchmark needs the shared corpus at {CORPUS} ({args.group}/)")
    rates = [float(rate) for rate in args.rates.split(",") if rate.strip()]
    with bench_stack(["nginx", "stream"], keep_logs=args.keep_logs) as stack:
        job = stack.servers["stream"].process
        meter = CpuMeter(stack.servers["api"].process.pid(), job.pid())
        rows = []
        for rate in rates:
            rows.append(run_rate(stack.settings, meter, job, photos, rate, args.seconds))
            if not rows[-1]["complete"]:
                print("  skipping the remaining rates: the backlog would mix them")
                break
    print_rows(args.group, rows)
    return 0


def run_rate(settings, meter, job, photos, rate: float, seconds: float) -> dict:
    payloads = distinct_payloads(photos, max(1, round(rate * seconds)), f"{rate:g}")
    counts, cpu = read_counts(settings), meter.snapshot()
    print(f"  {rate:g}/s: posting {len(payloads)} ...", flush=True)
    sent = post_all(bench_client(settings), payloads, THREADS, rate)
    accepted = [s for s in sent if s.outcome == ACCEPTED]
    done = wait_counted(settings, counts, len(accepted), job_alive=lambda: job.pid() is not None)
    cores, busy = CpuMeter.cores(cpu, meter.snapshot())
    window = time.monotonic() - cpu[0]
    search = make_elasticsearch_client(settings.elasticsearch_url, settings.elasticsearch_auth)
    times = processed_times(search, settings.elasticsearch_index, [s.image_id for s in accepted],
                            stall_s=5, limit_s=30, job_alive=lambda: True,
                            progress=lambda *_: None)
    latencies = np.array([times[s.image_id] - s.sent_at for s in accepted if s.image_id in times])
    sent_times = sorted(s.sent_at for s in accepted)
    return {
        "rate": rate, "posted": len(sent), "accepted": len(accepted),
        "duplicate": sum(s.outcome == DUPLICATE for s in sent), "counts": done,
        "complete": done.processed + done.rejected >= len(accepted),
        "input": (len(sent_times) - 1) / (sent_times[-1] - sent_times[0]),
        "sustained": len(times) / (max(times.values()) - sent_times[0]) if times else np.nan,
        "latencies": latencies, "cores": cores, "busy": busy,
        "cpu_ms": sum(c for n, c in cores.items() if n not in NOT_PIPELINE) * window
        / max(1, len(times)) * 1000,
    }


def wait_counted(settings, before: StreamCounts, expected: int, *, job_alive) -> StreamCounts:
    """Wait until the job has counted `expected` photos since `before` (processed or
    rejected); give up when its counts stand still for STALL_S."""
    last, changed = read_counts(settings) - before, time.monotonic()
    printed = time.monotonic()
    while last.processed + last.rejected < expected:
        if not job_alive():
            raise JobExited(f"the streaming job exited after {last.processed:.0f} photos")
        if time.monotonic() - changed > STALL_S:
            print(f"  gave up: the job counted nothing new for {STALL_S:.0f} s")
            return last
        time.sleep(1)
        now = read_counts(settings) - before
        if (now.processed, now.rejected) != (last.processed, last.rejected):
            changed = time.monotonic()
        last = now
        if time.monotonic() - printed > PROGRESS_EVERY_S:
            print(f"  {last.processed:.0f}/{expected} processed, {last.behind:.0f} behind",
                  flush=True)
            printed = time.monotonic()
    return settled(settings, before, last)


def settled(settings, before: StreamCounts, counted: StreamCounts) -> StreamCounts:
    """The counts once the batches that made `counted`'s photos are counted too.

    The sink counts a batch's photos before the query's progress event counts the batch, so
    a reading taken as the photos arrive may miss the last batch: wait until the batches'
    input rows cover the photos (each photo is one message read), for SETTLE_S at most.
    """
    deadline = time.monotonic() + SETTLE_S
    while counted.input_rows < counted.processed + counted.rejected:
        if time.monotonic() > deadline:
            print(f"  the last batch's progress was not counted within {SETTLE_S:.0f} s")
            break
        time.sleep(0.5)
        counted = read_counts(settings) - before
    return counted


def print_rows(group: str, rows: list[dict]) -> None:
    print(f"\n## Stream, paced {group} uploads: POST → processed_at")
    print(f"{'rate':>7}{'posted':>8}{'202':>6}{'dup':>5}{'input/s':>9}{'processed':>11}{'rejected':>9}"
          f"{'sustained/s':>13}{'p50 s':>8}{'p99 s':>8}{'batches':>9}{'photos/b':>10}"
          f"{'batch s':>9}{'CPU ms/ph':>11}{'busy':>6}")
    for row in rows:
        c = row["counts"]
        p50, p99 = (np.percentile(row["latencies"], [50, 99]) if row["latencies"].size
                    else (np.nan, np.nan))
        batches = max(c.batches, 1)
        print(f"{row['rate']:6g}/s{row['posted']:8d}{row['accepted']:6d}{row['duplicate']:5d}"
              f"{row['input']:9.1f}"
              f"{c.processed:11.0f}{c.rejected:9.0f}{row['sustained']:13.1f}{p50:8.2f}{p99:8.2f}"
              f"{c.batches:9.0f}{c.input_rows / batches:10.1f}{c.batch_seconds / batches:9.2f}"
              f"{row['cpu_ms']:11.0f}{row['busy']:6.2f}"
              + ("" if row["complete"] else "  INCOMPLETE"))
    names = sorted({n for r in rows for n in r["cores"]} - NOT_PIPELINE)
    print("\ncores used by component while each rate was posted and processed")
    print(f"{'component':24}" + "".join(f"{r['rate']:>9g}/s" for r in rows))
    for name in names:
        print(f"{name:24}" + "".join(f"{r['cores'].get(name, 0):11.2f}" for r in rows))
    meets = [r for r in rows if r["complete"] and r["sustained"] >= TARGET_RATE
             and r["latencies"].size and np.percentile(r["latencies"], 99) <= TARGET_P99_S]
    print(f"target >= {TARGET_RATE:g} photos/s sustained with p99 <= {TARGET_P99_S:g} s: "
          + ("met at " + ", ".join(f"{r['rate']:g}/s" for r in meets) if meets else "NOT met"))


if __name__ == "__main__":
    sys.exit(main())
