"""docs/ingest_api.md agrees with the contract: its error table has every code, with its status."""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import replace

import pytest

from ingest_api import create_app
from ingest_api.contract.openapi import openapi_document
from ingest_api.ops.answers import error_answers
from ingest_api.ops.errors import FRONT_UNAVAILABLE
from settings import PROJECT_ROOT, Settings

DOC = PROJECT_ROOT / "docs" / "ingest_api.md"
ROW = re.compile(r"^\|\s*(\d{3})\s*\|([^|]*)\|")


@pytest.fixture(scope="module")
def contract(tmp_path_factory) -> dict:
    store = tmp_path_factory.mktemp("auth") / "tokens.sqlite3"
    return openapi_document(create_app(replace(Settings(), api_token_store=str(store))))


def documented_errors() -> dict[str, set[int]]:
    """Code -> the statuses the table of the section "## Errors" gives it."""
    section = DOC.read_text().split("\n## Errors\n", 1)[1].split("\n## ", 1)[0]
    codes: dict[str, set[int]] = defaultdict(set)
    for line in section.splitlines():
        if match := ROW.match(line):
            for code in re.findall(r"`([a-z_]+)`", match[2]):
                codes[code].add(int(match[1]))
    return codes


def contract_errors(contract: dict) -> dict[str, set[int]]:
    """Code -> its statuses: every code of the Error schema, with the status it is answered with."""
    statuses: dict[str, set[int]] = defaultdict(set)
    for answer in error_answers():
        statuses[answer.code].add(answer.status)
    statuses[FRONT_UNAVAILABLE].add(503)
    enum = contract["components"]["schemas"]["Error"]["properties"]["error"]["enum"]
    assert set(enum) == set(statuses)
    return statuses


def test_the_error_table_lists_every_code_of_the_contract_with_its_status(contract):
    assert documented_errors() == contract_errors(contract)


def test_every_status_a_route_documents_for_a_code_is_the_tables(contract):
    table = documented_errors()
    for path, item in contract["paths"].items():
        for method, operation in item.items():
            for status, answer in operation["responses"].items():
                if status.startswith("2"):
                    continue
                schema = next(iter(answer["content"].values()))["schema"]
                for code in schema["properties"]["error"]["enum"]:
                    assert int(status) in table[code], f"{method} {path}: {status} {code}"
