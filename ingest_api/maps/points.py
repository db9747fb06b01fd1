"""The live map's data: the placed photos matching the map's filters, from Elasticsearch.

One search answers the page: the processed photos that have a position (the hits), how many
matching photos have none (an aggregation), and every crop processed so far as a label or a
prediction (global aggregations, so the page's crop filter and legend keep the crops the filter
hides, and a crop has one colour whether the map colours by label or by prediction). Another
finds the photos whose id starts with what a person typed, whatever the filters.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from werkzeug.datastructures import MultiDict

from dataset import image_record
from ingest_api.ops.errors import InvalidFilter, InvalidImageId
from ingest_api.records.image_records import public_record

# Elasticsearch's default max_result_window: more placed photos than this are left off.
MAX_POINTS = 10_000

GPS_SOURCES = ("exif", "client")

# The fields of a document a marker and its popup use.
POINT_FIELDS = ("image_id", "label", "lat", "lon", "captured_at", "captured_at_local", "device_id",
                "gps_source", "prediction", "prediction_confidence", "model_version")

# A photo whose prediction is not its label: both known, and not the same crop. A script, since
# a label corrected a moment ago must count at once.
DIFFERS = {"script": {"script": {"lang": "painless", "source": (
    "doc['label'].size() > 0 && doc['prediction'].size() > 0 && "
    "doc['label'].value != doc['prediction'].value")}}}
YES = ("yes", "on", "true", "1")

PROCESSED = {"term": {"status": image_record.PROCESSED}}
PLACED = {"exists": {"field": "location"}}

# What the search box takes: an image id or its first characters, and how many photos it shows.
ID_START = re.compile(r"[0-9a-f]{1,64}")
MAX_FOUND = 5


@dataclass(frozen=True)
class MapFilters:
    """What the map shows: a crop, capture days (inclusive), a device and a GPS source.

    A capture day is the UTC day of captured_at or, for a photo whose zone is unknown (no
    captured_at), the day of its local time, captured_at_local: the only day it has.
    """

    crop: str | None = None
    since: date | None = None
    until: date | None = None
    device: str | None = None
    gps_source: str | None = None
    differs: bool = False  # only photos whose prediction is not their label
    min_confidence: float | None = None  # only predictions at least this confident (0..1)
    max_confidence: float | None = None  # only predictions at most this confident

    @classmethod
    def from_args(cls, args: MultiDict) -> MapFilters:
        """The filters of a query string (crop, from, to, device, gps_source, differs,
        min_confidence, max_confidence); empty is unset."""
        value = {name: (args.get(name) or "").strip() or None for name in
                 ("crop", "from", "to", "device", "gps_source", "differs", "min_confidence",
                  "max_confidence")}
        if value["gps_source"] not in (None, *GPS_SOURCES):
            raise InvalidFilter(f"gps_source is one of {', '.join(GPS_SOURCES)}")
        since, until = _day(value["from"], "from"), _day(value["to"], "to")
        if since and until and since > until:
            raise InvalidFilter("the date range ends before it starts")
        if value["differs"] not in (None, *YES):
            raise InvalidFilter("differs is yes, or left out")
        low = _confidence(value["min_confidence"], "min_confidence")
        high = _confidence(value["max_confidence"], "max_confidence")
        if low is not None and high is not None and low > high:
            raise InvalidFilter("the confidence range ends before it starts")
        return cls(value["crop"], since, until, value["device"], value["gps_source"],
                   value["differs"] is not None, low, high)

    def clauses(self) -> list[dict]:
        """Elasticsearch filter clauses: processed photos matching every filter set."""
        clauses = [PROCESSED]
        for field, wanted in (
            ("label", self.crop), ("device_id", self.device), ("gps_source", self.gps_source)
        ):
            if wanted is not None:
                clauses.append({"term": {field: wanted}})
        if self.since or self.until:
            clauses.append(self._days())
        if self.differs:
            clauses.append(DIFFERS)
        if self.min_confidence is not None or self.max_confidence is not None:
            bounds = {"gte": self.min_confidence, "lte": self.max_confidence}
            clauses.append({"range": {"prediction_confidence": {
                name: bound for name, bound in bounds.items() if bound is not None}}})
        return clauses

    def _days(self) -> dict:
        """The capture days clause: captured_at in them, or captured_at_local when it is unset."""
        days = {"format": "strict_date"}
        if self.since:
            days["gte"] = self.since.isoformat()
        if self.until:
            days["lte"] = f"{self.until.isoformat()}||/d"
        zone_unknown = {"bool": {
            "must_not": [{"exists": {"field": "captured_at"}}],
            "filter": [{"range": {"captured_at_local": days}}],
        }}
        return {"bool": {"should": [{"range": {"captured_at": days}}, zone_unknown],
                         "minimum_should_match": 1}}


def _confidence(text: str | None, name: str) -> float | None:
    if text is None:
        return None
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not 0 <= value <= 1:
        raise InvalidFilter(f"{name} is a number from 0 to 1, such as 0.8")
    return value


def _day(text: str | None, name: str) -> date | None:
    if text is None:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise InvalidFilter(f"{name} is a day written YYYY-MM-DD") from None


def points_search(filters: MapFilters) -> dict:
    """The search body (query DSL) of the map's answer for `filters`."""
    return {
        "query": {"bool": {"filter": filters.clauses()}},
        "post_filter": PLACED,
        "size": MAX_POINTS,
        "_source": list(POINT_FIELDS),
        "sort": [{"captured_at": {"order": "desc", "missing": "_last"}}, "_doc"],
        "track_total_hits": True,
        "aggs": {
            "without_gps": {"filter": {"bool": {"must_not": [PLACED]}}},
            "crops": {
                "global": {},
                "aggs": {"processed": {
                    "filter": PROCESSED,
                    "aggs": {"labels": {"terms": {"field": "label", "size": 1000}},
                             "predictions": {"terms": {"field": "prediction", "size": 1000}}},
                }},
            },
        },
    }


