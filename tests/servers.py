"""Small helpers for tests that run servers of their own next to the session's stack."""

from __future__ import annotations

import contextlib
import socket


def free_port() -> int:
    """A loopback port nothing listens on (right now)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def remove_bucket(s3, bucket: str) -> None:
    """Delete the bucket and everything in it; a bucket that was never made is fine."""
    with contextlib.suppress(s3.exceptions.NoSuchBucket):
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket):
            for item in page.get("Contents", []):
                s3.delete_object(Bucket=bucket, Key=item["Key"])
        s3.delete_bucket(Bucket=bucket)
