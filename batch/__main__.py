"""`python -m batch --input img --output out/dataset` (or s3://bucket/prefix)."""

from __future__ import annotations

import argparse
import sys
from dataclasses import replace
from pathlib import Path

from elasticsearch import Elasticsearch

from adapters.elasticsearch_client import make_elasticsearch_client, unreachable_sentence
from adapters.object_store import open_store
from batch.image_map import Tiles
from batch.job import run_batch
from dataset.reader_checks import DatasetError, check_reachable
from dataset.splits import parse_fractions
from model.job_champion import ask_champion
from settings import Settings


def main(argv: list[str] | None = None) -> int:
    settings = Settings.from_env()
    parser = argparse.ArgumentParser(prog="python -m batch", description=__doc__)
    parser.add_argument("--input", type=Path, required=True, help="folder of <crop>/<photo> files")
    parser.add_argument("--output", required=True, help="a directory or s3://bucket/prefix")
    parser.add_argument("--master", default=settings.spark_master, help="Spark master URL")
    parser.add_argument("--variants", type=int, default=settings.n_variants)
    parser.add_argument(
        "--index", choices=("auto", "on", "off"), default="auto",
        help="index the records in Elasticsearch too: on, off, or auto (when it answers)",
    )
    parser.add_argument(
        "--shard-digits", type=int, default=2, choices=(1, 2, 3),
        help="image-id hex digits per shard bucket: 16, 256 or 4096 shards at most",
    )
    args = parser.parse_args(argv)
    if not args.input.is_dir():
        parser.error(f"--input {args.input} is not a directory")
    store = open_store(args.output, settings.s3)
    try:
        check_reachable(store)
        search = search_client(args.index, settings)
    except DatasetError as error:
        parser.exit(1, f"batch: {error}\n")
    except SearchUnreachable as error:
        parser.exit(1, f"batch: {error}; use --index off to skip indexing\n")
    report = run_batch(
        args.input, store, spark_settings=replace(settings, spark_master=args.master),
        n_variants=args.variants,
        max_pixels=settings.max_pixels, shard_digits=args.shard_digits,
        split_fractions=parse_fractions(settings.split_fractions),
        max_decode_mb=settings.max_decode_mb, search=search,
        index=settings.elasticsearch_index, tiles=Tiles.from_settings(settings),
        model=ask_champion(settings),
    )
    print(f"Batch job: {args.input} -> {store.url('')}")
    for line in report.lines():
        print(f"  {line}")
    return 0


class SearchUnreachable(Exception):
    """--index on, and Elasticsearch does not answer."""


def search_client(choice: str, settings: Settings) -> Elasticsearch | None:
    """The Elasticsearch client to index with: none when off, or when auto and it is down (said
    in a line); raise SearchUnreachable when on and it is down."""
    if choice == "off":
        return None
    client = make_elasticsearch_client(settings.elasticsearch_url, settings.elasticsearch_auth)
    if client.ping():
        return client
    if choice == "on":
        raise SearchUnreachable(unreachable_sentence(settings.elasticsearch_url))
    print(f"batch: Elasticsearch does not answer at {settings.elasticsearch_url}, so the records "
          "are not indexed (--index auto); the dataset and its map are written all the same")
    return None


if __name__ == "__main__":
    sys.exit(main())
