"""The local servers (S3, Kafka, Elasticsearch) without Docker: start, stop, schemas
(./setup.sh installs them).

Use `python -m infra up|down|status`, or `infra.stack.LocalStack(settings)` from Python.
"""
