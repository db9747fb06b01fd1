"""Near-duplicate groups: photos whose perceptual hashes are close share one group, for good.

A split is a hash of the group, so copies and near copies of a scene stay on one side of it. A
group is assigned once, when a photo arrives, and never changes: a new photo joins the group of
its nearest hash within MAX_HAMMING_DISTANCE, else founds a group named by its own image id.
Groups never merge, so a photo that bridges two groups joins one of them and leaves both intact.
docs/curation.md has the threshold's calibration.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

# Calibrated in docs/curation.md: re-encoded, resized, blurred, darkened and 2%-cropped copies lie
# within 8 bits of their original; the nearest two distinct scenes are 10 apart. A photo's pHash
# has 32 bits set (half its coefficients lie above their median), so distances are even: 9 acts
# as 8.
MAX_HAMMING_DISTANCE = 8


def hamming_distance(a: str, b: str) -> int:
    """How many of the 64 bits of two pHashes differ."""
    return (int(a, 16) ^ int(b, 16)).bit_count()


class KnownScenes:
    """The (pHash, group) pairs new photos are compared with, as one growing uint64 array.

    Placing a photo is one vectorised pass over the array, never a conversion of every hash, so
    it costs about the same at a hundred thousand photos as at a thousand (docs/performance.md).
    """

    def __init__(self, pairs: Iterable[tuple[str, str]] = ()):
        self._values = np.empty(1024, dtype=np.uint64)
        self.groups: list[str] = []
        for phash, group in pairs:
            self.add(phash, group)

    def add(self, phash: str, group: str) -> None:
        if len(self.groups) == self._values.size:
            self._values = np.concatenate([self._values, np.empty_like(self._values)])
        self._values[len(self.groups)] = int(phash, 16)
        self.groups.append(group)

    def place(self, image_id: str, phash: str) -> str:
        """The group of a new photo, which joins the known ones: that of its nearest hash within
        MAX_HAMMING_DISTANCE, else a new group named by its own image id."""
        distances = np.bitwise_count(self._values[: len(self.groups)] ^ np.uint64(int(phash, 16)))
        group = nearest_group(distances, self.groups) or image_id
        self.add(phash, group)
        return group


def assign_groups(
    known: Iterable[tuple[str, str]], new: Iterable[tuple[str, str]]
) -> dict[str, str]:
    """The group of each new (image_id, phash), in arrival order, among known (phash, group).

    Each new photo joins the group of its nearest known or earlier new hash within
    MAX_HAMMING_DISTANCE, the smaller group name among equally near ones; else its own image id
    names a new group. Known groups are never changed.
    """
    scenes = KnownScenes(known)
    return {image_id: scenes.place(image_id, phash) for image_id, phash in new}


def nearest_group(distances: np.ndarray, groups: list[str]) -> str | None:
    """The smallest group name at the least distance, if that is within the threshold."""
    if distances.size == 0:
        return None
    nearest = distances.min()
    if nearest > MAX_HAMMING_DISTANCE:
        return None
    return min(groups[index] for index in np.flatnonzero(distances == nearest))
