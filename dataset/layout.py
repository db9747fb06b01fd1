"""Object names of the dataset format, all derived from image ids and group names.

Deriving every name from content (the image id) and from where a group came from (a batch
bucket, a Kafka partition and offset) makes re-runs and replays overwrite, never duplicate.
"""

from __future__ import annotations

SHARD_PREFIX = "shards/"
MAP_KEY = "map.html"


def raw_key(image_id: str, extension: str) -> str:
    return f"raw/{image_id}.{extension}"


def rejected_key(image_id: str) -> str:
    return f"rejected/{image_id}.json"


def shard_key(group: str, name: str) -> str:
    return f"{SHARD_PREFIX}{group}/{name}.tar"


def sample_key(image_id: str, variant: str) -> str:
    """A WebDataset key: no dots, since WebDataset splits a member name at its first dot."""
    return f"{image_id}_{variant}"


def image_id_of_sample(member_name: str) -> str:
    """The image id of a shard's tar member ("<id>_<variant>.npy"): ids are hex, without "_"."""
    return member_name.partition("_")[0]
