"""``travel_common.ensure_services``: which commands it runs in each case, and
what it says, with fake apt-get, sudo, docker and servers alone on ``PATH``
(``fake_commands.py``); the servers' URIs name free ports."""
import json
import os
import signal
import socket

import fake_commands
import pytest

from travel_common import ensure_services
from travel_common.servers import BadUri, amqp_server, redis_server

UPDATE = ["apt-get", "update", "-q"]
SUDO_ENV = ["sudo", "-n", "env", "DEBIAN_FRONTEND=noninteractive"]


def install(package):
    return ["apt-get", "install", "-y", "-q", package]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class FakeMachine:
    """A ``PATH`` of fake commands, the ports the servers should answer on,
    and what ran."""

    def __init__(self, tmp_path, commands=(), postinst_starts=False, sudo="ok",
                 docker_works=False):
        self.bin = tmp_path / "bin"
        self.bin.mkdir()
        self.data_dir = tmp_path / "redis-data"
        self.ports = {"rabbitmq": free_port(), "redis": free_port()}
        self.log, self.pids = tmp_path / "commands.log", tmp_path / "pids"
        self.state = tmp_path / "state.json"
        self.state.write_text(json.dumps({
            "log": str(self.log), "pids": str(self.pids), "bin": str(self.bin),
            "ports": self.ports, "postinst_starts": postinst_starts,
            "sudo": sudo, "docker_works": docker_works,
        }))
        for name in commands:
            fake_commands.install_command(str(self.bin), name)
        self.environ = {
            "PATH": str(self.bin), "FAKE_STATE": str(self.state),
            "AMQP_URI": "amqp://guest:guest@127.0.0.1:%d/" % self.ports["rabbitmq"],
            "REDIS_URI": "redis://127.0.0.1:%d/0" % self.ports["redis"],
            "REDIS_DATA_DIR": str(self.data_dir),
        }
        self.listening = []

    def answer(self, service):
        """The server already runs: something listens on its port."""
        sock = socket.socket()
        sock.bind(("127.0.0.1", self.ports[service]))
        sock.listen(4)
        self.listening.append(sock)

    def ran(self) -> list:
        if not self.log.exists():
            return []
        return [json.loads(line) for line in self.log.read_text().splitlines()]

    def rabbit_start(self, *prefix):
        port = "RABBITMQ_NODE_PORT=%d" % self.ports["rabbitmq"]
        env = ["env", port] if prefix else []
        return [*prefix, *env, "rabbitmq-server", "-detached"]

    def redis_start(self):
        data = str(self.data_dir)
        return [
            "redis-server", "--daemonize", "yes", "--bind", "127.0.0.1",
            "--port", str(self.ports["redis"]), "--dir", data,
            "--appendonly", "yes", "--appendfsync", "everysec", "--save", "",
            "--logfile", data + "/redis.log", "--pidfile", data + "/redis.pid",
        ]

    def close(self):
        for sock in self.listening:
            sock.close()
        if self.pids.exists():
            for pid in self.pids.read_text().split():
                try:
                    os.kill(int(pid), signal.SIGKILL)
                except ProcessLookupError:
                    pass


@pytest.fixture
def machine(tmp_path, monkeypatch):
    # A fake package's server answers before apt-get returns, or never.
    monkeypatch.setattr(ensure_services, "POSTINST_WAIT", 0.1)
    made = []

    def make(**options):
        made.append(FakeMachine(tmp_path, **options))
        return made[-1]

    yield make
    for fake in made:
        fake.close()


def ensure(fake, capsys, euid=0, **environ):
    status = ensure_services.main(dict(fake.environ, **environ), euid=euid)
    out, err = capsys.readouterr()
    return status, out.splitlines(), err.splitlines()


def answered(fake):
    return "RabbitMQ (127.0.0.1:%d) and Redis (127.0.0.1:%d) answer." % (
        fake.ports["rabbitmq"], fake.ports["redis"])


# -- the decision table -------------------------------------------------------


