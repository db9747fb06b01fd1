"""The local servers (S3, Kafka, Elasticsearch) without Docker: install, start, stop, schemas.

Use `python -m infra up|down|status`, or `infra.stack.LocalStack(settings)` from Python.
"""
