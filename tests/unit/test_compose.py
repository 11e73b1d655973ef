"""Static checks of compose/docker-compose.yml, compose/Dockerfile and .dockerignore.

No Docker engine is needed: the files are read as data, and every name they
refer to (files, modules, console scripts, nameko service names) is checked
against the repository.
"""

import configparser
import fnmatch
import importlib
import importlib.util
import re
import shlex
from pathlib import Path

import pytest
import yaml

from travel_common.redis_client import parse_sentinel_uri
from travel_common.runstack import QUIET_EVENTLET

from support.rabbit_cluster import ADVANCED_CONFIG, PARTITION_CONFIG

ROOT = Path(__file__).resolve().parents[2]
COMPOSE_DIR = ROOT / "compose"
COMPOSE = yaml.safe_load((COMPOSE_DIR / "docker-compose.yml").read_text())
SERVICES = COMPOSE["services"]
APP_SERVICES = ("airports", "trips", "gateway")
NAMEKO_SERVICES = {"airports": "airports_svc.service", "trips": "trips_svc.service"}
SCALABLE = ("airports", "trips")

# The README's configuration table: variable -> default.
CONTRACT = {
    "AMQP_URI": "amqp://guest:guest@localhost:5672/",
    "REDIS_URI": "redis://localhost:6379/0",
    "HOST": "127.0.0.1",
    "PORT": "8000",
    "RPC_TIMEOUT": "5",
    "API_KEYS": "",
    "CORS_ORIGINS": "",
    "LOG_FORMAT": "text",
}
# Variables compose/nameko.yml reads besides the contract's: name -> default.
NAMEKO_VARIABLES = dict(
    re.findall(r"\$\{(\w+):([^}]*)\}", (COMPOSE_DIR / "nameko.yml").read_text())
)
PASS_THROUGH = re.compile(r"^\$\{(\w+):-([^}]*)\}$")
# Defaults that name compose's own services instead of localhost.
COMPOSE_DEFAULTS = {"REDIS_URI": "redis://redis:6379/0"}


def console_scripts() -> dict:
    setup = configparser.ConfigParser()
    setup.read(ROOT / "setup.cfg")
    lines = setup["options.entry_points"]["console_scripts"].strip().splitlines()
    return dict(tuple(part.strip() for part in line.split("=")) for line in lines)


def service_names(module_name: str) -> set:
    module = importlib.import_module(module_name)
    return {
        value.name
        for value in vars(module).values()
        if isinstance(value, type) and isinstance(getattr(value, "name", None), str)
    }


def test_the_stack_has_broker_store_services_and_gateway():
    default = {name for name, spec in SERVICES.items() if "profiles" not in spec}
    assert default == {"rabbitmq", "redis", "airports", "trips", "gateway"}


@pytest.mark.parametrize("name", sorted(SERVICES))
def test_every_service_has_a_healthcheck(name):
    check = SERVICES[name]["healthcheck"]
    assert check["test"][0] in ("CMD", "CMD-SHELL")
    assert len(check["test"]) > 1
    assert {"interval", "timeout", "retries"} <= set(check)


@pytest.mark.parametrize("name", sorted(SERVICES))
def test_every_service_restarts_unless_stopped(name):
    assert SERVICES[name]["restart"] == "unless-stopped"


@pytest.mark.parametrize("name", sorted(SERVICES))
def test_no_service_has_a_container_name(name):
    assert "container_name" not in SERVICES[name]


@pytest.mark.parametrize(
    ("name", "dependencies"),
    [
        ("airports", {"rabbitmq", "redis"}),
        ("trips", {"rabbitmq", "redis"}),
        ("gateway", {"rabbitmq", "airports", "trips"}),
    ],
    ids=["airports", "trips", "gateway"],
)
def test_depends_on_waits_for_healthy_dependencies(name, dependencies):
    depends_on = SERVICES[name]["depends_on"]
    assert set(depends_on) == dependencies
    for dependency, condition in depends_on.items():
        assert condition == {"condition": "service_healthy"}, dependency
        assert "healthcheck" in SERVICES[dependency]


@pytest.mark.parametrize("name", SCALABLE)
def test_scalable_services_publish_no_host_port(name):
    assert "ports" not in SERVICES[name]


@pytest.mark.parametrize("name", APP_SERVICES)
def test_app_services_build_the_one_dockerfile_from_the_repository_root(name):
    build = SERVICES[name]["build"]
    context = (COMPOSE_DIR / build["context"]).resolve()
    assert context == ROOT
    assert (context / build["dockerfile"]).resolve() == COMPOSE_DIR / "Dockerfile"
    assert SERVICES[name]["image"] == SERVICES["gateway"]["image"]


