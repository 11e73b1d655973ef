"""Static checks of the Kustomize base in k8s/base.

The manifests are read as data (no cluster needed) and checked against each
other and against the repository: names they refer to, probes, resources,
the nameko config kept identical to compose/nameko.yml.
"""

import importlib
import importlib.util
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from travel_common.redis_client import parse_sentinel_uri

from support.rabbit_cluster import ADVANCED_CONFIG, PARTITION_CONFIG

ROOT = Path(__file__).resolve().parents[2]
BASE = ROOT / "k8s" / "base"
KUSTOMIZATION = yaml.safe_load((BASE / "kustomization.yaml").read_text())
DOCUMENTS = [
    doc
    for resource in KUSTOMIZATION["resources"]
    if (BASE / resource).is_file()
    for doc in yaml.safe_load_all((BASE / resource).read_text())
    if doc
]


def of_kind(kind: str) -> dict:
    return {doc["metadata"]["name"]: doc for doc in DOCUMENTS if doc["kind"] == kind}


DEPLOYMENTS = of_kind("Deployment")
SECRETS = of_kind("Secret")
SERVICES = of_kind("Service")
NAMEKO_SERVICES = {
    "travel-airports": ("airports_svc.service", "airports_service"),
    "travel-trips": ("trips_svc.service", "trips_service"),
}
CONTRACT_VARIABLES = {
    "AMQP_URI",
    "REDIS_URI",
    "HOST",
    "PORT",
    "RPC_TIMEOUT",
    "API_KEYS",
    "CORS_ORIGINS",
    "LOG_FORMAT",
}
NAMEKO_VARIABLES = set(
    re.findall(r"\$\{(\w+):", (ROOT / "compose" / "nameko.yml").read_text())
)


def container(deployment: str) -> dict:
    (only,) = DEPLOYMENTS[deployment]["spec"]["template"]["spec"]["containers"]
    return only


def generator(name: str) -> dict:
    (found,) = [g for g in KUSTOMIZATION["configMapGenerator"] if g["name"] == name]
    return found


def config_env() -> dict:
    (path,) = generator("travel-config")["envs"]
    lines = (BASE / path).read_text().splitlines()
    pairs = (line.split("=", 1) for line in lines if line and line[0] != "#")
    return dict(pairs)


@pytest.mark.parametrize("resource", KUSTOMIZATION["resources"])
def test_every_listed_resource_exists(resource):
    assert (BASE / resource).is_file()


def test_every_manifest_in_the_base_is_listed():
    manifests = {path.name for path in BASE.glob("*.yaml")} - {"kustomization.yaml"}
    assert manifests == set(KUSTOMIZATION["resources"])


GENERATOR_FILES = [
    path
    for generated in KUSTOMIZATION["configMapGenerator"]
    for path in generated.get("files", []) + generated.get("envs", [])
]


@pytest.mark.parametrize("path", GENERATOR_FILES)
def test_every_generator_file_exists(path):
    assert (BASE / path).is_file()


