"""POST /classify under locust at 1, 2 and 4 gunicorn workers, beside a bare ONNX Runtime session
on the same photos' tensors: how much does the API add?

    .venv/bin/python -m bench.classify_load [--workers 1 2 4] [--users 1 8] [--seconds 20]
                                            [--model-name NAME]

The photos are bench/field_photos.py's phone mix (640x480, 1600x1200 and 12 MP JPEGs), drawn
with a fixed seed. Two baselines run first, in this process, one photo at a time on one thread:
"session", the champion's ONNX file in one ONNX Runtime session with the serving options
(model/predictor.py) fed the photos' base tensors, made beforehand by the very function
/classify calls (ingest_api.classify.routes.base_tensor_of); and "core + session", that function and
the session, per photo. Then locust's Classifier users (bench/locustfile.py, no pauses) post the
same mix of photos to /classify through nginx, as bench/api_stress.py runs it: gunicorn
restarted with each number of workers, each cell measured after its users have spawned.

The model is the champion of --model-name on the settings' MLflow. Without --model-name, the
run makes one under a name of its own: the batch job over img/'s photos into a bucket of its
own, pinned, trained, registered and promoted (accuracy is not the point: the model has the
served model's shape); that name is deleted from the registry and the bucket removed at the end.
S3, Kafka, Elasticsearch and MLflow are those already answering, else started here.
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import onnxruntime as ort

from adapters.object_store import S3Store
from adapters.s3 import make_s3_client
from bench.api_stress import OVERALL, Cell, by_workers, machine
from bench.field_photos import new_photo
from infra.processes import free_port
from infra.schemas import ensure_bucket, remove_bucket
from infra.stack import LocalStack
from ingest_api.classify.routes import base_tensor_of
from kit.stack import isolated_settings
from model.predictor import serving_options
from model.registry import CHAMPION, ServedModel, champion, connect
from settings import PROJECT_ROOT, Settings

PHOTOS = 40  # drawn from the mix: their tensors are the baselines' inputs
SEED = 7
CLASSIFIER = ("Classifier",)  # bench/locustfile.py's user class
MEANS = {  # the API's own view, from its /metrics
    "/classify in the API": ("ingest_api_request_duration_seconds",
                             {"route": "/classify", "method": "POST"}),
    "model in the API": ("ingest_api_model_seconds", {}),
}


@dataclass(frozen=True)
class Baseline:
    name: str
    seconds: list[float]  # one per photo

    @property
    def rate(self) -> float:
        return len(self.seconds) / sum(self.seconds)

    def percentile_ms(self, q: float) -> float:
        return 1000 * float(np.percentile(self.seconds, q))


def photos(n: int, seed: int = SEED) -> list[bytes]:
    """n uploads of the field mix (bench/field_photos.py), the same for a seed."""
    rng = random.Random(seed)
    return [new_photo(rng).data for _ in range(n)]


def timed(step: Callable[[bytes | np.ndarray], object], inputs: list,
          seconds: float) -> list[float]:
    """step's time on each input in turn, round and round, for at least `seconds` (and at
    least one round), after one untimed call."""
    step(inputs[0])
    times: list[float] = []
    began = time.monotonic()
    while not times or time.monotonic() - began < seconds:
        for item in inputs:
            started = time.perf_counter()
            step(item)
            times.append(time.perf_counter() - started)
    return times


def baselines(model: ServedModel, data: list[bytes], settings: Settings,
              seconds: float) -> list[Baseline]:
    """The bare session on the photos' base tensors; the core and the session per photo."""
    session = ort.InferenceSession(str(model.path), serving_options(),
                                   providers=["CPUExecutionProvider"])
    name = session.get_inputs()[0].name

    def tensor(photo: bytes) -> np.ndarray:
        return base_tensor_of(photo, settings.max_pixels, settings.max_decode_mb).base

    def run(base: np.ndarray) -> None:
        session.run(None, {name: np.ascontiguousarray(base)[np.newaxis]})

    tensors = [tensor(photo) for photo in data]
    return [Baseline("session", timed(run, tensors, seconds)),
            Baseline("core + session", timed(lambda photo: run(tensor(photo)), data, seconds))]


@contextmanager
def trained_champion(settings: Settings, work: Path) -> Iterator[Settings]:
    """`settings` with a model name of its own whose champion was trained on img/'s photos by
    the batch job and train(); the name and the dataset are removed afterwards."""
    from batch.job import run_batch  # training's requirements: only when a model is made here
    from dataset.snapshots import pin
    from model.registry import register
    from model.train import train

    settings = replace(settings, model_name=f"crop-classifier-bench-{uuid.uuid4().hex[:8]}",
                       spark_master="local[2]", spark_ui_port=free_port())
    LocalStack(settings).up(["mlflow"])
    bucket, client = f"classify-bench-{uuid.uuid4().hex[:8]}", make_s3_client(settings.s3)
    ensure_bucket(client, bucket)
    folder = work / "img"
    for path in sorted((PROJECT_ROOT / "img").glob("*/*.jpg")):
        (folder / path.parent.name).mkdir(parents=True, exist_ok=True)
        shutil.copy(path, folder / path.parent.name / path.name)
    try:
        store = S3Store(bucket, "dataset", settings.s3)
        run_batch(folder, store, spark_settings=settings, n_variants=0,
                  max_pixels=settings.max_pixels, shard_digits=1,
                  split_fractions=(0.6, 0.2, 0.2))
        pin(store, "bench")
        version = register(settings, train(f"s3://{bucket}/dataset", "bench", SEED, settings))
        connect(settings).set_registered_model_alias(settings.model_name, CHAMPION, version)
        yield settings
    finally:
        connect(settings).delete_registered_model(settings.model_name)
        remove_bucket(client, bucket)


