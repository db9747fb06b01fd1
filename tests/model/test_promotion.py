"""`python -m model promote | rollback | versions | history` on the real MLflow and S3: the gate
promotes the first champion, refuses a worse candidate (it stays challenger) unless --force,
which is recorded; rollback returns to the champion before; every alias move is kept with when,
why and by whom.

One story, told once per session through the CLI (a model name of its own): version 1 is the
trained model, version 2 the same features with a head taught the wrong crop for each, version
3 the trained model again."""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import uuid
from dataclasses import replace

import pytest

from dataset.snapshots import pin
from infra.processes import free_port
from model import backbone
from model.__main__ import main
from model.alias_history import changes
from model.classifier import classifier_onnx
from model.head import fit_head
from model.promotion import CHALLENGER, move
from model.registry import CHAMPION, RegistryUnavailable, alias_version, connect, register
from model.train import TrainedModel
from tests.model.conftest import use_settings

EVAL_SNAPSHOT = "fixed-eval"


def relabelled(trained: TrainedModel) -> TrainedModel:
    """The trained model's features with a head taught the next crop's name for each crop:
    right where the trained model is right, it is wrong."""
    samples = trained.samples
    classes = sorted(samples["label"].unique())
    following = dict(zip(classes, classes[1:] + classes[:1], strict=True))
    training = (samples["split"] == "train").to_numpy()
    head = fit_head(trained.features[training],
                    samples.loc[training, "label"].map(following).to_numpy(), seed=0)
    onnx = classifier_onnx(backbone.export_onnx(), head, {})
    model = {**trained.report["model"], "sha256": hashlib.sha256(onnx).hexdigest()}
    return TrainedModel(onnx, {**trained.report, "model": model}, samples, trained.features,
                        trained.pictures)


def cli(settings, argv: list[str]) -> tuple[int, str, str]:
    """(exit code, stdout, stderr) of `python -m model ARGV` run in this process."""
    out, err = io.StringIO(), io.StringIO()
    with pytest.MonkeyPatch.context() as patch, contextlib.redirect_stdout(out), \
            contextlib.redirect_stderr(err):
        use_settings(patch, settings)
        try:
            code = main(argv)
        except SystemExit as exit_:
            code = exit_.code
    return code, out.getvalue(), err.getvalue()


@pytest.fixture(scope="module")
def story(trained, model_settings, dataset):
    """Each step's (exit code, stdout, stderr) and who was champion and challenger after it."""
    settings = replace(model_settings, model_name=f"promote-{uuid.uuid4().hex[:8]}")
    _, store = dataset
    pin(store, EVAL_SNAPSHOT)
    steps = {}

    def step(name: str, argv: list[str]) -> None:
        code, out, err = cli(settings, argv)
        client = connect(settings)
        steps[name] = {"code": code, "out": out, "err": err,
                       "champion": alias_version(settings, client, CHAMPION),
                       "challenger": alias_version(settings, client, CHALLENGER)}

    step("rollback without champion", ["rollback"])
    assert register(settings, trained) == "1"
    assert register(settings, relabelled(trained)) == "2"
    step("first", ["promote", "1"])
    step("rollback to nothing", ["rollback"])
    step("worse", ["promote", "2"])
    step("forced", ["promote", "2", "--force", "--reason", "a test forces it"])
    step("rollback", ["rollback", "--reason", "version 2 answers the wrong crop"])
    assert register(settings, trained) == "3"
    step("as good", ["promote", "3", "--eval-snapshot", EVAL_SNAPSHOT])
    step("again", ["promote", "3"])
    step("unknown", ["promote", "99"])
    step("versions", ["versions", "--json"])
    step("versions table", ["versions"])
    step("history", ["history"])
    return settings, steps


def test_the_first_champion_is_promoted_without_a_gate(story):
    _, steps = story
    first = steps["first"]
    assert first["code"] == 0
    assert first["out"].splitlines()[-1].endswith("version 1 is the champion (there was none)")
    assert (first["champion"], first["challenger"]) == ("1", None)


def test_a_worse_candidate_is_refused_with_its_reason_and_stays_challenger(story, trained):
    _, steps = story
    worse = steps["worse"]
    assert worse["code"] == 3
    lines = worse["out"].splitlines()
    root = trained.report["params"]["dataset.root"]
    assert lines[0].startswith(f"evaluation set: the test split of snapshot 'v1' of {root} "
                               "(Delta version ")
    assert lines[1].startswith("  candidate version 2: macro-F1 ")
    assert lines[2].startswith("  champion version 1: macro-F1 ")
    assert lines[-1].startswith("refused: version 2 has macro-F1 ")
    assert "below the champion's" in lines[-1] and "by more than 0.01" in lines[-1]
    assert (worse["champion"], worse["challenger"]) == ("1", "2")


