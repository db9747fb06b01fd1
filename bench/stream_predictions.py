"""The streaming job with predictions off and on, side by side in one run: photos/s and CPU ms
per photo, and their ratios.

    .venv/bin/python -m bench.stream_predictions [--photos 120] [--rounds 2]

The MLflow server of the settings (MLFLOW_TRACKING_URI) must answer; the run registers its
model under a name of its own (bench-stream-<run>) and deletes that name at the end. By default
it trains the real model (EfficientNet-Lite0 features + a linear head) on a tiny snapshot of
img/'s synthetic photos, written by the batch job into the run's bucket; its accuracy does not
matter here, only its cost. --version N instead takes version N of MODEL_NAME (e.g. one trained
with `python -m model train`) and registers its file under the run's name.

Each run drains a fresh topic of --photos distinct gps photos as bench.stream_drain does (the
job's own query, local[2] in this process, Trigger.AvailableNow). "predictions off" runs under a
model name that has no champion, as a stream before any promotion; "predictions on" under the
run's name, whose version has the alias champion. The two take turns, round by round, so that
other load on the machine touches them alike; medians over rounds, and each round's figures.
Each run also counts, from the sink's own metrics, the photos it predicted and those it
processed without a prediction. For reference, the champion alone: CPU ms per photo of a bare
ONNX Runtime session (model/runtime.py, one thread, BATCH per run) on the same photos' base
tensors, in this process.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from dataclasses import replace
from pathlib import Path

from prometheus_client import REGISTRY

from adapters.object_store import open_store
from adapters.spark import spark_session
from batch.job import run_batch
from bench.corpus import CORPUS
from bench.stream_drain import WARM_UP_PHOTOS, drain
from bench.stream_stack import bench_stack
from dataset.snapshots import pin
from infra.processes import free_port
from model.registry import CHAMPION, RegistryUnavailable, check, connect, register
from model.runtime import BATCH, inference_session, run_batched
from model.train import TrainedModel, train
from photo.upload import Upload, process_upload
from settings import PROJECT_ROOT, Settings
from streaming.job import MAX_OFFSETS_PER_TRIGGER

OFF, ON = "predictions off", "predictions on"
SNAPSHOT = "bench"
TINY_SPLITS = (0.6, 0.2, 0.2)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--photos", type=int, default=120, help="photos per run")
    parser.add_argument("--rounds", type=int, default=2, help="runs of each variant")
    args = parser.parse_args()
    gps = sorted((CORPUS / "gps").glob("*.jpg"))
    if not gps:
        sys.exit(f"the benchmark needs the shared corpus at {CORPUS} (gps/)")
    try:
        check(Settings.from_env())
    except RegistryUnavailable as error:
        sys.exit(f"the benchmark needs the model registry: {error}")
    with bench_stack([]) as stack:
        settings = model_settings(stack.settings)
        spark = spark_session("bench-stream-predictions", settings)
        try:
            trained = tiny_model(settings)
            version = promote(settings, trained)
            print(f"  champion: {settings.model_name} version {version} "
                  f"({len(trained.onnx) / 1e6:.1f} MB)", flush=True)
            runs = compare(spark, settings, gps, args.photos, args.rounds)
            alone = model_cost(trained.onnx, gps[:args.photos], settings)
        finally:
            spark.stop()
            forget(settings)
    print_runs(args.photos, args.rounds, runs)
    print(f"the champion alone (bare ONNX Runtime session, one thread, {BATCH} per run): "
          f"{alone:.1f} CPU ms per photo")
    return 0


def model_settings(settings: Settings) -> Settings:
    """The run's own registered model name, model cache (in its stack dir) and Spark UI port."""
    suffix = settings.kafka_topic.removeprefix("bench-")
    return replace(settings, model_name=f"bench-stream-{suffix}",
                   model_cache_dir=str(Path(settings.stack_dir) / "models"),
                   spark_ui_port=free_port())


def tiny_model(settings: Settings) -> TrainedModel:
    """The real model trained on img/'s synthetic photos, one variant each, as a snapshot in
    the run's bucket."""
    store = open_store(f"{settings.dataset_root}/model", settings.s3)
    run_batch(PROJECT_ROOT / "img", store, spark_settings=settings, n_variants=1,
              max_pixels=settings.max_pixels, shard_digits=1, split_fractions=TINY_SPLITS)
    pin(store, SNAPSHOT)
    print("  training the model on img/'s photos ...", flush=True)
    return train(f"{settings.dataset_root}/model", SNAPSHOT, 0, settings)


def promote(settings: Settings, trained: TrainedModel) -> str:
    """Register the model under the run's model name and give it the alias champion."""
    version = register(settings, trained)
    connect(settings).set_registered_model_alias(settings.model_name, CHAMPION, version)
    return version


