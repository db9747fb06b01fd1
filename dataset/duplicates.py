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


def hash_values(phashes: Iterable[str]) -> np.ndarray:
    """16-hex-digit pHashes as uint64."""
    return np.array([int(phash, 16) for phash in phashes], dtype=np.uint64)


def hamming_distance(a: str, b: str) -> int:
    """How many of the 64 bits of two pHashes differ."""
    return (int(a, 16) ^ int(b, 16)).bit_count()


def assign_groups(
    known: Iterable[tuple[str, str]], new: Iterable[tuple[str, str]]
) -> dict[str, str]:
    """The group of each new (image_id, phash), in arrival order, among known (phash, group).

    Each new photo joins the group of its nearest known or earlier new hash within
    MAX_HAMMING_DISTANCE, the smaller group name among equally near ones; else its own image id
    names a new group. Known groups are never changed.
    """
    known_pairs, new_pairs = list(known), list(new)
    hashes = np.empty(len(known_pairs) + len(new_pairs), dtype=np.uint64)
    hashes[: len(known_pairs)] = hash_values(phash for phash, _ in known_pairs)
    groups = [group for _, group in known_pairs]
    assigned = {}
    for image_id, phash in new_pairs:
        value = np.uint64(int(phash, 16))
        group = nearest_group(np.bitwise_count(hashes[: len(groups)] ^ value), groups)
        assigned[image_id] = group or image_id
        hashes[len(groups)] = value
        groups.append(assigned[image_id])
    return assigned


def nearest_group(distances: np.ndarray, groups: list[str]) -> str | None:
    """The smallest group name at the least distance, if that is within the threshold."""
    if distances.size == 0:
        return None
    nearest = distances.min()
    if nearest > MAX_HAMMING_DISTANCE:
        return None
    return min(groups[index] for index in np.flatnonzero(distances == nearest))
