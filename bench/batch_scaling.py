"""The Spark batch job on 2 cores against a single-process loop of the same work, in one run.

    .venv/bin/python -m bench.batch_scaling [--copies 40]

Input: the corpus's phone, camera and GPS photos, each copied --copies times with a few bytes
appended after the JPEG's end (decoders ignore them), so every copy is a distinct image id.
loop   = one Python process: read, process_upload (core + 4 variants), write_group per bucket,
         then the manifest's commit and the map (write_map), as the job does
batch  = run_batch on local[2], timed once with a cold Spark session (JVM start, Python workers
         forked and importing), then warm, each warm run after a loop run (--rounds)
Both write the full dataset format and the map to a local directory.
"""

from __future__ import annotations

import argparse
import itertools
import statistics
import tempfile
import time
from pathlib import Path

from adapters.object_store import LocalStore
from batch.bucket_writer import GROUP
from batch.job import run_batch, write_map
from bench.corpus import corpus_files
from dataset.manifest_writer import ManifestWriter
from dataset.splits import parse_fractions
from dataset.writer import write_group
from photo.upload import Upload, process_upload
from preprocessing import DEFAULT_MAX_PIXELS, image_id_of
from settings import Settings

SHARD_DIGITS = 2
LOCAL = Settings(spark_master="local[2]")


def make_input(folder: Path, copies: int) -> int:
    """Write the copies under folder/<group>/; returns the number of files."""
    count = 0
    for source in corpus_files():
        data = source.read_bytes()
        (folder / source.parent.name).mkdir(parents=True, exist_ok=True)
        for copy in range(copies):
            target = folder / source.parent.name / f"{source.stem}_{copy}.jpg"
            target.write_bytes(data + f"copy{copy}".encode())
            count += 1
    return count


def single_process_loop(
    folder: Path, output: Path, split_fractions: tuple[float, float, float]
) -> None:
    store = LocalStore(output)
    records: list[dict] = []
    files = sorted(
        ((image_id_of(p.read_bytes()), p) for p in folder.rglob("*.jpg")), key=lambda t: t[0]
    )
    for bucket, group in itertools.groupby(files, key=lambda t: t[0][:SHARD_DIGITS]):
        outcomes = (
            process_upload(
                Upload(path.read_bytes(), str(path.relative_to(folder)), path.parent.name),
                n_variants=4,
                max_pixels=DEFAULT_MAX_PIXELS,
            )
            for _, path in group
        )
        records += write_group(store, GROUP, bucket, outcomes)
    ManifestWriter.of(store, split_fractions).commit(records)
    write_map(store)


def timed(action, *args) -> float:
    start = time.perf_counter()
    action(*args)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--copies", type=int, default=40)
    parser.add_argument("--rounds", type=int, default=3, help="warm runs, each after a loop")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        root = Path(scratch)
        n = make_input(root / "in", args.copies)
        fractions = parse_fractions(LOCAL.split_fractions)

        def loop(name: str) -> None:
            single_process_loop(root / "in", root / name, fractions)

        def batch(name: str) -> None:
            run_batch(root / "in", LocalStore(root / name), spark_settings=LOCAL, n_variants=4,
                      max_pixels=DEFAULT_MAX_PIXELS, shard_digits=SHARD_DIGITS,
                      split_fractions=fractions)

        cold_s = timed(batch, "cold")
        loop_runs, warm_runs = [], []
        for round_ in range(args.rounds):  # interleaved, so load touches both alike
            loop_runs.append(timed(loop, f"loop{round_}"))
            warm_runs.append(timed(batch, f"warm{round_}"))
    loop_s, warm_s = statistics.median(loop_runs), statistics.median(warm_runs)
    print(f"{n} photos, 4 variants each, written to a local directory; "
          f"medians of {args.rounds} interleaved rounds")
    print(f"{'single-process loop':24}{loop_s:8.1f} s {n / loop_s:8.1f} photos/s")
    print(f"{'batch, cold Spark':24}{cold_s:8.1f} s {n / cold_s:8.1f} photos/s"
          f"   {loop_s / cold_s:.2f}x the loop")
    print(f"{'batch, warm Spark':24}{warm_s:8.1f} s {n / warm_s:8.1f} photos/s"
          f"   {loop_s / warm_s:.2f}x the loop")


if __name__ == "__main__":
    main()
