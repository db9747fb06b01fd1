"""The architecture picture names only code that exists and quotes Settings as they are.

pipeline_architecture/architecture.dot is the picture's source. A path in one of its labels
(`streaming/job.py`, `ingest_api/`) names a module or folder of this repository; paths inside the
dataset store are written `<root>/...` and are not code. A setting quoted as `NAME = value` must
be Settings' default. When a module moves or a default changes, these tests say which label to
redraw (pipeline_architecture/README.md says how).
"""

from __future__ import annotations

import re
from dataclasses import fields
from pathlib import Path

import pytest

from settings import Settings

ROOT = Path(__file__).resolve().parents[2]
SOURCE = ROOT / "pipeline_architecture" / "architecture.dot"

LABEL = re.compile(r'label="((?:[^"\\]|\\.)*)"')
# A repository path: lower-case names joined by "/", ending in ".py" or "/", not inside another
# path (`<root>/raw/`, `/images/<id>`) nor a word.
PATH = re.compile(r"(?<![\w/<>.-])([a-z_][a-z0-9_]*/(?:[a-z0-9_]+/)*(?:[a-z0-9_]+\.(?:py|yml))?)")
QUOTED_SETTING = re.compile(r"\b([A-Z][A-Z0-9_]+) = (\w+)")


def labels(text: str) -> list[str]:
    """Every label of the graph, its nodes', edges' and clusters'."""
    return [match.replace("\\n", " ") for match in LABEL.findall(text)]


def named_paths(text: str) -> list[str]:
    return sorted({path for label in labels(text) for path in PATH.findall(label)})


def quoted_settings(text: str) -> dict[str, str]:
    return {name: value for label in labels(text) for name, value in QUOTED_SETTING.findall(label)}


def test_paths_are_read_from_labels_as_the_picture_writes_them():
    text = ('a [label="streaming/job.py\\nthe query (ingest_api/)"]; '
            'b [label="<root>/raw/<id>.jpg, GET /images/<id>, img/<crop>/*.jpg, '
            'model/predictor.py."];')
    assert named_paths(text) == ["img/", "ingest_api/", "model/predictor.py", "streaming/job.py"]


def test_the_picture_names_the_code_of_every_part():
    names = named_paths(SOURCE.read_text())
    assert len(names) >= 20, names
    for folder in ("ingest_api/", "preprocessing/", "streaming/", "batch/", "dataset/", "model/",
                   "infra/monitoring/"):
        assert folder in names


@pytest.mark.parametrize("path", named_paths(SOURCE.read_text()))
def test_each_module_or_folder_the_picture_names_exists(path):
    assert (ROOT / path).exists(), (
        f"architecture.dot names {path}, which no longer exists: redraw the picture")


def test_each_setting_the_picture_quotes_is_the_default():
    quoted = quoted_settings(SOURCE.read_text())
    assert quoted, "the picture quotes no setting; drop this test with the last one"
    defaults = {field.name.upper(): str(getattr(Settings(), field.name))
                for field in fields(Settings)}
    for name, value in quoted.items():
        assert name in defaults, f"architecture.dot quotes {name}, which Settings does not have"
        assert defaults[name] == value, (
            f"architecture.dot says {name} = {value}; Settings says {defaults[name]}")
