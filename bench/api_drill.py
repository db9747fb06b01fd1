"""The API against slow clients and outages, on the native stack: latencies other clients see.

    .venv/bin/python -m bench.api_drill [--requests 20] [--slow 50] [--hammer 48] [--seconds 10]

nginx + gunicorn run as the native deploy runs them, from a stack dir of this run's own, on
free ports, with a broker of this run's own (its log in a bucket of its own on the S3 that
answers; S3 and Elasticsearch are those already answering, else started here).

slow clients  latency of a normal client (GET /is_alive, POST of a 320x240 JPEG), --requests
              of each, one after the other, with 0 and --slow slow clients (request headers,
              then separately bodies, at one byte a second), through nginx and straight to
              gunicorn's internal port. A request that gets no answer in 5 s counts as timed
              out; a row stops after two. The slow clients are let go before the next row.
healthy       uploads from 8, 16 and 48 threads without pause for --seconds each, the broker
              answering: how many are accepted, how many refused 503 kafka_busy.
broker down   the broker stopped (SIGTERM): the first upload's answer; then --hammer threads
              uploading for --seconds while /is_alive is polled every 0.25 s; then, from the
              broker answering again, the time to the first 202 and to 10 in a row (each
              gunicorn worker has its own breaker and probe).
broker hung   the same with the broker frozen (SIGSTOP), then thawed (SIGCONT).
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import signal
import statistics
import time
import uuid
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path

import urllib3

from adapters.s3 import make_s3_client
from bench.slow_clients import KINDS, slow_clients
from infra.processes import free_port
from infra.schemas import remove_bucket
from infra.stack import LocalStack
from ingest_api.auth.store import TokenStore
from kit.api_client import ApiClient, Unanswered
from kit.stack import isolated_settings
from settings import PROJECT_ROOT, Settings

TIMEOUT_S = 5.0
PHOTO = next((PROJECT_ROOT / "img").glob("*/*.jpg"))
POLL_EVERY_S = 0.25
STEADY = 10  # uploads accepted in a row: every gunicorn worker publishes again
HEALTHY_THREADS = (8, 16, 48)


@dataclass(frozen=True)
class Answer:
    seconds: float
    status: int  # 0: no answer within TIMEOUT_S


def ask_alive(api: ApiClient) -> Answer:
    """GET /is_alive, without a token."""
    return timed(replace(api, token=None, timeout=urllib3.Timeout(total=TIMEOUT_S)).is_alive)


def ask_upload(api: ApiClient, seed: int = 0, timeout: float = TIMEOUT_S) -> Answer:
    """POST /post_image of PHOTO made distinct by `seed`."""
    photo = PHOTO.read_bytes() + f"drill-{seed}".encode()
    within = replace(api, timeout=urllib3.Timeout(total=timeout))
    return timed(lambda: within.post_image(photo, "p.jpg"))


def timed(call) -> Answer:
    """call(), one request on a connection of its own, never reused. Status 0: no answer
    within its timeout (or the connection failed)."""
    start = time.monotonic()
    try:
        status = call().status
    except Unanswered:
        status = 0
    return Answer(time.monotonic() - start, status)


def measure(call, count: int) -> list[Answer]:
    """call(n) for n < count, one after the other; stops after two requests got no answer."""
    answers: list[Answer] = []
    for n in range(count):
        answers.append(call(n))
        if sum(1 for answer in answers if not answer.status) == 2:
            break
    return answers


def summary(answers: list[Answer]) -> str:
    """p50 / p95 / max in ms of the answered, and how many got no answer."""
    times = sorted(answer.seconds * 1000 for answer in answers if answer.status)
    missing = sum(1 for answer in answers if not answer.status)
    if not times:
        return f"no answer ({missing}/{len(answers)} timed out)"
    p95 = times[min(len(times) - 1, round(0.95 * (len(times) - 1)))]
    text = f"{statistics.median(times):.0f} / {p95:.0f} / {times[-1]:.0f}"
    return text + (f" ({missing}/{len(answers)} timed out)" if missing else "")


def statuses(answers: list[Answer]) -> str:
    counts: dict[int, int] = {}
    for answer in answers:
        counts[answer.status] = counts.get(answer.status, 0) + 1
    return ", ".join(f"{count}x {status or 'none'}" for status, count in sorted(counts.items()))


def slow_client_rows(settings: Settings, token: str, requests: int, slow: int) -> None:
    print(f"\n## A normal client among slow ones ({requests} requests each; ms p50 / p95 / max)\n")
    print("| front | slow clients | GET /is_alive | POST /post_image |")
    print("| --- | --- | ---: | ---: |")
    fronts = {
        "nginx": settings.api_port,
        "gunicorn alone": settings.api_internal_port,
    }
    for front, port in fronts.items():
        api = ApiClient(f"http://{settings.api_host}:{port}", token)
        for kind in (None, *KINDS):
            count = slow if kind else 0
            with slow_clients(settings.api_host, port, count, kind or "headers"):
                time.sleep(2)  # the slow clients have sent a few bytes each
                alive = measure(lambda _, api=api: ask_alive(api), requests)
                posts = measure(lambda seed, api=api: ask_upload(api, seed), requests)
            label = f"{count} ({kind})" if kind else "0"
            print(f"| {front} | {label} | {summary(alive)} | {summary(posts)} |", flush=True)
            time.sleep(1)


def poll(api: ApiClient, seconds: float) -> list[Answer]:
    """GET /is_alive every POLL_EVERY_S for `seconds`."""
    deadline = time.monotonic() + seconds
    answers = []
    while time.monotonic() < deadline:
        answers.append(ask_alive(api))
        time.sleep(POLL_EVERY_S)
    return answers


def hammer(api: ApiClient, threads: int, seconds: float) -> list[Answer]:
    """Uploads from `threads` threads for `seconds`. Run it in a process of its own, so that
    its threads do not delay the measuring thread (Python's GIL)."""
    deadline = time.monotonic() + seconds

    def uploads(thread: int) -> list[Answer]:
        answers, n = [], 0
        while time.monotonic() < deadline:
            answers.append(ask_upload(api, thread * 100_000 + n, timeout=30))
            n += 1
        return answers

    with ThreadPoolExecutor(threads) as pool:
        return [answer for batch in pool.map(uploads, range(threads)) for answer in batch]


def healthy_rows(api: ApiClient, seconds: float) -> None:
    """Uploads from 8, 16 and 48 threads without pause, the broker answering."""
    print(f"\n## Concurrent uploads, the broker answering ({seconds:g} s each; ms p50 / p95 / "
          "max)\n")
    print("| threads | uploads | statuses | latency |")
    print("| ---: | ---: | --- | ---: |")
    for threads in HEALTHY_THREADS:
        with ProcessPoolExecutor(1) as hammering:
            uploads = hammering.submit(hammer, api, threads, seconds).result()
        print(f"| {threads} | {len(uploads)} | {statuses(uploads)} | {summary(uploads)} |",
              flush=True)


def accepted_again(api: ApiClient, within_s: float) -> tuple[float | None, float | None]:
    """Seconds until the first 202, and until the first of STEADY 202s in a row; None: never."""
    start = time.monotonic()
    first = steady_from = None
    streak = 0
    while time.monotonic() - start < within_s:
        now = time.monotonic() - start
        if ask_upload(api, seed=int(now * 1000), timeout=30).status == 202:
            first = now if first is None else first
            steady_from = now if streak == 0 else steady_from
            streak += 1
            if streak == STEADY:
                return first, steady_from
        else:
            streak = 0
        time.sleep(0.1)
    return first, None


def outage_rows(settings: Settings, api: ApiClient, outage: str, threads: int,
                seconds: float) -> None:
    """Break the broker (`down` or `hung`), measure, restore it, measure the recovery."""
    stack = LocalStack(settings)
    first_ok, steady = accepted_again(api, 60)
    assert steady is not None, "the API does not accept uploads before the drill"
    broker = stack.servers["kafka"].process.pid()
    if outage == "down":
        stack.down(["kafka"])
    else:
        os.kill(broker, signal.SIGSTOP)
    first = ask_upload(api, seed=-2, timeout=30)
    with ProcessPoolExecutor(1) as hammering:
        hammered = hammering.submit(hammer, api, threads, seconds)
        alive_answers = poll(api, seconds)
        uploads = hammered.result()
    if outage == "down":
        stack.up(["kafka"])
    else:
        os.kill(broker, signal.SIGCONT)
    first_ok, steady = accepted_again(api, 60)
    name = {"down": "broker stopped", "hung": "broker frozen (SIGSTOP)"}[outage]
    back = "not within 60 s" if first_ok is None else f"{first_ok:.1f} s"
    back += "" if steady is None else f" ({STEADY} in a row from {steady:.1f} s)"
    print(f"| {name} | {first.status} in {first.seconds * 1000:.0f} ms "
          f"| {len(uploads)} from {threads} threads: {statuses(uploads)}; {summary(uploads)} "
          f"| {len(alive_answers)} polls: {summary(alive_answers)} | {back} |", flush=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=20)
    parser.add_argument("--slow", type=int, default=50)
    parser.add_argument("--hammer", type=int, default=48, help="more than gunicorn's 40 threads")
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--keep-logs", action="store_true", help="keep the stack dir")
    args = parser.parse_args()

    settings = isolated_settings(
        "api-drill-",
        kafka_bootstrap_servers=f"127.0.0.1:{free_port()}",
        kafka_log_bucket=f"kafka-log-drill-{uuid.uuid4().hex[:8]}",
    )
    stack_dir = Path(settings.stack_dir)
    stack = LocalStack(settings)
    print(f"# API drill, {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {platform.node()}, "
          f"{os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f}")
    try:
        started = stack.up(["nginx"])
        print(f"started {started} from {stack_dir}")
        token = TokenStore.from_settings(settings).issue("drill")
        public = ApiClient(f"http://{settings.api_host}:{settings.api_port}", token)
        slow_client_rows(settings, token, args.requests, args.slow)
        healthy_rows(public, args.seconds)
        print(f"\n## Broker outages ({args.hammer} threads uploading for {args.seconds:g} s; "
              f"ms p50 / p95 / max)\n")
        print("| outage | first upload | uploads during it | GET /is_alive during it "
              "| back to 202 after the broker returns |")
        print("| --- | --- | --- | --- | --- |")
        for outage in ("down", "hung"):
            outage_rows(settings, public, outage, args.hammer, args.seconds)
    finally:
        stack.down()
        remove_bucket(make_s3_client(settings.s3), settings.kafka_log_bucket)
        if args.keep_logs:
            print(f"logs kept in {stack_dir}")
        else:
            shutil.rmtree(stack_dir, ignore_errors=True)
    print(f"\nload average at the end {os.getloadavg()[0]:.1f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
