"""The batch job's first stage: each input file's image id and bucket, hashed in Python.

Spark lists the files without reading them; the Python workers read and hash each one with
the core's own `image_id_of`, so the file's bytes never cross into the JVM. Only (path, id,
bucket) leaves this stage for the shuffle that groups the buckets. A file that cannot be read
(gone since the listing, no permission) gets no id and no bucket: the job reports it, and
goes on.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import PurePosixPath
from urllib.parse import unquote, urlparse

import pyarrow as pa

from preprocessing import image_id_of

ID_SCHEMA = pa.schema([("path", pa.string()), ("image_id", pa.string()), ("bucket", pa.string())])


def local_path(uri: str) -> PurePosixPath:
    """The local path of a Spark file URI (file:/data/img/a%20b.jpg -> /data/img/a b.jpg)."""
    return PurePosixPath(unquote(urlparse(uri).path))


@dataclass(frozen=True)
class FileIds:
    """Picklable mapInArrow function: rows (path) in, rows (path, image_id, bucket) out; id and
    bucket are null for a file that cannot be read."""

    shard_digits: int

    def __call__(self, batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        for batch in batches:
            paths = batch.column("path").to_pylist()
            ids = [file_id(path) for path in paths]
            buckets = [image_id and image_id[: self.shard_digits] for image_id in ids]
            yield pa.RecordBatch.from_arrays(
                [pa.array(paths), pa.array(ids), pa.array(buckets)], schema=ID_SCHEMA
            )


def file_id(uri: str) -> str | None:
    """The image id of the file's bytes; None if it cannot be read."""
    try:
        with open(local_path(uri), "rb") as file:
            return image_id_of(file.read())
    except OSError:
        return None
