"""`python -m model versions`: each registered version, its aliases, its test metrics and the
data it was trained on, from the registry and its runs."""

from __future__ import annotations

from datetime import UTC, datetime

import requests
from mlflow.exceptions import MlflowException

from model.registry import connect, unavailable
from settings import Settings

LINEAGE = ("dataset.snapshot", "dataset.delta_version", "dataset.rows")
TEST_METRICS = ("accuracy", "macro_f1", "expected_calibration_error", "n")


def versions(settings: Settings) -> list[dict]:
    """One dict per version of the settings' model, oldest first."""
    client = connect(settings)
    try:
        found = client.search_model_versions(f"name = '{settings.model_name}'")
        runs = {version.run_id: client.get_run(version.run_id) for version in found}
        # search results carry no aliases: the registered model has them all
        aliases = client.get_registered_model(settings.model_name).aliases if found else {}
    except (MlflowException, requests.RequestException, OSError) as error:
        raise unavailable(settings, error) from error
    listed = []
    for version in sorted(found, key=lambda version: int(version.version)):
        run = runs[version.run_id]
        listed.append({
            "version": version.version,
            "aliases": sorted(alias for alias, of in aliases.items() if of == version.version),
            "created": datetime.fromtimestamp(version.creation_timestamp / 1000, UTC)
            .isoformat(timespec="seconds"),
            "run_id": version.run_id,
            "test": {key: run.data.metrics.get(f"test.{key}") for key in TEST_METRICS},
            **{key: run.data.params.get(key) for key in LINEAGE},
            "measured_on": run.data.tags.get("measured_on"),
        })
    return listed


def number(value: float | None) -> str:
    return "-" if value is None else f"{value:.3f}"


def table(listed: list[dict]) -> list[str]:
    """The versions as lines of a table, with a note on how their metrics were measured."""
    lines = [f"{'version':<8} {'aliases':<22} {'test macro-F1':>13} {'accuracy':>8} "
             f"{'photos':>6}  {'snapshot':<12} {'delta':>5} {'rows':>6}  created"]
    for item in listed:
        test = item["test"]
        photos = "-" if test["n"] is None else str(int(test["n"]))
        lines.append(f"{item['version']:<8} {','.join(item['aliases']) or '-':<22} "
                     f"{number(test['macro_f1']):>13} {number(test['accuracy']):>8} "
                     f"{photos:>6}  {item['dataset.snapshot'] or '-':<12} "
                     f"{item['dataset.delta_version'] or '-':>5} {item['dataset.rows'] or '-':>6}"
                     f"  {item['created']}")
    notes = sorted({item["measured_on"] for item in listed if item["measured_on"]})
    if notes:
        lines.append(f"test metrics {', '.join(notes)}")
    return lines
