"""The alert rules (infra/monitoring/alerts.yml) are valid, behave as alerts_test.yml specifies
under `promtool test rules`, and each is tested and explained in docs/operations.md."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

from infra.programs import debian_binary
from settings import PROJECT_ROOT

RULES = PROJECT_ROOT / "infra" / "monitoring" / "alerts.yml"
SPEC = Path(__file__).with_name("alerts_test.yml")
OPERATIONS = PROJECT_ROOT / "docs" / "operations.md"


def promtool(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([str(debian_binary("promtool")), *args], capture_output=True,
                          text=True, timeout=120, check=False)


def alert_names(rules_text: str) -> list[str]:
    return re.findall(r"^\s*- alert: (\w+)$", rules_text, re.MULTILINE)


def test_promtool_finds_the_rules_valid():
    checked = promtool("check", "rules", str(RULES))
    assert checked.returncode == 0, checked.stdout + checked.stderr


def test_the_rules_behave_as_specified():
    tested = promtool("test", "rules", str(SPEC))
    assert tested.returncode == 0, tested.stdout + tested.stderr


def test_a_dependency_alert_waiting_past_five_minutes_fails_the_specification(tmp_path):
    """The spec holds the 5-minute promise: a rule waiting 6 min breaks it."""
    slow = re.sub(r"(alert: DependencyDown\n\s+expr: .*\n\s+for: )2m", r"\g<1>6m",
                  RULES.read_text())
    assert slow != RULES.read_text()
    (tmp_path / "infra" / "monitoring").mkdir(parents=True)
    (tmp_path / "infra" / "monitoring" / "alerts.yml").write_text(slow)
    spec = tmp_path / "tests" / "infra" / "monitoring" / "alerts_test.yml"
    spec.parent.mkdir(parents=True)
    spec.write_text(SPEC.read_text())

    tested = promtool("test", "rules", str(spec))

    assert tested.returncode != 0
    assert "alertname: DependencyDown" in tested.stdout + tested.stderr


def test_every_alert_is_tested_and_explained_in_the_operations_guide():
    names = alert_names(RULES.read_text())
    spec, guide = SPEC.read_text(), OPERATIONS.read_text()
    assert len(names) == len(set(names)) >= 13
    assert [name for name in names if f"alertname: {name}" not in spec] == []
    assert [name for name in names if f"`{name}`" not in guide] == []
