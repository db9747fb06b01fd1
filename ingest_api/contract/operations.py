"""What a route takes and answers, attached to its view for the OpenAPI contract (openapi.py).

A leaf module: every module with routes imports it, and it imports nothing of the app's.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

JSON = "application/json"


@dataclass(frozen=True)
class Body:
    """One success answer: what it means, its schema, its media type, and the headers it
    carries besides those every answer of its route does (name -> OpenAPI Header Object)."""

    description: str
    schema: dict = field(default_factory=dict)
    media_type: str = JSON
    headers: dict[str, dict] = field(default_factory=dict)


@dataclass(frozen=True)
class Operation:
    """What one route takes and answers, besides the errors every route shares.

    `errors` are the typed errors the route itself raises (a type stands for its subclasses);
    `parameters` are schemas of the rule's path arguments (a string if not given);
    `request_body` maps media types to schemas.
    """

    summary: str
    responses: dict[int, Body]
    errors: tuple[type[Exception], ...] = ()
    parameters: dict[str, dict] = field(default_factory=dict)
    request_body: dict[str, dict] | None = None
    description: str = ""


def documented(operation: Operation) -> Callable:
    """Attach `operation` to a view function, for the contract."""

    def mark(view):
        view.openapi = operation
        return view

    return mark