def points_answer(result: dict) -> dict:
    """The endpoint's JSON from the search's result."""
    hits = result["hits"]
    points = [_point(hit["_source"]) for hit in hits["hits"]]
    aggregations = result["aggregations"]
    processed = aggregations["crops"]["processed"]
    crops = {bucket["key"] for terms in ("labels", "predictions")
             for bucket in processed[terms]["buckets"]}
    return {
        "points": points,
        "placed": hits["total"]["value"],
        "truncated": hits["total"]["value"] > len(points),
        "without_gps": aggregations["without_gps"]["doc_count"],
        "crops": sorted(crops),
    }


def _point(source: dict) -> dict:
    image_id = source["image_id"]
    return {
        **{field: source.get(field) for field in POINT_FIELDS},
        "record": f"/images/{image_id}",
        "thumbnail": f"/images/{image_id}/thumbnail",
    }


def id_start(args: MultiDict) -> str:
    """The `id` of a query string, in lower case; InvalidImageId unless it is hex, 1 to 64."""
    text = (args.get("id") or "").strip().lower()
    if not ID_START.fullmatch(text):
        raise InvalidImageId("type an image id or its first characters: 1 to 64 of 0-9 and a-f")
    return text


def find_search(start: str) -> dict:
    """The search body of the photos, processed or rejected, whose id starts with `start`."""
    return {
        "query": {"bool": {"filter": [
            {"prefix": {"image_id": start}}, {"terms": {"status": list(image_record.STATUSES)}},
        ]}},
        "size": MAX_FOUND,
        "_source": {"excludes": ["thumbnail"]},
        "sort": ["image_id"],
        "track_total_hits": True,
    }


def find_answer(result: dict) -> dict:
    """The records of the first photos found (by id), and how many were found in all."""
    hits = result["hits"]
    return {
        "found": hits["total"]["value"],
        "records": [public_record(hit["_source"]) for hit in hits["hits"]],
    }
