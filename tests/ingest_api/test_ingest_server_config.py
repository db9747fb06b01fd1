"""gunicorn's configuration comes from Settings through one function, gunicorn_config."""

from dataclasses import replace

from gunicorn.config import Config

from ingest_api.server import GUNICORN_OPTIONS, gunicorn_config
from settings import Settings


def test_gunicorn_binds_the_settings_host_and_internal_port(tmp_path):
    settings = replace(Settings(), api_host="0.0.0.0", api_internal_port=18123)
    assert gunicorn_config(settings, tmp_path)["bind"] == "0.0.0.0:18123"


def test_every_option_is_one_gunicorn_knows_and_takes(tmp_path):
    config = Config()
    for name, value in gunicorn_config(Settings(), tmp_path).items():
        config.set(name, value)
    assert config.worker_class_str == GUNICORN_OPTIONS["worker_class"]
    assert config.threads == GUNICORN_OPTIONS["threads"]
    assert config.timeout == GUNICORN_OPTIONS["timeout"]


def test_the_master_empties_the_metrics_directory_when_it_starts(tmp_path):
    (tmp_path / "counter_1.db").write_bytes(b"stale")
    (tmp_path / "notes.txt").write_text("kept")
    gunicorn_config(Settings(), tmp_path)["on_starting"](None)
    assert [path.name for path in tmp_path.iterdir()] == ["notes.txt"]
