"""Load and observation for the streaming benchmark, against a pipeline that runs.

Uploads are corpus photos made distinct by a few bytes after the JPEG's end (decoders ignore
them), so every POST is a new image id. POSTs go out at a paced rate from a thread pool and
each one's wall-clock send time is kept, to be compared with the `processed_at` that the
streaming job writes into the image's Elasticsearch document. Every wait here is bounded.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path

import urllib3

from kit.api_client import ApiClient, Unanswered
from preprocessing import image_id_of

LABEL = "bench"
POST_TIMEOUT = urllib3.Timeout(connect=5, read=30)


@dataclass(frozen=True)
class Payload:
    """One upload: a file name, its distinct bytes and their image id."""

    name: str
    data: bytes
    image_id: str


# What an answer of POST /post_image means: queued for the stream (202), or recorded already
# (200, status "duplicate": a success that sends nothing to Kafka); anything else failed.
ACCEPTED, DUPLICATE, FAILED = "accepted", "duplicate", "failed"
OUTCOMES = {202: ACCEPTED, 200: DUPLICATE}


def outcome(status: int) -> str:
    """accepted, duplicate or failed: what the upload answered `status` came to."""
    return OUTCOMES.get(status, FAILED)


@dataclass(frozen=True)
class Sent:
    """One POST: when it left (wall clock, like processed_at), how long it took, its status."""

    image_id: str
    sent_at: float
    seconds: float
    status: int  # 0: no answer (timeout, connection refused)

    @property
    def outcome(self) -> str:
        return outcome(self.status)


def distinct_payloads(photos: list[Path], count: int, tag: str) -> list[Payload]:
    """`count` uploads cycling through `photos`, each with `<tag>-<n>` appended."""
    sources = [(path.name, path.read_bytes()) for path in photos]
    payloads = []
    for n in range(count):
        name, data = sources[n % len(sources)]
        data += f"{tag}-{n}".encode()
        payloads.append(Payload(name, data, image_id_of(data)))
    return payloads


def post_all(
    api: ApiClient, payloads: list[Payload], threads: int, rate: float | None
) -> list[Sent]:
    """POST every payload from `threads` threads, upload n at start + n / rate (None: at once),
    on up to `threads` connections kept open.

    A POST that falls behind its slot goes out as soon as a thread is free; its real send time
    is what is recorded.
    """
    pooled = replace(api, connections=threads, timeout=POST_TIMEOUT)
    start = time.monotonic() + 0.2

    def post(n: int, payload: Payload) -> Sent:
        if rate is not None:
            time.sleep(max(0.0, start + n / rate - time.monotonic()))
        sent_at, began = time.time(), time.perf_counter()
        try:
            status = pooled.post_image(payload.data, payload.name, "image/jpeg",
                                       label=LABEL).status
        except Unanswered:
            status = 0
        return Sent(payload.image_id, sent_at, time.perf_counter() - began, status)

    with ThreadPoolExecutor(threads) as pool:
        return list(pool.map(post, range(len(payloads)), payloads))


class JobExited(RuntimeError):
    """The streaming job stopped while uploads were waiting for it."""


def processed_times(
    search, index: str, image_ids: list[str], *, stall_s: float, limit_s: float,
    job_alive: Callable[[], bool], progress: Callable[[int, int], None],
) -> dict[str, float]:
    """image id -> processed_at (epoch s) for each id with a document, waiting for all of them.

    Gives up, returning what it has, when no new document appeared for `stall_s` or after
    `limit_s` in all; raises JobExited as soon as the job is gone.
    """
    found: dict[str, float] = {}
    began = last_progress = time.monotonic()
    while True:
        missing = [image_id for image_id in image_ids if image_id not in found]
        for chunk in (missing[i : i + 1000] for i in range(0, len(missing), 1000)):
            docs = search.mget(index=index, ids=chunk, source_includes=["processed_at"])["docs"]
            for doc in docs:
                if doc.get("found") and doc["_source"].get("processed_at"):
                    found[doc["_id"]] = iso_seconds(doc["_source"]["processed_at"])
        now = time.monotonic()
        if len(found) > len(image_ids) - len(missing):
            last_progress = now
        progress(len(found), len(image_ids))
        if len(found) == len(image_ids):
            return found
        if now - last_progress > stall_s or now - began > limit_s:
            return found
        if not job_alive():
            raise JobExited(f"the streaming job exited with {len(found)} of {len(image_ids)} "
                            "uploads processed")
        time.sleep(1)


def iso_seconds(text: str) -> float:
    return datetime.fromisoformat(text).timestamp()


class CpuMeter:
    """CPU seconds by component between two snapshots of /proc, and the machine's busy cores.

    Components: the API and the streaming job by process tree (their pids from the stack
    dir), the servers by program name, this benchmark, and everything else on the machine.
    A process's reaped children count in its own total, so trees that outlive the window add
    up exactly.
    """

    def __init__(self, api_pid: int | None, stream_pid: int | None):
        self.api_pid, self.stream_pid = api_pid, stream_pid
        self.ticks = os.sysconf("SC_CLK_TCK")

    def snapshot(self) -> tuple[float, dict[str, float], float]:
        """(monotonic time, CPU seconds by component, busy CPU seconds of the machine)."""
        processes = _processes()
        totals: dict[str, float] = {}
        for pid, (_, cpu, _, _) in processes.items():
            name = self._component(pid, processes)
            totals[name] = totals.get(name, 0.0) + cpu / self.ticks
        return time.monotonic(), totals, _machine_busy() / self.ticks

    @staticmethod
    def cores(before, after) -> tuple[dict[str, float], float]:
        """Cores used by each component between two snapshots, and by the whole machine."""
        seconds = after[0] - before[0]
        names = set(before[1]) | set(after[1])
        used = {n: (after[1].get(n, 0) - before[1].get(n, 0)) / seconds for n in names}
        return {n: max(0.0, c) for n, c in used.items()}, (after[2] - before[2]) / seconds

    def _component(self, pid: int, processes: dict) -> str:
        ppid, _, comm, cmdline = processes[pid]
        if pid == os.getpid():
            return "bench"
        if comm == "weed":
            return "s3 (weed)"
        if comm == "tansu":
            return "broker (tansu)"
        if "org.elasticsearch.bootstrap" in cmdline:
            return "elasticsearch"
        ancestors = _ancestors(pid, processes)
        if self.api_pid in ancestors:
            return "api (gunicorn)"
        if self.stream_pid in ancestors:
            if pid == self.stream_pid:
                return "spark driver (python)"
            return "spark JVM" if comm == "java" else "spark python workers"
        return "other"


def _processes() -> dict[int, tuple[int, int, str, str]]:
    """pid -> (ppid, CPU ticks of it and its reaped children, comm, cmdline)."""
    found = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            stat = Path(entry.path, "stat").read_text()
            cmdline = Path(entry.path, "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue  # it exited meanwhile
        comm = stat[stat.index("(") + 1 : stat.rindex(")")]
        fields = stat[stat.rindex(")") + 2 :].split()
        utime, stime, cutime, cstime = (int(f) for f in fields[11:15])
        found[int(entry.name)] = (int(fields[1]), utime + stime + cutime + cstime, comm, cmdline)
    return found


def _ancestors(pid: int, processes: dict) -> set[int]:
    chain = set()
    while pid in processes and pid not in chain:
        chain.add(pid)
        pid = processes[pid][0]
    return chain


def _machine_busy() -> int:
    """Busy CPU ticks of all cores since boot: everything but idle and iowait."""
    user, nice, system, idle, iowait, irq, softirq, steal = (
        int(f) for f in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:9]
    )
    return user + nice + system + irq + softirq + steal
