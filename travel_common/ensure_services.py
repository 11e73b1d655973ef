"""Make sure RabbitMQ and Redis answer where ``AMQP_URI`` and ``REDIS_URI`` say
(``python3 -m travel_common.ensure_services``, run by ``make run`` and
``make test`` through ``scripts/ensure-services``).

For each server that does not answer, in this order:

1. at another host, at several nodes (an ``AMQP_URI`` list), behind Sentinel,
   over TLS or a socket, or with ``ENSURE_SERVICES=0``: say so, start nothing;
2. its server command missing, ``apt-get`` there and this user root or
   allowed ``sudo`` without a password: install the distribution's package
   (saying so first), and use the server if the package's post-install
   started it;
3. its server command there: start it directly (no systemd: containers and
   CI have none); Redis keeps its data in ``REDIS_DATA_DIR``;
4. Docker works: ``docker compose`` starts the one in ``compose/``;
5. else: say what is missing and the exact command that gets it; exit 1.

Standard library only: it runs before the virtual environment exists.
"""

from __future__ import annotations

import os
import shlex
import sys
from pathlib import Path

from travel_common.machine import ROOT, Machine
from travel_common.servers import (
    BadUri,
    Server,
    amqp_server,
    any_answers,
    redis_server,
    wait_until_answers,
)

COMPOSE_FILE = ROOT / "compose" / "docker-compose.yml"
DEFAULT_AMQP_URI = "amqp://guest:guest@localhost:5672/"
DEFAULT_REDIS_URI = "redis://localhost:6379/0"
DEFAULT_REDIS_DATA_DIR = ROOT / ".data" / "redis"
# How long a server the package's post-install script started may take to
# answer (Debian's start it at once, where there is an init system).
POSTINST_WAIT = 2.0


def redis_data_dir(environ: dict) -> Path:
    return Path(environ.get("REDIS_DATA_DIR") or DEFAULT_REDIS_DATA_DIR).resolve()


def start_command(server: Server, environ: dict) -> tuple:
    """(argv, extra environment) that starts ``server`` in the background."""
    host, port = server.endpoints[0]
    if server.package == "rabbitmq-server":
        env = {} if port == 5672 else {"RABBITMQ_NODE_PORT": str(port)}
        return ["rabbitmq-server", "-detached"], env
    data_dir = redis_data_dir(environ)
    argv = [
        "redis-server", "--daemonize", "yes",
        "--bind", "127.0.0.1" if host in ("localhost", "") else host,
        "--port", str(port), "--dir", str(data_dir),
        "--appendonly", "yes", "--appendfsync", "everysec", "--save", "",
        "--logfile", str(data_dir / "redis.log"),
        "--pidfile", str(data_dir / "redis.pid"),
    ]
    return argv, {}


def needs_root(server: Server) -> bool:
    """Debian's rabbitmq-server runs only as root or the rabbitmq user;
    Redis runs as anyone, in its data directory."""
    return server.package == "rabbitmq-server"


def start(server: Server, machine: Machine) -> bool:
    argv, env = start_command(server, machine.environ)
    if needs_root(server) and machine.euid != 0 and machine.as_root():
        # sudo resets the environment: env sets the port again.
        env_args = ["%s=%s" % item for item in env.items()]
        argv = machine.as_root() + (["env", *env_args] if env else []) + argv
    if server.package == "redis-server":
        data_dir = redis_data_dir(machine.environ)
        data_dir.mkdir(parents=True, exist_ok=True)
        machine.say("Starting Redis, its data in %s: %s" % (data_dir, shlex.join(argv)))
    else:
        machine.say("Starting RabbitMQ: %s" % shlex.join(argv))
    return machine.run(argv, **env) and wait_until_answers(server, 60)


def compose_up(server: Server, machine: Machine) -> bool:
    machine.say("Starting %s with docker compose" % server.name)
    argv = ["docker", "compose", "-f", str(COMPOSE_FILE), "up", "-d", "--wait",
            server.compose_service]
    return machine.run(argv, quiet=False) and wait_until_answers(server, 60)


def _as_root(machine: Machine) -> str:
    """How a message tells this user to run a command as root."""
    if machine.euid == 0:
        return ""
    return "sudo " if machine.has("sudo") else "(as root) "


def how_to_get(server: Server, machine: Machine) -> str:
    """The exact command that gets ``server`` installed, for a message."""
    if machine.has("apt-get"):
        return "install it: %sapt-get install -y %s" % (
            _as_root(machine), server.package)
    return "install %s with your system's package manager" % server.package


def how_to_start(server: Server, machine: Machine) -> str:
    argv, env = start_command(server, machine.environ)
    sudo = _as_root(machine) if needs_root(server) else ""
    words = ["env"] if sudo and env else []  # sudo resets the environment
    words += ["%s=%s" % item for item in env.items()] + argv
    return "start it: %s%s" % (sudo, shlex.join(words))


def ensure(server: Server, machine: Machine, opted_out: bool) -> bool:
    if any_answers(server):
        return True
    if not server.startable:
        todo = (
            "this script starts only a single plain local server: start it"
            if server.local else "start it there, or point %s at one that runs"
            % server.variable
        )
        machine.complain("%s does not answer at %s (%s); %s."
                         % (server.name, server.where, server.variable, todo))
        return False
    command = server.package
    if opted_out:
        if machine.has(command):
            todo = how_to_start(server, machine)
        else:
            todo = how_to_get(server, machine)
        machine.complain("%s does not answer at %s, and ENSURE_SERVICES=0: %s."
                         % (server.name, server.where, todo))
        return False
    if not machine.has(command) and machine.can_install():
        if not machine.install(server.package):
            return False
        if wait_until_answers(server, POSTINST_WAIT):
            machine.say("%s was started by its package." % server.name)
            return True
    if machine.has(command):
        if start(server, machine):
            return True
        machine.complain("%s did not start answering at %s."
                         % (server.name, server.where))
        return False
    if machine.docker_works():
        return compose_up(server, machine)
    machine.complain(
        "%s does not answer at %s and %s is not installed; %s (or start Docker, "
        "or point %s at a running %s), then run this again."
        % (server.name, server.where, command, how_to_get(server, machine),
           server.variable, server.name))
    return False


def main(environ: dict | None = None, euid: int | None = None) -> int:
    environ = dict(os.environ if environ is None else environ)
    machine = Machine(environ, os.geteuid() if euid is None else euid)
    try:
        servers = [
            amqp_server(environ.get("AMQP_URI") or DEFAULT_AMQP_URI),
            redis_server(environ.get("REDIS_URI") or DEFAULT_REDIS_URI),
        ]
    except BadUri as error:
        machine.complain(str(error))
        return 1
    opted_out = environ.get("ENSURE_SERVICES", "1").strip() == "0"
    results = [ensure(server, machine, opted_out) for server in servers]
    if not all(results):
        return 1
    machine.say(" and ".join("%s (%s)" % (s.name, s.where) for s in servers)
                + " answer.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
