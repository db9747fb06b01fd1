"""infra/k8s, read as a specification: every manifest is valid, and the cluster it describes
agrees with the code, docker-compose.yml and each other.

No cluster is needed: core kinds validate against kubernetes-validate's schemas, custom resources
against the operators' published CRDs (infra/k8s/schemas/README.md). Where kubectl is on the
PATH, `kubectl kustomize` builds the directory as well.
"""

from __future__ import annotations

import shutil
import subprocess
from functools import cache
from pathlib import Path
from urllib.parse import urlsplit

import jsonschema
import kubernetes_validate
import pytest
import yaml

from adapters.spark import session_config
from infra.monitoring.blackbox import PROBE_TIMEOUT_S, modules, probes
from infra.schemas import SCHEMA_SERVERS
from ingest_api.upload.publisher import MESSAGE_HEADROOM_BYTES
from settings import PROJECT_ROOT, S3_VARIABLES, VARIABLES, Settings

K8S_DIR = PROJECT_ROOT / "infra" / "k8s"
ALERT_LOG = "infra.monitoring.alert_log"  # the pipeline image, but no pipeline service
SCHEMAS_DIR = K8S_DIR / "schemas"
SETTINGS_VARIABLES = set(VARIABLES.values()) | set(S3_VARIABLES.values())
PIPELINE_IMAGE = yaml.safe_load((PROJECT_ROOT / "docker-compose.yml").read_text())["services"][
    "api"
]["image"]
CRD_FILES = {
    ("kafka.strimzi.io", "Kafka"): "strimzi-kafka.yaml",
    ("kafka.strimzi.io", "KafkaNodePool"): "strimzi-kafkanodepool.yaml",
    ("kafka.strimzi.io", "KafkaTopic"): "strimzi-kafkatopic.yaml",
    ("elasticsearch.k8s.elastic.co", "Elasticsearch"): "eck-elasticsearch.yaml",
    ("kibana.k8s.elastic.co", "Kibana"): "eck-kibana.yaml",
    ("sparkoperator.k8s.io", "SparkApplication"): "spark-operator-sparkapplication.yaml",
    ("minio.min.io", "Tenant"): "minio-tenant.yaml",
}


def load_manifests() -> list[dict]:
    kustomization = yaml.safe_load((K8S_DIR / "kustomization.yaml").read_text())
    return [
        document
        for resource in kustomization["resources"]
        for document in yaml.safe_load_all((K8S_DIR / resource).read_text())
    ]


MANIFESTS = load_manifests()


def the(kind: str, name: str | None = None) -> dict:
    [found] = [
        m for m in MANIFESTS if m["kind"] == kind and name in (None, m["metadata"]["name"])
    ]
    return found


def closed(schema):
    """The schema with every object that names its properties refusing others, as the API
    server's strict field validation does (kubectl's default), unless it keeps unknown fields."""
    if isinstance(schema, list):
        return [closed(item) for item in schema]
    if not isinstance(schema, dict):
        return schema
    result = {key: closed(value) for key, value in schema.items()}
    if (
        "properties" in schema
        and "additionalProperties" not in schema
        and not schema.get("x-kubernetes-preserve-unknown-fields")
    ):
        result["additionalProperties"] = False
    return result


@cache
def crd_schema(group: str, kind: str, version: str) -> dict:
    crd = yaml.load((SCHEMAS_DIR / CRD_FILES[group, kind]).read_text(), Loader=yaml.CSafeLoader)
    assert (crd["spec"]["group"], crd["spec"]["names"]["kind"]) == (group, kind)
    [served] = [v for v in crd["spec"]["versions"] if v["name"] == version and v["served"]]
    return closed(served["schema"]["openAPIV3Schema"])


def validate(manifest: dict) -> None:
    group, _, version = manifest["apiVersion"].rpartition("/")
    if (group, manifest["kind"]) in CRD_FILES:
        jsonschema.validate(manifest, crd_schema(group, manifest["kind"], version))
    else:
        kubernetes_validate.validate(manifest, kubernetes_validate.latest_version(), strict=True)


def containers(manifest: dict) -> list[dict]:
    spec = manifest["spec"]["template"]["spec"]
    return spec.get("initContainers", []) + spec["containers"]


# Validity


