"""Every move of a registered model's aliases, kept: MLflow keeps only where an alias points now.

One JSON object per change on the stack's S3, s3://<mlflow_bucket>/alias-history/<model>/, named
by the time of the change and a random suffix: writing a change never reads or rewrites another
(no read-modify-write, so two operators at once both land), and listing the prefix gives them in
order. A change is written before the alias moves; if the move then fails, its record is deleted
again (model/promotion.py), so the history holds only what happened.
"""

from __future__ import annotations

import json
import os
import pwd
import socket
import uuid
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime

from botocore.exceptions import BotoCoreError, ClientError

from adapters.s3 import make_s3_client
from model.registry import RegistryUnavailable
from settings import Settings

PREFIX = "alias-history"


@dataclass(frozen=True)
class AliasChange:
    """One move of one alias: from a version (None: it pointed nowhere) to another (None: it
    was removed), when, why and by whom."""

    model: str
    alias: str
    from_version: str | None
    to_version: str | None
    action: str  # promote, refuse, rollback
    reason: str
    forced: bool = False
    at: str = field(default_factory=lambda: datetime.now(UTC).isoformat(timespec="microseconds"))
    mlflow_user: str = ""
    os_user: str = field(default_factory=lambda: pwd.getpwuid(os.getuid()).pw_name)
    host: str = field(default_factory=socket.gethostname)
    gate: dict = field(default_factory=dict)  # the evaluation that decided it, if any

    @property
    def key(self) -> str:
        stamp = datetime.fromisoformat(self.at).strftime("%Y%m%dT%H%M%S.%fZ")
        return f"{PREFIX}/{self.model}/{stamp}-{uuid.uuid4().hex[:8]}.json"

    def __str__(self) -> str:
        moved = f"{self.from_version or '-'} -> {self.to_version or '-'}"
        text = (f"{self.at}  {self.alias:<10} {moved:<10} {self.action:<8} "
                f"by {self.mlflow_user} (os user {self.os_user}@{self.host})")
        forced = " FORCED" if self.forced else ""
        return text + forced + (f": {self.reason}" if self.reason else "")


def where(settings: Settings) -> str:
    return f"s3://{settings.mlflow_bucket}/{PREFIX}/{settings.model_name}/"


def record(settings: Settings, change: AliasChange) -> str:
    """Write the change as an object of its own; its key."""
    key = change.key
    try:
        make_s3_client(settings.s3).put_object(
            Bucket=settings.mlflow_bucket, Key=key, ContentType="application/json",
            Body=json.dumps(asdict(change), indent=2).encode())
    except (BotoCoreError, ClientError) as error:
        raise RegistryUnavailable(f"the alias history at {where(settings)} cannot be written "
                                  f"({type(error).__name__}): no alias was moved") from error
    return key


def forget(settings: Settings, key: str) -> None:
    """Delete the record of a change that did not happen after all."""
    make_s3_client(settings.s3).delete_object(Bucket=settings.mlflow_bucket, Key=key)


def changes(settings: Settings) -> list[AliasChange]:
    """Every recorded change of the settings' model, oldest first."""
    s3 = make_s3_client(settings.s3)
    prefix = f"{PREFIX}/{settings.model_name}/"
    try:
        keys = [item["Key"]
                for page in s3.get_paginator("list_objects_v2").paginate(
                    Bucket=settings.mlflow_bucket, Prefix=prefix)
                for item in page.get("Contents", [])]
        bodies = [s3.get_object(Bucket=settings.mlflow_bucket, Key=key)["Body"].read()
                  for key in sorted(keys)]
    except s3.exceptions.NoSuchBucket:
        return []
    except (BotoCoreError, ClientError) as error:
        raise RegistryUnavailable(f"the alias history at {where(settings)} cannot be read "
                                  f"({type(error).__name__})") from error
    return [AliasChange(**json.loads(body)) for body in bodies]


def previous_champion(history: list[AliasChange], current: str) -> str | None:
    """The version that was champion before `current` was promoted: the `from` of the newest
    promotion to it. Rollbacks are not promotions, so rolling back again goes one further
    back (v1 -> v2 -> v3, then rollback: v2, rollback: v1)."""
    for change in reversed(history):
        if change.alias == "champion" and change.action == "promote" \
                and change.to_version == current:
            return change.from_version
    return None
