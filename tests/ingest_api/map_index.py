"""An image index of a test's own, to fill with documents the map then shows.

Searches see only what this index holds, whatever other tests index at the same time. Its
name extends the session's index name, so it gets the same mappings (geo_point location).
"""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import replace

from adapters.elasticsearch_client import make_elasticsearch_client
from adapters.image_index import document_of
from infra.schemas import ensure_index, remove_index
from settings import Settings


class MapIndex:
    """A fresh image index; `settings` point the API at it; remove() deletes it."""

    def __init__(self, settings: Settings):
        name = f"{settings.elasticsearch_index}-map-{uuid.uuid4().hex[:8]}"
        self.settings = replace(settings, elasticsearch_index=name)
        self.es = make_elasticsearch_client(settings.elasticsearch_url, settings.elasticsearch_auth)
        ensure_index(self.es, self.settings.elasticsearch_index)

    def add(self, **row) -> str:
        """Index one manifest row (a processed one unless given), visible to searches on return."""
        image_id = hashlib.sha256(uuid.uuid4().bytes).hexdigest()
        row = {"image_id": image_id, "status": "processed", **row}
        self.es.index(
            index=self.settings.elasticsearch_index,
            id=row["image_id"],
            document=document_of(row, processed_at="2024-06-02T08:00:00Z"),
            refresh="wait_for",
        )
        return row["image_id"]

    def remove(self) -> None:
        remove_index(self.es, self.settings.elasticsearch_index)
