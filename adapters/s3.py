"""A boto3 S3 client for the configured endpoint (SeaweedFS here, MinIO in compose, or AWS)."""

from __future__ import annotations

import boto3
from botocore.config import Config

from settings import S3Settings


def make_s3_client(s3: S3Settings):
    """Return a boto3 S3 client with path-style addressing, which SeaweedFS and MinIO expect."""
    return boto3.client(
        "s3",
        endpoint_url=s3.endpoint_url,
        aws_access_key_id=s3.access_key,
        aws_secret_access_key=s3.secret_key,
        region_name=s3.region,
        config=Config(
            s3={"addressing_style": "path"},
            signature_version="s3v4",  # said, or botocore presigns URLs with the retired SigV2
            retries={"max_attempts": 5, "mode": "standard"},
            # No CRC32 of every body on top of SigV4's SHA-256 of it: a checksum only where an
            # operation requires one. The stream writes ~1 MB per photo; this is CPU per byte.
            request_checksum_calculation="when_required",
            connect_timeout=5,
            read_timeout=30,
        ),
    )