def test_force_promotes_it_anyway_and_says_so(story):
    _, steps = story
    forced = steps["forced"]
    assert forced["code"] == 0
    assert "is the champion (was 1): FORCED although it has macro-F1 " in forced["out"]
    assert (forced["champion"], forced["challenger"]) == ("2", None)


def test_rollback_returns_to_the_champion_before_and_no_further_than_the_first(story):
    settings, steps = story
    assert steps["rollback"]["code"] == 0
    assert steps["rollback"]["out"].strip() == (f"rolled back: {settings.model_name} version 1 "
                                                "is the champion again (was 2)")
    assert steps["rollback"]["champion"] == "1"
    assert steps["rollback to nothing"]["code"] == 1
    assert steps["rollback to nothing"]["err"].strip() == (
        "rollback: no champion before version 1 is recorded: there is nothing to roll back to")
    assert steps["rollback without champion"]["err"].strip() == (
        f"rollback: {settings.model_name} has no champion: there is nothing to roll back")


def test_a_candidate_as_good_as_the_champion_passes_on_the_named_evaluation_snapshot(story):
    _, steps = story
    good = steps["as good"]
    assert good["code"] == 0
    assert good["out"].startswith(f"evaluation set: the test split of snapshot "
                                  f"'{EVAL_SNAPSHOT}' of ")
    assert "version 3 is the champion (was 1): macro-F1 " in good["out"]
    assert ", not below the champion's " in good["out"]
    assert steps["again"]["out"].strip().endswith("version 3 is the champion already: "
                                                  "nothing moved")


def test_an_unknown_version_is_one_sentence(story):
    settings, steps = story
    assert steps["unknown"]["code"] == 1
    assert steps["unknown"]["err"].strip() == f"promote: {settings.model_name} has no version 99"


def test_versions_lists_aliases_test_metrics_and_training_data(story, trained):
    _, steps = story
    listed = json.loads(steps["versions"]["out"])
    assert [item["version"] for item in listed] == ["1", "2", "3"]
    assert [item["aliases"] for item in listed] == [[], [], ["champion"]]
    params = trained.report["params"]
    for item in listed:
        assert item["dataset.snapshot"] == params["dataset.snapshot"]
        assert item["dataset.delta_version"] == str(params["dataset.delta_version"])
        assert item["dataset.rows"] == str(params["dataset.rows"])
        assert item["test"]["macro_f1"] == pytest.approx(
            trained.report["metrics"]["test"]["macro_f1"])
    table = steps["versions table"]["out"].splitlines()
    assert table[0].split()[:2] == ["version", "aliases"]
    assert table[3].split()[:2] == ["3", "champion"]
    assert table[-1] == "test metrics measured on synthetic pictures"


def test_every_alias_move_is_recorded_with_when_why_and_by_whom(story):
    settings, steps = story
    recorded = changes(settings)
    moves = [(c.alias, c.from_version, c.to_version, c.action, c.forced) for c in recorded]
    assert moves == [
        (CHAMPION, None, "1", "promote", False),
        (CHALLENGER, None, "2", "evaluate", False),
        (CHAMPION, "1", "1", "refuse", False),
        (CHAMPION, "1", "2", "promote", True),
        (CHALLENGER, "2", None, "promote", False),
        (CHAMPION, "2", "1", "rollback", False),
        (CHALLENGER, None, "3", "evaluate", False),
        (CHAMPION, "1", "3", "promote", False),
        (CHALLENGER, "3", None, "promote", False),
    ]
    forced = recorded[3]
    assert forced.reason == "a test forces it"
    assert forced.gate["passed"] is False and forced.gate["snapshot"] == "v1"
    assert set(forced.gate["metrics"]) == {"1", "2"}
    assert recorded[5].reason == "version 2 answers the wrong crop"
    for change in recorded:
        assert change.mlflow_user == settings.mlflow_username and change.os_user
        assert change.at.endswith("+00:00")
    assert [change.at for change in recorded] == sorted(change.at for change in recorded)
    history = steps["history"]["out"].splitlines()
    assert len(history) == len(recorded)
    assert "FORCED: a test forces it" in history[3]


def test_an_alias_is_not_moved_when_its_history_cannot_be_written(story):
    settings, _ = story
    s3_down = replace(settings.s3, endpoint_url=f"http://127.0.0.1:{free_port()}")
    unwritable = replace(settings, s3=s3_down)
    with pytest.raises(RegistryUnavailable, match="cannot be written .*: no alias was moved"):
        move(unwritable, CHAMPION, "2", "promote", "the history is gone")
    assert alias_version(settings, connect(settings), CHAMPION) == "3"

