"""`python -m ingest_api`: serve the API with gunicorn, or manage device tokens (see cli.py)."""

import sys

from ingest_api.cli import main

sys.exit(main())
