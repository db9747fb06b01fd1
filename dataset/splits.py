"""Train, validation and test splits that never leak a scene across sides, and never move.

A photo's split is a hash of its near-duplicate group (dataset/duplicates.py), not of the photo:
copies and near copies of one scene land on the same side. A group never changes once given,
and the hash of its name never changes, so a photo keeps its split as the dataset grows.
"""

from __future__ import annotations

import hashlib

SPLITS = ("train", "val", "test")


def parse_fractions(text: str) -> tuple[float, float, float]:
    """"0.8,0.1,0.1" -> the train, val and test fractions, which must add up to 1."""
    parts = tuple(float(part) for part in text.split(","))
    if len(parts) != len(SPLITS) or any(part < 0 for part in parts) or abs(sum(parts) - 1) > 1e-9:
        raise ValueError(f"split fractions must be three numbers adding up to 1, not {text!r}")
    return parts


def split_of(group: str, fractions: tuple[float, float, float]) -> str:
    """The split of every photo in `group`: where a hash of its name falls in [0, 1)."""
    position = int.from_bytes(hashlib.sha256(group.encode()).digest()[:8], "big") / 2**64
    bound = 0.0
    for split, fraction in zip(SPLITS, fractions, strict=True):
        bound += fraction
        if position < bound:
            return split
    return SPLITS[-1]
