"""`python -m batch.map`: render the map from Elasticsearch or from a dataset's manifest.

    python -m batch.map --from es                   out/map.html
    python -m batch.map --from out/dataset          out/dataset/map.html, beside the dataset
    python -m batch.map --from s3://field-images/dataset --out field-map.html
"""

from __future__ import annotations

import argparse
import base64
import sys
import tempfile
from pathlib import Path

import pandas as pd
from elastic_transport import TransportError
from elasticsearch import NotFoundError, helpers

from adapters.elasticsearch_client import make_elasticsearch_client, unreachable_sentence
from adapters.object_store import ObjectStore, open_store
from batch.image_map import MapSummary, Tiles, render_map
from dataset import DatasetReader
from dataset.layout import MAP_KEY
from dataset.reader_checks import DatasetError, check_dataset
from settings import Settings

INDEX_MAP = Path("out/map.html")


def rows_from_index(settings: Settings) -> pd.DataFrame:
    """Manifest-like rows from the image documents of the search index."""
    client = make_elasticsearch_client(settings.elasticsearch_url, settings.elasticsearch_auth)
    client.indices.refresh(index=settings.elasticsearch_index)  # include the last second's
    documents = helpers.scan(client, index=settings.elasticsearch_index, size=500)
    rows = []
    for hit in documents:
        doc = hit["_source"]
        thumbnail = doc.get("thumbnail")
        rows.append({**doc, "thumbnail": base64.b64decode(thumbnail) if thumbnail else None})
    return pd.DataFrame(rows)


def render(source: str, out: Path, settings: Settings) -> MapSummary:
    """Render the map of `source` ("es", or a dataset root) to `out`."""
    if source == "es":
        rows = rows_from_index(settings)
    else:
        rows = DatasetReader.open(source, settings.s3).manifest(status=None)
    out.parent.mkdir(parents=True, exist_ok=True)
    return render_map(rows, out, Tiles.from_settings(settings))


def render_beside(store: ObjectStore, settings: Settings) -> tuple[str, MapSummary]:
    """Render the map of a dataset into it, as map.html beside its manifest; (its url, summary)."""
    with tempfile.TemporaryDirectory() as scratch:
        path = Path(scratch) / MAP_KEY
        summary = render(store.url(""), path, settings)
        store.put_bytes(MAP_KEY, path.read_bytes())
    return store.url(MAP_KEY), summary


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m batch.map", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--from", dest="source", default="es",
                        help='"es" for the search index, or a dataset root (dir or s3://...)')
    parser.add_argument("--out", type=Path,
                        help=f"the map file; default: map.html in the dataset, {INDEX_MAP} for es")
    args = parser.parse_args(argv)
    settings = Settings.from_env()
    try:
        if args.source != "es":
            store = open_store(args.source, settings.s3)
            check_dataset(store)
            if args.out is None:
                where, summary = render_beside(store, settings)
                print(f"map: {where} ({summary.mapped} placed, "
                      f"{summary.without_gps} without GPS)")
                return 0
        out = args.out or INDEX_MAP
        summary = render(args.source, out, settings)
    except DatasetError as error:  # no dataset at that root, or a store it cannot read
        parser.exit(1, f"batch.map: {error}\n")
    except NotFoundError:
        parser.exit(1, f"batch.map: Elasticsearch has no index {settings.elasticsearch_index!r} "
                       "yet: nothing was indexed\n")
    except TransportError:
        parser.exit(1, f"batch.map: {unreachable_sentence(settings.elasticsearch_url)}\n")
    print(f"map: {out.resolve()} ({summary.mapped} placed, {summary.without_gps} without GPS)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
