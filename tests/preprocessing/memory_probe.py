"""The memory a process spends on the core, measured in a process of its own.

    python -m tests.preprocessing.memory_probe [--threads N] [--max-decode-mb MB] FILE...

Warms up on a small photo, then runs dataset.records.process_upload (what every stream and
batch worker runs per photo) on each FILE, one after the other, in each of N threads at once.
Prints one JSON object: the process's RSS before (after the warm-up), its peak (VmHWM) and its
RSS after, in MB, and each outcome's reason (null when processed).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from kit.photos import encode, photo_like
from photo.upload import Upload, process_upload
from preprocessing import DEFAULT_MAX_PIXELS
from settings import PROJECT_ROOT


def memory_mb() -> dict[str, float]:
    """This process's VmRSS and VmHWM, in MB."""
    fields = {}
    for line in Path("/proc/self/status").read_text().splitlines():
        name, _, value = line.partition(":")
        if name in ("VmRSS", "VmHWM"):
            fields[name] = int(value.split()[0]) / 1024
    return fields


def probe(paths: list[str], threads: int, max_decode_mb: int) -> dict:
    def run(data: bytes) -> str | None:
        return process_upload(Upload(data, "probe"), n_variants=4, max_pixels=DEFAULT_MAX_PIXELS,
                              max_decode_mb=max_decode_mb).reason

    run(encode(photo_like(640, 480), "jpeg"))
    files = [Path(path).read_bytes() for path in paths]
    before = memory_mb()["VmRSS"]
    with ThreadPoolExecutor(threads) as pool:
        reasons = list(pool.map(lambda _: [run(data) for data in files], range(threads)))
        after = memory_mb()  # the threads are still alive, as a server's are
    return {"before": before, "peak": after["VmHWM"], "after": after["VmRSS"],
            "reasons": reasons[0]}


def measure(paths: list[Path], *, threads: int = 1, max_decode_mb: int) -> dict:
    """Run the probe in a new interpreter and return its report."""
    command = [sys.executable, "-m", "tests.preprocessing.memory_probe", "--threads",
               str(threads), "--max-decode-mb", str(max_decode_mb), *map(str, paths)]
    done = subprocess.run(command, cwd=PROJECT_ROOT, capture_output=True, text=True, check=True)
    return json.loads(done.stdout.splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--max-decode-mb", type=int, required=True)
    parser.add_argument("files", nargs="+")
    args = parser.parse_args()
    print(json.dumps(probe(args.files, args.threads, args.max_decode_mb)))


if __name__ == "__main__":
    main()
