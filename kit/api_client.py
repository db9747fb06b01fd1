"""One HTTP client of the API (ingest_api/), for tests, benchmarks and the screenshot script.

It speaks to a running server over the network, as a phone or a web page would: a base URL (the
public port behind nginx, or gunicorn's internal one), a device token or none, and one method per
operation of the API. `request` sends anything else, hostile requests included. Answers of every
status come back as an `Answer`; only a request that gets no answer raises `Unanswered`.

By default each request goes on a connection of its own, closed after the answer, so a server's
workers share the requests as they share a crowd of phones'. `connections=N` keeps up to N
open instead, for a benchmark's N threads. urllib3 does the HTTP; nothing retries, nothing
follows a redirect.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import urllib3


class Unanswered(Exception):
    """The request got no answer: refused, reset or timed out."""


@dataclass(frozen=True)
class Answer:
    """The API's answer: its status, headers (case-insensitive) and body."""

    status: int
    headers: urllib3.HTTPHeaderDict
    data: bytes

    @property
    def text(self) -> str:
        return self.data.decode()

    def json(self) -> Any:
        return json.loads(self.data)


@dataclass(frozen=True)
class ApiClient:
    """The API at `base_url`, called as the device whose bearer `token` it holds, if any,
    with `headers` on every request (a web view's Origin, say). `timeout`: seconds to connect
    and again to wait for each read, or a urllib3.Timeout (`total=` for a deadline)."""

    base_url: str
    token: str | None = None
    timeout: float | urllib3.Timeout = 30
    connections: int = 0
    headers: Mapping[str, str] = field(default_factory=dict)
    _pool: urllib3.PoolManager | None = field(default=None, init=False, repr=False, compare=False)

    def __post_init__(self):
        object.__setattr__(self, "base_url", self.base_url.rstrip("/"))
        if self.connections:
            object.__setattr__(self, "_pool", urllib3.PoolManager(
                maxsize=self.connections, block=True, retries=False))

    def request(self, method: str, path: str, *, headers: dict[str, str] | None = None,
                timeout: float | urllib3.Timeout | None = None, **options) -> Answer:
        """Any request: `options` are urllib3's (`fields`, `body`, `json`); a query goes in
        `fields` of a GET. The client's token and headers go first, this request's after."""
        sent = {**self.authorization(), **self.headers, **(headers or {})}
        arguments = dict(headers=sent, timeout=self.timeout if timeout is None else timeout,
                         **options)
        try:
            if self._pool is not None:
                response = self._pool.request(method, self.base_url + path, **arguments)
            else:
                with urllib3.PoolManager(retries=False) as pool:
                    response = pool.request(method, self.base_url + path, **arguments)
        except urllib3.exceptions.HTTPError as error:
            raise Unanswered(f"{method} {path}: {error}") from error
        return Answer(response.status, response.headers, response.data)

    def authorization(self) -> dict[str, str]:
        """The header that carries the token, or none."""
        return {} if self.token is None else {"Authorization": f"Bearer {self.token}"}

    def post_image(self, photo: bytes, filename: str = "photo.jpg", content_type: str | None = None,
                   **facts) -> Answer:
        """POST /post_image: the photo as the form's `file`, the sender's facts (label,
        latitude, ...) as its other fields."""
        body, form_type = upload_form(photo, filename, content_type, **facts)
        return self.request("POST", "/post_image", body=body, headers={"Content-Type": form_type})

    def classify(self, photo: bytes, filename: str = "photo.jpg") -> Answer:
        """POST /classify: the champion model's answer for the photo."""
        body, form_type = upload_form(photo, filename)
        return self.request("POST", "/classify", body=body, headers={"Content-Type": form_type})

    def image(self, image_id: str) -> Answer:
        """GET /images/<id>: the photo's record (404 until the pipeline has recorded it)."""
        return self.request("GET", f"/images/{image_id}")

    def images(self, **query) -> Answer:
        """GET /images: a page of the device's photos (`device="mine"`, `page`, `per_page`)."""
        return self.request("GET", "/images", fields=query)

    def review_queue(self, **query) -> Answer:
        """GET /review/queue: the predictions a person should judge (`page`, `limit`)."""
        return self.request("GET", "/review/queue", fields=query)

    def correct_label(self, image_id: str, label: str, **more) -> Answer:
        """PUT /images/<id>/label: a label correction (`note`, `prediction`, `review` in `more`)."""
        return self.request("PUT", f"/images/{image_id}/label", json={"label": label, **more})

    def labels(self, image_id: str) -> Answer:
        """GET /images/<id>/labels: the photo's label history."""
        return self.request("GET", f"/images/{image_id}/labels")

    def is_alive(self) -> Answer:
        return self.request("GET", "/is_alive")

    def readyz(self) -> Answer:
        return self.request("GET", "/readyz")

    def openapi(self) -> Answer:
        return self.request("GET", "/openapi.json")

    def metrics(self) -> Answer:
        """GET /metrics, Prometheus's text: served on gunicorn's internal port only."""
        return self.request("GET", "/metrics")


def upload_form(photo: bytes, filename: str = "photo.jpg", content_type: str | None = None,
                **facts) -> tuple[bytes, str]:
    """The multipart body of an upload and its Content-Type: the facts, then the file. Without
    a content type the file's part carries none."""
    fields = {**{name: str(value) for name, value in facts.items()},
              "file": (filename, photo, content_type)}
    return urllib3.encode_multipart_formdata(fields)
