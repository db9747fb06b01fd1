#!/usr/bin/env bash
# Set up this machine for the pipeline: Java for Spark (apt, when missing), a venv in .venv with
# the pinned requirements and the local servers (infra/requirements.txt); --dev adds the test and
# lint tools. Idempotent: a second run only checks. Usage: ./setup.sh [--dev]
set -euo pipefail
cd "$(dirname "$0")"

if ! command -v java >/dev/null 2>&1; then
  echo "setup: installing a Java runtime for Spark (apt)"
  apt-get update -qq && apt-get install -y -qq openjdk-17-jre-headless >/dev/null
fi

requirements=(-r requirements.txt -r infra/requirements.txt)
[ "${1:-}" = "--dev" ] && requirements=(-r requirements-dev.txt)
stamp=".venv/.installed-$(cat requirements.txt infra/requirements.txt requirements-dev.txt | sha256sum | cut -c1-16)${1:-}"
if [ ! -f "$stamp" ]; then
  [ -x .venv/bin/python ] || python3 -m venv .venv
  echo "setup: installing ${requirements[*]} into .venv"
  .venv/bin/python -m pip install -q --upgrade pip
  .venv/bin/python -m pip install -q "${requirements[@]}"
  touch "$stamp"
fi
