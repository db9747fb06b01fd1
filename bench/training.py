"""Training on N photos: feature extraction on Spark against a single-process loop, then the
whole of train(), in one run.

    .venv/bin/python -m bench.training [--photos 1000 [10000 ...]] [--drawn 1000] [--rounds 1]
        [--drawings DIR]

For each size: N synthetic photos (bench.drawn_photos: at most --drawn distinct drawings, the rest
byte-distinct copies) go through the batch job into a dataset in a bucket of this run's own on
the configured S3, pinned as a snapshot. Then:

(a) the features of every tensor training reads (train photos with their variants, val and test
    their base tensor), with the same ONNX backbone, one thread per process:
    loop   one Python process: the dataset reader's samples -> run_batched (model/runtime.py)
    spark  model/features.py's job on local[2], its JVM warm from the batch job
    interleaved --rounds times (medians), and checked to give the same features;
(b) train() in a fresh process, as `python -m model train` runs it, with its phases, and the
    model's files written to a temporary folder. Registering the model is not part of it.

Spark runs on local[2]: two cores, one Python worker each, against the loop's one.
The bucket and the photos are removed at the end.
"""

from __future__ import annotations

import argparse
import contextlib
import multiprocessing
import os
import statistics
import tempfile
import time
import uuid
from concurrent.futures import ProcessPoolExecutor
from dataclasses import replace
from pathlib import Path

import numpy as np
from pyspark.sql import SparkSession

import model.train
from adapters.object_store import open_store
from adapters.s3 import make_s3_client
from batch.job import run_batch
from bench.drawn_photos import draw, photo_folder
from bench.process_cpu import tree_cpu
from dataset.snapshots import pin
from dataset.splits import SPLITS, parse_fractions
from infra.processes import free_port
from infra.schemas import ensure_bucket, remove_bucket
from model import backbone, head
from model.features import extract_features
from model.runtime import inference_session, run_batched
from model.snapshot_data import SnapshotData, load
from settings import Settings

SNAPSHOT, TRAINING_SEED, SHARD_DIGITS = "bench", 0, 2
# train()'s steps, timed where train() calls them: (module, function, phase).
PHASES = (
    (model.train, "load", "read the snapshot's rows"),
    (backbone, "export_onnx", "export the backbone to ONNX"),
    (model.train, "extract_features", "extract the features (Spark, started cold)"),
    (head, "fit_head", "fit the head"),
    (model.train, "measure", "evaluate val and test"),
    (model.train, "classifier_onnx", "join the backbone and the head"),
    (model.train, "confusion_pictures", "draw the confusion matrices"),
)


@contextlib.contextmanager
def timed_phases(seconds: dict[str, float]):
    """Inside, each PHASES function adds the seconds of its calls to seconds[phase]."""
    originals = [(owner, name, getattr(owner, name)) for owner, name, _ in PHASES]
    for (owner, name, original), (_, _, phase) in zip(originals, PHASES, strict=True):
        def timed(*args, _original=original, _phase=phase, **kwargs):
            start = time.perf_counter()
            try:
                return _original(*args, **kwargs)
            finally:
                seconds[_phase] = seconds.get(_phase, 0.0) + time.perf_counter() - start
        setattr(owner, name, timed)
    try:
        yield seconds
    finally:
        for owner, name, original in originals:
            setattr(owner, name, original)


def timed_training(root: str, settings: Settings) -> dict:
    """train() on the snapshot and the model's files written, in this (fresh) process."""
    entered = time.time()
    with timed_phases({}) as phases:
        start = time.perf_counter()
        trained = model.train.train(root, SNAPSHOT, TRAINING_SEED, settings)
        train_s = time.perf_counter() - start
    with tempfile.TemporaryDirectory() as output:
        start = time.perf_counter()
        trained.write(Path(output))
        write_s = time.perf_counter() - start
    # Now, while this process's Spark still runs: its JVM is not waited for when it ends.
    cpu_s = sum(seconds for _, seconds in tree_cpu(os.getpid()).values())
    return {"entered": entered, "phases": phases, "train_s": train_s, "write_s": write_s,
            "cpu_s": cpu_s, "report": trained.report}


