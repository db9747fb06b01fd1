"""`python -m batch.map`: render the map from Elasticsearch or from a dataset's manifest.

    python -m batch.map --from es --out out/map.html
    python -m batch.map --from out/dataset --out out/map.html
"""

from __future__ import annotations

import argparse
import base64
import sys
from pathlib import Path

import pandas as pd
from elasticsearch import helpers

from adapters.elasticsearch_client import make_elasticsearch_client
from batch.image_map import MapSummary, Tiles, render_map
from dataset import DatasetError, DatasetReader
from settings import Settings


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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m batch.map", description=__doc__)
    parser.add_argument("--from", dest="source", default="es",
                        help='"es" for the search index, or a dataset root (dir or s3://...)')
    parser.add_argument("--out", type=Path, default=Path("out/map.html"))
    args = parser.parse_args(argv)
    try:
        summary = render(args.source, args.out, Settings.from_env())
    except DatasetError as error:  # no dataset at that root, or a store it cannot read
        parser.exit(1, f"batch.map: {error}\n")
    print(f"map: {args.out.resolve()} ({summary.mapped} placed, {summary.without_gps} without GPS)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