@pytest.mark.parametrize("name", sorted(NAMEKO_SERVICES))
def test_nameko_service_commands_name_a_real_config_and_module(name):
    nameko, run, config_flag, config, module = SERVICES[name]["command"]
    assert (nameko, run, config_flag) == ("nameko", "run", "--config")
    assert (ROOT / config).is_file()  # the image keeps the repository layout
    assert module == NAMEKO_SERVICES[name]
    assert importlib.util.find_spec(module) is not None


def test_gateway_command_is_a_console_script_of_the_project():
    (command,) = SERVICES["gateway"]["command"]
    module = console_scripts()[command].split(":")[0]
    assert importlib.util.find_spec(module) is not None


@pytest.mark.parametrize("name", sorted(NAMEKO_SERVICES))
def test_service_healthcheck_probes_the_service_by_its_nameko_name(name):
    kind, python, flag, module, service = SERVICES[name]["healthcheck"]["test"]
    assert (kind, python, flag) == ("CMD", "python", "-m")
    assert importlib.util.find_spec(module) is not None
    assert module == "travel_common.probe"
    assert service in service_names(NAMEKO_SERVICES[name])


def test_gateway_healthcheck_asks_ready_with_python_only():
    kind, python, flag, code = SERVICES["gateway"]["healthcheck"]["test"]
    assert (kind, python, flag) == ("CMD", "python", "-c")
    assert "urllib.request" in code
    assert "http://127.0.0.1:8000/ready" in code
    compile(code, "healthcheck", "exec")


def test_rabbitmq_image_and_healthcheck():
    rabbitmq = SERVICES["rabbitmq"]
    assert rabbitmq["image"] == "rabbitmq:3-management"
    assert rabbitmq["healthcheck"]["test"] == [
        "CMD",
        "rabbitmq-diagnostics",
        "-q",
        "ping",
    ]


def test_redis_keeps_an_append_only_file_on_a_named_volume():
    redis = SERVICES["redis"]
    assert redis["image"] == "redis:7"
    command = " ".join(redis["command"])
    assert "--appendonly yes" in command
    assert "--appendfsync everysec" in command
    volume, path = redis["volumes"][0].split(":")
    assert (volume, path) == ("redis-data", "/data")
    assert volume in COMPOSE["volumes"]
    assert "redis-cli ping" in " ".join(redis["healthcheck"]["test"])


def test_gateway_publishes_the_contract_port_and_listens_on_all_interfaces():
    gateway = SERVICES["gateway"]
    assert gateway["ports"] == ["%s:%s" % (CONTRACT["PORT"], CONTRACT["PORT"])]
    assert gateway["environment"]["PORT"] == CONTRACT["PORT"]
    assert gateway["environment"]["HOST"] == "0.0.0.0"


@pytest.mark.parametrize(("name", "port"), [("rabbitmq", 5672), ("redis", 6379)])
def test_broker_and_store_are_published_on_loopback_for_make_run(name, port):
    # scripts/ensure-services may start just these two, then expects them on
    # localhost at their usual ports.
    ports = SERVICES[name]["ports"]
    assert "127.0.0.1:%d:%d" % (port, port) in ports
    assert all(mapping.startswith("127.0.0.1:") for mapping in ports)


@pytest.mark.parametrize(
    ("name", "variable"),
    [(name, var) for name in APP_SERVICES for var in SERVICES[name]["environment"]],
)
def test_environment_uses_the_contracts_names_and_defaults(name, variable):
    assert variable in CONTRACT or variable in NAMEKO_VARIABLES
    value = str(SERVICES[name]["environment"][variable])
    passed = PASS_THROUGH.match(value)
    if passed and variable != "AMQP_URI":  # that one is the stack's: see below
        default = COMPOSE_DEFAULTS.get(
            variable, CONTRACT.get(variable, NAMEKO_VARIABLES.get(variable))
        )
        assert passed.groups() == (variable, default)


@pytest.mark.parametrize("name", APP_SERVICES)
def test_app_services_reach_rabbitmq_and_redis_by_service_name(name):
    environment = SERVICES[name]["environment"]
    # the one node, unless compose/cluster.env lists the cluster's
    assert environment["AMQP_URI"] == (
        "${STACK_AMQP_URI:-amqp://guest:guest@rabbitmq:5672/}")
    if name != "gateway":
        assert environment["REDIS_URI"] == "${REDIS_URI:-redis://redis:6379/0}"


# --- the `cluster` profile ----------------------------------------------------

NODES = {"rabbitmq": "rabbit@rabbitmq", "rabbitmq-2": "rabbit@rabbitmq-2",
         "rabbitmq-3": "rabbit@rabbitmq-3"}


def env_file(path: Path) -> dict:
    lines = (line.strip() for line in path.read_text().splitlines())
    pairs = (line.split("=", 1) for line in lines if line and line[0] != "#")
    return {key: value.strip('"') for key, value in pairs}


