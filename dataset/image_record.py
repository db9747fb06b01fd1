"""The image record: the one definition of what the pipeline knows about each photo.

Every other shape of it is derived from FIELDS: the manifest table's schema (dataset/manifest.py),
the search index's mapping (infra/schemas.py) and documents (adapters/image_index.py), and the
API's public fields (ingest_api/records/image_records.py). dataset/records.py fills a record in.
Adding a field means a line here, a value in manifest_row, and whatever computes it; a fact its
sender tells that the record keeps as sent (the label, the device) is a field by photo/facts.py.
"""

from __future__ import annotations

from dataclasses import dataclass

from photo.facts import KEPT_FACTS

# A record's status: its photo's tensors are in the dataset, or it was refused (with a reason).
# The API reports a finished photo with the same words.
PROCESSED, REJECTED = "processed", "rejected"
STATUSES = (PROCESSED, REJECTED)

# The kinds of value a field holds; each adapter maps a kind to its own type.
# "date" is a moment (ISO 8601 with an offset, written in UTC); "local_time" a wall-clock time
# without an offset (YYYY-MM-DDTHH:MM:SS), whose zone is not known.
KINDS = ("keyword", "text", "byte", "integer", "long", "float", "double", "date", "local_time",
         "keywords", "image")


@dataclass(frozen=True)
class Field:
    """One fact about a photo: its name, its kind, and whether the API shows it."""

    name: str
    kind: str
    public: bool = False
    about: str = ""

    def __post_init__(self):
        if self.kind not in KINDS:
            raise ValueError(f"{self.name}: unknown kind {self.kind!r}")


FIELDS = (
    Field("image_id", "keyword", True, "sha256 of the uploaded bytes"),
    *(Field(fact.name, "keyword", True, fact.about) for fact in KEPT_FACTS),
    Field("status", "keyword", False, "processed or rejected"),
    Field("reason", "keyword", False, "why a photo was rejected: a code"),
    Field("error", "text", False, "why a photo was rejected: a sentence"),
    Field("format", "keyword", True, "JPEG, PNG, HEIF, ..."),
    Field("width", "integer", True, "of the original, upright"),
    Field("height", "integer", True, "of the original, upright"),
    Field("orientation", "byte", True, "the EXIF orientation applied"),
    Field("lat", "double", True, "decimal degrees"),
    Field("lon", "double", True, "decimal degrees"),
    Field("gps_source", "keyword", True,
          "where lat and lon come from: exif (the photo's own GPS), client (the position its "
          "sender gave), or none (no position; lat and lon are null)"),
    Field("altitude", "float", True, "metres"),
    Field("captured_at", "date", True,
          "when the photo was taken, in UTC (ISO 8601, e.g. 2024-06-01T10:30:00Z); null unless "
          "the zone is known: EXIF OffsetTimeOriginal or OffsetTime, or a time its sender gave "
          "with an offset"),
    Field("captured_at_local", "local_time", True,
          "when the photo was taken, by the clock where it was taken, without an offset (ISO "
          "8601, e.g. 2024-06-01T12:30:00): the camera's EXIF time, or the time its sender "
          "gave. When captured_at is null its zone is unknown, and it is not a UTC time"),
    Field("camera", "keyword", True, "make and model"),
    Field("colour_profile", "keyword", True, "embedded ICC profile: none, srgb, X -> srgb..."),
    Field("exif_error", "keyword", True,
          "damaged: the photo's EXIF block cannot be read, so its GPS, capture time and camera "
          "are unknown; null when it was read or there was none"),
    Field("source", "keyword", False, "batch file or Kafka position"),
    Field("size_bytes", "long", True, "of the original"),
    Field("raw_key", "keyword", True,
          "where the original bytes are; none: only in the Kafka log, at source"),
    Field("shard_key", "keyword", True, "the WebDataset shard holding the tensors"),
    Field("variants", "keywords", True, "base, aug0, aug1, ..."),
    Field("sharpness", "double", True, "variance of the Laplacian of the 224 base's luma"),
    Field("brightness", "double", True, "mean luma of the 224 base, 0..1"),
    Field("clipped_fraction", "double", True, "share of the base's pixels at black or white"),
    Field("phash", "keyword", True, "64-bit perceptual hash, 16 hex digits"),
    Field("duplicate_group", "keyword", True, "near-duplicate group: its first image's id"),
    Field("split", "keyword", True, "train, val or test, from a hash of duplicate_group"),
    Field("thumbnail", "image", False, "a small JPEG of the base tensor, for the map"),
    Field("prediction", "keyword", True,
          "the crop the model predicts from the base tensor; null when no model could be had "
          "or the model failed on this photo"),
    Field("prediction_confidence", "float", True,
          "the model's probability of that crop, 0..1"),
    Field("prediction_margin", "float", True,
          "how far that probability is above the second best crop's, 0..1: small when the "
          "model hesitates (the review queue shows those first)"),
    Field("model_version", "keyword", True,
          "the version of the registered model (crop-classifier) that made the prediction"),
)

FIELD_NAMES = tuple(field.name for field in FIELDS)
PUBLIC_FIELDS = tuple(field.name for field in FIELDS if field.public)
