"""Dataset upkeep from the command line, on a directory or s3://bucket/prefix:

    python -m dataset compact ROOT [--target-mb 256] [--retention-hours 24]
    python -m dataset snapshot ROOT NAME
    python -m dataset snapshots ROOT
    python -m dataset dead-letters ROOT    the rejected photos and why, newest first
    python -m dataset reindex ROOT         rebuild the search index from the manifest

A root that holds no dataset, or whose S3 does not answer, is said in one sentence (exit 1); so
is an Elasticsearch that does not answer (reindex).
"""

from __future__ import annotations

import argparse
from collections.abc import Iterator

from adapters.object_store import ObjectStore, open_store
from dataset.cleanup import DEFAULT_RETENTION_HOURS, clean_up
from dataset.compaction import TARGET_BYTES, compact_shards, compact_table
from dataset.dead_letters import dead_letters
from dataset.manifest import Manifest
from dataset.reader_checks import DatasetError, check_dataset
from dataset.reindex import ReindexRefused, run_reindex
from dataset.snapshots import SnapshotError, pin, snapshots
from settings import Settings

MB = 1024 * 1024


def compact(store: ObjectStore, target_bytes: int, retention_hours: int) -> Iterator[str]:
    """Merge small shards, compact the table's files, then clean up; a line per step."""
    compacted = compact_shards(store, target_bytes)
    if compacted is None:
        yield "shards: nothing to merge"
    else:
        run = compacted.run
        yield (f"shards: {len(run.superseded)} merged into {run.brace_pattern}, "
               f"{compacted.moved} rows moved")
    manifest = Manifest.of(store)
    if manifest.version() is not None:
        metrics = compact_table(manifest, target_bytes)
        yield (f"table: {metrics['numFilesRemoved']} files rewritten into "
               f"{metrics['numFilesAdded']}, checkpoint at version {manifest.version()}")
    cleanup = clean_up(store, retention_hours)
    yield (f"cleanup: {len(cleanup.deleted_shards)} superseded shards and "
           f"{len(cleanup.deleted_table_files)} table files deleted")


def main(argv: list[str] | None = None) -> int:
    settings = Settings.from_env()
    parser = argparse.ArgumentParser(prog="python -m dataset", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)
    compacting = commands.add_parser("compact", help="merge small shards, compact, clean up")
    compacting.add_argument("root")
    compacting.add_argument("--target-mb", type=int, default=TARGET_BYTES // MB)
    compacting.add_argument("--retention-hours", type=int, default=DEFAULT_RETENTION_HOURS,
                            help="keep superseded files this long, for readers of older versions")
    pinning = commands.add_parser("snapshot", help="pin the current version under a name")
    pinning.add_argument("root")
    pinning.add_argument("name")
    listing = commands.add_parser("snapshots", help="list the named snapshots")
    listing.add_argument("root")
    letters = commands.add_parser("dead-letters", help="the rejected photos and why, newest first")
    letters.add_argument("root")
    rebuilding = commands.add_parser("reindex", help="rebuild the search index from the manifest")
    rebuilding.add_argument("root")
    args = parser.parse_args(argv)
    store = open_store(args.root, settings.s3)
    try:
        check_dataset(store)
    except DatasetError as error:
        parser.exit(1, f"{args.command}: {error}\n")
    if args.command == "compact":
        for line in compact(store, args.target_mb * MB, args.retention_hours):
            print(line)
    elif args.command == "snapshot":
        try:
            snapshot = pin(store, args.name)
        except SnapshotError as error:
            parser.exit(1, f"snapshot: {error}\n")
        print(f"{snapshot.name}: version {snapshot.version}, {snapshot.rows} rows")
    elif args.command == "snapshots":
        found = snapshots(store)
        if not found:
            print(f"no snapshot of {args.root} yet: python -m dataset snapshot {args.root} NAME")
        for snapshot in found:
            print(f"{snapshot.name}\tversion {snapshot.version}\t{snapshot.rows} rows\t"
                  f"{snapshot.created_at}")
    elif args.command == "reindex":
        try:
            print(run_reindex(store, settings).line())
        except ReindexRefused as error:
            parser.exit(1, f"reindex: {error}\n")
    else:
        rejected = dead_letters(store)
        print(f"{len(rejected)} rejected photo(s) in {args.root}"
              + (", newest first:" if rejected else ""))
        for letter in rejected:
            print(f"  {letter.line()}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
