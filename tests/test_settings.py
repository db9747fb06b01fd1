"""Configuration is read in one place, from variables that .env.example documents."""

import re

import pytest

from settings import PROJECT_ROOT, S3_VARIABLES, VARIABLES, Settings


def test_every_variable_read_is_documented_in_env_example_and_nothing_else():
    text = (PROJECT_ROOT / ".env.example").read_text()
    documented = set(re.findall(r"^([A-Z0-9_]+)=", text, re.MULTILINE))
    assert documented == set(VARIABLES.values()) | set(S3_VARIABLES.values())


def test_values_are_converted_to_the_field_types():
    settings = Settings.from_env({"API_PORT": "9001", "S3_ENDPOINT_URL": "http://minio:9000"})
    assert settings.api_port == 9001
    assert settings.s3.endpoint_url == "http://minio:9000"


def test_missing_variables_keep_the_local_stack_defaults():
    assert Settings.from_env({}) == Settings()


def test_to_env_rebuilds_the_same_settings_in_a_child_process():
    settings = Settings.from_env({"KAFKA_TOPIC": "other", "N_VARIANTS": "2"})
    assert Settings.from_env(settings.to_env()) == settings


def test_a_switch_reads_on_and_off_in_any_case_and_refuses_anything_else():
    assert Settings().auth is True
    assert Settings.from_env({"AUTH": "off"}).auth is False
    assert Settings.from_env({"AUTH": "ON"}).auth is True
    assert Settings.from_env(Settings(auth=False).to_env()).auth is False
    with pytest.raises(ValueError, match="AUTH must be on or off"):
        Settings.from_env({"AUTH": "disabled"})
