#!/usr/bin/env bash
# Bring the pipeline up on this machine (see infra/deploy.py and README.md).
#   ./deploy.sh [up]        the whole pipeline (docker compose, or the native stack without Docker),
#                           then img/'s photos through the API, the stream, S3 and Elasticsearch
#   ./deploy.sh status      what runs, the API's readiness, Elasticsearch's health, dead letters, disk
#   ./deploy.sh down        stop what ./deploy.sh started
#   ./deploy.sh batch [ARGS] the Spark batch job over img/ into out/dataset, no stack needed
#                           (ARGS go to python -m batch)
set -euo pipefail
cd "$(dirname "$0")"
./setup.sh

command="${1:-up}"
case "$command" in
  up|status|down)
    exec .venv/bin/python -m infra.deploy "$command"
    ;;
  batch)
    shift
    [ "$#" -gt 0 ] || set -- --input img --output out/dataset
    exec .venv/bin/python -m batch "$@"
    ;;
  *)
    echo "usage: ./deploy.sh [up|status|down|batch [--input DIR --output DIR|s3://bucket/prefix]]" >&2
    exit 2
    ;;
esac
