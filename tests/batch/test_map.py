"""`python -m batch.map --from ROOT` on a root that holds no dataset says so in one sentence."""

from __future__ import annotations

import pytest

from batch.map import main


def test_a_folder_without_a_dataset_is_named_in_one_sentence(tmp_path, capsys):
    with pytest.raises(SystemExit) as exited:
        main(["--from", str(tmp_path), "--out", str(tmp_path / "map.html")])

    assert exited.value.code == 1
    error = capsys.readouterr().err
    assert error.startswith(f"batch.map: no dataset at {tmp_path}: it holds no manifest table")
    assert error.count("\n") == 1 and not (tmp_path / "map.html").exists()
