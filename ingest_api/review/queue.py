"""The review queue: the predicted photos that most need a person, in the order to show them.

1. Uncertain: the model's margin between its two best crops is below UNCERTAIN_MARGIN, the
   smallest first.
2. Differs: the prediction is not the photo's label.
3. The rest: every other prediction a person has not judged yet, the least certain first.

A photo leaves the queue once a person corrected or confirmed its prediction by that model
version (the label corrections say so), and comes back when another version predicts it. Of a
near-duplicate group only the photo most needing a person is shown; the next one comes up
once it is reviewed. Within each part the crops (as predicted) take turns, so one common crop
does not fill a page.

One search fetches the WINDOW photos most needing a person, in that order (Elasticsearch sorts
by part with a script, then by margin); grouping, turns and pages are done here.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from itertools import chain, zip_longest

from werkzeug.datastructures import MultiDict

from dataset import image_record
from ingest_api.ops.errors import InvalidFilter

UNCERTAIN_MARGIN = 0.2  # below it, the model hesitated between two crops
WINDOW = 2_000  # photos ordered per request; those past it come up as the first are reviewed
DEFAULT_LIMIT, MAX_LIMIT = 20, 100
PARTS = ("uncertain", "differs", "unreviewed")

QUEUE_FIELDS = ("image_id", "label", "prediction", "prediction_confidence", "prediction_margin",
                "model_version", "duplicate_group")

# The part of a photo, by index into PARTS: 0 uncertain, 1 differs, 2 the rest.
PART_SCRIPT = (
    "double m = doc['prediction_margin'].size() > 0 ? doc['prediction_margin'].value : 1.0;"
    "if (m < params.uncertain) { return 0; }"
    "if (doc['label'].size() > 0 && doc['label'].value != doc['prediction'].value) "
    "{ return 1; }"
    "return 2;"
)


@dataclass(frozen=True)
class Page:
    """Which slice of the queue a request asks for: `limit` photos from page `number` (1..)."""

    number: int = 1
    limit: int = DEFAULT_LIMIT

    @classmethod
    def from_args(cls, args: MultiDict) -> Page:
        """The page of a query string (`page`, `limit`); empty is the default."""
        number = _whole(args.get("page"), "page", 1, WINDOW) or 1
        limit = _whole(args.get("limit"), "limit", 1, MAX_LIMIT) or DEFAULT_LIMIT
        return cls(number, limit)


def _whole(text: str | None, name: str, low: int, high: int) -> int | None:
    text = (text or "").strip()
    if not text:
        return None
    if not text.isdigit() or not low <= int(text) <= high:
        raise InvalidFilter(f"{name} is a whole number from {low} to {high:,}")
    return int(text)


def queue_search(reviewed: dict[str, set[str]]) -> dict:
    """The search body of the WINDOW unreviewed predicted photos, most needing a person first;
    `reviewed`: model version -> the photos a person judged its prediction of."""
    judged = [{"bool": {"filter": [{"term": {"model_version": version}},
                                   {"terms": {"image_id": sorted(ids)}}]}}
              for version, ids in sorted(reviewed.items()) if ids]
    return {
        "query": {"bool": {
            "filter": [{"term": {"status": image_record.PROCESSED}},
                       {"exists": {"field": "prediction"}}],
            "must_not": judged,
        }},
        "size": WINDOW,
        "_source": list(QUEUE_FIELDS),
        "sort": [
            {"_script": {"type": "number", "order": "asc", "script": {
                "lang": "painless", "source": PART_SCRIPT,
                "params": {"uncertain": UNCERTAIN_MARGIN}}}},
            {"prediction_margin": {"order": "asc", "missing": "_last"}},
            "image_id",
        ],
        "track_total_hits": True,
    }


def queue_answer(result: dict, page: Page) -> dict:
    """The endpoint's JSON from the search's result: the page's photos, each with why it is
    there, and how many photos wait in all."""
    hits = result["hits"]
    ordered = in_turns([(PARTS[int(hit["sort"][0])], hit["_source"]) for hit in hits["hits"]])
    start = (page.number - 1) * page.limit
    shown = ordered[start:start + page.limit]
    more = len(ordered) > start + page.limit
    return {
        "items": [_item(part, source) for part, source in shown],
        "page": page.number,
        "limit": page.limit,
        "next_page": page.number + 1 if more else None,
        "waiting": hits["total"]["value"],
    }


def in_turns(photos: list[tuple[str, dict]]) -> list[tuple[str, dict]]:
    """(part, document) pairs, ordered by part, one per near-duplicate group (the first), the
    predicted crops of each part taking turns, each crop's photos in the order given."""
    seen_groups: set[str] = set()
    by_part: dict[str, dict[str, list]] = {part: defaultdict(list) for part in PARTS}
    for part, source in photos:
        group = source.get("duplicate_group") or source["image_id"]
        if group in seen_groups:
            continue
        seen_groups.add(group)
        by_part[part][source["prediction"]].append((part, source))
    return [photo for part in PARTS
            for photo in chain.from_iterable(zip_longest(*by_part[part].values()))
            if photo is not None]


def _item(part: str, source: dict) -> dict:
    image_id = source["image_id"]
    return {
        **{field: source.get(field) for field in QUEUE_FIELDS},
        "reason": part,
        "record": f"/images/{image_id}",
        "thumbnail": f"/images/{image_id}/thumbnail",
    }
