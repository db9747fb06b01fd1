"""The stream's drift, on the driver: its last DRIFT_WINDOW processed photos against the
champion's training snapshot, signal by signal (model/drift.py does the arithmetic).

Each processed photo leaves its sharpness, brightness and, when the champion predicted it, its
crop and confidence in the window. A signal is measured once the window holds DRIFT_WINDOW of
its values and the champion's reference holds at least MIN_PHOTOS: a smaller sample reads as a
shift where there is none. The crop and confidence count only photos the champion itself
predicted, so after a promotion they wait for a full window of the new version's answers. A
champion without a reference (registered before references existed), or no champion, leaves
every signal unmeasured: the photos are processed all the same.
"""

from __future__ import annotations

import json
import logging
from collections import deque
from collections.abc import Iterable
from typing import TYPE_CHECKING

from model.drift import MIN_PHOTOS, SIGNALS, Histogram, from_json, window_psi

if TYPE_CHECKING:
    from model.registry import ServedModel

IMAGE_SIGNALS = ("sharpness", "brightness")  # the photo's own: whichever model predicted it

log = logging.getLogger(__name__)


class DriftWindow:
    """The last `size` processed photos' signals, and their PSI against a champion's reference."""

    def __init__(self, size: int):
        self.size = size
        self.photos: deque[dict] = deque(maxlen=size)
        self.version: str | None = None  # the champion whose reference is loaded
        self.reference: dict[str, Histogram] = {}

    def add(self, rows: Iterable[dict]) -> None:
        """Keep the processed manifest rows' signals, oldest first out."""
        for row in rows:
            self.photos.append({"sharpness": row["sharpness"], "brightness": row["brightness"],
                                "predicted_crop": row["prediction"],
                                "confidence": row["prediction_confidence"],
                                "version": row["model_version"]})

    def measure(self, champion: ServedModel | None) -> dict[str, float]:
        """signal -> PSI of each signal measured now against `champion`'s reference."""
        self._follow(champion)
        measured = {}
        for signal, histogram in self.reference.items():
            values = [photo[signal] for photo in self.photos if photo[signal] is not None
                      and (signal in IMAGE_SIGNALS or photo["version"] == self.version)]
            if len(values) == self.size and histogram.photos >= MIN_PHOTOS:
                measured[signal] = window_psi(histogram, values)
        return measured

    def reference_photos(self) -> dict[str, int]:
        """signal -> the photos its reference was made from (0 without one)."""
        return {signal: self.reference[signal].photos if signal in self.reference else 0
                for signal in SIGNALS}

    def _follow(self, champion: ServedModel | None) -> None:
        """Load the champion's reference when the champion changes; say why there is none."""
        version = champion.version if champion else None
        if version == self.version:
            return
        self.version, self.reference = version, reference_of(champion)
        small = {signal: histogram.photos for signal, histogram in self.reference.items()
                 if histogram.photos < MIN_PHOTOS}
        if champion is not None and small:
            log.warning("drift: the reference of %s version %s holds too few photos to measure "
                        "%s (at least %d needed)", champion.name, version, small, MIN_PHOTOS)


def reference_of(champion: ServedModel | None) -> dict[str, Histogram]:
    """The champion's reference histograms; none without a champion or a readable reference."""
    if champion is None:
        log.info("drift: no champion, so no reference: drift is not measured")
        return {}
    if champion.drift_reference is None:
        log.warning("drift: %s version %s has no drift reference (trained before they were "
                    "kept): drift is not measured", champion.name, champion.version)
        return {}
    try:
        return from_json(json.loads(champion.drift_reference.read_text()))
    except (OSError, ValueError, KeyError, TypeError) as error:
        log.error("drift: the reference %s cannot be read (%r): drift is not measured",
                  champion.drift_reference, error)
        return {}

