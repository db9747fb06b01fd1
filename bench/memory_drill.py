"""A flood of large-pixel PNG, TIFF, WebP and HEIC uploads against the real API: worker memory.

    .venv/bin/python -m bench.memory_drill [--clients 8] [--rounds 1] [--before REV|none]

Runs `python -m ingest_api` (gunicorn, 2 gthread workers of 4 threads) twice, side by side: from
the source of REV (by default the commit before decode memory budgets came in, checked out with
`git archive` into a scratch folder) and from this working tree. Each time `--clients` clients
post every flood file `--rounds` times at once, on a topic of the drill's own on the stack's
Kafka (`python -m infra up kafka`, or the test stack). It prints per run: the answers by status
and error, seconds per request, each worker's peak RSS (VmHWM) during the flood, and its RSS
before, just after, and 5 s after the flood. Then, for each tree, what one stream (or batch)
worker spends on each file: dataset.records.process_upload in a fresh process per file, its peak
RSS above its RSS at rest, and the seconds it took. Results: docs/performance.md, "Memory".
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import platform
import subprocess
import sys
import tarfile
import tempfile
import threading
import time
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from pathlib import Path

import pillow_heif
from PIL import Image

from infra.app_services import IngestApi
from infra.processes import free_port
from infra.schemas import ensure_topic, remove_topics
from ingest_api.auth.store import TokenStore
from kit.api_client import ApiClient, Unanswered
from kit.launcher import launch, stop, wait_ready
from settings import PROJECT_ROOT, Settings

pillow_heif.register_heif_opener()

SETTLE_S = 5.0
BUDGET_FILE = "preprocessing/memory.py"  # the file that brought decode memory budgets in


@dataclass(frozen=True)
class FloodFile:
    name: str
    data: bytes


def flood_files() -> list[FloodFile]:
    """Large pictures that compress to little, in the formats decoded at full size."""
    specs = [
        ("png 9000x9000 RGB", (9000, 9000), "RGB", "PNG", {}),
        ("png 9000x9000 RGBA", (9000, 9000), "RGBA", "PNG", {"compress_level": 1}),
        ("tiff 9000x9000 RGB", (9000, 9000), "RGB", "TIFF", {"compression": "tiff_adobe_deflate"}),
        ("webp 5000x5000", (5000, 5000), "RGB", "WEBP", {"lossless": True, "method": 0}),
        ("webp 9000x9000", (9000, 9000), "RGB", "WEBP", {"lossless": True, "method": 0}),
        ("heic 6000x6000", (6000, 6000), "RGB", "HEIF", {"quality": 10}),
    ]
    return [FloodFile(name, encoded(size, mode, fmt, options))
            for name, size, mode, fmt, options in specs]


def encoded(size: tuple[int, int], mode: str, fmt: str, options: dict) -> bytes:
    """A flat field with one red block: every pixel is decoded, the file stays small."""
    image = Image.new("RGB", size, (90, 140, 60))
    image.paste((200, 40, 40), (size[0] // 4, size[1] // 4, size[0] // 2, size[1] // 2))
    buffer = io.BytesIO()
    image.convert(mode).save(buffer, fmt, **options)
    return buffer.getvalue()


def small_jpeg() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (640, 480), (90, 140, 60)).save(buffer, "JPEG")
    return buffer.getvalue()


# --- the server and its workers -------------------------------------------------------------


def worker_pids(master: int) -> list[int]:
    """gunicorn's workers: the master's child processes."""
    children = Path(f"/proc/{master}/task/{master}/children").read_text().split()
    return sorted(int(pid) for pid in children)


def memory_mb(pid: int) -> dict[str, float]:
    """VmRSS (now) and VmHWM (peak since the process started) of a process, in MB."""
    fields = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        name, _, value = line.partition(":")
        if name in ("VmRSS", "VmHWM"):
            fields[name] = int(value.split()[0]) / 1024
    return fields


@contextlib.contextmanager
def running_api(source: Path, settings: Settings):
    """`python -m ingest_api` from `source` (infra's starter, launched by the kit), until the
    block ends, once both workers have forked; yields (url, master pid)."""
    log = Path(tempfile.mkdtemp(prefix="memory-drill-")) / "api.log"
    url = f"http://{settings.api_host}:{settings.api_port}"
    api = IngestApi(settings)
    server = launch(api, log, env={"PYTHONPATH": str(source)}, cwd=source)
    try:
        wait_ready(api, server, log, ready=lambda: (
            ApiClient(url, timeout=2).is_alive().status == 200
            and len(worker_pids(server.pid)) == 2))
        yield url, server.pid
    finally:
        stop(server)


def source_of(revision: str, scratch: Path) -> Path:
    """The project's files at `revision`, extracted into scratch."""
    archive = subprocess.run(["git", "archive", revision], cwd=PROJECT_ROOT, check=True,
                             capture_output=True).stdout
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        tar.extractall(scratch, filter="data")
    return scratch


def default_before() -> str:
    """The commit just before the one that added BUDGET_FILE."""
    added = subprocess.run(
        ["git", "log", "--diff-filter=A", "--format=%H", "--", BUDGET_FILE],
        cwd=PROJECT_ROOT, check=True, capture_output=True, text=True,
    ).stdout.split()
    return f"{added[-1]}^"


# --- one stream worker -----------------------------------------------------------------------

CORE_PROBE = """
import json, sys, time
from pathlib import Path
from photo.upload import Upload, process_upload

def memory():
    lines = Path("/proc/self/status").read_text().splitlines()
    return {n: int(v.split()[0]) / 1024 for n, _, v in (l.partition(":") for l in lines)
            if n in ("VmRSS", "VmHWM")}

def run(data):
    return process_upload(Upload(data, "drill"), n_variants=4, max_pixels=100_000_000).reason

run(Path(sys.argv[1]).read_bytes())
data = Path(sys.argv[2]).read_bytes()
before, started = memory()["VmRSS"], time.monotonic()
reason = run(data)
seconds = time.monotonic() - started
print(json.dumps({"spent": memory()["VmHWM"] - before, "seconds": seconds, "reason": reason}))
"""


def core_costs(source: Path, files: list[FloodFile], scratch: Path) -> dict[str, dict]:
    """Per file: a fresh process from `source` runs process_upload on it after a small warm-up."""
    warm = scratch / "warm.jpg"
    warm.write_bytes(small_jpeg())
    costs = {}
    for n, flood_file in enumerate(files):
        path = scratch / f"flood-{n}"
        path.write_bytes(flood_file.data)
        done = subprocess.run([sys.executable, "-c", CORE_PROBE, str(warm), str(path)],
                              cwd=source, env={**os.environ, "PYTHONPATH": str(source)},
                              capture_output=True, text=True, check=True)
        costs[flood_file.name] = json.loads(done.stdout.splitlines()[-1])
    return costs


# --- the flood --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Answer:
    file: str
    status: int | None
    error: str | None
    seconds: float


def post(api: ApiClient, flood_file: FloodFile) -> Answer:
    started = time.monotonic()
    try:
        response = api.post_image(flood_file.data, "upload")
    except Unanswered as failure:
        return Answer(flood_file.name, None, type(failure.__cause__).__name__,
                      time.monotonic() - started)
    body = response.json() if "json" in response.headers.get("Content-Type", "") else {}
    return Answer(flood_file.name, response.status, body.get("error"), time.monotonic() - started)


class PeakSampler:
    """Samples the workers' RSS every 0.1 s; VmHWM gives the true peak, this the shape."""

    def __init__(self, pids: list[int]):
        self.pids = pids
        self.peaks = dict.fromkeys(pids, 0.0)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *_):
        self._stop.set()
        self._thread.join()

    def _run(self):
        while not self._stop.wait(0.1):
            for pid in self.pids:
                self.peaks[pid] = max(self.peaks[pid], memory_mb(pid)["VmRSS"])


