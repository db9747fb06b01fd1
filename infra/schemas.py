"""The buckets, topic and index the pipeline expects, each created only if missing.

Runs on schemas of their own (tests, benchmarks) remove them with the remove_ functions.
`python -m infra.schemas [s3] [kafka] [es]` applies them to servers started elsewhere (the
Kubernetes operators' of infra/k8s/), from the pipeline's image, which has no local servers.
"""

from __future__ import annotations

import contextlib
import json
import sys
from urllib.parse import urlsplit

from botocore.exceptions import BotoCoreError, ClientError
from elastic_transport import TransportError
from elasticsearch import Elasticsearch
from kafka import KafkaAdminClient
from kafka.admin import NewTopic
from kafka.errors import KafkaError, TopicAlreadyExistsError

from adapters.elasticsearch_client import make_elasticsearch_client
from adapters.s3 import make_s3_client
from dataset.image_record import FIELDS, PROCESSED
from settings import Settings

SCHEMA_SERVERS = ("s3", "kafka", "es")
_BUCKET_EXISTS = ("BucketAlreadyOwnedByYou", "BucketAlreadyExists")

# Second line of defence behind the values the core and the client facts rules make safe: a
# keyword over 256 characters is kept in _source but not indexed (Lucene refuses terms over
# 32,766 bytes, and would refuse the whole document), and a malformed date, number or point
# is dropped from the index, not the document. Elasticsearch refusing a document would make
# its photo a dead letter; these make that a field without a search instead.
KEYWORD = {"type": "keyword", "ignore_above": 256}
LENIENT = {"ignore_malformed": True}

COMPOSE_INDEX_PLACEHOLDER = "__ELASTICSEARCH_INDEX__"

ES_TYPES = {
    "keyword": KEYWORD,
    "text": {"type": "text"},
    "byte": {"type": "byte", **LENIENT},
    "integer": {"type": "integer", **LENIENT},
    "long": {"type": "long", **LENIENT},
    "float": {"type": "float", **LENIENT},
    "double": {"type": "double", **LENIENT},
    "date": {"type": "date", **LENIENT},
    # a wall-clock time: searchable by range, though its zone is unknown (Elasticsearch takes
    # it as UTC)
    "local_time": {"type": "date", "format": "strict_date_hour_minute_second", **LENIENT},
    "keywords": KEYWORD,  # any field of Elasticsearch may hold a list
    "image": {"type": "binary"},  # base64
}

# The image record's fields, and two of the document's own: where (a point for the map's
# queries) and when the stream or the batch job indexed it.
IMAGE_MAPPINGS = {
    "properties": {
        **{field.name: ES_TYPES[field.kind] for field in FIELDS},
        "location": {"type": "geo_point", **LENIENT},
        "processed_at": {"type": "date"},
    }
}


def image_template(index: str) -> dict:
    """The index template of the image index `index` and `index-*`: one shard, no replicas."""
    return {
        "index_patterns": [index, f"{index}-*"],
        "template": {
            "settings": {"number_of_shards": 1, "number_of_replicas": 0},
            "mappings": IMAGE_MAPPINGS,
        },
    }


def compose_template_json() -> str:
    """The template for compose's es-init.sh, which puts in the index name from its env."""
    return json.dumps(image_template(COMPOSE_INDEX_PLACEHOLDER), indent=2) + "\n"


def apply_schemas(settings: Settings, components: list[str]) -> None:
    """Create what the given servers ("s3", "kafka", "es") should hold for the pipeline."""
    s = settings
    if "s3" in components and s.dataset_root.startswith("s3://"):
        ensure_bucket(make_s3_client(s.s3), urlsplit(s.dataset_root).netloc)
    if "kafka" in components:
        ensure_topic(s.kafka_bootstrap_servers, s.kafka_topic, s.kafka_partitions)
    if "es" in components:
        es = make_elasticsearch_client(s.elasticsearch_url, s.elasticsearch_auth)
        ensure_index(es, s.elasticsearch_index)


