"""Run the core's command line: `python -m preprocessing inspect FILE...`."""

import sys

from preprocessing.cli import main

sys.exit(main())