def run_flood(source: Path, settings: Settings, token: str, files: list[FloodFile],
              clients: int, rounds: int) -> dict:
    with running_api(source, settings) as (url, master):
        api = ApiClient(url, token, timeout=120)
        for _ in range(4):  # each worker imports and builds its producer
            replace(api, timeout=60).post_image(small_jpeg(), "warm.jpg")
        pids = worker_pids(master)
        before = {pid: memory_mb(pid) for pid in pids}
        jobs = [f for _ in range(rounds) for f in files for _ in range(clients)]
        started = time.monotonic()
        with PeakSampler(pids), ThreadPoolExecutor(clients) as pool:
            answers = list(pool.map(lambda f: post(api, f), jobs))
        wall = time.monotonic() - started
        just_after = {pid: memory_mb(pid) for pid in pids}
        time.sleep(SETTLE_S)
        settled = {pid: memory_mb(pid) for pid in pids}
        alive = ApiClient(url, timeout=5).is_alive().status == 200
    return {"answers": answers, "wall": wall, "before": before, "just_after": just_after,
            "settled": settled, "alive": alive}


def report_core(label: str, costs: dict[str, dict]) -> None:
    print(f"\n## {label}: one stream worker, process_upload per file")
    print("| file | outcome | peak above rest | seconds |")
    print("| --- | --- | ---: | ---: |")
    for name, cost in costs.items():
        print(f"| {name} | {cost['reason'] or 'processed'} | {cost['spent']:,.0f} MB | "
              f"{cost['seconds']:.1f} |")


