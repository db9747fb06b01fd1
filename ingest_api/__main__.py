"""`python -m ingest_api`: serve the API with gunicorn on Settings.api_host:api_port."""

from ingest_api.server import main

main()
