"""Every reason a photo ends as a dead letter, in one list: what each code means, and whether its
error sentence is written for people (the API shows those; the others carry internals, which
stay in the log and the dead letter).

A photo ends processed, rejected with one of these reasons, or as a duplicate of a photo
recorded already (streaming/sink.py); the image record's `reason` and the metric
stream_photos_rejected_total{reason} hold the codes. The core's refusals are its own
(preprocessing/errors.py); the others happen around it.
"""

from __future__ import annotations

from dataclasses import dataclass

from preprocessing.errors import CorruptImage, TooManyPixels, UnsupportedFormat


@dataclass(frozen=True)
class Reason:
    code: str
    about: str
    readable: bool = False  # its error is a sentence for the photo's sender


UNSUPPORTED_FORMAT = Reason(UnsupportedFormat.reason, "not a photo in a format we read", True)
CORRUPT = Reason(CorruptImage.reason, "a photo whose data cannot be decoded", True)
TOO_MANY_PIXELS = Reason(TooManyPixels.reason, "more pixels than the cap allows", True)
PROCESSING_ERROR = Reason("processing_error",
                          "the core failed on it: a bug or an exotic file (the log has why)")
INVALID_MESSAGE = Reason("invalid_message",
                         "a Kafka message the API would never write: bad headers, or a record "
                         "the reader could not parse")
STORAGE_REFUSED = Reason("storage_refused", "the object store refused to keep its bytes")
INDEX_REFUSED = Reason("index_refused",
                       "Elasticsearch refused its document; its tensors stay in the dataset")

REASONS = (UNSUPPORTED_FORMAT, CORRUPT, TOO_MANY_PIXELS, PROCESSING_ERROR, INVALID_MESSAGE,
           STORAGE_REFUSED, INDEX_REFUSED)
READABLE_CODES = frozenset(reason.code for reason in REASONS if reason.readable)
