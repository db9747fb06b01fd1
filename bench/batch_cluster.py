"""The batch job's wall time on local[2] against the 2-worker standalone cluster, side by side.

    .venv/bin/python -m bench.batch_cluster [--input img] [--rounds 3]

Starts its own cluster (`infra up spark`: a master and two 1-core workers) in a temporary stack
dir on free ports, then runs `python -m batch --input DIR --output TMP --index off`, each run a
new process (JVM start included, as an operator runs it), alternating local[2] and the cluster
so that both see the same load. Prints each run and the medians.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

from infra.processes import free_port
from infra.stack import LocalStack
from kit.stack import spark_cluster_settings
from settings import PROJECT_ROOT, Settings


def timed_batch(settings: Settings, master: str, input_dir: Path, output: Path) -> float:
    """Seconds for one `python -m batch` run on `master`."""
    env = {**os.environ, **settings.to_env(), "SPARK_UI_PORT": str(free_port()),
           "PYTHONPATH": str(PROJECT_ROOT)}
    argv = [sys.executable, "-m", "batch", "--input", str(input_dir), "--output", str(output),
            "--master", master, "--index", "off"]
    start = time.perf_counter()
    subprocess.run(argv, cwd=PROJECT_ROOT, env=env, check=True, capture_output=True)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--input", type=Path, default=PROJECT_ROOT / "img")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    photos = sum(1 for path in args.input.rglob("*") if path.is_file())
    with tempfile.TemporaryDirectory(prefix="bench-cluster-") as scratch:
        settings = spark_cluster_settings(
            replace(Settings.from_env(), stack_dir=str(Path(scratch) / "stack")))
        stack = LocalStack(settings)
        started = time.perf_counter()
        stack.up(["spark"])
        up_s = time.perf_counter() - started
        times: dict[str, list[float]] = {"local[2]": [], "cluster, 2 workers x 1 core": []}
        try:
            for round_ in range(args.rounds):
                for (name, runs), master in zip(times.items(),
                                                ["local[2]", settings.spark_master], strict=True):
                    output = Path(scratch) / f"out-{round_}-{len(runs)}-{master[:5]}"
                    runs.append(timed_batch(settings, master, args.input, output))
                    print(f"round {round_ + 1}  {name:28}{runs[-1]:7.1f} s", flush=True)
        finally:
            stack.down(["spark"])
    local = statistics.median(times["local[2]"])
    print(f"\n{args.input}: {photos} files, {args.rounds} rounds; "
          f"`infra up spark` took {up_s:.0f} s")
    print(f"{'master':30}{'median wall time':>18}{'speed vs local[2]':>20}")
    for name, runs in times.items():
        median = statistics.median(runs)
        print(f"{name:30}{median:16.1f} s{local / median:19.2f}x")


if __name__ == "__main__":
    main()