def forget(settings: Settings) -> None:
    """Delete the run's registered model; warn, never raise."""
    try:
        connect(settings).delete_registered_model(settings.model_name)
    except Exception as error:  # noqa: BLE001 - clean-up is best effort
        print(f"warning: could not delete model {settings.model_name}: {error!r}",
              file=sys.stderr)


def compare(spark, settings: Settings, photos: list[Path], count: int,
            rounds: int) -> dict[str, list[dict]]:
    """Runs of `count` photos each with predictions off and on, `rounds` times, interleaved;
    after one warm-up run with predictions on (the Python workers' first tasks import the core
    and load the model)."""
    variants = {OFF: {"model_name": f"{settings.model_name}-none"}, ON: {}}
    runs: dict[str, list[dict]] = {name: [] for name in variants}
    counted(spark, settings, photos, WARM_UP_PHOTOS, 0, {})
    for round_ in range(rounds):
        for number, (name, changes) in enumerate(variants.items(), start=1):
            print(f"  round {round_ + 1}: {name} ...", flush=True)
            run = round_ * len(variants) + number
            runs[name].append(counted(spark, settings, photos, count, run, changes))
    return runs


def counted(spark, settings: Settings, photos: list[Path], count: int, run: int,
            changes: dict) -> dict:
    """bench.stream_drain's run, with the photos it predicted and left without a prediction."""
    before = prediction_counts()
    result = drain(spark, settings, photos, count, run, changes)
    after = prediction_counts()
    return {**result, **{name: after[name] - before[name] for name in after}}


def prediction_counts() -> dict[str, float]:
    """The sink's counters in this process (foreachBatch runs on the driver)."""
    totals = {"predicted": 0.0, "unpredicted": 0.0}
    for metric in REGISTRY.collect():
        name = {"stream_predictions": "predicted",
                "stream_photos_without_prediction": "unpredicted"}.get(metric.name)
        if name:
            totals[name] += sum(s.value for s in metric.samples if s.name.endswith("_total"))
    return totals


def model_cost(onnx: bytes, photos: list[Path], settings: Settings) -> float:
    """CPU ms per photo of the model alone on the photos' base tensors, after one warm run."""
    tensors = [process_upload(Upload(path.read_bytes(), path.name), n_variants=0,
                              max_pixels=settings.max_pixels).processed.base for path in photos]
    session = inference_session(onnx)
    list(run_batched(session, tensors[:BATCH]))
    began = time.process_time()
    list(run_batched(session, tensors))
    return (time.process_time() - began) / len(tensors) * 1000


def medians(results: list[dict]) -> dict[str, float]:
    return {key: statistics.median(r[key] for r in results) for key in results[0]}


def print_runs(photos: int, rounds: int, runs: dict[str, list[dict]]) -> None:
    print(f"\n## {photos} gps photos drained by the streaming job (local[2], "
          f"{MAX_OFFSETS_PER_TRIGGER} per batch), predictions off and on, medians of {rounds} "
          "interleaved rounds")
    table = {name: medians(results) for name, results in runs.items()}
    parts = [key for key in table[OFF] if key.startswith("cpu ")]
    for row in table.values():
        row["cpu total"] = sum(row[part] for part in parts)
    columns = ["photos_s", "batch_s", "cpu total", *parts]
    print(f"{'':18}{'predicted':>10}{'without':>9}{'photos/s':>10}{'batch s':>9}"
          + "".join(f" {c.removeprefix('cpu '):>10}" for c in columns[2:]))
    print(f"{'':37}{'':>10}{'':>9}" + "".join(f"{'CPU ms/ph':>11}" for _ in columns[2:]))
    for name, row in table.items():
        print(f"{name:18}{row['predicted']:10.0f}{row['unpredicted']:9.0f}"
              f"{row['photos_s']:10.1f}{row['batch_s']:9.2f}"
              + "".join(f"{row[c]:11.1f}" for c in columns[2:]))
    print(f"{'on / off':18}{'':10}{'':9}"
          + "".join(f"{ratio(table, c):>{width}}" for c, width in zip(
              columns, [10, 9, *[11] * len(columns[2:])], strict=True)))
    off, on = table[OFF], table[ON]
    print("each round: photos/s, total CPU ms/photo")
    for name, results in runs.items():
        print(f"{name:18}" + "".join(
            f"  {r['photos_s']:5.1f}/s {sum(r[p] for p in parts):6.1f} ms" for r in results))
    print(f"predictions cost {on['cpu total'] - off['cpu total']:+.1f} CPU ms per photo "
          f"({ratio(table, 'cpu total')} the CPU) and leave {ratio(table, 'photos_s')} "
          "the photos/s")


def ratio(table: dict[str, dict], column: str) -> str:
    off = table[OFF][column]
    return f"{table[ON][column] / off:.2f}x" if off else "n/a"


if __name__ == "__main__":
    sys.exit(main())
