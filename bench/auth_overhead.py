"""What bearer tokens and per-device rate limits cost a request, on the real server.

    .venv/bin/python -m bench.auth_overhead [--requests 400] [--threads 8] [--rounds 3]

`python -m ingest_api` (gunicorn alone, no nginx) runs on a free port with AUTH=on, then
AUTH=off, --rounds times in turn, on a token store and a Kafka topic of this run's own (the
broker of the Settings, which must answer). Each time --requests requests go out from
--threads threads on keep-alive connections, per kind:

is_alive    GET /is_alive: open, no token check, no count (the baseline)
lookup      GET /images/not-an-id: token check, one rate-limit count, then a 400 at once
upload      POST /post_image of a 60 KB JPEG: token check, count, decode, Kafka's ack (202)
anonymous   (AUTH=on only) a lookup without a token: the 401

The table gives, per kind, the median of the rounds' rates and the percentiles of all their
latencies: alternating rounds spread the noise of a shared machine over both settings. Then,
in this process: one TokenStore.find and one rate-limit count (SqliteStorage.incr) on the same
file, in microseconds. The limits are raised so that nothing is refused as 429.
"""

from __future__ import annotations

import argparse
import io
import os
import shutil
import statistics
import sys
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path

from PIL import Image

from infra.app_services import IngestApi
from infra.processes import NotReady
from infra.schemas import ensure_topic, remove_topics
from ingest_api.auth.limits import SqliteStorage
from ingest_api.auth.store import TokenStore
from ingest_api.server import GUNICORN_OPTIONS
from kit.api_client import ApiClient
from kit.launcher import running
from kit.stack import isolated_settings
from settings import Settings

MICRO_CALLS = 2000


def photo() -> bytes:
    image = Image.effect_noise((320, 240), 64).convert("RGB")
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=90)
    return buffer.getvalue()


def timed(send: Callable[[int], int], requests: int, threads: int) -> tuple[float, list, set]:
    """(requests per second, latencies in s, statuses seen) of `requests` calls of send(n)."""
    def one(n: int) -> tuple[float, int]:
        began = time.perf_counter()
        status = send(n)
        return time.perf_counter() - began, status

    began = time.perf_counter()
    with ThreadPoolExecutor(threads) as pool:
        results = list(pool.map(one, range(requests)))
    elapsed = time.perf_counter() - began
    return requests / elapsed, [r[0] for r in results], {r[1] for r in results}


def row(name: str, rates: list[float], latencies: list[float], statuses: set) -> str:
    ms = sorted(1000 * s for s in latencies)
    p99 = ms[min(len(ms) - 1, round(0.99 * len(ms)))]
    return (f"| {name:<20} | {statistics.median(rates):7.0f} | {statistics.median(ms):6.1f} | "
            f"{p99:6.1f} | {', '.join(map(str, sorted(statuses))):<8} |")


def measure(settings: Settings, token: str | None, requests: int, threads: int, tag: str):
    device = ApiClient(f"http://{settings.api_host}:{settings.api_internal_port}", token,
                       connections=threads)
    anonymous = replace(device, token=None)  # connections of its own, as many
    data = photo()

    def upload(n: int) -> int:
        return device.post_image(data + f"{tag}-{n}".encode(), "p.jpg", "image/jpeg").status

    kinds = {
        "is_alive": lambda n: anonymous.is_alive().status,
        "lookup": lambda n: device.image("not-an-id").status,
        "upload": upload,
    }
    if token:
        kinds["anonymous"] = lambda n: anonymous.image("not-an-id").status
    for kind, send in kinds.items():
        timed(send, threads * 4, threads)  # warm: connections, producers, SQLite connections
        yield kind, *timed(send, requests, threads)


def micro(store_path: str) -> tuple[float, float]:
    """Microseconds per TokenStore.find and per SqliteStorage.incr, one thread."""
    store = TokenStore(store_path)
    token = store.issue("micro")
    counters = SqliteStorage(path=store_path)
    began = time.perf_counter()
    for _ in range(MICRO_CALLS):
        store.find(token)
    find_us = (time.perf_counter() - began) / MICRO_CALLS * 1e6
    began = time.perf_counter()
    for _ in range(MICRO_CALLS):
        counters.incr("bench-micro", 60)
    return find_us, (time.perf_counter() - began) / MICRO_CALLS * 1e6


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=400, help="requests per kind")
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--rounds", type=int, default=3, help="AUTH=on then off, this often")
    args = parser.parse_args()

    suffix = uuid.uuid4().hex[:8]
    settings = isolated_settings("bench-auth-", kafka_topic=f"bench-auth-{suffix}")
    state = Path(settings.stack_dir)
    ensure_topic(settings.kafka_bootstrap_servers, settings.kafka_topic, settings.kafka_partitions)
    try:
        print(f"{os.cpu_count()} cores, {args.requests} requests per kind from {args.threads} "
              f"threads, keep-alive, {args.rounds} rounds; gunicorn alone, 2 workers x "
              f"{GUNICORN_OPTIONS['threads']} threads; "
              f"load average at start {os.getloadavg()[0]:.1f}\n")
        results: dict[str, tuple[list, list, set]] = {}
        for round_ in range(args.rounds):
            for auth in (True, False):
                token = TokenStore.from_settings(settings).issue("bench") if auth else None
                with running(IngestApi(replace(settings, auth=auth)), state / "api.log"):
                    for kind, rate, latencies, statuses in measure(
                        settings, token, args.requests, args.threads, f"{auth}-{round_}-{suffix}"
                    ):
                        rates, all_latencies, seen = results.setdefault(
                            f"{'on' if auth else 'off'} / {kind}", ([], [], set())
                        )
                        rates.append(rate)
                        all_latencies += latencies
                        seen |= statuses
        print("| AUTH / kind          |   req/s | p50 ms | p99 ms | statuses |")
        print("|----------------------|---------|--------|--------|----------|")
        for name, (rates, latencies, statuses) in results.items():
            print(row(name, rates, latencies, statuses))
        find_us, incr_us = micro(settings.api_token_store)
        print(f"\nin-process, one thread: TokenStore.find {find_us:.0f} us, "
              f"rate-limit count (SqliteStorage.incr) {incr_us:.0f} us")
    except NotReady as error:
        print(f"auth_overhead: {error}", file=sys.stderr)
        return 1
    finally:
        remove_topics(settings.kafka_bootstrap_servers, [settings.kafka_topic])
        shutil.rmtree(state, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
