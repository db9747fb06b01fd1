"""The streaming job: Kafka -> core -> dataset format + Elasticsearch, exactly once per photo."""