def rabbitmq_conf(text: str) -> dict:
    lines = (line.strip() for line in text.splitlines())
    pairs = (line.split("=", 1) for line in lines if line and line[0] != "#")
    return {key.strip(): value.strip() for key, value in pairs}


def mounted(name: str, target: str) -> Path:
    (source,) = [volume.split(":")[0] for volume in SERVICES[name]["volumes"]
                 if volume.split(":")[1] == target]
    return COMPOSE_DIR / source


def test_cluster_env_runs_the_profile_with_every_node_in_amqp_uri():
    env = env_file(COMPOSE_DIR / "cluster.env")
    assert env["COMPOSE_PROFILES"] == "cluster"
    assert env["STACK_AMQP_URI"].split(";") == [
        "amqp://guest:guest@%s:5672/" % name for name in NODES]
    assert env["RPC_QUEUE_TYPE"] == "quorum"


def test_cluster_env_puts_the_services_on_the_sentinels_with_one_replica():
    env = env_file(COMPOSE_DIR / "cluster.env")
    assert env["REDIS_URI"] == SENTINEL_URI
    assert env["REDIS_MIN_REPLICAS"] == "1"


@pytest.mark.parametrize("name", ["rabbitmq-2", "rabbitmq-3"])
def test_the_other_nodes_are_in_the_cluster_profile_and_join_the_first(name):
    node = SERVICES[name]
    assert node["profiles"] == ["cluster"]
    assert node["hostname"] == name  # the node name: rabbit@<hostname>
    assert node["image"] == SERVICES["rabbitmq"]["image"]
    assert node["depends_on"] == {"rabbitmq": {"condition": "service_healthy"}}
    assert node["environment"] == SERVICES["rabbitmq"]["environment"]  # the cookie
    conf = rabbitmq_conf(mounted(name, "/etc/rabbitmq/conf.d/20-travel.conf")
                         .read_text())
    assert conf["cluster_formation.peer_discovery_backend"] == "classic_config"
    assert conf["cluster_formation.classic_config.nodes.1"] == NODES["rabbitmq"]
    assert all(port.startswith("127.0.0.1:") for port in node["ports"])


@pytest.mark.parametrize("name", sorted(NODES))
def test_every_node_has_the_tested_partition_settings(name):
    """The settings the cluster tests run with (support/rabbit_cluster.py)."""
    conf = rabbitmq_conf(mounted(name, "/etc/rabbitmq/conf.d/20-travel.conf")
                         .read_text())
    expected = rabbitmq_conf(PARTITION_CONFIG)
    assert {key: conf.get(key) for key in expected} == expected
    advanced = mounted(name, "/etc/rabbitmq/advanced.config").read_text()
    terms = [line for line in advanced.splitlines() if not line.startswith("%")]
    assert "\n".join(terms).strip() == ADVANCED_CONFIG.strip()


# --- compose/Dockerfile -----------------------------------------------------


def dockerfile_instructions() -> list:
    text = (COMPOSE_DIR / "Dockerfile").read_text().replace("\\\n", " ")
    lines = (line.strip() for line in text.splitlines())
    return [
        tuple(line.split(None, 1))
        for line in lines
        if line and not line.startswith("#")
    ]


INSTRUCTIONS = dockerfile_instructions()
STAGES = [args for op, args in INSTRUCTIONS if op == "FROM"]
FINAL_STAGE = INSTRUCTIONS[
    max(i for i, (op, _) in enumerate(INSTRUCTIONS) if op == "FROM") :
]


def final(op: str) -> list:
    return [args for name, args in FINAL_STAGE if name == op]


def test_dockerfile_has_a_build_and_a_runtime_stage_on_python_311_slim():
    assert len(STAGES) >= 2
    assert all(re.search(r"\sAS\s+\w+$", stage, re.I) for stage in STAGES)
    base = [args for op, args in INSTRUCTIONS if op == "ARG"]
    assert "PYTHON_IMAGE=python:3.11-slim" in base
    assert all(stage.startswith("${PYTHON_IMAGE}") for stage in STAGES)


def test_runtime_stage_copies_the_venv_built_in_the_build_stage():
    build_stage = STAGES[0].split()[-1]
    assert "--from=%s /opt/venv /opt/venv" % build_stage in final("COPY")


def test_runtime_stage_runs_as_a_non_root_user():
    user = final("USER")[-1].split(":")[0]
    assert user not in ("root", "0")


def test_runtime_environment():
    environment = " ".join(final("ENV"))
    assert "PYTHONUNBUFFERED=1" in environment
    assert "PYTHONWARNINGS=" + QUIET_EVENTLET in environment


def test_default_command_is_the_gateway():
    assert final("CMD") == ['["travel-gateway"]']
    assert "travel-gateway" in console_scripts()
    assert final("EXPOSE") == [CONTRACT["PORT"]]


