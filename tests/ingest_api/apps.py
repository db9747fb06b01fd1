"""Apps under test, the addresses they are pointed at, and the token their test clients send.

An app from running_app() gives test clients that authenticate as TEST_DEVICE, with a token
issued once per session into the app's own token store; `app.test_client(token=None)` gives
an anonymous client, `app.test_client(token=t)` one that sends another token.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator
from contextlib import contextmanager

from flask import Flask
from flask.testing import FlaskClient

from ingest_api import create_app
from ingest_api.auth.store import TokenStore
from ingest_api.ops.closing import close_app
from settings import Settings

TEST_DEVICE = "test-device"


@functools.cache
def device_token(store_path: str, device: str = TEST_DEVICE) -> str:
    """A token of `device` in the store at `store_path`, issued once per test session."""
    return TokenStore(store_path).issue(device)


class BearerClient(FlaskClient):
    """A test client that sends `Authorization: Bearer <token>` with every request."""

    def __init__(self, *args, token: str | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        if token is not None:
            self.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {token}"


@contextmanager
def running_app(settings: Settings) -> Iterator[Flask]:
    """An app for a test, whose test clients authenticate; its clients closed at the end."""
    app = create_app({"TESTING": True, "SETTINGS": settings})
    token = device_token(settings.api_token_store) if settings.auth else None
    app.test_client_class = functools.partial(BearerClient, token=token)
    try:
        yield app
    finally:
        close_app(app)
