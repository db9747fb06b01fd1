"""Read a dataset back: the manifest as a DataFrame, then (tensor, label, meta) from the shards.

A few plain iterator stages, as in webdataset: manifest rows -> shard keys -> tar members ->
samples. The shards are ordinary WebDataset tars, so `webdataset.WebDataset(reader.shard_urls())`
reads them too.
"""

from __future__ import annotations

import io
import json
import tarfile
from collections.abc import Iterable, Iterator

import numpy as np
import pandas as pd

from adapters.object_store import ObjectStore, open_store
from dataset.layout import SHARD_PREFIX
from dataset.manifest import Manifest
from dataset.snapshots import resolve
from settings import S3Settings, Settings


class DatasetReader:
    """A dataset under a local directory or s3://bucket/prefix, at one version of its manifest
    (the newest by default)."""

    def __init__(self, store: ObjectStore, version: int | None = None):
        self.store, self.version = store, version
        self.manifest_table = Manifest.of(store)

    @classmethod
    def open(
        cls, root: str, s3: S3Settings | None = None, snapshot: str | None = None
    ) -> DatasetReader:
        """The dataset at its newest version, or at the version a named snapshot pins."""
        store = open_store(root, s3 or Settings.from_env().s3)
        return cls(store, None if snapshot is None else resolve(store, snapshot))

    def manifest(
        self,
        label: str | None = None,
        bbox: tuple[float, float, float, float] | None = None,
        has_gps: bool | None = None,
        status: str | None = "ok",
        split: str | None = None,
        min_sharpness: float | None = None,
        brightness: tuple[float, float] | None = None,
        max_clipped_fraction: float | None = None,
        one_per_group: bool = False,
    ) -> pd.DataFrame:
        """One row per image, filtered.

        bbox is (min_lon, min_lat, max_lon, max_lat); status=None keeps rejected rows too;
        brightness is a (low, high) range; one_per_group keeps the first photo of each near
        duplicate group (by image id), dropping its copies.
        """
        rows = self._all_rows()
        if status is not None:
            rows = rows[rows["status"] == status]
        if label is not None:
            rows = rows[rows["label"] == label]
        if split is not None:
            rows = rows[rows["split"] == split]
        if min_sharpness is not None:
            rows = rows[rows["sharpness"] >= min_sharpness]
        if brightness is not None:
            rows = rows[rows["brightness"].between(*brightness)]
        if max_clipped_fraction is not None:
            rows = rows[rows["clipped_fraction"] <= max_clipped_fraction]
        if one_per_group:
            rows = rows.sort_values("image_id").drop_duplicates("duplicate_group")
        if has_gps is not None:
            rows = rows[rows["lat"].notna() == has_gps]
        if bbox is not None:
            min_lon, min_lat, max_lon, max_lat = bbox
            inside = rows["lon"].between(min_lon, max_lon) & rows["lat"].between(min_lat, max_lat)
            rows = rows[inside]
        return rows.reset_index(drop=True)

    def samples(
        self, rows: pd.DataFrame | None = None, variants: Iterable[str] | None = None
    ) -> Iterator[tuple[np.ndarray, str | None, dict]]:
        """(tensor, label, meta) for the rows' samples; variants like ("base",) narrow them."""
        rows = self.manifest() if rows is None else rows
        wanted_variants = None if variants is None else set(variants)
        for shard, group in rows.dropna(subset=["shard_key"]).groupby("shard_key", sort=True):
            wanted_ids = set(group["image_id"])
            for meta, tensor in read_shard(self.store.get_bytes(shard)):
                if meta["image_id"] not in wanted_ids:
                    continue
                if wanted_variants is None or meta["variant"] in wanted_variants:
                    yield tensor, meta["label"], meta

    def shard_urls(self) -> list[str]:
        """Every shard's URL (a path, or s3://...) for webdataset or other tar readers."""
        return [self.store.url(key) for key in self.store.list_keys(SHARD_PREFIX)]

    def _all_rows(self) -> pd.DataFrame:
        rows = self.manifest_table.rows(self.version).to_pandas()
        return rows.drop_duplicates("image_id", keep="last").sort_values("image_id")


def read_shard(data: bytes) -> Iterator[tuple[dict, np.ndarray]]:
    """(meta, tensor) pairs of one WebDataset tar, in the order they were written."""
    members: dict[str, dict[str, bytes]] = {}
    with tarfile.open(fileobj=io.BytesIO(data)) as tar:
        for member in tar:
            key, _, extension = member.name.partition(".")
            members.setdefault(key, {})[extension] = tar.extractfile(member).read()
    for parts in members.values():
        yield json.loads(parts["json"]), np.load(io.BytesIO(parts["npy"]))