def test_nameko_config_lands_where_the_commands_look_for_it():
    workdir = final("WORKDIR")[-1]
    assert "compose/nameko.yml compose/nameko.yml" in final("COPY")
    for name in NAMEKO_SERVICES:
        config = SERVICES[name]["command"][3]
        assert str(Path(workdir) / config) == workdir + "/compose/nameko.yml"


def dockerignore_patterns() -> list:
    lines = (ROOT / ".dockerignore").read_text().splitlines()
    return [line.strip() for line in lines if line.strip() and line[0] != "#"]


def ignored(path: str) -> bool:
    parts = path.split("/")
    prefixes = ["/".join(parts[: i + 1]) for i in range(len(parts))]
    for pattern in dockerignore_patterns():
        loose = pattern.removeprefix("**/")
        for prefix in prefixes:
            if fnmatch.fnmatchcase(prefix, pattern):
                return True
            if loose != pattern and fnmatch.fnmatchcase(prefix.split("/")[-1], loose):
                return True
    return False


def packages() -> list:
    setup = configparser.ConfigParser()
    setup.read(ROOT / "setup.cfg")
    include = setup["options.packages.find"]["include"].split()
    return [pattern.rstrip("*") for pattern in include]


@pytest.mark.parametrize(
    "path", ["setup.cfg", "pyproject.toml", "compose/nameko.yml", *packages()]
)
def test_build_context_keeps_what_the_image_needs(path):
    assert (ROOT / path).exists()
    assert not ignored(path)


@pytest.mark.parametrize(
    "path",
    [".venv", ".git", ".pytest_cache", "tests", "support",
     "gateway_falcon/__pycache__"],
)
def test_build_context_leaves_out_local_state(path):
    assert ignored(path)


@pytest.mark.parametrize(
    "args", [args for op, args in INSTRUCTIONS if op == "COPY"], ids=str
)
def test_dockerfile_copies_only_files_that_exist(args):
    words = shlex.split(args)
    if words[0].startswith("--from="):
        return
    for source in words[:-1]:
        assert (ROOT / source).exists()


# --- profile "cluster": Redis watched by Sentinel ----------------------------

REDIS_REPLICAS = ("redis-replica-1", "redis-replica-2")
SENTINELS = ("redis-sentinel-1", "redis-sentinel-2", "redis-sentinel-3")
COMPOSE_TEXT = (COMPOSE_DIR / "docker-compose.yml").read_text()
SENTINEL_URI = re.search(r"REDIS_URI=(redis\+sentinel://\S+)", COMPOSE_TEXT).group(1)


def shell_script(name: str) -> str:
    sh, flag, script = SERVICES[name]["command"]
    assert (sh, flag) == ("sh", "-c")
    return script


@pytest.mark.parametrize("name", REDIS_REPLICAS + SENTINELS)
def test_cluster_profile_runs_replicas_and_sentinels_on_the_redis_image(name):
    spec = SERVICES[name]
    assert spec["profiles"] == ["cluster"]
    assert spec["image"] == SERVICES["redis"]["image"]
    assert spec["hostname"] == name  # what it announces
    assert spec["depends_on"] == {"redis": {"condition": "service_healthy"}}
    assert "ports" not in spec


@pytest.mark.parametrize("name", REDIS_REPLICAS)
def test_replicas_follow_redis_with_an_append_only_file_of_their_own(name):
    script = shell_script(name)
    assert "replicaof redis 6379" in script
    assert "appendonly yes" in script
    assert "replica-announce-ip $$(hostname)" in script
    volume, path = SERVICES[name]["volumes"][0].split(":")
    assert path == "/data" and volume in COMPOSE["volumes"]


@pytest.mark.parametrize("name", ("redis",) + REDIS_REPLICAS)
def test_every_data_node_refuses_writes_without_its_replicas(name):
    command = " ".join(SERVICES[name]["command"])
    assert "--min-replicas-to-write ${REDIS_MIN_REPLICAS:-0}" in command


@pytest.mark.parametrize("name", SENTINELS)
def test_sentinels_watch_redis_with_a_quorum_of_two(name):
    script = shell_script(name)
    assert "sentinel monitor travel redis 6379 2" in script
    assert "sentinel announce-hostnames yes" in script
    assert "sentinel resolve-hostnames yes" in script
    assert "exec redis-server /data/sentinel.conf --sentinel" in script
    assert "26379" in " ".join(SERVICES[name]["healthcheck"]["test"])


def test_the_documented_sentinel_uri_names_the_sentinels_and_the_master():
    target = parse_sentinel_uri(SENTINEL_URI)
    assert target.sentinels == tuple((name, 26379) for name in SENTINELS)
    assert target.master == "travel"