def whole_training(root: str, settings: Settings) -> dict:
    """timed_training in a new interpreter; its result, with the seconds from start to end."""
    started = time.time()
    with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn")) as pool:
        result = pool.submit(timed_training, root, settings).result()
    result["whole_s"] = time.time() - started
    result["start_s"] = result["entered"] - started
    return result


def single_process_loop(data: SnapshotData, onnx: bytes) -> tuple[list[tuple[str, str]],
                                                                    np.ndarray]:
    """(image_id, variant) of each sample training reads, and its features, in reading order."""
    session, keys = inference_session(onnx), []

    def tensors():
        for tensor, _, meta in data.reader.samples(data.rows):
            keys.append((meta["image_id"], meta["variant"]))
            yield tensor

    return keys, np.stack(list(run_batched(session, tensors())))


def spark_job(data: SnapshotData, onnx: bytes, settings: Settings) -> tuple[list[tuple[str, str]],
                                                                            np.ndarray]:
    table = extract_features(data.rows, data.wanted(), data.reader.store, onnx, settings)
    keys = list(zip(table.column("image_id").to_pylist(), table.column("variant").to_pylist(),
                    strict=True))
    flat = table.column("features").combine_chunks().flatten().to_numpy()
    return keys, flat.reshape(len(keys), backbone.FEATURES)


def largest_difference(loop: tuple, spark: tuple) -> float:
    """max |loop - spark| over the features of the same samples; an error if the samples differ."""
    order = sorted(range(len(loop[0])), key=loop[0].__getitem__)
    if [loop[0][i] for i in order] != spark[0]:
        raise RuntimeError("the loop and the Spark job read different samples")
    return float(np.abs(loop[1][order] - spark[1]).max())


def measured(run) -> tuple[object, float, dict[str, float]]:
    """run()'s result, its wall seconds and the CPU seconds it took by part: this process
    (driver), its children (the Spark JVM) and theirs (Spark's Python workers)."""
    before, start = tree_cpu(os.getpid()), time.perf_counter()
    result = run()
    wall_s, after = time.perf_counter() - start, tree_cpu(os.getpid())
    parts = dict.fromkeys(("driver", "JVM", "workers"), 0.0)
    for pid, (depth, seconds) in after.items():
        parts[list(parts)[min(depth, 2)]] += seconds - before.get(pid, (depth, 0.0))[1]
    return result, wall_s, parts


def extraction(data: SnapshotData, onnx: bytes, settings: Settings, rounds: int) -> None:
    """Part (a): the loop and the Spark job, interleaved, and their medians."""
    times: dict[str, list[tuple[float, float]]] = {"loop": [], "spark": []}
    difference = 0.0
    for _ in range(rounds):
        runs = {}
        for name, run in (("loop", lambda: single_process_loop(data, onnx)),
                          ("spark", lambda: spark_job(data, onnx, settings))):
            runs[name], wall_s, cpu = measured(run)
            times[name].append((wall_s, cpu))
        difference = max(difference, largest_difference(runs["loop"], runs["spark"]))
    tensors = len(runs["loop"][0])
    print(f"(a) feature extraction: {tensors} tensors, {backbone.ARCHITECTURE} on ONNX Runtime, "
          f"batches of 16, one thread per process; medians of {rounds} interleaved round(s); "
          "CPU of the benchmark's processes (not the S3 server's): driver, JVM, Python workers")
    loop_s = statistics.median(wall for wall, _ in times["loop"])
    for name, label in (("loop", "single-process loop (reader)"),
                        ("spark", f"Spark job, {settings.spark_master}, warm JVM")):
        wall_s = statistics.median(wall for wall, _ in times[name])
        cpu = {part: statistics.median(run[part] for _, run in times[name])
               for part in times[name][0][1]}
        parts = " + ".join(f"{1000 * seconds / tensors:.1f}" for seconds in cpu.values())
        print(f"    {label:34}{wall_s:8.1f} s {tensors / wall_s:8.1f} images/s "
              f"{loop_s / wall_s:6.2f}x the loop {1000 * sum(cpu.values()) / tensors:8.1f} CPU "
              f"ms/image ({parts}) {sum(cpu.values()) / wall_s:6.2f} cores")
    print(f"    the same features: max |loop - Spark| = {difference:.2g}")