@pytest.mark.parametrize(
    "manifest", MANIFESTS, ids=[f"{m['kind']}/{m['metadata']['name']}" for m in MANIFESTS]
)
def test_every_manifest_validates_against_its_kinds_schema(manifest):
    validate(manifest)


def test_an_unknown_field_is_refused_in_a_custom_resource_and_in_a_core_kind():
    topic = the("KafkaTopic")
    with pytest.raises(jsonschema.ValidationError, match="partitons"):
        validate({**topic, "spec": {**topic["spec"], "partitons": 3}})
    service = the("Service", "api")
    with pytest.raises(jsonschema.ValidationError):
        validate({**service, "spec": {**service["spec"], "selektor": {}}})


def test_every_operator_crd_is_described_where_it_came_from():
    note = (SCHEMAS_DIR / "README.md").read_text()
    for file in CRD_FILES.values():
        assert f"| {file} |" in note, file


def test_kustomize_builds_the_same_documents():
    if shutil.which("kubectl") is None:
        pytest.skip("no kubectl on the PATH")
    built = subprocess.run(
        ["kubectl", "kustomize", str(K8S_DIR)], capture_output=True, text=True, check=True
    ).stdout
    names = {(m["kind"], m["metadata"]["name"]) for m in yaml.safe_load_all(built)}
    assert names == {(m["kind"], m["metadata"]["name"]) for m in MANIFESTS}


# Configuration


def pipeline_containers() -> list[dict]:
    found = [
        container
        for manifest in MANIFESTS
        if manifest["kind"] in ("Deployment", "Job")
        for container in containers(manifest)
        if container["image"] == PIPELINE_IMAGE and container["command"][0] != "cp"
        and container["command"][:3] != ["python", "-m", ALERT_LOG]
    ]
    spark = the("SparkApplication")["spec"]
    return found + [spark["driver"], spark["executor"]]


def settings_of(container: dict) -> Settings:
    """The Settings a pipeline container reads: its ConfigMap, then its own values."""
    env = {}
    for source in container.get("envFrom", []):
        env.update(the("ConfigMap", source["configMapRef"]["name"])["data"])
    env.update({e["name"]: e["value"] for e in container.get("env", []) if "value" in e})
    return Settings.from_env(env)


def test_the_pipeline_is_configured_only_by_variables_that_settings_reads():
    for container in pipeline_containers():
        names = {e["name"] for e in container.get("env", [])}
        for source in container.get("envFrom", []):
            names |= set(the("ConfigMap", source["configMapRef"]["name"])["data"])
        assert names <= SETTINGS_VARIABLES, names - SETTINGS_VARIABLES


def test_the_pipeline_reaches_the_servers_the_operators_make():
    kafka, tenant = the("Kafka"), the("Tenant")
    [listener] = kafka["spec"]["kafka"]["listeners"]
    for container in pipeline_containers():
        settings = settings_of(container)
        bootstrap = urlsplit(f"//{settings.kafka_bootstrap_servers}")
        elasticsearch = urlsplit(settings.elasticsearch_url)
        s3 = urlsplit(settings.s3.endpoint_url)
        assert bootstrap.hostname == f"{kafka['metadata']['name']}-kafka-bootstrap"
        assert bootstrap.port == listener["port"] and listener["tls"] is False
        assert elasticsearch.hostname == f"{the('Elasticsearch')['metadata']['name']}-es-http"
        assert (elasticsearch.scheme, s3.scheme, s3.hostname) == ("http", "http", "minio")
        assert tenant["spec"]["requestAutoCert"] is False
        assert {"name": urlsplit(settings.dataset_root).netloc} in tenant["spec"]["buckets"]
        assert settings.elasticsearch_username == "elastic"


def test_secrets_come_from_secrets_the_operators_or_the_operator_person_make():
    users = {user["name"] for user in the("Tenant")["spec"]["users"]}
    for container in pipeline_containers():
        refs = {e["name"]: e["valueFrom"]["secretKeyRef"] for e in container["env"]
                if "valueFrom" in e}
        assert refs["ELASTICSEARCH_PASSWORD"] == {
            "name": f"{the('Elasticsearch')['metadata']['name']}-es-elastic-user", "key": "elastic"
        }
        if container.get("command", [])[:3] == ["python", "-m", "infra.schemas"]:
            continue  # which needs only Elasticsearch
        assert refs["AWS_ACCESS_KEY_ID"]["key"] == "CONSOLE_ACCESS_KEY"
        assert refs["AWS_SECRET_ACCESS_KEY"]["key"] == "CONSOLE_SECRET_KEY"
        assert refs["AWS_ACCESS_KEY_ID"]["name"] in users