def report(label: str, result: dict) -> None:
    answers = result["answers"]
    print(f"\n## {label}")
    print(f"{len(answers)} requests in {result['wall']:.1f} s; API alive afterwards: "
          f"{result['alive']}")
    print("| file | answers | s per request (median, max) |")
    print("| --- | --- | ---: |")
    for name in dict.fromkeys(a.file for a in answers):
        mine = [a for a in answers if a.file == name]
        counts = Counter(f"{a.status} {a.error or ''}".strip() for a in mine)
        seconds = sorted(a.seconds for a in mine)
        print(f"| {name} | {', '.join(f'{n}x {k}' for k, n in counts.items())} | "
              f"{seconds[len(seconds) // 2]:.1f}, {seconds[-1]:.1f} |")
    print("| worker | RSS before | peak (VmHWM) | RSS just after | RSS 5 s after |")
    print("| --- | ---: | ---: | ---: | ---: |")
    for n, pid in enumerate(sorted(result["before"]), 1):
        print(f"| {n} | {result['before'][pid]['VmRSS']:,.0f} MB | "
              f"{result['settled'][pid]['VmHWM']:,.0f} MB | "
              f"{result['just_after'][pid]['VmRSS']:,.0f} MB | "
              f"{result['settled'][pid]['VmRSS']:,.0f} MB |")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.memory_drill", description=__doc__)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--before", default=None,
                        help="revision to compare with (default: the one before decode budgets; "
                             "none: skip)")
    args = parser.parse_args(argv)

    state = Path(tempfile.mkdtemp(prefix="memory-drill-"))
    port = free_port()  # gunicorn's: API_INTERNAL_PORT today, API_PORT in trees before nginx
    settings = replace(Settings.from_env(), api_port=port, api_internal_port=port,
                       kafka_topic=f"memory-drill-{uuid.uuid4().hex[:8]}",
                       api_token_store=str(state / "auth" / "tokens.sqlite3"),
                       upload_rate_limit="100000/minute")
    # A tree from before authentication ignores the header.
    token = TokenStore(settings.api_token_store).issue("drill")
    ensure_topic(settings.kafka_bootstrap_servers, settings.kafka_topic, settings.kafka_partitions)
    print(f"# Memory drill: {platform.node()}, {os.cpu_count()} cores, "
          f"{time.strftime('%Y-%m-%d %H:%M')}, Python {platform.python_version()}, "
          f"{args.clients} clients x {args.rounds} round(s)")
    files = flood_files()
    for flood_file in files:
        print(f"- {flood_file.name}: {len(flood_file.data):,} bytes")
    trees = []
    with contextlib.ExitStack() as stack:
        if args.before != "none":
            revision = args.before or default_before()
            scratch = Path(stack.enter_context(tempfile.TemporaryDirectory()))
            trees.append((f"before ({git_short(revision)})", source_of(revision, scratch)))
        trees.append(("after (this tree)", PROJECT_ROOT))
        try:
            floods = [(label, run_flood(tree, settings, token, files, args.clients, args.rounds))
                      for label, tree in trees]
        finally:
            remove_topics(settings.kafka_bootstrap_servers, [settings.kafka_topic])
        scratch = Path(stack.enter_context(tempfile.TemporaryDirectory()))
        cores = [(label, core_costs(tree, files, scratch)) for label, tree in trees]
    for label, result in floods:
        report(label, result)
    for label, costs in cores:
        report_core(label, costs)
    return 0


def git_short(revision: str) -> str:
    return subprocess.run(["git", "rev-parse", "--short", revision], cwd=PROJECT_ROOT,
                          check=True, capture_output=True, text=True).stdout.strip()


if __name__ == "__main__":
    sys.exit(main())