def test_servers_that_answer_are_left_alone(machine, capsys):
    fake = machine(commands=["apt-get", "rabbitmq-server", "redis-server", "docker"])
    fake.answer("rabbitmq")
    fake.answer("redis")
    status, out, err = ensure(fake, capsys)
    assert (status, out, err, fake.ran()) == (0, [answered(fake)], [], [])


def test_installed_servers_are_started(machine, capsys):
    fake = machine(commands=["apt-get", "rabbitmq-server", "redis-server", "docker"])
    status, out, err = ensure(fake, capsys)
    assert status == 0 and err == []
    assert fake.ran() == [fake.rabbit_start(), fake.redis_start()]
    assert out == [
        "Starting RabbitMQ: rabbitmq-server -detached",
        "Starting Redis, its data in %s: %s" % (
            fake.data_dir, " ".join(arg or "''" for arg in fake.redis_start())
        ),
        answered(fake),
    ]
    assert fake.data_dir.is_dir()


def test_missing_servers_are_installed_as_root_then_started(machine, capsys):
    fake = machine(commands=["apt-get", "docker"])
    status, out, err = ensure(fake, capsys)
    assert status == 0 and err == []
    assert fake.ran() == [
        UPDATE, install("rabbitmq-server"), fake.rabbit_start(),
        install("redis-server"), fake.redis_start(),
    ]
    assert out[0] == ("Installing rabbitmq-server from the distribution's packages:"
                      " apt-get install -y -q rabbitmq-server")
    assert out[1] == "Starting RabbitMQ: rabbitmq-server -detached"
    assert out[2] == ("Installing redis-server from the distribution's packages:"
                      " apt-get install -y -q redis-server")
    assert out[-1] == answered(fake)


def test_servers_their_package_started_are_used(machine, capsys):
    fake = machine(commands=["apt-get"], postinst_starts=True)
    status, out, err = ensure(fake, capsys)
    assert status == 0 and err == []
    assert fake.ran() == [UPDATE, install("rabbitmq-server"), install("redis-server")]
    assert out[1::2] == ["RabbitMQ was started by its package.",
                         "Redis was started by its package."]


def test_not_root_installs_through_passwordless_sudo(machine, capsys):
    fake = machine(commands=["apt-get", "sudo"])
    status, out, err = ensure(fake, capsys, euid=1000)
    assert status == 0 and err == []
    assert fake.ran() == [
        ["sudo", "-n", "true"],
        SUDO_ENV + UPDATE, UPDATE,
        SUDO_ENV + install("rabbitmq-server"), install("rabbitmq-server"),
        fake.rabbit_start("sudo", "-n"), fake.rabbit_start(),
        SUDO_ENV + install("redis-server"), install("redis-server"),
        fake.redis_start(),  # Redis runs as this user, in its data directory
    ]


def test_not_root_without_sudo_says_the_command(machine, capsys):
    fake = machine(commands=["apt-get", "sudo"], sudo="password")
    status, out, err = ensure(fake, capsys, euid=1000)
    assert status == 1 and out == []
    assert fake.ran() == [["sudo", "-n", "true"]]
    assert err == [
        "%s does not answer at 127.0.0.1:%d and %s is not installed; install it: "
        "sudo apt-get install -y %s (or start Docker, or point %s at a running %s), "
        "then run this again." % (name, fake.ports[service], package, package,
                                  variable, name)
        for name, service, package, variable in [
            ("RabbitMQ", "rabbitmq", "rabbitmq-server", "AMQP_URI"),
            ("Redis", "redis", "redis-server", "REDIS_URI"),
        ]
    ]


def test_no_apt_and_no_docker_says_what_to_install(machine, capsys):
    fake = machine(commands=["docker"], docker_works=False)
    status, out, err = ensure(fake, capsys)
    assert status == 1 and out == []
    assert fake.ran() == [["docker", "info"], ["docker", "info"]]
    assert err[0] == (
        "RabbitMQ does not answer at 127.0.0.1:%d and rabbitmq-server is not "
        "installed; install rabbitmq-server with your system's package manager "
        "(or start Docker, or point AMQP_URI at a running RabbitMQ), then run "
        "this again." % fake.ports["rabbitmq"])


