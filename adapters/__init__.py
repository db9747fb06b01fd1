"""Adapters at the edges: object storage, Kafka, Elasticsearch. The core never imports these."""
