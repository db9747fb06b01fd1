"""The /classify benchmark, at a tiny size: the bare session, the core and the API through nginx
and gunicorn each answer every photo, and the table sets them side by side."""

from __future__ import annotations

import pytest

from bench.classify_load import main
from tests.ingest_api.champions import own_model, promote, registered
from tests.model.conftest import dataset, model_settings, trained, use_settings  # noqa: F401


@pytest.fixture
def champion_name(mlflow_stack, kafka_stack, es_stack, trained, monkeypatch):  # noqa: F811
    """A registered model of the test's own whose champion is the session's trained model;
    the environment the benchmark reads points at the session's servers."""
    settings = own_model(mlflow_stack, "classify-load")
    promote(settings, registered(settings, trained)[0])
    use_settings(monkeypatch, settings)
    return settings.model_name


def rows(printed: str) -> dict[str, list[str]]:
    """The table's rows by their first cells (what, workers, users)."""
    table = [line.strip("|").split("|") for line in printed.splitlines()
             if line.startswith("| ") and not line.startswith(("| what", "| ---"))]
    return {" ".join(cell.strip() for cell in row[:3]).strip(): [c.strip() for c in row]
            for row in table}


def test_the_api_and_the_bare_session_answer_every_photo_side_by_side(champion_name, capsys):
    assert main(["--model-name", champion_name, "--workers", "1", "--users", "1",
                 "--seconds", "2", "--spawn-seconds", "5", "--photos", "2"]) == 0

    table = rows(capsys.readouterr().out)
    assert set(table) == {"session, 1 thread", "core + session, 1 thread",
                          "/classify via nginx 1 1"}
    session, api = table["session, 1 thread"], table["/classify via nginx 1 1"]
    assert float(session[3]) > 0 and session[4] == "1.00x"
    assert float(api[3]) > 0 and api[9] == "0"  # photos/s; no errors
    assert float(api[10]) > float(api[11]) > 0  # the route's mean time holds the model's
