#!/usr/bin/env bash
# Set up (see setup.sh) and run the whole test suite: lint, then pytest on the real local servers.
# Extra arguments go to pytest, e.g. ./test.sh tests/preprocessing -x
set -euo pipefail
cd "$(dirname "$0")"
./setup.sh --dev

.venv/bin/ruff check .
status=0
.venv/bin/python -m pytest "$@" || status=$?
if [ "$status" -eq 5 ]; then
  echo "test.sh: pytest collected no tests; that is a failure here" >&2
  exit 1
fi
exit "$status"
