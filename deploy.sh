#!/usr/bin/env bash
# Bring the pipeline up on this machine.
#   ./deploy.sh batch [ARGS]   the Spark batch job over img/ into out/dataset (ARGS go to python -m batch)
set -euo pipefail
cd "$(dirname "$0")"
./setup.sh

command="${1:-batch}"
case "$command" in
  batch)
    shift || true
    [ "$#" -gt 0 ] || set -- --input img --output out/dataset
    exec .venv/bin/python -m batch "$@"
    ;;
  *)
    echo "usage: ./deploy.sh batch [--input DIR --output DIR|s3://bucket/prefix]" >&2
    exit 2
    ;;
esac
