"""Read a dataset back: the manifest as a DataFrame, then (tensor, label, meta) from the shards.

Samples come through the plain iterator stages of dataset.shard_stream: manifest rows -> shard
keys -> streams -> tar members -> samples. The shards are ordinary WebDataset tars, so
`webdataset.WebDataset(reader.shard_urls())` reads them too, locally and on S3.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

import numpy as np
import pandas as pd

from adapters.object_store import READER_URL_SECONDS, LocalStore, ObjectStore, open_store
from dataset.image_record import PROCESSED, STATUSES
from dataset.manifest import Manifest
from dataset.reader_checks import (
    check_label,
    check_ranges,
    check_value,
    check_variants,
    not_found,
    reading,
    where,
)
from dataset.shard_stream import WantedVariants, decoded, opened, shuffled, split, tar_samples
from dataset.snapshots import resolve
from dataset.splits import SPLITS
from settings import S3Settings

# Manifests written before the record's status was "processed" say "ok"; they read the same.
OLD_STATUSES = {"ok": PROCESSED}


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
        """The dataset at its newest version, or at the version a named snapshot pins.

        `s3` says how to reach an s3:// root (Settings.s3; `Settings.from_env().s3` where the
        environment says it); a local directory needs none.

        Raises ValueError for an s3:// root without `s3`, DatasetNotFound when the root holds no
        dataset, DatasetUnreachable when its store cannot be read (no such bucket, refused keys,
        no server), SnapshotError for an unknown snapshot name: each with a sentence that names
        the root.
        """
        if s3 is None and root.startswith("s3://"):
            raise ValueError(f"{root}: an s3:// root needs the settings of its store (s3=...)")
        store = LocalStore(root) if s3 is None else open_store(root, s3)
        reader = cls(store)
        with reading(root, store):
            if reader.manifest_table.version() is None:
                raise not_found(root, store)
            if snapshot is not None:
                reader.version = resolve(store, snapshot)
        return reader

    def manifest(
        self,
        label: str | None = None,
        bbox: tuple[float, float, float, float] | None = None,
        has_gps: bool | None = None,
        status: str | None = PROCESSED,
        split: str | None = None,
        min_sharpness: float | None = None,
        brightness: tuple[float, float] | None = None,
        max_clipped_fraction: float | None = None,
        one_per_group: bool = False,
    ) -> pd.DataFrame:
        """One row per image, filtered.

        bbox is (min_lon, min_lat, max_lon, max_lat); status is "processed" (the default) or
        "rejected", None for both; split is "train", "val" or "test"; label matches exactly
        (case too); brightness is a (low, high) range; one_per_group keeps the first photo of
        each near duplicate group (by image id), dropping its copies.

        Raises InvalidFilter, naming the valid values, for a status, split or label that no row
        can have (a label no row of the dataset carries), and for an empty bbox or range.
        """
        check_value("status", status, STATUSES, " (or None for both)")
        check_value("split", split, SPLITS)
        check_ranges(bbox, brightness)
        rows = self._all_rows()
        check_label(label, rows)
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
        self,
        rows: pd.DataFrame | None = None,
        variants: Iterable[str] | None = None,
        *,
        shuffle_seed: int | None = None,
        split_by_worker: bool = True,
        split_by_node: bool = False,
    ) -> Iterator[tuple[np.ndarray, str | None, dict]]:
        """(tensor, label, meta) for the rows' samples (default: the manifest), streamed.

        variants like ("base",) narrow them; by default val and test images yield only their
        base tensor, training images every variant. Shards come sorted by key, or in the order drawn
        from shuffle_seed (pass the same seed on every worker and node, a new one per epoch).
        Inside a PyTorch DataLoader each worker reads every n-th shard, as webdataset does;
        split_by_node also splits them by distributed rank. A variant that none of the rows
        has raises InvalidFilter, naming theirs.
        """
        rows = self.manifest() if rows is None else rows
        check_variants(variants, rows)
        keys = shuffled(shard_keys(rows), shuffle_seed)
        mine = split(keys, by_node=split_by_node, by_worker=split_by_worker)
        samples = tar_samples(opened(mine, self.store))
        for meta, tensor in decoded(samples, wanted_variants(rows, variants)):
            yield tensor, meta["label"], meta

    def shard_urls(
        self, rows: pd.DataFrame | None = None, *, expires_s: int = READER_URL_SECONDS
    ) -> list[str]:
        """URLs that `webdataset.WebDataset` opens, of the shards the rows (default: the
        manifest) reference: paths, or presigned http(s) URLs valid for expires_s on S3.

        Not a listing of shards/: a shard no row points to any more is not part of the dataset.
        """
        rows = self.manifest() if rows is None else rows
        return [self.store.reader_url(key, expires_s) for key in shard_keys(rows)]

    def _all_rows(self) -> pd.DataFrame:
        with reading(where(self.store), self.store):
            rows = self.manifest_table.rows(self.version).to_pandas()
        rows["status"] = rows["status"].replace(OLD_STATUSES)
        return rows.drop_duplicates("image_id", keep="last").sort_values("image_id")


def shard_keys(rows: pd.DataFrame) -> list[str]:
    """The shards that hold the rows' samples, each once, sorted."""
    return sorted(rows["shard_key"].dropna().unique())


BASE_ONLY = frozenset({"base"})
EVALUATION_SPLITS = ("val", "test")  # augmentations are for training


def wanted_variants(rows: pd.DataFrame, variants: Iterable[str] | None) -> WantedVariants:
    """Which variants to yield for each image of the rows: `variants` if given; else every
    variant (None) of a training image, and only the base tensor of a val or test image."""
    if variants is not None:
        return dict.fromkeys(rows["image_id"], frozenset(variants))
    splits = rows["split"] if "split" in rows else pd.Series(None, index=rows.index)
    evaluated = splits.isin(EVALUATION_SPLITS)
    return {image_id: BASE_ONLY if evaluation else None
            for image_id, evaluation in zip(rows["image_id"], evaluated, strict=True)}
