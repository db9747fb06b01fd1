"""One photo's route (pipeline_architecture/route.md) names files and functions that exist, at
most 12 files, none twice, each reached by an import from a file before it (or through Kafka)."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
ROUTE = ROOT / "pipeline_architecture" / "route.md"
# A table row: | n | `file` | `name`, `name` | what it hands on |
ROW = re.compile(r"^\| (\d+) \| `([^`]+)` \| ([^|]+) \| ([^|]+) \|$", re.MULTILINE)


def route() -> list[tuple[str, list[str], str]]:
    """(file, the names to read in it, what it hands on), in order."""
    return [(path, re.findall(r"`([\w.]+)`", names), hands_on)
            for _, path, names, hands_on in ROW.findall(ROUTE.read_text())]


def defined(path: str) -> set[str]:
    """The functions and classes a module defines, methods as Class.method."""
    names = set()
    for node in ast.parse((ROOT / path).read_text()).body:
        if isinstance(node, ast.FunctionDef | ast.ClassDef):
            names.add(node.name)
        if isinstance(node, ast.ClassDef):
            names |= {f"{node.name}.{item.name}" for item in node.body
                      if isinstance(item, ast.FunctionDef)}
    return names


def imported(path: str) -> set[str]:
    """The repository modules a file imports, as paths."""
    modules = set()
    for node in ast.walk(ast.parse((ROOT / path).read_text())):
        if isinstance(node, ast.ImportFrom) and node.module:
            modules.add(node.module.replace(".", "/") + ".py")
    return modules


def test_the_route_is_at_most_12_files_with_no_file_opened_twice():
    files = [path for path, _, _ in route()]
    assert 10 <= len(files) <= 12, files
    assert len(set(files)) == len(files)


@pytest.mark.parametrize(("path", "names"), [(path, names) for path, names, _ in route()])
def test_each_step_names_a_function_its_file_defines(path, names):
    assert names, f"{path}: name what to read"
    assert set(names) <= defined(path), f"redraw route.md: {path} no longer defines {names}"


def test_each_file_is_imported_by_one_before_it_or_reached_through_kafka():
    steps = route()
    for n, (path, _, hands_on) in enumerate(steps[1:], start=1):
        earlier = set().union(*(imported(before) for before, _, _ in steps[:n]))
        assert path in earlier or "through Kafka" in hands_on, f"step {n + 1}: {path}"