def test_the_topic_is_the_settings_topic_and_partitions_and_takes_the_largest_photo():
    settings = Settings.from_env(the("ConfigMap", "pipeline-settings")["data"])
    topic = the("KafkaTopic")
    assert topic["spec"]["topicName"] == settings.kafka_topic
    assert topic["spec"]["partitions"] == settings.kafka_partitions
    assert topic["metadata"]["labels"]["strimzi.io/cluster"] == the("Kafka")["metadata"]["name"]
    largest = settings.max_upload_bytes + MESSAGE_HEADROOM_BYTES
    assert the("Kafka")["spec"]["kafka"]["config"]["message.max.bytes"] >= largest


# The API


def test_the_api_runs_the_compose_image_and_command_and_probes_its_port():
    compose = yaml.safe_load((PROJECT_ROOT / "docker-compose.yml").read_text())["services"]["api"]
    [api] = containers(the("Deployment", "api"))
    assert api["image"] == compose["image"] == PIPELINE_IMAGE
    assert api["command"] == compose["command"] == ["python", "-m", "ingest_api"]
    port = Settings().api_internal_port
    assert [p["containerPort"] for p in api["ports"]] == [port]
    assert api["livenessProbe"]["httpGet"] == {"path": "/is_alive", "port": port}
    assert api["readinessProbe"]["httpGet"] == {"path": "/readyz", "port": port}


def test_the_service_and_the_hpa_target_the_api_deployment():
    deployment = the("Deployment", "api")
    labels = deployment["spec"]["template"]["metadata"]["labels"]
    assert the("Service", "api")["spec"]["selector"] == labels
    target = the("HorizontalPodAutoscaler", "api")["spec"]["scaleTargetRef"]
    assert target == {"apiVersion": "apps/v1", "kind": "Deployment", "name": "api"}


def test_the_apis_token_store_is_on_one_volume_every_pod_shares():
    [api] = containers(the("Deployment", "api"))
    store = Path(settings_of(api).api_token_store)
    [mount] = api["volumeMounts"]
    assert store.parent == Path(mount["mountPath"])
    [volume] = the("Deployment", "api")["spec"]["template"]["spec"]["volumes"]
    claim = the("PersistentVolumeClaim", volume["persistentVolumeClaim"]["claimName"])
    assert claim["spec"]["accessModes"] == ["ReadWriteMany"]


# The streaming job


def test_the_spark_application_runs_python_m_streaming_as_compose_does():
    compose = yaml.safe_load((PROJECT_ROOT / "docker-compose.yml").read_text())["services"]
    command = compose["streaming"]["command"]
    spark = the("SparkApplication")["spec"]
    assert spark["image"] == PIPELINE_IMAGE
    assert spark["mainApplicationFile"] == f"local://{command[-1]}"
    script = (PROJECT_ROOT / Path(command[-1]).relative_to("/app")).read_text()
    assert "from streaming.__main__ import main" in script
    assert spark["deps"]["packages"] == [command[command.index("--packages") + 1]]
    assert settings_of(spark["driver"]).kafka_source == "kafka"


def test_the_driver_asks_kubernetes_for_its_executors_with_rights_to_do_so():
    spark = the("SparkApplication")["spec"]
    assert settings_of(spark["driver"]).spark_master.startswith("k8s://https://kubernetes")
    binding = the("RoleBinding", "streaming-spark-driver")
    account = spark["driver"]["serviceAccount"]
    assert binding["subjects"] == [{"kind": "ServiceAccount", "name": account}]
    [rule] = the("Role", binding["roleRef"]["name"])["rules"]
    assert {"pods", "services"} <= set(rule["resources"]) and "create" in rule["verbs"]


def test_the_driver_leaves_its_address_and_the_resources_to_spark_submit():
    """spark-submit on Kubernetes sets the driver's service address and pod IP, and the cores
    and memory of the spec: a session that set them from Settings would override those."""
    spark = the("SparkApplication")["spec"]
    config = session_config(settings_of(spark["driver"]))
    assert not {"spark.driver.host", "spark.driver.bindAddress", "spark.driver.memory",
                "spark.executor.memory", "spark.executor.cores"} & set(config)


