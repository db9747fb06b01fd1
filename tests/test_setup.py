"""setup.sh installs the project in place (pip install -e .): a script or notebook outside the
checkout imports its packages with .venv's python, from this checkout."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.servers  # runs a script in a process of its own

ROOT = Path(__file__).resolve().parents[1]


def test_a_script_outside_the_checkout_imports_the_reader_and_the_settings(tmp_path):
    script = tmp_path / "train.py"
    script.write_text("import dataset, settings\n"
                      "print(dataset.__file__)\n"
                      "print(settings.__file__)\n")
    env = {name: value for name, value in os.environ.items() if name != "PYTHONPATH"}

    done = subprocess.run([sys.executable, script.name], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=120)

    assert done.returncode == 0, done.stderr
    package, module = (Path(line).resolve() for line in done.stdout.splitlines())
    assert package == ROOT / "dataset" / "__init__.py", (
        f"dataset comes from {package}: run this checkout's ./setup.sh")
    assert module == ROOT / "settings.py"
