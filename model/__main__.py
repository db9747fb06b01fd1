"""The crop classifier from the command line:

    python -m model train ROOT --snapshot NAME [--seed N] [--output DIR] [--real-photos]
    python -m model promote VERSION [--eval-root ROOT] [--eval-snapshot NAME] [--force]
                                    [--reason TEXT]
    python -m model rollback [--reason TEXT]
    python -m model versions [--json]
    python -m model history [--json]

ROOT is a dataset directory or s3://bucket/prefix; NAME a snapshot pinned with
`python -m dataset snapshot ROOT NAME`. The run is logged in MLflow (MLFLOW_TRACKING_URI) and
the model registered as a new version of MODEL_NAME; the last line printed is that version
alone. --output also writes the model's files to a local directory.

promote moves the alias `champion` to VERSION through the gate (docs/model.md): the candidate
and the champion are scored on the same test split, the candidate's own snapshot's unless
--eval-snapshot names another; a worse candidate is refused (exit code 3) unless --force.
rollback returns `champion` to the version before. Every alias move is recorded (history).
Exit codes: 0 done, 1 a server or the data cannot be read (one sentence), 3 refused by the gate.
"""

from __future__ import annotations

import argparse
import json
from dataclasses import asdict
from pathlib import Path

from model.alias_history import changes
from model.promotion import CannotMove, promote, rollback
from model.registry import RegistryUnavailable, check, register
from model.snapshot_data import DataUnavailable
from model.train import photos, train
from model.versions import table, versions
from settings import Settings

REFUSED = 3


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
    promoting = commands.add_parser("promote", help="make VERSION the champion, through the gate")
    promoting.add_argument("version")
    promoting.add_argument("--eval-root", help="the evaluation set's dataset (default: the "
                                               "candidate's own)")
    promoting.add_argument("--eval-snapshot", help="the evaluation set's snapshot (default: the "
                                                   "candidate's own)")
    promoting.add_argument("--force", action="store_true",
                           help="promote even if the gate refuses (recorded as forced)")
    promoting.add_argument("--reason", default="", help="why, for the alias history")
    rolling = commands.add_parser("rollback", help="return to the previous champion")
    rolling.add_argument("--reason", default="", help="why, for the alias history")
    for name, what in (("versions", "each registered version"),
                       ("history", "every recorded move of the aliases")):
        listing = commands.add_parser(name, help=what)
        listing.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    run = {"train": train_command, "promote": promote_command, "rollback": rollback_command,
           "versions": versions_command, "history": history_command}[args.command]
    try:
        return run(args, settings)
    except (DataUnavailable, RegistryUnavailable, CannotMove) as error:
        parser.exit(1, f"{args.command}: {error}\n")


def train_command(args, settings: Settings) -> int:
    check(settings)  # before the training, not after it
    trained = train(args.root, args.snapshot, args.seed, settings, synthetic=not args.real_photos)
    if args.output:
        trained.write(args.output)
    version = register(settings, trained)
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


def promote_command(args, settings: Settings) -> int:
    decision = promote(settings, args.version, eval_root=args.eval_root,
                       eval_snapshot=args.eval_snapshot, force=args.force, reason=args.reason)
    for line in decision.lines:
        print(line)
    return 0 if decision.promoted else REFUSED


def rollback_command(args, settings: Settings) -> int:
    change = rollback(settings, args.reason)
    print(f"rolled back: {settings.model_name} version {change.to_version} is the champion "
          f"again (was {change.from_version})")
    return 0


def versions_command(args, settings: Settings) -> int:
    listed = versions(settings)
    if args.json:
        print(json.dumps(listed, indent=2))
    elif not listed:
        print(f"{settings.model_name} has no registered version yet")
    else:
        print("\n".join(table(listed)))
    return 0


def history_command(args, settings: Settings) -> int:
    recorded = changes(settings)
    if args.json:
        print(json.dumps([asdict(change) for change in recorded], indent=2))
    elif not recorded:
        print(f"no alias of {settings.model_name} has moved yet")
    else:
        print("\n".join(str(change) for change in recorded))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