def test_each_executor_core_reads_one_kafka_partition():
    """docs/scaling.md: fewer cores than partitions leave a straggler; more sit idle."""
    spark = the("SparkApplication")["spec"]
    cores = spark["executor"]["instances"] * spark["executor"]["cores"]
    assert cores == settings_of(spark["driver"]).kafka_partitions


def test_the_driver_and_executors_start_through_the_images_spark_entrypoint():
    ignored = (PROJECT_ROOT / ".dockerignore").read_text().split()
    spark = the("SparkApplication")["spec"]
    for role in ("driver", "executor"):
        [container] = spark[role]["template"]["spec"]["containers"]
        assert container["name"] == f"spark-kubernetes-{role}"
        [entrypoint] = container["command"]
        script = PROJECT_ROOT / Path(entrypoint).relative_to("/app")
        assert script.stat().st_mode & 0o111, "the entrypoint must be executable"
        assert f"  {role})" in script.read_text()
    assert not {"infra", "infra/k8s"} & set(ignored)


def test_the_streams_checkpoint_is_on_its_own_volume():
    spark = the("SparkApplication")["spec"]
    [mount] = spark["driver"]["volumeMounts"]
    assert Path(settings_of(spark["driver"]).checkpoint_dir).is_relative_to(mount["mountPath"])
    [volume] = spark["volumes"]
    assert volume["name"] == mount["name"]
    assert the("PersistentVolumeClaim", volume["persistentVolumeClaim"]["claimName"])


# Elasticsearch's index and Kibana's objects


def test_the_index_is_made_by_the_pipelines_own_code_from_the_image_record():
    """python -m infra.schemas es installs infra/schemas.py's image_template, the one
    `python -m infra compose-template` writes for compose: nothing is typed out twice."""
    [schema] = containers(the("Job", "elasticsearch-schema"))
    assert schema["image"] == PIPELINE_IMAGE
    assert schema["command"][:3] == ["python", "-m", "infra.schemas"]
    assert set(schema["command"][3:]) <= set(SCHEMA_SERVERS)
    assert "es" in schema["command"]


def test_kibanas_objects_are_imported_by_composes_own_script_and_files():
    job = the("Job", "kibana-objects")
    copy, importer = containers(job)
    assert copy["image"] == PIPELINE_IMAGE
    assert copy["command"] == ["cp", "-r", "/app/infra/compose/.", "/compose/"]
    compose = yaml.safe_load((PROJECT_ROOT / "docker-compose.yml").read_text())["services"]
    assert importer["image"] == compose["kibana-init"]["image"]
    script = Path(importer["command"][-1]).relative_to("/compose")
    assert (PROJECT_ROOT / "infra" / "compose" / script).is_file()
    kibana, elasticsearch = the("Kibana")["spec"], the("Elasticsearch")
    assert kibana["elasticsearchRef"]["name"] == elasticsearch["metadata"]["name"]
    assert kibana["version"] == elasticsearch["spec"]["version"]


# The model registry


def test_the_registry_runs_the_compose_image_and_start_script_once_on_its_volume():
    compose = yaml.safe_load((PROJECT_ROOT / "docker-compose.yml").read_text())["services"]
    deployment = the("Deployment", "mlflow")
    [server] = containers(deployment)
    assert server["image"] == compose["mlflow"]["image"]
    assert server["command"][-1] == "/usr/local/bin/mlflow-start"
    assert "COPY infra/compose/mlflow/start.sh /usr/local/bin/mlflow-start" in (
        PROJECT_ROOT / "infra" / "compose" / "mlflow" / "Dockerfile").read_text()
    # SQLite on a ReadWriteOnce volume: one pod, never two at once.
    assert deployment["spec"]["replicas"] == 1
    assert deployment["spec"]["strategy"] == {"type": "Recreate"}
    [mount] = server["volumeMounts"]
    [compose_mount] = compose["mlflow"]["volumes"]
    assert mount["mountPath"] == compose_mount.split(":")[1]
    [volume] = deployment["spec"]["template"]["spec"]["volumes"]
    claim = the("PersistentVolumeClaim", volume["persistentVolumeClaim"]["claimName"])
    assert claim["spec"]["accessModes"] == ["ReadWriteOnce"]


