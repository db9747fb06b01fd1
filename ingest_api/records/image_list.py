"""GET /images?device=mine: the calling device's own photos, newest first, a page at a time.

One search of the image index, on the documents' `device_id` (the device whose token sent the
photo). Only recorded photos are listed (processed or rejected): a photo still queued for the
stream has no document yet. Pages are counted from the newest, so a photo recorded while a
client pages moves the later pages by one.
"""

from __future__ import annotations

from dataclasses import dataclass

from werkzeug.datastructures import MultiDict

from ingest_api.ops.errors import InvalidFilter
from ingest_api.records.image_records import PUBLIC_FIELDS, STATUSES, public_record

PER_PAGE = 20
MAX_PER_PAGE = 100
MAX_RESULT_WINDOW = 10_000  # Elasticsearch's default: photos past it cannot be paged to
RECORD_SOURCE = [*PUBLIC_FIELDS, "status", "reason", "error"]  # what public_record reads


@dataclass(frozen=True)
class ImagePage:
    """Which page of a device's photos a client asks for."""

    device: str
    page: int
    per_page: int

    @classmethod
    def from_args(cls, args: MultiDict, device: str | None) -> ImagePage:
        """The page of `?device=mine&page=N&per_page=M` for the calling device."""
        if args.get("device") != "mine":
            raise InvalidFilter("list your own photos with ?device=mine")
        if device is None:
            raise InvalidFilter("this API runs without device tokens, so no photo is yours")
        page = _whole(args.get("page"), "page", 1, MAX_RESULT_WINDOW, default=1)
        per_page = _whole(args.get("per_page"), "per_page", 1, MAX_PER_PAGE, default=PER_PAGE)
        if page * per_page > MAX_RESULT_WINDOW:
            raise InvalidFilter(f"only the newest {MAX_RESULT_WINDOW:,} photos can be paged to")
        return cls(device, page, per_page)

    def search(self) -> dict:
        """The search body (query DSL) of this page."""
        return {
            "query": {"bool": {"filter": [{"term": {"device_id": self.device}},
                                          {"terms": {"status": list(STATUSES)}}]}},
            "sort": [{"processed_at": {"order": "desc", "missing": "_last"}},
                     {"image_id": "asc"}],
            "from": (self.page - 1) * self.per_page,
            "size": self.per_page,
            "_source": RECORD_SOURCE,
            "track_total_hits": True,
        }

    def answer(self, result: dict, path: str) -> dict:
        """The endpoint's JSON from the search's result; `path` is the endpoint's own."""
        hits = result["hits"]
        total = hits["total"]["value"]
        more = self.page * self.per_page < min(total, MAX_RESULT_WINDOW)
        return {
            "images": [public_record(hit["_source"]) for hit in hits["hits"]],
            "page": self.page,
            "per_page": self.per_page,
            "total": total,
            "next": (f"{path}?device=mine&page={self.page + 1}&per_page={self.per_page}"
                     if more else None),
        }


def _whole(text: str | None, name: str, low: int, high: int, default: int) -> int:
    if text is None or text == "":
        return default
    if not text.isdecimal() or not low <= int(text) <= high:
        raise InvalidFilter(f"{name} is a whole number from {low} to {high:,}")
    return int(text)
