"""The crop classifier from the command line:

    python -m model train ROOT --snapshot NAME [--seed N] [--output DIR] [--real-photos]

ROOT is a dataset directory or s3://bucket/prefix; NAME a snapshot pinned with
`python -m dataset snapshot ROOT NAME`. The last line printed is the model's identifier alone:
for now the directory its files were written to (later, its registered version).
"""

from __future__ import annotations

import argparse
from pathlib import Path

from model.snapshot_data import DataUnavailable
from model.train import photos, train
from settings import PROJECT_ROOT, Settings

DEFAULT_OUTPUT = PROJECT_ROOT / "out" / "models"


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
                          help=f"where to write the model (default {DEFAULT_OUTPUT}/NAME-seedN)")
    training.add_argument("--real-photos", action="store_true",
                          help="the snapshot holds real photos: its metrics are not labelled "
                               "'measured on synthetic pictures'")
    args = parser.parse_args(argv)
    try:
        trained = train(args.root, args.snapshot, args.seed, settings,
                        synthetic=not args.real_photos)
    except DataUnavailable as error:
        parser.exit(1, f"train: {error}\n")
    output = args.output or DEFAULT_OUTPUT / f"{args.snapshot}-seed{args.seed}"
    trained.write(output)
    report = trained.report
    for split in ("val", "test"):
        metrics = report["metrics"][split]
        if metrics["n"]:
            print(f"{split}: {photos(metrics['n'])}, accuracy {metrics['accuracy']:.3f}, "
                  f"macro-F1 {metrics['macro_f1']:.3f} ({report['measured_on']})")
        else:
            print(f"{split}: no photos in this snapshot's {split} split")
    print(f"model sha256 {report['model']['sha256']}, files in {output}")
    print(output.resolve())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