def training(root: str, settings: Settings) -> None:
    """Part (b): the whole of train() in a fresh process, phase by phase."""
    result = whole_training(root, settings)
    report, phases = result["report"], result["phases"]
    samples = report["data"]["samples"]
    print(f"(b) train() in a fresh process, as `python -m model train` runs it (no registry): "
          f"{sum(samples.values())} tensors (train {samples['train']}, val {samples['val']}, "
          f"test {samples['test']})")
    rows = [("start Python, import the model code", result["start_s"]), *phases.items(),
            ("the rest of train()", result["train_s"] - sum(phases.values())),
            ("write the model's files", result["write_s"]),
            ("end the process (its Spark too)", result["whole_s"] - result["start_s"]
             - result["train_s"] - result["write_s"])]
    for phase, seconds in rows:
        print(f"    {phase:45}{seconds:8.1f} s")
    print(f"    {'whole training':45}{result['whole_s']:8.1f} s   {result['cpu_s']:.1f} CPU s "
          f"(but ending), {result['cpu_s'] / result['whole_s']:.2f} cores")
    extracted = phases["extract the features (Spark, started cold)"]
    accuracy = ", ".join(f"{split} {metrics['accuracy']:.3f}"
                         for split, metrics in report["metrics"].items() if metrics["n"])
    print(f"    features at {sum(samples.values()) / extracted:.1f} images/s; accuracy "
          f"{accuracy or 'not measured (no val or test photos)'} ({report['measured_on']})")


def one_size(photos: int, drawings: list[Path], scratch: Path, settings: Settings,
             args: argparse.Namespace) -> None:
    """Build the dataset of `photos` photos, measure (a) and (b) on it, remove it."""
    bucket, s3 = f"bench-training-{uuid.uuid4().hex[:8]}", make_s3_client(settings.s3)
    root = f"s3://{bucket}/dataset"
    ensure_bucket(s3, bucket)
    try:
        folder = photo_folder(scratch / f"photos-{photos}", drawings, photos)
        store = open_store(root, settings.s3)
        start = time.perf_counter()
        report = run_batch(folder, store, spark_settings=settings, n_variants=args.variants,
                           max_pixels=settings.max_pixels, shard_digits=SHARD_DIGITS,
                           split_fractions=parse_fractions(settings.split_fractions))
        batch_s = time.perf_counter() - start
        pin(store, SNAPSHOT)
        data = load(root, SNAPSHOT, settings.s3)
        print(f"# {photos} photos ({min(photos, len(drawings))} drawn, seed {args.seed}), "
              f"variants {args.variants}, splits {settings.split_fractions}, in {root} on "
              f"{settings.s3.endpoint_url}; batch job {batch_s:.1f} s, {report.processed} "
              f"processed ({', '.join(f'{s} {report.splits[s]}' for s in SPLITS)}); "
              f"load average {os.getloadavg()[0]:.1f}")
        extraction(data, backbone.export_onnx(), settings, args.rounds)
        SparkSession.getActiveSession().stop()  # (b) starts its own, as a fresh command does
        training(root, settings)
        print(f"# done, load average {os.getloadavg()[0]:.1f}")
    finally:
        remove_bucket(s3, bucket)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--photos", type=int, nargs="+", default=[1000],
                        help="dataset sizes, each measured on a dataset of its own")
    parser.add_argument("--drawn", type=int, default=1000,
                        help="distinct drawings at most; more photos are copies of them")
    parser.add_argument("--variants", type=int, default=Settings().n_variants)
    parser.add_argument("--rounds", type=int, default=1, help="of (a): loop and Spark job")
    parser.add_argument("--seed", type=int, default=41, help="the drawings' (img/'s is 2026)")
    parser.add_argument("--drawings", type=Path,
                        help="a folder to keep the drawings in and reuse them from, run after "
                             "run (default: drawn anew into a temporary folder)")
    args = parser.parse_args(argv)
    settings = replace(Settings.from_env(), spark_master="local[2]", spark_ui_port=free_port())
    with tempfile.TemporaryDirectory(prefix="bench-training-") as scratch:
        start = time.perf_counter()
        drawn = (args.drawings or Path(scratch)) / f"drawn-seed{args.seed}"
        drawings = draw(drawn, min(args.drawn, max(args.photos)), args.seed)
        print(f"# drew {len(drawings)} photos in {time.perf_counter() - start:.0f} s")
        for photos in args.photos:
            one_size(photos, drawings, Path(scratch), settings, args)


if __name__ == "__main__":
    main()