def ms(row: dict, column: str) -> float:
    return float("nan") if row[column] == "N/A" else float(row[column])


def print_table(bare: list[Baseline], cells: list[Cell]) -> None:
    """One row per baseline and cell; the API's rows against the bare session."""
    session = bare[0]
    print("\n## /classify against a bare ONNX Runtime session (ms p50 / p95 / p99)\n")
    print("| what | workers | users | photos/s | vs session | p50 | p95 | p99 "
          "| API adds at p50 (ms) | errors | "
          + " | ".join(f"{mean} (mean ms)" for mean in MEANS) + " | CPU api | CPU machine |")
    print("| --- |" + " ---: |" * (9 + len(MEANS) + 2))
    for baseline in bare:
        p50, p95, p99 = (baseline.percentile_ms(q) for q in (50, 95, 99))
        print(f"| {baseline.name}, 1 thread | | | {baseline.rate:.1f} "
              f"| {baseline.rate / session.rate:.2f}x | {p50:.1f} | {p95:.1f} | {p99:.1f} | "
              f"{p50 - session.percentile_ms(50):.1f} | |" + " |" * len(MEANS) + " | |")
    for cell in cells:
        row = cell.stats[OVERALL]
        rate, failed = float(row["Requests/s"]), int(row["Failure Count"])
        p50, p95, p99 = (ms(row, column) for column in ("50%", "95%", "99%"))
        errors = "".join(f", {count}x {code}" for code, count in cell.failures.most_common())
        means = " | ".join(f"{cell.means_ms[mean]:.1f}" for mean in MEANS)
        print(f"| /classify via nginx | {cell.workers} | {cell.users} | {rate:.1f} "
              f"| {rate / session.rate:.2f}x | {p50:.0f} | {p95:.0f} | {p99:.0f} "
              f"| {p50 - session.percentile_ms(50):.0f} | {failed}{errors} | {means} "
              f"| {cell.cpu.get('api', float('nan')):.2f} | {cell.cpu['machine']:.2f} |")
    print("\nlocust rounds its percentiles (2 significant digits); the session's are exact.")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2, 4])
    parser.add_argument("--users", type=int, nargs="+", default=[1, 8])
    parser.add_argument("--seconds", type=float, default=20.0,
                        help="measured, per cell and per baseline")
    parser.add_argument("--spawn-seconds", type=float, default=5.0)
    parser.add_argument("--photos", type=int, default=PHOTOS)
    parser.add_argument("--model-name", help="a registered model with a champion; "
                        "without it, one is trained here")
    args = parser.parse_args(argv)
    args.think_time, args.locust_processes = 0.0, 1  # run_locust's options: no pauses

    settings = isolated_settings("classify-load-")
    stack_dir = Path(settings.stack_dir)
    print(f"# /classify load, {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {machine()}")
    print(f"{args.seconds:g} s measured per cell and baseline; {args.photos} photos of the "
          f"field mix; locust users without pauses, spawned over {args.spawn_seconds:g} s")
    try:
        with model_of(settings, args.model_name, stack_dir) as settings:
            model = champion(settings)
            if model is None:
                print(f"{settings.model_name} has no champion: promote a version first "
                      "(python -m model promote VERSION), or run without --model-name")
                return 1
            print(f"model: {model.name} version {model.version}")
            data = photos(args.photos)  # encoded here, before anything is timed
            bare = baselines(model, data, settings, args.seconds)
            print("done: baselines", flush=True)
            LocalStack(settings).up(["nginx"])
            cells = by_workers(settings, args, stack_dir, user_classes=CLASSIFIER, means=MEANS)
            print_table(bare, cells)
    finally:
        LocalStack(settings).down()
        shutil.rmtree(stack_dir, ignore_errors=True)
    print("\nload average at the end (1, 5, 15 min): "
          + " ".join(f"{x:.1f}" for x in os.getloadavg()))
    return 0


@contextmanager
def model_of(settings: Settings, name: str | None, work: Path) -> Iterator[Settings]:
    if name:
        yield replace(settings, model_name=name)
    else:
        with trained_champion(settings, work) as trained:
            yield trained


if __name__ == "__main__":
    raise SystemExit(main())