def test_no_apt_but_docker_starts_the_compose_services(machine, capsys):
    fake = machine(commands=["docker"], docker_works=True)
    status, out, err = ensure(fake, capsys)
    assert status == 0 and err == []
    compose = ["docker", "compose", "-f", str(ensure_services.COMPOSE_FILE),
               "up", "-d", "--wait"]
    assert fake.ran() == [["docker", "info"], compose + ["rabbitmq"],
                          ["docker", "info"], compose + ["redis"]]
    assert out == ["Starting RabbitMQ with docker compose",
                   "Starting Redis with docker compose", answered(fake)]


def test_opt_out_only_checks_and_names_the_commands(machine, capsys):
    fake = machine(commands=["apt-get", "rabbitmq-server", "docker"])
    status, out, err = ensure(fake, capsys, ENSURE_SERVICES="0")
    assert (status, out, fake.ran()) == (1, [], [])
    assert err == [
        "RabbitMQ does not answer at 127.0.0.1:%d, and ENSURE_SERVICES=0: start it:"
        " RABBITMQ_NODE_PORT=%d rabbitmq-server -detached."
        % (fake.ports["rabbitmq"], fake.ports["rabbitmq"]),
        "Redis does not answer at 127.0.0.1:%d, and ENSURE_SERVICES=0: install it:"
        " apt-get install -y redis-server." % fake.ports["redis"],
    ]


def test_opt_out_as_a_user_names_sudo(machine, capsys):
    fake = machine(commands=["apt-get", "sudo", "redis-server"])
    status, out, err = ensure(fake, capsys, euid=1000, ENSURE_SERVICES="0")
    assert (status, out, fake.ran()) == (1, [], [])
    assert err == [
        "RabbitMQ does not answer at 127.0.0.1:%d, and ENSURE_SERVICES=0: install it:"
        " sudo apt-get install -y rabbitmq-server." % fake.ports["rabbitmq"],
        "Redis does not answer at 127.0.0.1:%d, and ENSURE_SERVICES=0: start it: %s."
        % (fake.ports["redis"], " ".join(arg or "''" for arg in fake.redis_start())),
    ]


def test_opt_out_with_servers_answering_passes(machine, capsys):
    fake = machine(commands=["apt-get"])
    fake.answer("rabbitmq")
    fake.answer("redis")
    status, out, err = ensure(fake, capsys, ENSURE_SERVICES="0")
    assert (status, out, err, fake.ran()) == (0, [answered(fake)], [], [])


REMOTE = [
    ("AMQP_URI", "amqp://u:secret@192.0.2.1:5672/"),
    ("AMQP_URI", "amqp://u:secret@127.0.0.1:{rabbitmq}/;amqp://u:secret@127.0.0.1:1/"),
    ("AMQP_URI", "amqps://u:secret@localhost:{rabbitmq}/"),
    ("REDIS_URI", "redis://:secret@192.0.2.1:6379/0"),
    ("REDIS_URI", "redis+sentinel://:secret@127.0.0.1:{redis},[::1]:1/primary/0"),
    ("REDIS_URI", "rediss://:secret@localhost:{redis}/0"),
]


@pytest.mark.parametrize(("variable", "uri"), REMOTE)
def test_other_hosts_clusters_and_tls_are_only_checked(machine, capsys, variable,
                                                       uri):
    fake = machine(commands=["apt-get", "rabbitmq-server", "redis-server", "docker"])
    other = "redis" if variable == "AMQP_URI" else "rabbitmq"
    fake.answer(other)
    status, out, err = ensure(fake, capsys, **{variable: uri.format(**fake.ports)})
    assert (status, out, fake.ran()) == (1, [], [])
    assert len(err) == 1 and "does not answer at" in err[0]
    assert "(%s)" % variable in err[0] and "secret" not in err[0]