def test_the_pipeline_reaches_the_registry_at_its_service_with_the_servers_credentials():
    [server] = containers(the("Deployment", "mlflow"))
    settings = settings_of(server)
    names = {e["name"] for e in server["env"]} | set(the("ConfigMap", "pipeline-settings")["data"])
    assert names <= SETTINGS_VARIABLES, names - SETTINGS_VARIABLES
    address = urlsplit(settings.mlflow_tracking_uri)
    service = the("Service", "mlflow")
    assert address.hostname == service["metadata"]["name"]
    assert [port["port"] for port in service["spec"]["ports"]] == [address.port]
    assert [port["containerPort"] for port in server["ports"]] == [settings.mlflow_port]
    for probe in ("startupProbe", "livenessProbe", "readinessProbe"):
        assert server[probe]["httpGet"] == {"path": "/health", "port": settings.mlflow_port}
    password = {e["name"]: e["valueFrom"]["secretKeyRef"] for e in server["env"]
                if "valueFrom" in e}["MLFLOW_PASSWORD"]
    for container in pipeline_containers():
        if container.get("command", [])[:3] == ["python", "-m", "infra.schemas"]:
            continue  # which needs only Elasticsearch
        refs = {e["name"]: e["valueFrom"]["secretKeyRef"] for e in container["env"]
                if "valueFrom" in e}
        assert refs["MLFLOW_PASSWORD"] == password
        assert settings_of(container).mlflow_tracking_uri == settings.mlflow_tracking_uri
    assert {"name": settings.mlflow_bucket} in the("Tenant")["spec"]["buckets"]


def test_prometheus_loads_the_native_stacks_rules_verbatim_and_its_probes():
    rules = the("ConfigMap", "prometheus-rules")["data"]["alerts.yml"]
    assert rules == (PROJECT_ROOT / "infra" / "monitoring" / "alerts.yml").read_text()
    config = yaml.safe_load(the("ConfigMap", "prometheus-config")["data"]["prometheus.yml"])
    assert config["rule_files"] == ["/etc/prometheus/rules/alerts.yml"]
    assert {job["job_name"] for job in config["scrape_configs"]} == {
        "ingest_api", "stream", "dependencies"}
    blackbox = yaml.safe_load(the("ConfigMap", "blackbox-config")["data"]["blackbox.yml"])
    assert blackbox == modules(PROBE_TIMEOUT_S)


def test_prometheus_probes_the_servers_the_pipeline_reaches():
    config = yaml.safe_load(the("ConfigMap", "prometheus-config")["data"]["prometheus.yml"])
    [dependencies] = [job for job in config["scrape_configs"] if job["job_name"] == "dependencies"]
    settings = settings_of(the("Deployment", "api")["spec"]["template"]["spec"]["containers"][0])
    assert dependencies["static_configs"] == [
        {"targets": [target], "labels": {"server": server, "__param_module": module}}
        for server, target, module in probes(settings)]


def test_prometheus_may_list_the_pods_it_scrapes_and_the_stream_serves_on_its_pod_network():
    deployment = the("Deployment", "prometheus")["spec"]["template"]["spec"]
    assert deployment["serviceAccountName"] == "prometheus"
    assert the("RoleBinding", "prometheus")["subjects"] == [
        {"kind": "ServiceAccount", "name": "prometheus"}]
    assert the("Role", "prometheus")["rules"][0]["verbs"] == ["get", "list", "watch"]
    assert the("ConfigMap", "pipeline-settings")["data"]["STREAM_METRICS_HOST"] == "0.0.0.0"


def test_alertmanager_runs_alone_and_posts_to_the_alert_log_service():
    container = the("Deployment", "alertmanager")["spec"]["template"]["spec"]["containers"][0]
    assert "--cluster.listen-address=" in container["args"]
    config = yaml.safe_load(the("ConfigMap", "alertmanager-config")["data"]["alertmanager.yml"])
    assert config["receivers"][0]["webhook_configs"][0]["url"] == "http://alertlog:9095/alerts"
    assert the("Service", "alertlog")["spec"]["ports"][0]["port"] == 9095
