"""The crop classifier from the command line:

    python -m model train ROOT --snapshot NAME [--seed N] [--output DIR] [--real-photos]

ROOT is a dataset directory or s3://bucket/prefix; NAME a snapshot pinned with
`python -m dataset snapshot ROOT NAME`. The run is logged in MLflow (MLFLOW_TRACKING_URI) and
the model registered as a new version of MODEL_NAME; the last line printed is that version
alone. --output also writes the model's files to a local directory.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from model.registry import RegistryUnavailable, check, register
from model.snapshot_data import DataUnavailable
from model.train import photos, train
from settings import Settings


def main(argv: list[str] | None = None) -> int:
    settings = Settings.from_env()
    parser = argparse.ArgumentParser(prog="python -m model", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)
    training = commands.add_parser("train", help="train on a snapshot's rows")
    training.add_argument("root", help="a dataset directory or s3://bucket/prefix")
    training.add_argument("--snapshot", required=True, help="the snapshot's name")
    training.add_argument("--seed", type=int, default=0)
    training.add_argument("--output", type=Path,
                          help="also write the model's files (model.onnx, metrics.json, the "
                               "card, the confusion pictures) into this directory")
    training.add_argument("--real-photos", action="store_true",
                          help="the snapshot holds real photos: its metrics are not labelled "
                               "'measured on synthetic pictures'")
    args = parser.parse_args(argv)
    try:
        check(settings)  # before the training, not after it
        trained = train(args.root, args.snapshot, args.seed, settings,
                        synthetic=not args.real_photos)
        if args.output:
            trained.write(args.output)
        version = register(settings, trained)
    except (DataUnavailable, RegistryUnavailable) as error:
        parser.exit(1, f"train: {error}\n")
    report = trained.report
    for split in ("val", "test"):
        metrics = report["metrics"][split]
        if metrics["n"]:
            print(f"{split}: {photos(metrics['n'])}, accuracy {metrics['accuracy']:.3f}, "
                  f"macro-F1 {metrics['macro_f1']:.3f} ({report['measured_on']})")
        else:
            print(f"{split}: no photos in this snapshot's {split} split")
    print(f"model sha256 {report['model']['sha256']}"
          + (f", files in {args.output.resolve()}" if args.output else ""))
    print(f"registered as {settings.model_name} version {version} "
          f"({settings.mlflow_tracking_uri}); `python -m model promote {version}` serves it")
    print(version)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