@pytest.mark.parametrize(
    "doc", DOCUMENTS, ids=lambda d: "%s/%s" % (d["kind"], d["metadata"]["name"])
)
def test_every_document_is_a_named_resource(doc):
    assert {"apiVersion", "kind", "metadata"} <= set(doc)
    assert re.fullmatch(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?", doc["metadata"]["name"])


def test_the_base_runs_gateway_and_both_services():
    assert set(DEPLOYMENTS) == {"travel-gateway", "travel-airports", "travel-trips"}


@pytest.mark.parametrize("name", sorted(DEPLOYMENTS))
def test_deployments_run_two_replicas_of_the_project_image(name):
    deployment = DEPLOYMENTS[name]
    assert deployment["spec"]["replicas"] == 2
    assert container(name)["image"] == "travel-booking"
    labels = deployment["spec"]["template"]["metadata"]["labels"]
    assert deployment["spec"]["selector"]["matchLabels"].items() <= labels.items()


@pytest.mark.parametrize("name", sorted(DEPLOYMENTS))
def test_deployments_have_readiness_and_liveness_probes(name):
    assert "readinessProbe" in container(name)
    assert "livenessProbe" in container(name)


@pytest.mark.parametrize("name", sorted(DEPLOYMENTS))
def test_deployments_have_resource_requests_and_limits(name):
    resources = container(name)["resources"]
    for bound in ("requests", "limits"):
        assert {"cpu", "memory"} <= set(resources[bound]), bound


@pytest.mark.parametrize("name", sorted(DEPLOYMENTS))
def test_deployments_run_as_the_images_non_root_user(name):
    pod = DEPLOYMENTS[name]["spec"]["template"]["spec"]
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert pod["securityContext"]["runAsUser"] != 0


def test_gateway_probes_ready_for_readiness_and_health_for_liveness():
    gateway = container("travel-gateway")
    (port,) = gateway["ports"]
    assert port["containerPort"] == int(config_env()["PORT"]) == 8000
    readiness = gateway["readinessProbe"]["httpGet"]
    liveness = gateway["livenessProbe"]["httpGet"]
    assert (readiness["path"], readiness["port"]) == ("/ready", port["name"])
    assert (liveness["path"], liveness["port"]) == ("/health", port["name"])
    assert gateway["command"] == ["travel-gateway"]


@pytest.mark.parametrize("name", sorted(NAMEKO_SERVICES))
def test_services_probe_themselves_over_rpc(name):
    module, service = NAMEKO_SERVICES[name]
    imported = importlib.import_module(module)
    names = {getattr(value, "name", None) for value in vars(imported).values()}
    assert service in names
    assert importlib.util.find_spec("travel_common.probe") is not None
    for probe in ("readinessProbe", "livenessProbe"):
        command = container(name)[probe]["exec"]["command"]
        assert command[:4] == ["python", "-m", "travel_common.probe", service]
        timeout = float(command[command.index("--timeout") + 1])
        assert timeout + 1 < container(name)[probe]["timeoutSeconds"]


@pytest.mark.parametrize("name", sorted(NAMEKO_SERVICES))
def test_services_run_nameko_with_the_mounted_config(name):
    module, _ = NAMEKO_SERVICES[name]
    nameko, run, flag, config, target = container(name)["command"]
    assert (nameko, run, flag, target) == ("nameko", "run", "--config", module)
    assert importlib.util.find_spec(module) is not None
    pod = DEPLOYMENTS[name]["spec"]["template"]["spec"]
    volumes = {v["name"]: v for v in pod["volumes"]}
    (mount,) = [
        m
        for m in container(name)["volumeMounts"]
        if volumes[m["name"]].get("configMap", {}).get("name") == "travel-nameko"
    ]
    assert config == mount["mountPath"] + "/nameko.yml"
    assert generator("travel-nameko")["files"] == ["nameko.yml"]


def test_configmaps_nameko_yml_equals_compose_nameko_yml():
    compose = (ROOT / "compose" / "nameko.yml").read_bytes()
    assert (BASE / "nameko.yml").read_bytes() == compose


def test_config_holds_only_the_contracts_variables():
    assert set(config_env()) <= CONTRACT_VARIABLES | NAMEKO_VARIABLES
    assert config_env()["HOST"] == "0.0.0.0"


@pytest.mark.parametrize("name", sorted(DEPLOYMENTS))
def test_environment_names_and_references_resolve(name):
    env = container(name)["env"]
    (source,) = container(name)["envFrom"]
    assert source["configMapRef"]["name"] == generator("travel-config")["name"]
    defined = set()
    for variable in env:
        reference = variable.get("valueFrom", {}).get("secretKeyRef")
        if reference:
            assert reference["key"] in SECRETS[reference["name"]]["stringData"]
        for used in re.findall(r"\$\((\w+)\)", variable.get("value", "")):
            assert used in defined  # Kubernetes expands only earlier variables
        defined.add(variable["name"])
    helpers = {"AMQP_USERNAME", "AMQP_PASSWORD", "REDIS_PASSWORD"}
    assert defined <= CONTRACT_VARIABLES | helpers
    uri = next(v["value"] for v in env if v["name"] == "AMQP_URI")
    (cluster,) = of_kind("RabbitmqCluster").values()
    name, replicas = cluster["metadata"]["name"], cluster["spec"]["replicas"]
    hosts = [url.rsplit("@", 1)[1].split("/")[0] for url in uri.split(";")]
    # every node, by the operator's names for its pods and headless Service
    assert hosts == ["%s-server-%d.%s-nodes:5672" % (name, n, name)
                     for n in range(replicas)]


def test_gateway_service_targets_the_gateway_pods():
    service = SERVICES["travel-gateway"]["spec"]
    labels = DEPLOYMENTS["travel-gateway"]["spec"]["template"]["metadata"]["labels"]
    assert service["selector"].items() <= labels.items()
    (port,) = service["ports"]
    assert port["targetPort"] == container("travel-gateway")["ports"][0]["name"]


def test_hpa_scales_the_gateway_deployment_on_cpu():
    (hpa,) = of_kind("HorizontalPodAutoscaler").values()
    assert hpa["apiVersion"] == "autoscaling/v2"
    target = hpa["spec"]["scaleTargetRef"]
    assert (target["kind"], target["name"]) == ("Deployment", "travel-gateway")
    assert hpa["spec"]["minReplicas"] >= 2
    (metric,) = hpa["spec"]["metrics"]
    assert metric["resource"]["name"] == "cpu"


def test_rabbitmq_cluster_has_three_persistent_nodes():
    (cluster,) = of_kind("RabbitmqCluster").values()
    assert cluster["apiVersion"] == "rabbitmq.com/v1beta1"
    assert cluster["spec"]["replicas"] == 3
    assert cluster["spec"]["persistence"]["storage"]
    config = dict(line.split(" = ") for line in
                  cluster["spec"]["rabbitmq"]["additionalConfig"].splitlines())
    # the settings the cluster tests run with (support/rabbit_cluster.py)
    assert config == dict(line.split(" = ") for line in
                          PARTITION_CONFIG.splitlines())
    advanced = cluster["spec"]["rabbitmq"]["advancedConfig"]
    assert advanced.strip() == ADVANCED_CONFIG.strip()


def test_services_use_quorum_queues_and_heartbeats_on_the_cluster():
    assert config_env()["RPC_QUEUE_TYPE"] == "quorum"
    assert float(config_env()["AMQP_HEARTBEAT"]) <= 10


def test_rabbitmq_default_user_secret_is_consistent():
    (cluster,) = of_kind("RabbitmqCluster").values()
    secret = SECRETS[cluster["spec"]["secretBackend"]["externalSecret"]["name"]]
    data = secret["stringData"]
    conf = dict(
        line.split(" = ") for line in data["default_user.conf"].strip().splitlines()
    )
    assert conf == {"default_user": data["username"], "default_pass": data["password"]}


def test_secret_placeholder_holds_api_keys():
    assert SECRETS["travel-secrets"]["stringData"] == {"API_KEYS": ""}


# --- Redis watched by Sentinel ----------------------------------------------

REDIS = of_kind("StatefulSet")["travel-redis"]
REDIS_POD = REDIS["spec"]["template"]["spec"]
START_SCRIPT = of_kind("ConfigMap")["travel-redis-start"]["data"]["start.sh"]


def redis_container(name: str) -> dict:
    (found,) = [c for c in REDIS_POD["containers"] if c["name"] == name]
    return found


def redis_uri(deployment: str) -> str:
    return next(v["value"] for v in container(deployment)["env"]
                if v["name"] == "REDIS_URI")


def test_redis_runs_three_pods_of_a_server_and_a_sentinel():
    assert REDIS["spec"]["replicas"] == 3
    volumes = {v["name"]: v for v in REDIS_POD["volumes"]}
    for name, port in (("redis", 6379), ("sentinel", 26379)):
        server = redis_container(name)
        assert server["command"] == ["sh", "/etc/redis-start/start.sh", name]
        (mount,) = [m for m in server["volumeMounts"]
                    if m["mountPath"] == "/etc/redis-start"]
        assert volumes[mount["name"]]["configMap"]["name"] == "travel-redis-start"
        assert server["ports"] == [{"name": name, "containerPort": port}]
        assert {"readinessProbe", "livenessProbe", "resources"} <= set(server)
        (password,) = server["env"]
        assert password["name"] == "REDISCLI_AUTH"  # redis-cli's, and the script's
        assert password["valueFrom"]["secretKeyRef"] == {
            "name": "travel-redis", "key": "password"}
    (claim,) = REDIS["spec"]["volumeClaimTemplates"]
    assert {"name": claim["metadata"]["name"], "mountPath": "/data"} in redis_container(
        "redis")["volumeMounts"]
    assert REDIS_POD["securityContext"]["runAsNonRoot"] is True


def test_redis_pods_have_stable_names_before_they_are_ready():
    headless = SERVICES[REDIS["spec"]["serviceName"]]["spec"]
    assert headless["clusterIP"] == "None"
    assert headless["publishNotReadyAddresses"] is True
    labels = REDIS["spec"]["template"]["metadata"]["labels"]
    assert headless["selector"].items() <= labels.items()
    assert {p["port"] for p in headless["ports"]} == {6379, 26379}
    budget = of_kind("PodDisruptionBudget")["travel-redis"]
    assert budget["spec"]["maxUnavailable"] == 1
    assert budget["spec"]["selector"]["matchLabels"].items() <= labels.items()


def test_redis_start_script_configures_persistence_replicas_and_sentinels():
    checked = subprocess.run(["sh", "-n"], input=START_SCRIPT, text=True,
                             capture_output=True)
    assert checked.returncode == 0, checked.stderr
    for line in ("appendonly yes", "appendfsync everysec", "min-replicas-to-write 1",
                 "sentinel monitor travel $PRIMARY 6379 2",
                 "sentinel announce-hostnames yes", "sentinel resolve-hostnames yes",
                 "replicaof $PRIMARY 6379"):
        assert line in START_SCRIPT
    service = REDIS["spec"]["serviceName"]
    pods = " ".join("%s-%d" % (REDIS["metadata"]["name"], i) for i in range(3))
    assert "for pod in %s; do" % pods in START_SCRIPT
    assert 'SELF="$(hostname).%s"' % service in START_SCRIPT
    assert 'PRIMARY="%s-0.%s"' % (REDIS["metadata"]["name"], service) in START_SCRIPT


@pytest.mark.parametrize("name", sorted(NAMEKO_SERVICES))
def test_services_ask_every_sentinel_for_the_primary(name):
    target = parse_sentinel_uri(redis_uri(name))
    pods = ["%s-%d.%s" % (REDIS["metadata"]["name"], i, REDIS["spec"]["serviceName"])
            for i in range(REDIS["spec"]["replicas"])]
    assert target.sentinels == tuple((pod, 26379) for pod in pods)
    assert (target.master, target.db, target.password) == (
        "travel", 0, "$(REDIS_PASSWORD)")
    password = next(v for v in container(name)["env"] if v["name"] == "REDIS_PASSWORD")
    assert password["valueFrom"]["secretKeyRef"] == {
        "name": "travel-redis", "key": "password"}


def test_writes_wait_for_a_replica_that_a_failover_leaves():
    replicas = REDIS["spec"]["replicas"] - 1
    assert 1 <= int(config_env()["REDIS_MIN_REPLICAS"]) < replicas


@pytest.mark.skipif(shutil.which("kubectl") is None, reason="kubectl not installed")
def test_kustomize_builds_the_base():
    built = subprocess.run(
        ["kubectl", "kustomize", str(BASE)], capture_output=True, text=True
    )
    assert built.returncode == 0, built.stderr
    kinds = [doc["kind"] for doc in yaml.safe_load_all(built.stdout) if doc]
    assert kinds.count("Deployment") == 3
