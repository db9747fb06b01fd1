"""Curation buckets: photos grouped by the record's curation signals (docs/curation.md), so a
model's metrics can be read apart on sharp and blurred photos, well exposed and dark or bright
ones.

docs/curation.md gives no universal "blurred" cut-off (sharpness rises with texture as much as
with focus), so blurred is relative to the training photos: the quarter least sharp by their
standard. Exposure uses fixed bounds on the 0..1 brightness, and a photo with more than a tenth
of its pixels clipped (pure black or white) is badly exposed on the side of its brightness.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import pandas as pd

BLURRED_QUANTILE = 0.25
DARK_BELOW = 0.25
BRIGHT_ABOVE = 0.70
CLIPPED_ABOVE = 0.10


@dataclass(frozen=True)
class Thresholds:
    blurred_below: float  # sharpness, from the training photos
    dark_below: float = DARK_BELOW
    bright_above: float = BRIGHT_ABOVE
    clipped_above: float = CLIPPED_ABOVE

    @classmethod
    def from_training(cls, train_rows: pd.DataFrame) -> Thresholds:
        return cls(float(train_rows["sharpness"].quantile(BLURRED_QUANTILE)))

    def as_dict(self) -> dict[str, float]:
        return asdict(self)


def buckets(rows: pd.DataFrame, thresholds: Thresholds) -> dict[str, pd.Series]:
    """bucket name -> which of the rows are in it (boolean, aligned with rows).

    sharp/blurred split the rows, and so do well_exposed/dark/bright."""
    blurred = rows["sharpness"] < thresholds.blurred_below
    clipped = rows["clipped_fraction"] > thresholds.clipped_above
    darker_half = rows["brightness"] < 0.5
    dark = (rows["brightness"] < thresholds.dark_below) | (clipped & darker_half)
    bright = ~dark & ((rows["brightness"] > thresholds.bright_above) | (clipped & ~darker_half))
    return {"sharp": ~blurred, "blurred": blurred,
            "well_exposed": ~dark & ~bright, "dark": dark, "bright": bright}
