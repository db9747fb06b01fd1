"""Moving the aliases: promote a version through the gate, roll back to the previous champion.

`champion` is the version the API and the jobs serve. `challenger` marks the candidate under
evaluation, and stays on it when the gate refuses it (the last refused candidate); a promoted
candidate loses it. The champion that a promotion replaces keeps no alias: the alias history
remembers it, and `rollback` returns to it. Every move is recorded before it is made
(model/alias_history.py).
"""

from __future__ import annotations

from dataclasses import dataclass

import requests
from mlflow.exceptions import MlflowException

from model.alias_history import AliasChange, changes, forget, previous_champion, record
from model.gate import SPLIT, TOLERANCE, score, verdict
from model.registry import (
    CHAMPION,
    alias_version,
    champion,
    connect,
    model_version,
    unavailable,
)
from settings import Settings

CHALLENGER = "challenger"


class CannotMove(Exception):
    """An alias cannot move as asked (nothing to roll back to); one sentence."""


@dataclass(frozen=True)
class Decision:
    """What promote did: whether `champion` now points at the version, and what to print."""

    promoted: bool
    lines: list[str]


def move(settings: Settings, alias: str, to_version: str | None, action: str, reason: str,
         *, forced: bool = False, gate: dict | None = None) -> AliasChange | None:
    """Point the alias at `to_version` (None: remove it), recorded first; None if it pointed
    there already."""
    client = connect(settings)
    current = alias_version(settings, client, alias)
    if current == to_version:
        return None
    change = AliasChange(settings.model_name, alias, current, to_version, action, reason,
                         forced, mlflow_user=settings.mlflow_username, gate=gate or {})
    key = record(settings, change)
    try:
        if to_version is None:
            client.delete_registered_model_alias(settings.model_name, alias)
        else:
            client.set_registered_model_alias(settings.model_name, alias, to_version)
    except (MlflowException, requests.RequestException, OSError) as error:
        forget(settings, key)  # it did not happen
        raise unavailable(settings, error) from error
    return change


def promote(settings: Settings, version: str, *, eval_root: str | None = None,
            eval_snapshot: str | None = None, force: bool = False,
            reason: str = "") -> Decision:
    """Make `version` the champion if the gate lets it (or `force`); see docs/model.md."""
    candidate = model_version(settings, version)
    current = champion(settings)
    name = settings.model_name
    if current is not None and current.version == candidate.version:
        return Decision(True, [f"{name} version {version} is the champion already: "
                               "nothing moved"])
    if current is None:
        move(settings, CHAMPION, version, "promote",
             reason or "the first champion: there is none to compare with", forced=force)
        move(settings, CHALLENGER, None, "promote", f"version {version} became the champion")
        return Decision(True, [f"promoted: {name} version {version} is the champion "
                               "(there was none)"])

    move(settings, CHALLENGER, version, "evaluate",
         f"evaluated against champion version {current.version}")
    root = eval_root or candidate.lineage["dataset.root"]
    snapshot = eval_snapshot or candidate.lineage["dataset.snapshot"]
    scores = score(settings, {version: candidate.path, current.version: current.path},
                   root, snapshot)
    lines = [f"evaluation set: the {SPLIT} split of snapshot {snapshot!r} of {root} "
             f"(Delta version {scores.lineage.delta_version}, {scores.photos} photos)"]
    for who, served in (("candidate", candidate), ("champion", current)):
        if served.version in scores.metrics:
            metrics = scores.metrics[served.version]
            lines.append(f"  {who} version {served.version}: macro-F1 {metrics['macro_f1']:.3f}, "
                         f"accuracy {metrics['accuracy']:.3f}")
    if scores.metrics:
        passes, why = verdict(scores.metrics[version], scores.metrics[current.version])
    else:
        passes, why = False, f"its {SPLIT} split has no photos: nothing to compare on"
    gate = {"root": root, "snapshot": snapshot, "delta_version": scores.lineage.delta_version,
            "photos": scores.photos, "rule": f"macro-F1 >= champion's - {TOLERANCE}",
            "passed": passes, "why": why,
            "metrics": {version: _summary(scores.metrics.get(version)),
                        current.version: _summary(scores.metrics.get(current.version))}}
    if not passes and not force:
        record(settings, AliasChange(name, CHAMPION, current.version, current.version, "refuse",
                                     reason or why, mlflow_user=settings.mlflow_username,
                                     gate=gate))
        return Decision(False, [*lines, f"refused: version {version} has {why}; it stays "
                                        f"{CHALLENGER} (--force promotes it, and is recorded)"])
    move(settings, CHAMPION, version, "promote", reason or why, forced=not passes, gate=gate)
    move(settings, CHALLENGER, None, "promote", f"version {version} became the champion")
    said = f"promoted: {name} version {version} is the champion (was {current.version}): "
    return Decision(True, [*lines, said + (why if passes else f"FORCED although it has {why}")])


def rollback(settings: Settings, reason: str = "") -> AliasChange:
    """Return `champion` to the version it pointed at before the current one was promoted."""
    current = alias_version(settings, connect(settings), CHAMPION)
    if current is None:
        raise CannotMove(f"{settings.model_name} has no champion: there is nothing to roll back")
    previous = previous_champion(changes(settings), current)
    if previous is None:
        raise CannotMove(f"no champion before version {current} is recorded: there is nothing "
                         "to roll back to")
    return move(settings, CHAMPION, previous, "rollback",
                reason or f"rolled back from version {current}")


def _summary(metrics: dict | None) -> dict:
    keys = ("n", "accuracy", "macro_f1", "expected_calibration_error")
    return {key: metrics[key] for key in keys} if metrics else {}