def main(argv: list[str]) -> int:
    """Apply the schemas of the servers named in argv (all three by default) per Settings."""
    unknown = set(argv) - set(SCHEMA_SERVERS)
    if unknown:
        print(f"unknown servers: {', '.join(sorted(unknown))}", file=sys.stderr)
        return 2
    settings = Settings.from_env()
    addresses = {"s3": settings.s3.endpoint_url, "kafka": settings.kafka_bootstrap_servers,
                 "es": settings.elasticsearch_url}
    for server in argv or list(SCHEMA_SERVERS):
        try:
            apply_schemas(settings, [server])
        except (BotoCoreError, KafkaError, TransportError) as error:
            print(f"schemas: {server} does not answer at {addresses[server]} "
                  f"({type(error).__name__})", file=sys.stderr)
            return 1
    return 0


def remove_schemas(settings: Settings, components: list[str]) -> None:
    """Remove what apply_schemas creates for the given servers; what is missing is fine."""
    s = settings
    if "s3" in components and s.dataset_root.startswith("s3://"):
        remove_bucket(make_s3_client(s.s3), urlsplit(s.dataset_root).netloc)
    if "kafka" in components:
        remove_topics(s.kafka_bootstrap_servers, [s.kafka_topic])
    if "es" in components:
        es = make_elasticsearch_client(s.elasticsearch_url, s.elasticsearch_auth)
        remove_index(es, s.elasticsearch_index)


def ensure_bucket(s3, bucket: str) -> None:
    """Create the S3 bucket unless it exists."""
    try:
        s3.create_bucket(Bucket=bucket)
    except ClientError as error:
        if error.response["Error"]["Code"] not in _BUCKET_EXISTS:
            raise


def ensure_topic(bootstrap_servers: str, topic: str, partitions: int) -> None:
    """Create the Kafka topic with `partitions` partitions unless it exists."""
    admin = KafkaAdminClient(bootstrap_servers=bootstrap_servers, client_id="infra-schemas")
    try:
        admin.create_topics([NewTopic(topic, num_partitions=partitions, replication_factor=1)])
    except TopicAlreadyExistsError:
        pass
    finally:
        admin.close()


def ensure_index(es: Elasticsearch, index: str) -> None:
    """Install the image template for `index` and `index-*`, and create `index` unless it exists.

    One shard and no replicas: the local server is a single node, where replicas never start.
    The priority is the name's length, so the template of "images-test" may overlap that of
    "images" (whose pattern "images-*" it falls under): the more specific name wins.
    """
    es.indices.put_index_template(name=index, priority=len(index), **image_template(index))
    if es.indices.exists(index=index):
        es.indices.put_mapping(index=index, **IMAGE_MAPPINGS)  # harden an older index
        # Documents indexed before the record's status was called "processed" say "ok".
        es.update_by_query(index=index, query={"term": {"status": "ok"}}, conflicts="proceed",
                           script={"source": "ctx._source.status = params.status",
                                   "params": {"status": PROCESSED}}, refresh=True)
        # and those of photos without a position have no gps_source (null), now "none".
        es.update_by_query(index=index, conflicts="proceed", refresh=True, query={"bool": {
            "must_not": [{"exists": {"field": "gps_source"}}, {"exists": {"field": "lat"}}]}},
            script={"source": "ctx._source.gps_source = params.none", "params": {"none": "none"}})
    else:
        es.indices.create(index=index)


def remove_bucket(s3, bucket: str) -> None:
    """Delete the bucket and everything in it, unless there is no such bucket."""
    with contextlib.suppress(s3.exceptions.NoSuchBucket):
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket):
            if keys := [{"Key": item["Key"]} for item in page.get("Contents", [])]:
                s3.delete_objects(Bucket=bucket, Delete={"Objects": keys, "Quiet": True})
        s3.delete_bucket(Bucket=bucket)


def remove_topics(bootstrap_servers: str, topics: list[str]) -> None:
    """Delete those of the Kafka topics that exist."""
    admin = KafkaAdminClient(bootstrap_servers=bootstrap_servers, client_id="infra-schemas")
    try:
        if existing := sorted(set(topics) & set(admin.list_topics())):
            admin.delete_topics(existing)
    finally:
        admin.close()


def remove_index(es: Elasticsearch, index: str) -> None:
    """Delete the index and the template ensure_index installed for it, if they exist."""
    es.options(ignore_status=404).indices.delete(index=index)
    es.options(ignore_status=404).indices.delete_index_template(name=index)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
