#!/usr/bin/env bash
# Set up this machine for the pipeline: Java for Spark, nginx and Prometheus (apt, when missing), a venv in
# .venv with the pinned requirements, the local servers (infra/requirements.txt), the MLflow
# server in a venv of its own (.venv/mlflow-server) and the project itself (pip install -e .);
# --dev adds the test and lint tools. Idempotent: a second run only
# checks. Usage: ./setup.sh [--dev]
set -euo pipefail
cd "$(dirname "$0")"

# Java for Spark; nginx, the buffering front of the API (infra/nginx.py).
packages=()
command -v java >/dev/null 2>&1 || packages+=(openjdk-17-jre-headless)
command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ] || packages+=(nginx)
# Monitoring (infra/monitoring/): Prometheus with promtool, Alertmanager and the blackbox
# exporter, without their recommends (node-exporter and disk tools: 13 packages instead of 36).
lean=()
command -v prometheus >/dev/null 2>&1 || lean+=(prometheus)
command -v prometheus-alertmanager >/dev/null 2>&1 || lean+=(prometheus-alertmanager)
command -v prometheus-blackbox-exporter >/dev/null 2>&1 || lean+=(prometheus-blackbox-exporter)
# --dev: Debian's chromium, the headless browser the page tests drive with Playwright
# (tests/pages/); Playwright's own browser download does not work on these machines.
[ "${1:-}" = "--dev" ] && [ ! -x /usr/bin/chromium ] && packages+=(chromium)
if [ "${#packages[@]}" -gt 0 ] || [ "${#lean[@]}" -gt 0 ]; then
  echo "setup: installing ${packages[*]} ${lean[*]} (apt)"
  apt-get update -qq
  [ "${#packages[@]}" -eq 0 ] ||
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${packages[@]}" >/dev/null
  [ "${#lean[@]}" -eq 0 ] ||
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${lean[@]}" >/dev/null
  if [[ " ${packages[*]} " == *" nginx "* ]] && command -v systemctl >/dev/null 2>&1; then
    # Debian starts a system-wide nginx on :80; the stack runs its own, so stop that one.
    systemctl disable --now nginx >/dev/null 2>&1 || true
  fi
fi

requirements=(-r requirements.txt -r infra/requirements.txt)
[ "${1:-}" = "--dev" ] && requirements=(-r requirements-dev.txt)
installed=".venv/.installed-$(cat requirements.txt infra/requirements.txt requirements-model.txt requirements-dev.txt | sha256sum | cut -c1-16)"
stamp="$installed${1:-}"
# A --dev install holds the runtime's requirements too: ./deploy.sh after ./setup.sh --dev installs nothing.
if [ ! -f "$stamp" ] && [ ! -f "$installed--dev" ]; then
  [ -x .venv/bin/python ] || python3 -m venv .venv
  echo "setup: installing ${requirements[*]} into .venv"
  .venv/bin/python -m pip install -q --upgrade pip
  .venv/bin/python -m pip install -q "${requirements[@]}"
  touch "$stamp"
fi

# The project itself, in place (pip install -e .), so that scripts and notebooks outside the
# checkout import dataset, settings, ...; again whenever .venv finds them elsewhere (another
# checkout) or not at all, or pyproject.toml changed (a new package). Its dependencies are the
# requirements installed above.
here=$(pwd -P)
project_at=$(cd / && "$here/.venv/bin/python" -c 'import importlib.util as u, os
spec = u.find_spec("dataset")
print(os.path.realpath(spec.submodule_search_locations[0]) if spec else "")')
project_stamp=".venv/.project-$(sha256sum < pyproject.toml | cut -c1-16)"
if [ "$project_at" != "$here/dataset" ] || [ ! -f "$project_stamp" ]; then
  echo "setup: installing the project into .venv (pip install -e .)"
  if ! log=$(.venv/bin/python -m pip install -q --no-deps -e . 2>&1); then
    echo "$log" >&2
    exit 1
  fi
  rm -f .venv/.project-*
  touch "$project_stamp"
fi

# The MLflow server's own venv, inside .venv: full mlflow clashes with the project's pins
# (infra/requirements-mlflow.txt says which); stamped like .venv, so a second run only checks.
mlflow_venv=.venv/mlflow-server
mlflow_stamp="$mlflow_venv/.installed-$(sha256sum < infra/requirements-mlflow.txt | cut -c1-16)"
if [ ! -f "$mlflow_stamp" ]; then
  [ -x "$mlflow_venv/bin/python" ] || python3 -m venv "$mlflow_venv"
  echo "setup: installing infra/requirements-mlflow.txt into $mlflow_venv"
  "$mlflow_venv/bin/python" -m pip install -q --upgrade pip
  "$mlflow_venv/bin/python" -m pip install -q -r infra/requirements-mlflow.txt
  rm -f "$mlflow_venv"/.installed-*
  touch "$mlflow_stamp"
fi

# Every server program where infra/programs.py (which installs nothing) looks for it; one
# that went missing since is installed again.
if ! .venv/bin/python -m infra.programs 2>/dev/null; then
  echo "setup: installing the server programs again (infra/requirements.txt)"
  .venv/bin/python -m pip install -q --force-reinstall --no-deps -r infra/requirements.txt
fi
.venv/bin/python -m infra.programs