def test_a_cluster_answers_when_one_node_does(machine, capsys):
    fake = machine(commands=["rabbitmq-server", "redis-server"])
    fake.answer("rabbitmq")
    fake.answer("redis")
    nodes = "amqp://g:g@127.0.0.1:1/;amqp://g:g@127.0.0.1:%d/" % fake.ports["rabbitmq"]
    status, out, err = ensure(fake, capsys, AMQP_URI=nodes)
    assert (status, err, fake.ran()) == (0, [], [])
    assert out == ["RabbitMQ (127.0.0.1:1, 127.0.0.1:%d) and Redis (127.0.0.1:%d) "
                   "answer." % (fake.ports["rabbitmq"], fake.ports["redis"])]


@pytest.mark.parametrize(("variable", "uri", "message"), [
    ("AMQP_URI", "amqp://g:g@localhost:port/", "AMQP_URI has a host or port that "
                                                "isn't valid"),
    ("AMQP_URI", "amqp://user:pa/ss@h/", "AMQP_URI has a host or port that "
                                          "isn't valid"),
    ("AMQP_URI", "http://localhost/", "AMQP_URI is not an amqp:// or amqps:// URI"),
    ("REDIS_URI", "redis+sentinel:///primary/0", "REDIS_URI names no Sentinel"),
    ("REDIS_URI", "localhost:6379", "REDIS_URI is not a redis://, rediss://, "
                                    "redis+sentinel:// or unix:// URI"),
])
def test_unreadable_uris_are_a_clear_message(machine, capsys, variable, uri,
                                             message):
    fake = machine(commands=["apt-get", "rabbitmq-server", "redis-server"])
    status, out, err = ensure(fake, capsys, **{variable: uri})
    assert (status, out, err, fake.ran()) == (1, [], [message], [])


# -- reading the URIs ---------------------------------------------------------


@pytest.mark.parametrize(("uri", "endpoints", "startable"), [
    ("amqp://guest:guest@localhost:5672/", (("localhost", 5672),), True),
    ("amqp://guest:guest@localhost", (("localhost", 5672),), True),
    ("amqp://u:p%40ss@127.0.0.1:5673/vhost", (("127.0.0.1", 5673),), True),
    ("amqp://u:p@[::1]:5672/", (("::1", 5672),), True),
    ("amqps://u:p@localhost/", (("localhost", 5671),), False),
    ("amqp://u:p@rabbit.example:5672/", (("rabbit.example", 5672),), False),
    ("amqp://u:p@h1:5672/;amqp://u:p@h2:5673/;",
     (("h1", 5672), ("h2", 5673)), False),
    ("amqp://u:p@localhost:5672/; amqp://u:p@localhost:5673/",
     (("localhost", 5672), ("localhost", 5673)), False),
])
def test_amqp_uris(uri, endpoints, startable):
    server = amqp_server(uri)
    assert (server.endpoints, server.startable) == (endpoints, startable)


@pytest.mark.parametrize(("uri", "endpoints", "startable"), [
    ("redis://localhost:6379/0", (("localhost", 6379),), True),
    ("redis://:pw@127.0.0.1/3", (("127.0.0.1", 6379),), True),
    ("redis://cache.example:6380/0", (("cache.example", 6380),), False),
    ("rediss://localhost:6380/0", (("localhost", 6380),), False),
    ("unix:///run/redis.sock?db=1", (("/run/redis.sock", None),), False),
    ("redis+sentinel://h1:26379,h2:26380/primary/0",
     (("h1", 26379), ("h2", 26380)), False),
    ("redis+sentinel://:p@ss,w@rd@h1,[::1]:26380/primary/0",
     (("h1", 26379), ("::1", 26380)), False),
    ("redis+sentinel://localhost/primary", (("localhost", 26379),), False),
])
def test_redis_uris(uri, endpoints, startable):
    server = redis_server(uri)
    assert (server.endpoints, server.startable) == (endpoints, startable)


@pytest.mark.parametrize("uri", ["", " ; ", "amqp://", "amqp://h:99999/"])
def test_bad_amqp_uris_raise_bad_uri(uri):
    with pytest.raises(BadUri):
        amqp_server(uri)
